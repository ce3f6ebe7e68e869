import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../common/config.ts';
import { cliDestination, createLogger } from '../common/logger.ts';
import { createGraph } from '../graph/driver.ts';
import { type Neo4jProcess, isBoltReachable, startNeo4jServer } from '../infra/neo4j.ts';
import { ensureRedis } from '../infra/redis.ts';
import { LAUNCHER_DIR, PROJECT_DIR } from '../infra/up.ts';

/**
 * Real services for the whole test run: Redis (reused if one answers) and a Neo4j of its own on
 * test ports, so tests never write into the developer's graph. Tests isolate by unique addresses,
 * ids and queue prefixes, so they can share both.
 */
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';
// Overridable so that several checkouts on one machine can each run their suite against a Neo4j of
// their own (the run empties its database at the start).
export const TEST_NEO4J_BOLT_PORT = Number(process.env.VIGIL_TEST_NEO4J_BOLT_PORT ?? 7688);
export const TEST_NEO4J_HTTP_PORT = Number(process.env.VIGIL_TEST_NEO4J_HTTP_PORT ?? 7475);

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    neo4jUri: string;
  }
}

let neo4j: Neo4jProcess | undefined;

export default async function setup(project: TestProject) {
  const log = createLogger({
    level: 'info',
    name: 'test',
    base: {},
    destination: cliDestination('[test services] '),
  });
  const dataDir = path.join(PROJECT_DIR, '.vigil', 'test');
  await ensureRedis({ url: TEST_REDIS_URL, dataDir: path.join(dataDir, 'redis'), log });
  const neo4jUri = `bolt://127.0.0.1:${TEST_NEO4J_BOLT_PORT}`;
  if (!(await isBoltReachable(neo4jUri))) {
    neo4j = await startNeo4jServer({
      homeDir: path.join(dataDir, 'neo4j'),
      boltPort: TEST_NEO4J_BOLT_PORT,
      httpPort: TEST_NEO4J_HTTP_PORT,
      pagecache: '256m',
      heap: '1g',
      cds: loadConfig().neo4j.cds,
      launcherDir: LAUNCHER_DIR,
      detached: false,
      log,
    });
  }
  // The test database is the tests' own: every run starts from an empty graph.
  const graph = createGraph({ uri: neo4jUri, user: 'neo4j', password: '', database: 'neo4j' });
  const session = graph.driver.session({ database: 'neo4j' });
  try {
    // CALL … IN TRANSACTIONS needs an auto-commit transaction: session.run, not executeWrite.
    await session.run('MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS');
  } finally {
    await session.close();
    await graph.close();
  }
  project.provide('redisUrl', TEST_REDIS_URL);
  project.provide('neo4jUri', neo4jUri);
  return async () => {
    await neo4j?.stop();
  };
}
