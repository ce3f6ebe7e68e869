import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../graph/driver.ts';
import { patrolStateKey } from '../../protocol/keys.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { publishOperatorState } from '../../queues/operatorState.ts';
import { createTestApi } from '../../test/api.ts';
import { newSs58 } from '../../test/fixtures.ts';
import { openTestGraph, redisUrl, silentLogger, uniquePrefix } from '../../test/services.ts';
import { defenseOperatorState } from '../defense/operatorState.ts';
import { createRewardBook } from '../defense/rewards.ts';
import { createPatrolStatePublisher } from '../patrol/operatorState.ts';
import type { MinerResult } from '../patrol/round.ts';
import { DEFAULT_SCORING, scoreAnswer } from '../patrol/scoring.ts';

// The subnet operators' fields: what Patrol and defense validators publish to Redis after a round
// or epoch, read back through the API (real Redis; Neo4j only because the API needs its graph).

const redis = createRedisConnection(redisUrl(), 'worker');
let graph: Graph;
beforeAll(async () => {
  graph = await openTestGraph();
});
afterAll(async () => {
  await redis.quit();
  await graph?.close();
});

type Answer = {
  data?: Record<string, unknown>;
  errors?: { message: string; extensions?: { code?: string } }[];
};
const ask = async (prefix: string | null, query: string): Promise<Answer> => {
  const yoga = createTestApi({ graph, ...(prefix ? { operators: { redis, prefix } } : {}) });
  const res = await yoga.fetch('http://vigil.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as Answer;
};

const PATROL_QUERY = `{ patrolValidators { hotkey round updatedAt
  weights { block defenseShare uids weights }
  miners { hotkey uid accepted volume responsiveness novelty completeness score average edges seconds weight
           rejections { round reason } } } }`;

const result = (hotkey: string, uid: number, r: Partial<MinerResult>): MinerResult => ({
  miner: { hotkey, uid },
  challengeId: `c-${uid}`,
  target: hotkey,
  accepted: false,
  edges: 0,
  volume: 0,
  seconds: null,
  score: { total: 0 },
  average: 0,
  ...r,
});

/** A paid answer's score (volume at the sigmoid's midpoint, 2 s, 50 novel edges, complete). */
const PAID = scoreAnswer({ volume: 1000, seconds: 2, novelEdges: 50, completeness: 1 }, DEFAULT_SCORING);
/** A paid result of 5 edges. */
const paidResult = (hotkey: string, uid: number) =>
  result(hotkey, uid, { accepted: true, edges: 5, volume: 1000, seconds: 2, score: PAID, average: 0.5 });
/** A Patrol validator's publisher under a prefix of its own, and two miners. */
const publisher = () => {
  const prefix = uniquePrefix();
  const validator = newSs58();
  const pub = createPatrolStatePublisher({ connection: redis, prefix, validator, log: silentLogger() });
  return { prefix, validator, pub, miners: [newSs58(), newSs58()] as const };
};

describe('patrolValidators', () => {
  it("lists each miner's score terms, its last rejections across rounds and the weights set on chain", async () => {
    const prefix = uniquePrefix();
    const validator = newSs58();
    const [honest, flaky] = [newSs58(), newSs58()];
    const pub = createPatrolStatePublisher({ connection: redis, prefix, validator, log: silentLogger() });
    // Round 1: the flaky miner does not answer. Round 2: it answers too incomplete; weights are set.
    const paid = scoreAnswer({ volume: 1000, seconds: 2, novelEdges: 50, completeness: 1 }, DEFAULT_SCORING);
    await pub.publish({
      round: 1,
      ingestedJobs: [],
      results: [
        result(honest, 1, { accepted: true, edges: 12, volume: 1000, seconds: 2, score: paid, average: 0.9 }),
        result(flaky, 2, { reason: 'no answer before the deadline' }),
      ],
    });
    await pub.publish(
      {
        round: 2,
        ingestedJobs: [],
        results: [
          result(honest, 1, {
            accepted: true,
            edges: 12,
            volume: 1000,
            seconds: 2,
            score: paid,
            average: 0.9,
          }),
          result(flaky, 2, { reason: 'incomplete: the answer holds 3 of the 9 edges', seconds: 1 }),
        ],
      },
      { uids: [1, 2], weights: [65535, 0], defenseShare: 0.25, block: 42 },
    );

    const a = await ask(prefix, PATROL_QUERY);
    expect(a.errors).toBeUndefined();
    const [v] = a.data!.patrolValidators as Record<string, unknown>[];
    expect(v).toMatchObject({
      hotkey: validator,
      round: 2,
      weights: { block: 42, defenseShare: 0.25, uids: [1, 2], weights: [65535, 0] },
    });
    const miners = v!.miners as Record<string, unknown>[];
    // Volume 1000 is the sigmoid's midpoint, 2 s gives 2/(2+2), 50 of the 100-edge cap.
    expect(miners[0]).toMatchObject({
      hotkey: honest,
      uid: 1,
      accepted: true,
      volume: 0.5,
      responsiveness: 0.5,
      novelty: 0.5,
      completeness: 1,
      average: 0.9,
      edges: 12,
      seconds: 2,
      weight: 65535,
      rejections: [],
    });
    expect(miners[0]!.score).toBeCloseTo(0.6 * 0.5 + 0.1 * 0.5 + 0.3 * 0.5, 12);
    expect(miners[1]).toMatchObject({
      hotkey: flaky,
      accepted: false,
      score: 0,
      completeness: null,
      weight: 0,
      seconds: 1,
      rejections: [
        { round: 2, reason: 'incomplete: the answer holds 3 of the 9 edges' },
        { round: 1, reason: 'no answer before the deadline' },
      ],
    });
  });

  it('shows the Ethereum round per chain, its rejections apart from Bittensor’s, kept while Ethereum does not play', async () => {
    const { prefix, validator, pub, miners } = publisher();
    const [m1, m2] = miners;
    const ok = paidResult;
    // Round 7: both chains; m2 is rejected on Ethereum only (a forged log index), paid on Bittensor.
    await pub.publish({ round: 7, ingestedJobs: [], results: [ok(m1, 1), ok(m2, 2)] }, undefined, [
      {
        chain: 'ethereum',
        report: {
          round: 7,
          ingestedJobs: [],
          results: [ok(m1, 1), result(m2, 2, { reason: 'edge 3: log 4 of tx 0xab is not a Transfer' })],
        },
      },
    ]);
    // Round 8: Bittensor only (the Ethereum round failed): Ethereum's round 7 stays shown.
    await pub.publish({ round: 8, ingestedJobs: [], results: [ok(m1, 1), ok(m2, 2)] });
    const a = await ask(
      prefix,
      `{ patrolValidators { hotkey chain round chains { chain round updatedAt
           miners { hotkey uid accepted score edges rejections { round reason } } } } }`,
    );
    expect(a.errors).toBeUndefined();
    const [v] = a.data!.patrolValidators as any[];
    expect(v).toMatchObject({ hotkey: validator, chain: 'BITTENSOR', round: 8 });
    expect(v.chains.map((c: any) => [c.chain, c.round])).toEqual([
      ['BITTENSOR', 8],
      ['ETHEREUM', 7],
    ]);
    const [btc, eth] = v.chains;
    expect(btc.miners.map((m: any) => [m.hotkey, m.accepted, m.rejections])).toEqual([
      [m1, true, []],
      [m2, true, []],
    ]);
    expect(eth.miners).toMatchObject([
      { hotkey: m1, uid: 1, accepted: true, edges: 5, rejections: [] },
      {
        hotkey: m2,
        uid: 2,
        accepted: false,
        score: 0,
        rejections: [{ round: 7, reason: 'edge 3: log 4 of tx 0xab is not a Transfer' }],
      },
    ]);
    expect(eth.miners[0].score).toBeCloseTo(btc.miners[0].score, 12);
    expect(Date.parse(eth.updatedAt)).toBeLessThanOrEqual(Date.parse(v.chains[0].updatedAt));
  });

  it('shows the last trail round next to the regular Ethereum round, its rejections apart', async () => {
    const { prefix, pub, miners } = publisher();
    const [m1, m2] = miners;
    const ok = paidResult;
    const chains = async () => {
      const a = await ask(
        prefix,
        '{ patrolValidators { round chains { chain trail round miners { hotkey accepted rejections { round reason } } } } }',
      );
      expect(a.errors).toBeUndefined();
      return (a.data!.patrolValidators as any[])[0];
    };
    // A trail round before any regular round: published at once, the main round still 0.
    await pub.trailRound('ethereum', {
      round: 1,
      ingestedJobs: [],
      results: [ok(m1, 1), result(m2, 2, { reason: 'no answer before the deadline' })],
    });
    let v = await chains();
    expect(v.round).toBe(0);
    expect(v.chains.map((c: any) => [c.chain, c.trail, c.round])).toEqual([
      ['BITTENSOR', false, 0],
      ['ETHEREUM', true, 1],
    ]);
    // Regular round 5 on both chains: the trail round stays, each Ethereum row with its own rejections.
    await pub.publish({ round: 5, ingestedJobs: [], results: [ok(m1, 1)] }, undefined, [
      {
        chain: 'ethereum',
        report: { round: 5, ingestedJobs: [], results: [ok(m1, 1), ok(m2, 2)] },
      },
    ]);
    v = await chains();
    expect(v.chains.map((c: any) => [c.chain, c.trail, c.round])).toEqual([
      ['BITTENSOR', false, 5],
      ['ETHEREUM', true, 1],
      ['ETHEREUM', false, 5],
    ]);
    const [, trail, regular] = v.chains;
    expect(trail.miners.find((m: any) => m.hotkey === m2)).toEqual({
      hotkey: m2,
      accepted: false,
      rejections: [{ round: 1, reason: 'no answer before the deadline' }],
    });
    expect(regular.miners.find((m: any) => m.hotkey === m2)).toEqual({
      hotkey: m2,
      accepted: true,
      rejections: [],
    });
  });

  it('leaves out a state that is not one (logged), still listing the good ones', async () => {
    const prefix = uniquePrefix();
    const good = newSs58();
    const bad = newSs58();
    await publishOperatorState(redis, prefix, 'patrol', {
      validator: good,
      at: Date.now() - 1000,
      round: 3,
      miners: [],
      weights: null,
    });
    await publishOperatorState(redis, prefix, 'patrol', {
      validator: bad,
      at: Date.now(),
      round: 1,
      miners: [],
      weights: null,
    });
    await redis.set(patrolStateKey(prefix, bad), JSON.stringify({ validator: bad, round: -1 }));
    const a = await ask(prefix, '{ patrolValidators { hotkey round } }');
    expect(a.errors).toBeUndefined();
    expect(a.data!.patrolValidators).toEqual([{ hotkey: good, round: 3 }]);
  });

  it('refuses to publish a state over its bounds, naming the field', async () => {
    const prefix = uniquePrefix();
    await expect(
      publishOperatorState(redis, prefix, 'patrol', {
        validator: newSs58(),
        at: Date.now(),
        round: 1,
        miners: [],
        weights: { at: Date.now(), block: 1, uids: [1, 2], weights: [70000, 1], defenseShare: 0 },
      }),
    ).rejects.toThrow(/weights\.weights\.0/);
  });

  it('says UNAVAILABLE when the API runs without Redis', async () => {
    const a = await ask(null, '{ patrolValidators { hotkey } }');
    expect(a.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
  });
});

describe('defenseValidators', () => {
  it("gives each registered miner's measured recall, p99 latency and reward share of the scored epoch", async () => {
    const prefix = uniquePrefix();
    const [good, lazy, stranger] = [newSs58(), newSs58(), newSs58()];
    const t0 = 1_000_000;
    const book = createRewardBook({ epochMs: 60_000, now: t0 });
    const votes = (v: 'holds' | 'violated') => new Map([['inv', v]] as const);
    // A canary (violated) and a benign tx (holds): the lazy miner answers "holds" to both.
    book.record(
      {
        txHash: '0x01',
        canary: true,
        consensus: [{ id: 'inv', outcome: 'violated' }],
        answers: new Map([
          [good, { votes: votes('violated'), latencyMs: 40 }],
          [lazy, { votes: votes('holds'), latencyMs: 10 }],
          [stranger, { votes: votes('violated'), latencyMs: 10 }],
        ]),
      },
      t0 + 1,
    );
    book.record(
      {
        txHash: '0x02',
        consensus: [{ id: 'inv', outcome: 'holds' }],
        answers: new Map([
          [good, { votes: votes('holds'), latencyMs: 40 }],
          [lazy, { votes: votes('holds'), latencyMs: 10 }],
        ]),
      },
      t0 + 2,
    );
    book.closeEpoch(t0 + 60_000);
    const state = defenseOperatorState(book, {
      validator: 'defense-1',
      isMember: (m) => m !== stranger,
      now: t0 + 61_000,
    });
    await publishOperatorState(redis, prefix, 'defense', state);

    const a = await ask(
      prefix,
      `{ defenseValidators { id epoch epochStartedAt epochSeconds scoredEpoch
         miners { hotkey txs accuracy latencyP99Ms rewardShare
                  violatedRecall { agreed seen rate } holdsRecall { agreed seen rate } canaries { agreed seen } } } }`,
    );
    expect(a.errors).toBeUndefined();
    const [v] = a.data!.defenseValidators as Record<string, unknown>[];
    expect(v).toMatchObject({
      id: 'defense-1',
      epoch: 1,
      scoredEpoch: 0,
      epochSeconds: 60,
      epochStartedAt: new Date(t0 + 60_000).toISOString(),
    });
    const miners = v!.miners as Record<string, unknown>[];
    // The unregistered miner is not listed (not paid); the lazy one caught no violation: no share.
    expect(miners.map((m) => m.hotkey).sort()).toEqual([good, lazy].sort());
    expect(miners.find((m) => m.hotkey === good)).toEqual({
      hotkey: good,
      txs: 2,
      accuracy: 1,
      latencyP99Ms: 40,
      rewardShare: 1,
      violatedRecall: { agreed: 1, seen: 1, rate: 1 },
      holdsRecall: { agreed: 1, seen: 1, rate: 1 },
      canaries: { agreed: 1, seen: 1 },
    });
    expect(miners.find((m) => m.hotkey === lazy)).toMatchObject({
      accuracy: 0,
      rewardShare: 0,
      violatedRecall: { agreed: 0, seen: 1, rate: 0 },
      canaries: { agreed: 0, seen: 1 },
    });
  });
});
