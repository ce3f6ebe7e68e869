import { describe, expect, it } from 'vitest';
import { percentile } from '../../common/stats.ts';
import type { Answer, Vote } from '../../protocol/defense.ts';
import { attackFees, outbid, signBody } from './actions.ts';
import { decide, votesNeeded } from './consensus.ts';
import { InvalidRegistrationError, validateRegistration } from './registry.ts';
import { createRewardBook, defenseWeights } from './rewards.ts';

const ans = (miner: string, votes: Record<string, Vote>, extra: Partial<Answer> = {}): Answer => ({
  challengeId: 'c',
  miner,
  validator: 'v',
  signature: `0x${'0'.repeat(128)}`,
  blockNumber: 1,
  txStatus: 'success',
  results: Object.entries(votes).map(([id, status]) => ({
    id,
    status,
    before: '1',
    after: status === 'violated' ? '0' : '1',
  })),
  latencyMs: 3,
  ...extra,
});

describe('consensus', () => {
  it('needs a qualified share of the miners asked', () => {
    expect(votesNeeded(3, 2 / 3)).toBe(2);
    expect(votesNeeded(5, 0.6)).toBe(3);
    expect(votesNeeded(9, 2 / 3)).toBe(6);
    const [c] = decide(
      ['x'],
      ['a', 'b', 'c'],
      [ans('a', { x: 'violated' }), ans('b', { x: 'violated' })],
      2 / 3,
    );
    expect(c).toMatchObject({
      outcome: 'violated',
      votes: { violated: 2, holds: 0, error: 0, missing: 1 },
      agreeing: ['a', 'b'],
      before: '1',
      after: '0',
    });
  });

  it('never counts an error vote as holds', () => {
    const [c] = decide(
      ['x'],
      ['a', 'b', 'c'],
      [ans('a', { x: 'holds' }), ans('b', { x: 'error' }), ans('c', { x: 'error' })],
      2 / 3,
    );
    expect(c!.outcome).toBe('undecided');
    expect(c!.votes).toEqual({ holds: 1, violated: 0, error: 2, missing: 0 });
    // An answer that leaves an invariant out votes error on it.
    const [d] = decide(['x', 'y'], ['a', 'b'], [ans('a', { y: 'holds' }), ans('b', { y: 'holds' })], 2 / 3);
    expect(d).toMatchObject({ id: 'x', outcome: 'undecided', votes: { error: 2 } });
  });

  it('a lying minority is outvoted; strangers and duplicate answers do not vote', () => {
    const answers = [
      ans('a', { x: 'violated' }),
      ans('liar', { x: 'holds' }),
      ans('b', { x: 'violated' }),
      ans('a', { x: 'holds' }),
      ans('eve', { x: 'holds' }),
    ];
    const [c] = decide(['x'], ['a', 'b', 'liar'], answers, 2 / 3);
    expect(c).toMatchObject({ outcome: 'violated', votes: { violated: 2, holds: 1 } });
    // Silence cannot tip a vote: 1 of 3 answered.
    expect(decide(['x'], ['a', 'b', 'c'], [ans('a', { x: 'holds' })], 2 / 3)[0]!.outcome).toBe('undecided');
  });
});

