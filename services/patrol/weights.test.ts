import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection } from '../../queues/connection.ts';
import { LEVEL, captureLogger } from '../../test/log.ts';
import { redisUrl, uniquePrefix } from '../../test/services.ts';
import { publishDefenseWeights } from '../weights/combined.ts';
import { createWeightSetter } from './weights.ts';

let conn: ReturnType<typeof createRedisConnection>;
beforeAll(() => {
  conn = createRedisConnection(redisUrl(), 'worker');
});
afterAll(() => conn.disconnect());

const neurons = [
  { uid: 1, hotkey: 'a' },
  { uid: 2, hotkey: 'b' },
  { uid: 3, hotkey: 'c' },
];

/** A setter whose chain side records what it would set (set_weights itself: patrol.test.ts). */
function setter(prefix: string, patrol: Record<string, number>, connection = conn) {
  const { log, lines } = captureLogger();
  const sent: { uids: number[]; weights: number[] }[] = [];
  const set = createWeightSetter({
    connection,
    prefix,
    log,
    neurons: async () => neurons,
    patrol: async () => new Map(Object.entries(patrol)),
    defenseValidator: 'dv',
    defenseShare: 0.25,
    publish: async (w) => {
      sent.push(w);
      return { blockNumber: 42 };
    },
  });
  return { set, sent, lines };
}

describe('Patrol weight setting', () => {
  it('mixes the defense weights in by the share and sets them, naming defense miners that are no neuron', async () => {
    const prefix = uniquePrefix();
    await publishDefenseWeights(conn, prefix, {
      validator: 'dv',
      epoch: 3,
      weights: new Map([
        ['c', 1],
        ['gone', 1],
      ]),
    });
    const { set, sent, lines } = setter(prefix, { a: 0.75, b: 0.25, c: 0 });
    const out = await set(1);
    // a: 0.75·0.75 = 0.5625 (the largest: 65535), b: 0.1875, c: 0.25 (defense's whole share).
    const u16 = (x: number) => Math.round((x / 0.5625) * 65535);
    expect(out).toEqual({
      uids: [1, 2, 3],
      weights: [65535, u16(0.1875), u16(0.25)],
      defenseShare: 0.25,
      block: 42,
    });
    expect(sent).toEqual([{ uids: [1, 2, 3], weights: out.weights }]);
    expect(lines.find((l) => l.level === LEVEL.warn)).toMatchObject({ unmatched: 1, published: 2 });
  });

  it("sets Patrol's weights alone when no defense weights are published, and nothing when all are 0", async () => {
    const prefix = uniquePrefix();
    const alone = setter(prefix, { a: 1, b: 0, c: 0 });
    expect(await alone.set(1)).toMatchObject({ weights: [65535, 0, 0], defenseShare: 0, block: 42 });
    expect(alone.lines.find((l) => l.msg === 'Patrol weights only')?.reason).toMatch(
      /no defense weights published/,
    );
    const none = setter(prefix, { a: 0, b: 0, c: 0 });
    expect(await none.set(2)).toEqual({ uids: [1, 2, 3], weights: [0, 0, 0], defenseShare: 0 });
    expect(none.sent).toEqual([]);
  });

  it('Redis failing does not cost the round its weights: Patrol goes alone', async () => {
    const down = createRedisConnection('redis://127.0.0.1:1', 'producer');
    try {
      const { set, sent, lines } = setter(uniquePrefix(), { a: 1, b: 1, c: 0 }, down);
      expect(await set(1)).toMatchObject({ weights: [65535, 65535, 0], block: 42 });
      expect(sent).toHaveLength(1);
      expect(lines.find((l) => l.msg === 'Patrol weights only')?.reason).toMatch(/^reading them failed: /);
    } finally {
      down.disconnect();
    }
  });
});
