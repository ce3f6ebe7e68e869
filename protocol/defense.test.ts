import { describe, expect, it } from 'vitest';
import { InvalidPayloadError } from '../common/errors.ts';
import {
  alertEventSchema,
  heartbeatSchema,
  parseAnswer,
  parseChallenge,
  pauseClaimSchema,
  publishedWeightsSchema,
} from './defense.ts';
import { formatIssues } from './parse.ts';

const issuesOf = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidPayloadError);
    return (e as InvalidPayloadError).issues;
  }
  throw new Error('expected a rejection');
};

// What services/defense/miner.ts and validator.ts send.
const answer = {
  challengeId: 'c1',
  miner: 'm1',
  blockNumber: 7,
  txStatus: 'success',
  results: [{ id: 'inv', status: 'violated', before: '0x1', after: '0x2' }],
  latencyMs: 12,
};
const challenge = {
  challengeId: 'c1',
  chainId: 31337,
  blockNumber: 7,
  tx: { from: `0x${'a'.repeat(40)}`, to: null, nonce: '0x0', gas: '0x5208' },
  invariants: [{ kind: 'ownerUnchanged' }],
  validator: 'v1',
  deadline: 2,
  sentAt: 1,
};

describe('defense messages', () => {
  it('accepts what the services send', () => {
    expect(parseAnswer(answer)).toEqual(answer);
    expect(parseChallenge(challenge)).toEqual({ ...challenge, priorTxs: [] });
    expect(heartbeatSchema.parse(String(1_700_000_000_000))).toBe(1_700_000_000_000);
    expect(pauseClaimSchema.parse('sending:0b0e2d1c-8a6f-4a43-9d0e-6a2c7f1e9b11')).toBeTruthy();
    expect(pauseClaimSchema.parse(`0x${'f'.repeat(64)}`)).toBeTruthy();
    const weights = { validator: 'v1', epoch: 3, at: 1, weights: { m1: 0.5 } };
    expect(publishedWeightsSchema.parse(weights)).toEqual(weights);
  });

  it('rejects a malformed message naming the field', () => {
    expect(issuesOf(() => parseAnswer({ ...answer, results: [{ id: 'inv', status: 'maybe' }] }))).toEqual([
      expect.stringMatching(/^results\.0\.status: Invalid enum value/),
    ]);
    expect(issuesOf(() => parseAnswer({ ...answer, extra: 1 }))).toEqual([
      expect.stringMatching(/^\(root\): Unrecognized key\(s\) in object: 'extra'/),
    ]);
    expect(issuesOf(() => parseChallenge({ ...challenge, tx: { ...challenge.tx, from: '0x12' } }))).toEqual([
      'tx.from: expected a 0x-prefixed 20-byte hex address',
    ]);
    const w = publishedWeightsSchema.safeParse({ validator: 'v1', epoch: 3, at: 1, weights: { m1: -1 } });
    expect(!w.success && formatIssues(w.error)).toEqual([expect.stringMatching(/^weights\.m1: /)]);
    expect(heartbeatSchema.safeParse('soon').success).toBe(false);
    expect(pauseClaimSchema.safeParse('mine').success).toBe(false);
    const a = alertEventSchema.safeParse({ id: 'x' });
    expect(!a.success && formatIssues(a.error)).toContain('chain: Required');
  });
});
