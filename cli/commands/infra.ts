import { UsageError } from '../../common/errors.ts';
import { redactUrl } from '../../common/redact.ts';
import { applyMigrations } from '../../graph/migrations.ts';
import { infraDown } from '../../infra/down.ts';
import { infraUp } from '../../infra/up.ts';
import { type Runtime, openVerifiedGraph, progressLogger } from '../runtime.ts';

/**
 * `vigil infra up|down`: start (or reuse) Redis and Neo4j, apply the schema, print where to look
 * and which servers `down` will stop; `down` stops only those `up` started.
 */
export async function infraCommand(rt: Runtime, args: string[]): Promise<void> {
  const sub = args[0] ?? 'up';
  const say = (msg: string) => console.log(`[infra] ${msg}`);
  const progress = progressLogger(rt, '[infra] ');
  if (sub === 'up') {
    const endpoints = await infraUp(rt.config, progress.child({ component: 'infra' }));
    const graph = await openVerifiedGraph(rt);
    await applyMigrations(graph, progress.child({ component: 'migrations' }));
    console.log(`
Redis          ${redactUrl(endpoints.redisUrl)}  (${endpoints.ownership.redis})
Neo4j (Bolt)   ${redactUrl(endpoints.neo4jUri)}  (${endpoints.ownership.neo4j})
Neo4j Browser  ${endpoints.browserUrl}
started now:   ${endpoints.started.join(', ') || 'nothing (all were running)'}`);
    return;
  }
  if (sub === 'down') {
    for (const line of await infraDown(rt.config)) say(line);
    return;
  }
  throw new UsageError(`unknown infra command "${sub}": use "up" or "down"`);
}
