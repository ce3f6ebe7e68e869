import { Redis } from 'ioredis';
import {
  applyMinerUser,
  minerRedisUrl,
  newMinerCredentials,
  revokeMinerUser,
} from '../queues/minerAccess.ts';

/**
 * Local runs (demo, bench, tests) give each miner process its own Redis ACL user, as
 * `vigil miners credentials --apply` would, so the rules are exercised end to end; the local
 * Redis's default user stays as it is. Returns the miner's REDIS_URL and how to remove the user.
 */
export async function localMinerUser(
  redisUrl: string,
  prefix: string,
  hotkey: string,
): Promise<{ url: string; revoke: () => Promise<void> }> {
  const admin = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  admin.on('error', () => {});
  try {
    const c = newMinerCredentials(prefix, hotkey);
    await applyMinerUser(admin, c);
    return {
      url: minerRedisUrl(redisUrl, c),
      revoke: async () => {
        const a = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
        a.on('error', () => {});
        try {
          await revokeMinerUser(a, hotkey);
        } finally {
          a.disconnect();
        }
      },
    };
  } finally {
    admin.disconnect();
  }
}
