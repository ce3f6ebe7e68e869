import { Keyring } from '@polkadot/keyring';
import { describe, expect, it } from 'vitest';
import { JOB_LIMITS } from './ingest.ts';
import {
  ANSWER_LIMITS,
  answerSignatureValid,
  checkAnswer,
  jsonSizeWithin,
  scoreEntrySchema,
  signAnswer,
} from './patrol.ts';
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

describe('answer size caps', () => {
  const pair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//caps');
  const other = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//caps-other');
  const edge = {
    type: 'TRANSFER' as const,
    from: pair.address,
    to: other.address,
    evidence: { blockNumber: 7, eventIndex: 3, extrinsicIndex: null, amount: '12345' },
  };
  const expected = { challengeId: 'c1', miner: pair.address };

  it('fit in one ingest job', () => {
    expect(ANSWER_LIMITS.edges).toBeLessThanOrEqual(JOB_LIMITS.edges);
    expect(ANSWER_LIMITS.nodes).toBeLessThanOrEqual(JOB_LIMITS.nodes);
    // A job adds its own fields (< 1 KiB) to the answer's nodes and edges.
    expect(ANSWER_LIMITS.bytes + 1024).toBeLessThanOrEqual(JOB_LIMITS.bytes);
  });

  it('are checked before the shape and the signature', () => {
    // Unsigned and of a wrong shape: refused for its size all the same, so nothing else ran first.
    const edges = {
      challengeId: 'c1',
      miner: pair.address,
      signature: 'x',
      subgraph: { nodes: [], edges: [] },
    };
    edges.subgraph.edges = Array.from({ length: ANSWER_LIMITS.edges + 1 }, () => ({ junk: true })) as never;
    expect(checkAnswer(edges, expected)).toEqual({
      ok: false,
      kind: 'oversize',
      reason: `answer too large: ${ANSWER_LIMITS.edges + 1} edges, over the cap of ${ANSWER_LIMITS.edges} per answer`,
    });
    const nodes = { subgraph: { nodes: new Array(ANSWER_LIMITS.nodes + 1).fill(0), edges: [] } };
    expect(checkAnswer(nodes, expected)).toMatchObject({ ok: false, kind: 'oversize' });
    const bytes = {
      ...signAnswer(pair, 'c1', { nodes: [{ address: pair.address, type: 'wallet' }], edges: [] }),
    };
    bytes.challengeId = 'c'.repeat(ANSWER_LIMITS.bytes);
    expect(checkAnswer(bytes, expected)).toEqual({
      ok: false,
      kind: 'oversize',
      reason: `answer too large: its JSON is over the cap of ${ANSWER_LIMITS.bytes} bytes per answer`,
    });
    expect(checkAnswer(bytes, expected, ANSWER_LIMITS.bytes + 1)).toMatchObject({
      reason: `answer too large: ${ANSWER_LIMITS.bytes + 1} bytes, over the cap of ${ANSWER_LIMITS.bytes} bytes per answer`,
    });
  });

  it('let an answer at the caps through to its other checks', () => {
    const nodes = [
      { address: pair.address, type: 'wallet' as const },
      { address: other.address, type: 'wallet' as const },
    ];
    const edges = Array.from({ length: ANSWER_LIMITS.edges }, (_, i) => ({
      ...edge,
      evidence: { ...edge.evidence, eventIndex: i },
    }));
    const answer = signAnswer(pair, 'c1', { nodes, edges });
    expect(checkAnswer(answer, expected)).toMatchObject({ ok: true });
  });

  it('measure the JSON size byte for byte, and stop at the limit', () => {
    const answer = signAnswer(pair, 'c1', {
      nodes: [
        { address: pair.address, type: 'wallet' },
        { address: other.address, type: 'wallet' },
      ],
      edges: [edge, { ...edge, evidence: { ...edge.evidence, eventIndex: 4, amount: 'µ' } }],
    });
    const exact = Buffer.byteLength(JSON.stringify(answer));
    expect(jsonSizeWithin(answer, Number.POSITIVE_INFINITY)).toBe(exact);
    expect(jsonSizeWithin(answer, 10)).toBeGreaterThan(10);
    expect(jsonSizeWithin(answer, 10)).toBeLessThan(exact);
  });
});