describe('rewards', () => {
  const round = (
    txHash: string,
    outcome: 'holds' | 'violated',
    votes: Record<string, Vote>,
    latency: Record<string, number> = {},
  ) => ({
    txHash,
    answers: new Map(
      Object.entries(votes).map(([m, v]) => [m, { votes: new Map([['x', v]]), latencyMs: latency[m] ?? 10 }]),
    ),
    consensus: [
      {
        id: 'x',
        outcome,
        votes: { holds: 0, violated: 0, error: 0, missing: 0 },
        asked: 3,
        agreeing: [],
        before: null,
        after: null,
      },
    ],
  });

  it('S = N * A * 5000 / L99; an always-safe miner earns nothing once an attack is decided', () => {
    const book = createRewardBook({ epochMs: 60_000, now: 0 });
    for (let i = 0; i < 9; i++)
      book.record(round(`b${i}`, 'holds', { honest: 'holds', safe: 'holds', liar: 'violated' }), 1);
    book.record(round('attack', 'violated', { honest: 'violated', safe: 'holds', liar: 'holds' }), 1);
    const s = Object.fromEntries(book.current().map((x) => [x.miner, x]));
    expect(s.honest).toMatchObject({ txs: 10, accuracy: 1, l99Ms: 10, score: 10 * 1 * 500 });
    expect(s.safe).toMatchObject({
      accuracy: 0,
      score: 0,
      holdsRecall: { agreed: 9, seen: 9 },
      violatedRecall: { agreed: 0, seen: 1 },
    });
    expect(s.liar).toMatchObject({ accuracy: 0, score: 0 });
    const w = defenseWeights(book.current());
    expect(w.get('honest')).toBe(1);
    expect(w.get('safe')).toBe(0);
  });

  it('slower miners earn less; stats reset per epoch', () => {
    const book = createRewardBook({ epochMs: 1000, now: 0 });
    book.record(round('t1', 'holds', { fast: 'holds', slow: 'holds' }, { fast: 5, slow: 50 }), 10);
    // A decided violation: without one nobody has violated recall, so nobody is paid.
    book.record(round('a1', 'violated', { fast: 'violated', slow: 'violated' }, { fast: 5, slow: 50 }), 10);
    const [fast, slow] = book.current();
    expect(fast!.score / slow!.score).toBeCloseTo(10);
    book.record(round('t2', 'holds', { fast: 'holds' }), 2000);
    expect(book.epoch).toBe(1);
    expect(book.lastEpoch().map((x) => x.miner)).toEqual(['fast', 'slow']);
    expect(book.current()).toMatchObject([{ miner: 'fast', txs: 1 }]);
  });

  it('ends epochs on time without rounds, and settles weights on the last finished epoch', () => {
    const book = createRewardBook({ epochMs: 1000, now: 0 });
    book.record(round('t1', 'holds', { fast: 'holds' }), 10);
    // Before the first boundary: the running epoch is what there is.
    expect(book.settled().epoch).toBe(0);
    expect(book.settled().scores.map((x) => x.miner)).toEqual(['fast']);
    expect(book.rollEpoch(500)).toBe(false);
    expect(book.rollEpoch(1000)).toBe(true);
    expect(book.epoch).toBe(1);
    book.record(round('t2', 'holds', { slow: 'holds' }), 1100);
    // After it: the finished epoch, not the few rounds of the new one.
    expect(book.settled().epoch).toBe(0);
    expect(book.settled().scores.map((x) => x.miner)).toEqual(['fast']);
    // An epoch with no rounds ends too: nothing left to settle on, so nothing is published.
    expect(book.rollEpoch(2000)).toBe(true);
    expect(book.rollEpoch(3000)).toBe(true);
    expect(book.settled()).toEqual({ epoch: 2, scores: [] });
  });

  it('takes the 99th percentile of latencies', () => {
    expect(percentile([1, 2, 3, 4, 100], 99)).toBe(100);
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(
      percentile(
        Array.from({ length: 500 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(495);
    expect(percentile([], 99)).toBeNaN();
  });
});

describe('defense actions and registrations', () => {
  it('outbids the attack on both tip and fee cap, within the cap', () => {
    const attack = attackFees({
      from: '0x',
      nonce: '0x0',
      gas: '0x0',
      type: '0x2',
      maxFeePerGas: '0x' + (50n * 10n ** 9n).toString(16),
      maxPriorityFeePerGas: '0x' + (2n * 10n ** 9n).toString(16),
    });
    expect(attack).toEqual({ tip: 2n * 10n ** 9n, maxFee: 50n * 10n ** 9n });
    const f = outbid(attack, 12_000, 1000n * 10n ** 9n);
    expect(f.tip).toBe(3_400_000_000n);
    expect(f.maxFee).toBe(61n * 10n ** 9n);
    expect(outbid(attack, 12_000, 10n * 10n ** 9n)).toMatchObject({ capped: true, maxFee: 10n * 10n ** 9n });
    expect(attackFees({ from: '0x', nonce: '0x0', gas: '0x0', type: '0x0', gasPrice: '0x64' })).toEqual({
      tip: 100n,
      maxFee: 100n,
    });
  });

  it('signs webhook bodies with HMAC-SHA256', () => {
    expect(signBody('{"a":1}', 'secret')).toBe(
      'sha256=aa9e2e3575f5d7098b6caccd790888c36d5fdb63342a73bada2d6a51747a8494',
    );
  });

  it('validates definitions with the engine schema and names every problem', () => {
    const bad = (input: unknown) => {
      try {
        validateRegistration(input);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidRegistrationError);
        return (e as InvalidRegistrationError).issues;
      }
      throw new Error('expected a rejection');
    };
    expect(bad({ chainId: 1, definition: { id: 'x', kind: 'ownerUnchanged', contract: '0x12' } })).toEqual([
      'definition.contract: expected a 0x-prefixed 20-byte hex address',
    ]);
    expect(
      bad({ chainId: 1, definition: { id: 'x', kind: 'balanceMaxDrop', account: '0x' + '11'.repeat(20) } }),
    ).toEqual(['definition: give bps (relative) or maxDrop (absolute), or both']);
    expect(
      bad({ chainId: 0, severity: 'meh', definition: {}, actions: [{ kind: 'webhook', url: 'nope' }] }),
    ).toEqual([
      'chainId: Number must be greater than 0',
      "severity: Invalid enum value. Expected 'low' | 'medium' | 'high' | 'critical', received 'meh'",
      'actions.0.url: expected an http(s) URL',
    ]);
    const ok = validateRegistration({
      chainId: 1,
      definition: {
        id: 'bal',
        kind: 'erc20BalanceDrop',
        token: '0x' + 'AA'.repeat(20),
        holder: '0x' + 'BB'.repeat(20),
        mappingSlot: 0,
        bps: 100,
      },
      actions: [{ kind: 'pause' }],
    });
    expect(ok.registration).toMatchObject({
      severity: 'high',
      actions: [{ kind: 'pause', signature: 'pause()' }],
    });
    expect(ok.invariant.kind).toBe('erc20BalanceDrop');
  });
});
