import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidPayloadError } from '../common/errors.ts';
import {
  type OpenChallenges,
  alertEventSchema,
  checkDefenseAnswer,
  checkHeartbeat,
  heartbeatSchema,
  parseAnswer,
  parseChallenge,
  pauseClaimSchema,
  publishedWeightsSchema,
  signDefenseAnswer,
  signHeartbeat,
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
const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const answer = {
  challengeId: 'c1',
  miner: ALICE,
  validator: 'v1',
  signature: `0x${'ab'.repeat(64)}`,
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
    const beat = { miner: ALICE, at: 1_700_000_000_000, signature: answer.signature };
    expect(heartbeatSchema.parse(beat)).toEqual(beat);
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
    expect(heartbeatSchema.safeParse('1700000000000').success).toBe(false);
    expect(issuesOf(() => parseAnswer({ ...answer, miner: 'm1' }))).toEqual([
      'miner: expected an ss58 address (the miner hotkey)',
    ]);
    expect(pauseClaimSchema.safeParse('mine').success).toBe(false);
    const a = alertEventSchema.safeParse({ id: 'x' });
    expect(!a.success && formatIssues(a.error)).toContain('chain: Required');
  });
});

describe('checking what arrives: signed answers and heartbeats', () => {
  let keys: Keyring;
  beforeAll(async () => {
    await cryptoWaitReady();
    keys = new Keyring({ type: 'sr25519', ss58Format: 42 });
  });
  const unsigned = (miner: string) => ({
    challengeId: 'c1',
    miner,
    validator: 'v1',
    blockNumber: 7,
    txStatus: 'success',
    results: [{ id: 'inv', status: 'holds' as const, before: '0x1', after: '0x1' }],
    latencyMs: 4.25,
  });
  const openWith = (asked: string[], answered: string[] = []): OpenChallenges => ({
    validator: 'v1',
    round: (id) => (id === 'c1' ? { asked, answered: (m) => answered.includes(m) } : undefined),
  });

  it('accepts a signed answer from an asked miner, and refuses each fault with its reason', () => {
    const honest = keys.addFromUri('//honest');
    const forger = keys.addFromUri('//forger');
    const signed = signDefenseAnswer(honest, unsigned(honest.address));
    const open = openWith([honest.address]);
    const text = JSON.stringify(signed);
    expect(checkDefenseAnswer(text, open)).toEqual({ ok: true, answer: signed });
    const kind = (data: string, o = open) => {
      const r = checkDefenseAnswer(data, o);
      return r.ok ? 'ok' : `${r.kind}: ${r.reason}`;
    };
    // Votes in the honest miner's name, signed by another key, or changed after signing.
    const forged = { ...signDefenseAnswer(forger, unsigned(forger.address)), miner: honest.address };
    expect(kind(JSON.stringify(forged))).toBe(
      `bad_signature: signature is not valid for the miner hotkey ${honest.address}`,
    );
    const flipped = { ...signed, results: [{ ...signed.results[0]!, status: 'violated' }] };
    expect(kind(JSON.stringify(flipped))).toMatch(/^bad_signature/);
    expect(kind(JSON.stringify({ ...signed, latencyMs: 1 }))).toMatch(/^bad_signature/);
    const { signature: _, ...bare } = signed;
    expect(kind(JSON.stringify(bare))).toMatch(/^malformed: malformed answer: signature: Required/);
    expect(kind('{')).toMatch(/^malformed: answer is not JSON/);
    expect(kind(JSON.stringify({ ...signed, validator: 'v2' }))).toBe(
      'wrong_validator: answer is for validator v2, this is v1',
    );
    expect(kind(JSON.stringify({ ...signed, challengeId: 'c9' }))).toMatch(
      /^unknown_challenge: challenge c9 is not open/,
    );
    expect(kind(text, openWith([forger.address]))).toBe(
      `not_asked: miner ${honest.address} was not asked challenge c1`,
    );
    expect(kind(text, openWith([honest.address], [honest.address]))).toBe(
      `duplicate: miner ${honest.address} already answered challenge c1`,
    );
  });

  it('accepts a fresh signed heartbeat of the hotkey, and refuses replayed, future, forged or misfiled ones', () => {
    const m = keys.addFromUri('//beating');
    const now = 1_700_000_000_000;
    const check = (h: unknown, hotkey = m.address) => {
      const r = checkHeartbeat(JSON.stringify(h), hotkey, now, { maxAgeMs: 10_000, maxSkewMs: 2_000 });
      return r.ok ? 'ok' : r.kind;
    };
    expect(check(signHeartbeat(m, now - 9_000))).toBe('ok');
    expect(check(signHeartbeat(m, now + 1_500))).toBe('ok');
    expect(check(signHeartbeat(m, now - 10_000))).toBe('stale');
    expect(check(signHeartbeat(m, now + 2_500))).toBe('future');
    expect(check({ ...signHeartbeat(m, now - 60_000), at: now })).toBe('bad_signature');
    const other = keys.addFromUri('//other');
    expect(check({ ...signHeartbeat(other, now), miner: m.address })).toBe('bad_signature');
    expect(check(signHeartbeat(other, now))).toBe('wrong_miner');
    expect(check(String(now))).toBe('malformed');
    expect(checkHeartbeat(String(now), m.address, now, { maxAgeMs: 10_000 })).toMatchObject({
      ok: false,
      kind: 'malformed',
      reason: `malformed heartbeat of ${m.address}: (root): Expected object, received number`,
    });
  });
});
