import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patrolScoresKey } from '../../protocol/keys.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { LEVEL, captureLogger } from '../../test/log.ts';
import { redisUrl, uniquePrefix } from '../../test/services.ts';
import { createScoreHistory } from './history.ts';
import { DEFAULT_SCORING } from './scoring.ts';

let conn: ReturnType<typeof createRedisConnection>;
beforeAll(() => {
  conn = createRedisConnection(redisUrl(), 'worker');
});
afterAll(() => conn.disconnect());

// Last 4 kept, the lowest 1 dropped: small enough to count by hand.
const scoring = { ...DEFAULT_SCORING, historySize: 4, dropLowest: 1 };

describe('Patrol score history', () => {
  it('keeps the last N scores per miner and averages them without the lowest', async () => {
    const prefix = uniquePrefix();
    const { log } = captureLogger();
    const h = createScoreHistory({ connection: conn, prefix, validator: 'v', scoring, log });
    expect(await h.record('a', 0.5)).toBe(0.5); // one score: nothing dropped
    expect(await h.record('a', 0.1)).toBe(0.5); // 0.1 dropped
    await h.record('a', 0.3);
    await h.record('a', 0.7);
    // 0.5 leaves with the fifth: [0.1, 0.3, 0.7, 0.9], 0.1 dropped.
    expect(await h.record('a', 0.9)).toBeCloseTo((0.3 + 0.7 + 0.9) / 3, 12);
    expect(await conn.lrange(patrolScoresKey(prefix, 'v', 'a'), 0, -1)).toEqual(['0.1', '0.3', '0.7', '0.9']);
    const avg = await h.averages(['a', 'never-scored']);
    expect(avg.get('a')).toBeCloseTo((0.3 + 0.7 + 0.9) / 3, 12);
    expect(avg.get('never-scored')).toBe(0);
    await conn.del(patrolScoresKey(prefix, 'v', 'a'));
  });

  it('leaves out and logs an entry that is not a score (the key written by someone else)', async () => {
    const prefix = uniquePrefix();
    const { log, lines } = captureLogger();
    const h = createScoreHistory({ connection: conn, prefix, validator: 'v', scoring, log });
    const key = patrolScoresKey(prefix, 'v', 'm');
    await conn.rpush(key, '0.4', 'lots', '7');
    expect((await h.averages(['m'])).get('m')).toBe(0.4);
    const warned = lines.filter((l) => l.level === LEVEL.warn).map((l) => l.entry);
    expect(warned).toEqual(['lots', '7']);
    await conn.del(key);
  });
});
