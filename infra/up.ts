import path from 'node:path';
import type { Config } from '../common/config.ts';
import { ServiceUnavailableError } from '../common/errors.ts';
import type { Log } from '../common/logger.ts';
import { redactUrl } from '../common/redact.ts';
import { composeUp, dockerEngineAvailable } from './docker.ts';
import { isBoltReachable, neo4jBrowserUrl, readLivePid, startNeo4jServer } from './neo4j.ts';
import { ensureRedis, readLiveRedisPid } from './redis.ts';

export const PROJECT_DIR = path.resolve(import.meta.dirname, '..');
export const LAUNCHER_DIR = path.join(PROJECT_DIR, 'neo4j-server');

export interface InfraEndpoints {
  redisUrl: string;
  neo4jUri: string;
  browserUrl: string;
  started: string[];
  /** For each server, whether `vigil infra down` will stop it, in words for the CLI. */
  ownership: { redis: string; neo4j: string };
}

/** Where `up` keeps each server's data and pid file (`down` looks there). */
export const redisDataDir = (config: Config) => path.join(config.dataDir, 'redis');
export const neo4jHomeDir = (config: Config) => path.join(config.dataDir, 'neo4j');

/**
 * Whether a running server is Vigil's: one `up` started has a live pid file in the data dir
 * (now or in an earlier run); any other was running already and `down` leaves it alone.
 */
async function ownershipOf(started: boolean, livePid: Promise<number | undefined>): Promise<string> {
  const pid = await livePid;
  if (started) return pid ? `started now (pid ${pid}); vigil infra down stops it` : 'started now';
  return pid
    ? `started by an earlier vigil infra up (pid ${pid}); vigil infra down stops it`
    : 'already running, not started by Vigil; vigil infra down leaves it alone';
}

const hostOf = (uri: string) => new URL(uri.replace(/^[a-z+]+:/, 'http:')).hostname;
const boltPortOf = (uri: string) => Number(new URL(uri.replace(/^[a-z+]+:/, 'http:')).port || 7687);

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Makes sure Neo4j answers at the configured URI: reuses a running one, else starts one,
 * with Docker where an engine runs, else the project's own launcher (a real Neo4j 5.26 from
 * Maven Central in its own JVM, detached so it outlives this command).
 */
export async function ensureNeo4j(config: Config, log: Log): Promise<{ started: boolean }> {
  const { uri, user, password, httpPort } = config.neo4j;
  const auth = password ? { user, password } : undefined;
  if (await isBoltReachable(uri, auth)) return { started: false };
  const hostname = hostOf(uri);
  const port = boltPortOf(uri);
  if (!LOCAL_HOSTS.has(hostname)) {
    throw new ServiceUnavailableError(`Neo4j at ${redactUrl(uri)} (NEO4J_URI) does not answer`, {
      details:
        'It is not a local address, so Vigil will not start one: check NEO4J_URI and that the server is up.',
    });
  }
  if (!(await dockerEngineAvailable())) {
    log.info(
      'no Docker engine: starting Neo4j 5.26 from Maven Central in its own JVM (first run builds the launcher)',
    );
    // Returns once Bolt answers.
    await startNeo4jServer({
      homeDir: neo4jHomeDir(config),
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
  log.info('starting Neo4j with docker compose');
  await composeUp(PROJECT_DIR, ['neo4j']);
  for (let i = 0; i < 240; i++) {
    if (await isBoltReachable(uri, auth)) return { started: true };
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new ServiceUnavailableError(
    `started Neo4j with docker compose but Bolt does not answer at ${redactUrl(uri)} (NEO4J_URI) after 120 s`,
  );
}

/** Redis then Neo4j; each logs through its own child of `log` (component redis / neo4j). */
export async function infraUp(config: Config, log: Log): Promise<InfraEndpoints> {
  const started: string[] = [];
  const redis = await ensureRedis({
    url: config.redisUrl,
    dataDir: redisDataDir(config),
    log: log.child({ component: 'redis' }),
  });
  if (redis.started) started.push('redis');
  const neo4j = await ensureNeo4j(config, log.child({ component: 'neo4j' }));
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
    ownership: {
      redis: await ownershipOf(redis.started, readLiveRedisPid(redisDataDir(config))),
      neo4j: await ownershipOf(neo4j.started, readLivePid(neo4jHomeDir(config))),
    },
  };
}
