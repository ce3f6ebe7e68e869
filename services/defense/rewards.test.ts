import { describe, expect, it } from 'vitest';
import type { Vote } from '../../protocol/defense.ts';
import { canaryRounds, canaryWindow, createCanaryPlan } from './canaries.ts';
import { InvalidRegistrationError, validateRegistration } from './registry.ts';
import { type RoundRecord, createRewardBook } from './rewards.ts';

/** One round on invariant `x` (and `y` when given), every miner answering in `latency` ms (10 by default). */
const round = (
  txHash: string,
  truth: Record<string, 'holds' | 'violated' | 'undecided'>,
  votes: Record<string, Record<string, Vote>>,
  opts: { canary?: boolean; latency?: Record<string, number> } = {},
): RoundRecord => ({
  txHash,
  answers: new Map(
    Object.entries(votes).map(([m, v]) => [
      m,
      { votes: new Map(Object.entries(v)), latencyMs: opts.latency?.[m] ?? 10 },
    ]),
  ),
  consensus: Object.entries(truth).map(([id, outcome]) => ({ id, outcome })),
  ...(opts.canary ? { canary: true } : {}),
});

/** One epoch's reward book after `rounds` (each recorded at t = 1), by miner. */
function epochOf(...rounds: RoundRecord[]) {
  const book = createRewardBook({ epochMs: 60_000, now: 0 });
  for (const r of rounds) book.record(r, 1);
  return Object.fromEntries(book.current().map((x) => [x.miner, x]));
}

/** What a miner earns when no decided case shows it right. */
const UNPAID = { accuracy: 0, score: 0 };

describe('rewards: violated recall is measured, never assumed', () => {
  it('an epoch with no decided violation and no canary pays nobody perfect recall', () => {
    const benign = [0, 1, 2, 3, 4].map((i) =>
      round(`b${i}`, { x: 'holds' }, { honest: { x: 'holds' }, safe: { x: 'holds' } }),
    );
    const s = epochOf(...benign);
    for (const m of ['honest', 'safe'])
      expect(s[m]).toMatchObject({
        ...UNPAID,
        txs: 5,
        holdsRecall: { agreed: 5, seen: 5 },
        violatedRecall: { agreed: 0, seen: 0 },
      });
  });

  it('a canary measures violated recall: the always-holds miner earns 0, the honest one is paid', () => {
    // The always-holds miner is 10x faster, which alone would pay it 10x more.
    const latency = { honest: 20, safe: 2 };
    const benign = [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
      round(`b${i}`, { x: 'holds' }, { honest: { x: 'holds' }, safe: { x: 'holds' } }, { latency }),
    );
    // The canary's truth is the validator's simulation: x violated, y untouched.
    const canary = round(
      'canary',
      { x: 'violated', y: 'holds' },
      { honest: { x: 'violated', y: 'holds' }, safe: { x: 'holds', y: 'holds' } },
      { canary: true, latency },
    );
    const s = epochOf(...benign, canary);
    expect(s.honest).toMatchObject({
      txs: 9,
      accuracy: 1,
      violatedRecall: { agreed: 1, seen: 1 },
      holdsRecall: { agreed: 9, seen: 9 },
      canaries: { agreed: 1, seen: 1 },
    });
    expect(s.honest!.score).toBeCloseTo((9 * 5000) / 20);
    expect(s.safe).toMatchObject({
      ...UNPAID,
      txs: 9,
      violatedRecall: { agreed: 0, seen: 1 },
      canaries: { agreed: 0, seen: 1 },
    });
  });

  it('a miner never given a violated case gets no recall credit, even beside one that was', () => {
    const s = epochOf(
      round('b', { x: 'holds' }, { a: { x: 'holds' }, late: { x: 'holds' } }),
      round('canary', { x: 'violated' }, { a: { x: 'violated' } }, { canary: true }),
    );
    expect(s.a).toMatchObject({ accuracy: 1 });
    expect(s.late).toMatchObject({ ...UNPAID, violatedRecall: { seen: 0 } });
  });

  it('a miner crying wolf loses holds recall; a miner right on canaries only is paid for them', () => {
    const s = epochOf(
      round('b', { x: 'holds' }, { wolf: { x: 'violated' }, h: { x: 'holds' } }),
      round('c', { x: 'violated' }, { wolf: { x: 'violated' }, h: { x: 'violated' } }, { canary: true }),
      round('c2', { x: 'violated' }, { only: { x: 'violated' } }, { canary: true }),
    );
    expect(s.wolf).toMatchObject({ accuracy: 0, holdsRecall: { agreed: 0, seen: 1 } });
    expect(s.h).toMatchObject({ accuracy: 1 });
    // No holds case seen: holds recall counts 1 (a crying-wolf miner is caught on the first benign tx).
    expect(s.only).toMatchObject({ accuracy: 1, holdsRecall: { seen: 0 }, canaries: { agreed: 1, seen: 1 } });
  });

  it('undecided invariants and error votes score nothing; a canary answered wrong on any invariant is not right', () => {
    const s = epochOf(
      round('u', { x: 'undecided' }, { a: { x: 'error' } }),
      round('c', { x: 'violated', y: 'holds' }, { a: { x: 'violated', y: 'error' } }, { canary: true }),
    );
    expect(Object.keys(s)).toEqual(['a']);
    expect(s.a).toMatchObject({
      txs: 2,
      holdsRecall: { agreed: 0, seen: 1 },
      violatedRecall: { agreed: 1, seen: 1 },
      canaries: { agreed: 0, seen: 1 },
      accuracy: 0,
    });
  });
});

