import { Redis } from 'ioredis';

/**
 * Redis connections for BullMQ. Workers block on Redis and must retry forever
 * (`maxRetriesPerRequest: null`); producers fail fast so a caller learns at once that Redis is down.
 */
export function createRedisConnection(url: string, role: 'worker' | 'producer'): Redis {
  const client =
    role === 'worker'
      ? new Redis(url, { maxRetriesPerRequest: null })
      : new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3000 });
  // Connection errors surface through the calls that need Redis; the event alone must not crash.
  client.on('error', () => {});
  return client;
}
