import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection } from '../../../queues/connection.ts';
import { captureLogger } from '../../../test/log.ts';
import { redisUrl, uniquePrefix } from '../../../test/services.ts';
import type { CanaryMaker } from '../canaries.ts';
import type { RegisteredInvariant } from '../registry.ts';
import { createCanaryRunner } from './canaryTick.ts';
import { countOf, createDefenseMetrics } from './metrics.ts';
import { createMinerPool } from './minerPool.ts';
import type { Rounds } from './round.ts';

/** The canary runner's refusals, each counted with its reason before anything is made or sent. */
describe('canary runner', () => {
  let conn: ReturnType<typeof createRedisConnection>;
  beforeAll(() => {
    conn = createRedisConnection(redisUrl(), 'worker');
  });
  afterAll(() => conn?.disconnect());

  function rig(list: RegisteredInvariant[], maker?: CanaryMaker) {
    const metrics = createDefenseMetrics();
    const { log } = captureLogger();
    const pool = createMinerPool({
      connection: conn,
      prefix: uniquePrefix(), // no heartbeat there: nobody live
      members: { has: () => true, list: () => ['nobody'] },
      ttlMs: 5000,
      k: 3,
      log,
      refused: metrics.heartbeatsRefused,
    });
    const opened: unknown[] = [];
    const rounds = { open: async (o: unknown) => void opened.push(o) } as unknown as Rounds;
    const runner = createCanaryRunner({
      canaries: maker,
      perEpoch: 3,
      k: 3,
      current: async () => ({ list, head: 1 }),
      pool,
      rounds,
      metrics,
      log,
      track: () => {},
      closed: () => false,
    });
    return { runner, metrics, opened };
  }
  const made: string[] = [];
  const maker: CanaryMaker = {
    learn: () => {},
    make: async () => {
      made.push('x');
      return { skipped: 'no call registered' };
    },
    senders: [],
  };

  it('without a maker sends nothing', async () => {
    expect(await rig([]).runner.run()).toBeNull();
  });

  it('counts why none was sent: no invariant, no live miner', async () => {
    const a = rig([], maker);
    expect(await a.runner.run()).toBeNull();
    expect(await countOf(a.metrics.canaries, { result: 'no-invariant' })).toBe(1);
    const b = rig([{ id: 'i' } as RegisteredInvariant], maker);
    expect(await b.runner.run()).toBeNull();
    expect(await countOf(b.metrics.canaries, { result: 'no-miners' })).toBe(1);
    expect(made).toEqual([]);
    expect(a.opened).toEqual([]);
  });

  it('series are registered under their documented names', async () => {
    const reg = new Registry();
    createDefenseMetrics(reg);
    const names = (await reg.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).toEqual([
      'vigil_defense_actions_total',
      'vigil_defense_answers_refused_total',
      'vigil_defense_canaries_total',
      'vigil_defense_heartbeats_refused_total',
      'vigil_defense_outcomes_total',
      'vigil_defense_seen_to_pause_seconds',
      'vigil_defense_txs_total',
    ]);
  });
});