describe('canary plan', () => {
  it('sends each live miner perMiner canaries an epoch, k at a time', () => {
    expect(canaryRounds(0, 3, 3)).toBe(0);
    expect(canaryRounds(10, 0, 3)).toBe(0);
    expect(canaryRounds(10, 3, 3)).toBe(10);
    expect(canaryRounds(4, 2, 4)).toBe(2);
    // Fewer live miners than k: each canary asks all of them.
    expect(canaryRounds(2, 3, 5)).toBe(3);
  });

  it('draws the epoch times inside its first 90 %, adds more when miners join, serves the least-served first', () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const plan = createCanaryPlan({ perMiner: 2, k: 2, epochMs: 1000, random });
    const epoch0 = { number: 0, startedAt: 0 };
    let fired = plan.due(0, epoch0, 4); // plans 4 canaries over [0, 900]
    for (let t = 100; t <= 1000; t += 100) fired += plan.due(t, epoch0, 4);
    expect(fired).toBe(4);
    // Least served first: 4 canaries of k=2 over 4 miners give each exactly 2.
    const got = new Map<string, number>();
    for (let i = 0; i < 4; i++)
      for (const m of plan.pick(['a', 'b', 'c', 'd'])) got.set(m, (got.get(m) ?? 0) + 1);
    expect([...got.values()]).toEqual([2, 2, 2, 2]);

    // A new epoch: new times, and counts start from zero; 2 more miners mid-epoch add canaries.
    const epoch1 = { number: 1, startedAt: 1000 };
    fired = plan.due(1000, epoch1, 2);
    fired += plan.due(1400, epoch1, 4);
    for (let t = 1500; t <= 2000; t += 100) fired += plan.due(t, epoch1, 4);
    expect(fired).toBe(4);
    expect(plan.pick(['a', 'b'])).toHaveLength(2);
  });

  it('sends an epoch’s canaries early enough to close in it: two deadlines before its end, never past 90 % or before half', () => {
    expect(canaryWindow(1000)).toBe(0.9);
    expect(canaryWindow(1000, 200)).toBe(0.6);
    expect(canaryWindow(1000, 400)).toBe(0.5);
    expect(canaryWindow(3_600_000, 5000)).toBe(0.9);
    // All 4 times of the epoch are due by 600 ms of a 1000 ms epoch with a 200 ms deadline.
    const plan = createCanaryPlan({ perMiner: 2, k: 2, epochMs: 1000, closeMs: 200 });
    const epoch = { number: 0, startedAt: 0 };
    expect(plan.due(0, epoch, 4) + plan.due(600, epoch, 4)).toBe(4);
  });
});

describe('canary calls in a registration', () => {
  const definition = { id: 'o', kind: 'ownerUnchanged', contract: `0x${'11'.repeat(20)}` };
  it('accepts calls with a {sender} placeholder and names bad fields', () => {
    const ok = validateRegistration({
      chainId: 1,
      definition,
      canaries: [{ to: `0x${'AB'.repeat(20)}`, data: '0x13af4035000000000000000000000000{sender}' }],
    });
    expect(ok.registration.canaries).toEqual([
      { to: `0x${'ab'.repeat(20)}`, data: '0x13af4035000000000000000000000000{sender}', value: '0' },
    ]);
    // The definition miners receive carries no canary.
    expect(JSON.stringify(ok.registration.definition)).not.toContain('13af4035');
    const bad = () =>
      validateRegistration({
        chainId: 1,
        definition,
        canaries: [{ to: '0x12', data: '0xzz', value: '-1' }],
      });
    expect(bad).toThrow(InvalidRegistrationError);
    expect(bad).toThrow(/canaries\.0\.to: expected a 0x-prefixed 20-byte hex address/);
    expect(bad).toThrow(/canaries\.0\.data: expected 0x-prefixed hex bytes/);
    expect(bad).toThrow(/canaries\.0\.value: expected a decimal number of wei/);
  });
});
