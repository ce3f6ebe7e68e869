import type { Redis } from 'ioredis';
import type { Challenge } from '../protocol/defense.ts';
import { defenseChallengeStream, defenseHeartbeatKey } from '../protocol/keys.ts';
import { appendMessage } from './streams.ts';

/**
 * A challenge goes to the asked miner's own stream. A miner starting late reads what is there and
 * skips challenges past their deadline; the stream keeps about the last 1000.
 */
export function sendChallenge(conn: Redis, prefix: string, minerId: string, c: Challenge): Promise<unknown> {
  return appendMessage(conn, defenseChallengeStream(prefix, minerId), JSON.stringify(c));
}

/**
 * The raw heartbeats of `candidates` (or, without, of every miner that wrote one: found by SCAN),
 * as [miner, value]; a miner whose key has expired is absent.
 */
export async function readHeartbeats(
  conn: Redis,
  prefix: string,
  candidates?: readonly string[],
): Promise<[string, string][]> {
  const head = defenseHeartbeatKey(prefix, '');
  let miners = candidates ? [...candidates] : [];
  if (!candidates) {
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await conn.scan(
        cursor,
        'MATCH',
        `${head.replace(/[*?[\]\\]/g, '\\$&')}*`,
        'COUNT',
        1000,
      );
      for (const k of keys) found.add(k.slice(head.length));
      cursor = next;
    } while (cursor !== '0');
    miners = [...found];
  }
  if (miners.length === 0) return [];
  const values = await conn.mget(miners.map((m) => defenseHeartbeatKey(prefix, m)));
  return miners.flatMap((m, i) => (values[i] == null ? [] : [[m, values[i]!] as [string, string]]));
}
