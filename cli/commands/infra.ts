import path from 'node:path';
import { applyMigrations } from '../../graph/migrations.ts';
import { stopNeo4jByPidFile } from '../../infra/neo4j.ts';
import { infraUp } from '../../infra/up.ts';
import { type Runtime, openGraph } from '../runtime.ts';

/** `vigil infra up|down`: start (or reuse) Redis and Neo4j, apply the schema, print where to look. */
export async function infraCommand(rt: Runtime, args: string[]): Promise<void> {
  const sub = args[0] ?? 'up';
  const say = (msg: string) => console.log(`[infra] ${msg}`);
  if (sub === 'up') {
    const endpoints = await infraUp(rt.config, say);
    const graph = openGraph(rt);
    await graph.verify();
    await applyMigrations(graph, say);
    console.log(`
Redis          ${endpoints.redisUrl}
Neo4j (Bolt)   ${endpoints.neo4jUri}
Neo4j Browser  ${endpoints.browserUrl}
started now:   ${endpoints.started.join(', ') || 'nothing (all were running)'}`);
    return;
  }
  if (sub === 'down') {
    const stopped = await stopNeo4jByPidFile(path.join(rt.config.dataDir, 'neo4j'));
    say(stopped ? 'Neo4j stopped' : 'no Neo4j started by Vigil is running');
    return;
  }
  throw new Error(`unknown infra command "${sub}": use "up" or "down"`);
}
