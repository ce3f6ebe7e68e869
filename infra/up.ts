import path from 'node:path';
import type { Config } from '../common/config.ts';
import { ServiceUnavailableError } from '../common/errors.ts';
import { composeUp, dockerEngineAvailable } from './docker.ts';
import { isBoltReachable, neo4jBrowserUrl, startNeo4jServer } from './neo4j.ts';
import { ensureRedis } from './redis.ts';

export const PROJECT_DIR = path.resolve(import.meta.dirname, '..');
export const LAUNCHER_DIR = path.join(PROJECT_DIR, 'neo4j-server');

export interface InfraEndpoints {
  redisUrl: string;
  neo4jUri: string;
  browserUrl: string;
  started: string[];
}

const hostOf = (uri: string) => new URL(uri.replace(/^[a-z+]+:/, 'http:')).hostname;
const boltPortOf = (uri: string) => Number(new URL(uri.replace(/^[a-z+]+:/, 'http:')).port || 7687);

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Makes sure Neo4j answers at the configured URI: reuses a running one, else starts one,
 * with Docker where an engine runs, else the project's own launcher (a real Neo4j 5.26 from
 * Maven Central in its own JVM, detached so it outlives this command).
 */
export async function ensureNeo4j(config: Config, log: (msg: string) => void): Promise<{ started: boolean }> {
  const { uri, user, password, httpPort } = config.neo4j;
  const auth = password ? { user, password } : undefined;
  if (await isBoltReachable(uri, auth)) return { started: false };
  const hostname = hostOf(uri);
  const port = boltPortOf(uri);
  if (!LOCAL_HOSTS.has(hostname)) {
    throw new ServiceUnavailableError(`Neo4j at ${uri} does not answer`, {
      details:
        'It is not a local address, so Vigil will not start one: check NEO4J_URI and that the server is up.',
    });
  }
  if (!(await dockerEngineAvailable())) {
    log(
      'no Docker engine: starting Neo4j 5.26 from Maven Central in its own JVM (first run builds the launcher)',
    );
    // Returns once Bolt answers.
    await startNeo4jServer({
      homeDir: path.join(config.dataDir, 'neo4j'),
      boltPort: port,
      httpPort,
      pagecache: config.neo4j.pagecache,
      heap: config.neo4j.heap,
      cds: config.neo4j.cds,
      launcherDir: LAUNCHER_DIR,
      detached: true,
      log,
    });
    return { started: true };
  }
  log('starting Neo4j with docker compose');
  await composeUp(PROJECT_DIR, ['neo4j']);
  for (let i = 0; i < 240; i++) {
    if (await isBoltReachable(uri, auth)) return { started: true };
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new ServiceUnavailableError(
    `started Neo4j with docker compose but Bolt does not answer at ${uri} after 120 s`,
  );
}

export async function infraUp(config: Config, log: (msg: string) => void): Promise<InfraEndpoints> {
  const started: string[] = [];
  const redis = await ensureRedis({ url: config.redisUrl, dataDir: path.join(config.dataDir, 'redis'), log });
  if (redis.started) started.push('redis');
  const neo4j = await ensureNeo4j(config, log);
  if (neo4j.started) started.push('neo4j');
  return {
    redisUrl: config.redisUrl,
    neo4jUri: config.neo4j.uri,
    browserUrl: neo4jBrowserUrl(
      hostOf(config.neo4j.uri),
      config.neo4j.httpPort,
      boltPortOf(config.neo4j.uri),
      Boolean(config.neo4j.password),
    ),
    started,
  };
}
