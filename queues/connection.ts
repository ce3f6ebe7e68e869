import { Redis } from 'ioredis';
import pTimeout from 'p-timeout';
import { ServiceUnavailableError } from '../common/errors.ts';
import { redactUrl } from '../common/redact.ts';

/**
 * Redis connections. Workers block on Redis and must retry forever (`maxRetriesPerRequest: null`);
 * producers fail fast so a caller learns at once that Redis is down. A miner is a worker whose
 * Redis user may not run INFO (queues/minerAccess.ts), so it skips ioredis's ready check.
 */
export function createRedisConnection(url: string, role: 'worker' | 'producer' | 'miner'): Redis {
  const client =
    role === 'producer'
      ? new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3000 })
      : new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: role !== 'miner' });
  // Connection errors surface through the calls that need Redis; the event alone must not crash.
  client.on('error', () => {});
  return client;
}

export type RedisProbe = 'ok' | 'unauthorized' | 'unreachable';

/**
 * One PING on a fresh connection, bounded by `timeoutMs` whether the port refuses, the host
 * does not route, or a server accepts the connection and never answers.
 */
export async function probeRedis(url: string, timeoutMs = 1500): Promise<RedisProbe> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // A refused AUTH arrives as an 'error' event; the call itself then fails with "Connection is closed".
  let refusal = '';
  client.on('error', (err: Error) => {
    refusal ||= err.message;
  });
  const ping = (async (): Promise<RedisProbe> => {
    try {
      await client.connect();
      return (await client.ping()) === 'PONG' ? 'ok' : 'unreachable';
    } catch (err) {
      return /NOAUTH|WRONGPASS|invalid password|invalid username/i.test(
        `${(err as Error).message} ${refusal}`,
      )
        ? 'unauthorized'
        : 'unreachable';
    }
  })();
  try {
    // A margin over the client's own time-outs, for a server that accepts and never answers.
    return await pTimeout(ping, { milliseconds: timeoutMs + 500, fallback: () => 'unreachable' as const });
  } finally {
    client.disconnect();
  }
}

/** Throws a ServiceUnavailableError naming REDIS_URL unless Redis answers within `timeoutMs`. */
export async function requireRedis(url: string, timeoutMs: number): Promise<void> {
  const probe = await probeRedis(url, timeoutMs);
  if (probe === 'ok') return;
  const where = `Redis at ${redactUrl(url)} (REDIS_URL)`;
  if (probe === 'unauthorized') {
    throw new ServiceUnavailableError(`${where} refused the credentials`, {
      details: 'Fix the user and password in REDIS_URL (redis://user:password@host:port).',
    });
  }
  throw new ServiceUnavailableError(`${where} does not answer within ${timeoutMs / 1000} s`, {
    details: 'Check REDIS_URL and that the server is up (npx vigil infra up starts one on a local address).',
  });
}
