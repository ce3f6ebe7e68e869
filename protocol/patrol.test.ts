import { Keyring } from '@polkadot/keyring';
import { describe, expect, it } from 'vitest';
import { answerSignatureValid, scoreEntrySchema, signAnswer } from './patrol.ts';
import { canonicalJson } from './signing.ts';

describe('canonicalJson', () => {
  it('sorts keys at every depth and matches JSON.stringify otherwise', () => {
    const a = { b: 1, a: { d: [3, { z: 1, y: null }], c: 'x"' }, u: undefined };
    expect(canonicalJson(a)).toBe('{"a":{"c":"x\\"","d":[3,{"y":null,"z":1}]},"b":1}');
    const reordered = { a: { c: 'x"', d: [3, { y: null, z: 1 }] }, b: 1 };
    expect(canonicalJson(reordered)).toBe(canonicalJson(a));
    expect(JSON.parse(canonicalJson(a))).toEqual({ a: { c: 'x"', d: [3, { y: null, z: 1 }] }, b: 1 });
  });

  it('keeps a signature valid across a reordering transport and breaks it on any change', () => {
    const pair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//canonical');
    const sub = { nodes: [{ address: pair.address, type: 'wallet' as const }], edges: [] };
    const answer = signAnswer(pair, 'c1', sub);
    const shuffled = JSON.parse(
      JSON.stringify({
        signature: answer.signature,
        sentAt: answer.sentAt,
        subgraph: { edges: [], nodes: [{ type: 'wallet', address: pair.address }] },
        miner: answer.miner,
        challengeId: 'c1',
      }),
    );
    expect(answerSignatureValid(shuffled)).toBe(true);
    expect(answerSignatureValid({ ...shuffled, challengeId: 'c2' })).toBe(false);
  });
});

describe('score history entries', () => {
  it('reads what the validator writes and refuses what is not a score', () => {
    for (const total of [0, 0.25, 1, 1e-7]) expect(scoreEntrySchema.parse(String(total))).toBe(total);
    for (const bad of ['', 'x', '1.5', '-0.1']) expect(scoreEntrySchema.safeParse(bad).success).toBe(false);
  });
});
