import { afterAll, describe, expect, it } from 'vitest';
import { defenseWeightsKey } from '../../protocol/keys.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { redisUrl, uniquePrefix } from '../../test/services.ts';
import { createRewardBook, defenseWeights } from '../defense/rewards.ts';
import {
  DEFENSE_WEIGHTS_MAX_AGE_MS,
  chainWeights,
  combineWeights,
  publishDefenseWeights,
  readDefenseWeights,
} from './combined.ts';

const redis = createRedisConnection(redisUrl(), 'worker');
afterAll(() => redis.disconnect());

describe('Patrol and defense weights combined for the chain', () => {
  it('combines by a split, each side normalised; a side with no weight gives its share away', () => {
    const c = combineWeights(
      new Map([
        ['a', 3],
        ['b', 1],
      ]),
      new Map([['b', 10]]),
      0.5,
    );
    expect(c.weights.get('a')).toBeCloseTo(0.375);
    expect(c.weights.get('b')).toBeCloseTo(0.625);
    expect(c.defenseShare).toBe(0.5);
    const patrolOnly = combineWeights(new Map([['a', 1]]), new Map([['b', 0]]), 0.5);
    expect(patrolOnly.weights.get('a')).toBe(1);
    expect(patrolOnly.defenseShare).toBe(0);
    expect(combineWeights(new Map(), new Map([['b', 2]]), 0.5)).toEqual({
      weights: new Map([['b', 1]]),
      defenseShare: 1,
    });
    expect(() => combineWeights(new Map(), new Map(), 2)).toThrow(/defense share/);
  });

  it('carries the defense epoch from its validator to the Patrol validator through Redis', async () => {
    const prefix = uniquePrefix();
    // Two defense miners scored by a real reward book: one fast, one slow.
    const book = createRewardBook({ epochMs: 3_600_000 });
    const consensus = [
      {
        id: 'inv',
        outcome: 'holds' as const,
        asked: 2,
        agreeing: [],
        votes: { holds: 2, violated: 0, error: 0 },
      },
    ];
    for (const tx of ['t1', 't2'])
      book.record({
        txHash: tx,
        answers: new Map([
          ['hk-fast', { votes: new Map([['inv', 'holds' as const]]), latencyMs: 5 }],
          ['hk-slow', { votes: new Map([['inv', 'holds' as const]]), latencyMs: 50 }],
        ]),
        consensus: consensus as never,
      });
    // A canary, violated by the validator's own simulation: without a violated case nobody is paid.
    book.record({
      txHash: 'canary',
      canary: true,
      answers: new Map([
        ['hk-fast', { votes: new Map([['inv', 'violated' as const]]), latencyMs: 5 }],
        ['hk-slow', { votes: new Map([['inv', 'violated' as const]]), latencyMs: 50 }],
      ]),
      consensus: [{ id: 'inv', outcome: 'violated' }],
    });
    const defense = defenseWeights(book.current());
    expect(defense.get('hk-fast')).toBeGreaterThan(defense.get('hk-slow')!);
    await publishDefenseWeights(redis, prefix, { validator: 'v1', epoch: book.epoch, weights: defense });

    const read = await readDefenseWeights(redis, prefix, 'v1');
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect([...read.weights]).toEqual([...defense]);
    expect(await redis.pttl(defenseWeightsKey(prefix, 'v1'))).toBeGreaterThan(0);

    // Patrol paid only hk-patrol; the defense miners are neurons too, plus one unknown id.
    const neurons = [
      { uid: 0, hotkey: 'hk-patrol' },
      { uid: 1, hotkey: 'hk-fast' },
      { uid: 2, hotkey: 'hk-slow' },
      { uid: 3, hotkey: 'hk-idle' },
    ];
    const patrol = new Map([['hk-patrol', 1]]);
    const withGhost = new Map([...read.weights, ['not-a-neuron', 5]]);
    const w = chainWeights(neurons, patrol, withGhost, 0.5);
    expect(w.uids).toEqual([0, 1, 2, 3]);
    // Half to Patrol's only miner (the maximum, so u16 max), the other half split by defense score.
    expect(w.weights[0]).toBe(65535);
    const fastShare = 0.5 * defense.get('hk-fast')!;
    expect(w.weights[1]).toBe(Math.round((fastShare / 0.5) * 65535));
    expect(w.weights[2]).toBeGreaterThan(0);
    expect(w.weights[2]).toBeLessThan(w.weights[1]!);
    expect(w.weights[3]).toBe(0);
    expect(w).toMatchObject({ defenseShare: 0.5, unmatched: 1 });
    // Share 0: defense ignored entirely.
    expect(chainWeights(neurons, patrol, read.weights, 0).weights).toEqual([65535, 0, 0, 0]);
    // Defense ids that are no neuron's hotkey (a stranger, or a hotkey deregistered since): Patrol alone.
    const unmatched = chainWeights(neurons, patrol, new Map([['miner-host-1', 1]]), 0.5);
    expect(unmatched).toMatchObject({ weights: [65535, 0, 0, 0], defenseShare: 0, unmatched: 1 });
  });

  it('names why published weights cannot be used: missing, malformed, stale', async () => {
    const prefix = uniquePrefix();
    expect(await readDefenseWeights(redis, prefix, 'v1')).toEqual({
      ok: false,
      reason: `no defense weights published at ${prefix}:defense:weights:v1`,
    });
    await redis.set(
      defenseWeightsKey(prefix, 'v1'),
      '{"validator": "v1", "epoch": 1, "at": 1, "weights": {"a": "x"}}',
    );
    expect(await readDefenseWeights(redis, prefix, 'v1')).toMatchObject({
      ok: false,
      reason: /not a weights record .*weights\.a: Expected number/,
    });
    await redis.set(defenseWeightsKey(prefix, 'v1'), 'nope');
    expect(await readDefenseWeights(redis, prefix, 'v1')).toMatchObject({ ok: false, reason: /is not JSON/ });
    const at = Date.now() - DEFENSE_WEIGHTS_MAX_AGE_MS - 1000;
    await publishDefenseWeights(redis, prefix, {
      validator: 'v1',
      epoch: 3,
      weights: new Map([['a', 1]]),
      at,
    });
    expect(await readDefenseWeights(redis, prefix, 'v1')).toMatchObject({ ok: false, reason: /s old/ });
    await redis.del(defenseWeightsKey(prefix, 'v1'));
  });
});
