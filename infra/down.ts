import type { Config } from '../common/config.ts';
import { redactUrl } from '../common/redact.ts';
import { probeBolt, stopNeo4jByPidFile } from './neo4j.ts';
import { isRedisReachable, stopRedisByPidFile } from './redis.ts';
import { neo4jHomeDir, redisDataDir } from './up.ts';

/**
 * Stops what `vigil infra up` started, found by the pid files it left in VIGIL_DATA_DIR: its
 * redis-server and its Neo4j. A server running without such a file was not started by Vigil and
 * is left alone; each line of the returned report says which happened.
 */
export async function infraDown(config: Config): Promise<string[]> {
  const redisPid = await stopRedisByPidFile(redisDataDir(config));
  const redis = redisPid
    ? `Redis stopped (pid ${redisPid}, started by vigil infra up)`
    : (await isRedisReachable(config.redisUrl))
      ? `Redis at ${redactUrl(config.redisUrl)} was not started by vigil infra up: left alone`
      : 'no Redis started by vigil infra up is running';
  const neo4jStopped = await stopNeo4jByPidFile(neo4jHomeDir(config));
  const neo4j = neo4jStopped
    ? 'Neo4j stopped (started by vigil infra up)'
    : (await probeBolt(config.neo4j.uri)) !== 'unreachable'
      ? `Neo4j at ${redactUrl(config.neo4j.uri)} was not started by vigil infra up: left alone`
      : 'no Neo4j started by vigil infra up is running';
  return [redis, neo4j];
}
