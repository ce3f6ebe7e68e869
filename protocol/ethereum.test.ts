import { describe, expect, it } from 'vitest';
import { relationshipId } from './ids.ts';
import { checkSubgraph } from './ingest.ts';
import type { GraphEdge } from './model.ts';
import { ETHEREUM_MAX_WINDOW, challengeSchema, challengeWindow } from './patrol.ts';

/** The Ethereum Patrol contract (briefs: eth-contract.md): challenge, evidence, ids, storable edges. */

const A = '0x1111111111111111111111111111111111111111';
const B = '0x2222222222222222222222222222222222222222';
const TOKEN = '0x3333333333333333333333333333333333333333';
const TX = `0x${'ab'.repeat(32)}`;

const ethChallenge = {
  id: 'c1',
  round: 3,
  validator: 'v',
  miner: 'm',
  chain: 'ethereum',
  target: A,
  fromBlock: 10,
  toBlock: 20,
  depth: 2,
  deadline: 1,
  replyTo: 'r',
};

const issues = (data: unknown) => {
  const r = challengeSchema.safeParse(data);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('Ethereum challenge', () => {
  it('parses with its window and direction, absent direction meaning both', () => {
    const c = challengeSchema.parse(ethChallenge);
    expect(c.chain).toBe('ethereum');
    expect(challengeWindow(c)).toEqual({ from: 10, to: 20 });
    expect(challengeSchema.parse({ ...ethChallenge, direction: 'in' })).toMatchObject({ direction: 'in' });
    expect(issues({ ...ethChallenge, direction: 'sideways' })).toHaveLength(1);
  });

  it('requires the chain on every challenge (bittensor included)', () => {
    const { chain: _chain, ...noChain } = ethChallenge;
    expect(issues(noChain)[0]).toMatch(/^chain: /);
    const bt = {
      id: 'c',
      round: 1,
      validator: 'v',
      miner: 'm',
      target: '5F',
      targetBlock: 5,
      window: 2,
      maxBlock: 6,
      depth: 1,
      deadline: 1,
      replyTo: 'r',
    };
    expect(issues(bt)[0]).toMatch(/^chain: /);
    const parsed = challengeSchema.parse({ ...bt, chain: 'bittensor' });
    expect(challengeWindow(parsed)).toEqual({ from: 3, to: 6 });
  });

  it('refuses a mixed-case target, a reversed or oversized window, and Bittensor fields', () => {
    expect(issues({ ...ethChallenge, target: '0xAbCd000000000000000000000000000000000001' })).toEqual([
      'target: must be a lower-case 0x-prefixed 20-byte hex address',
    ]);
    expect(issues({ ...ethChallenge, toBlock: 9 })).toEqual(['toBlock: must be at least fromBlock (10)']);
    expect(issues({ ...ethChallenge, toBlock: 10 + ETHEREUM_MAX_WINDOW - 1 })).toEqual([]);
    expect(issues({ ...ethChallenge, toBlock: 10 + ETHEREUM_MAX_WINDOW })).toEqual([
      `toBlock: window of ${ETHEREUM_MAX_WINDOW + 1} blocks exceeds the cap of ${ETHEREUM_MAX_WINDOW}`,
    ]);
    expect(issues({ ...ethChallenge, targetBlock: 12 })).toEqual([
      ": Unrecognized key(s) in object: 'targetBlock'",
    ]);
  });
});

const erc20: GraphEdge = {
  type: 'TRANSFER',
  from: A,
  to: B,
  evidence: { blockNumber: 12, txHash: TX, logIndex: 4, token: TOKEN, amount: '1000000000000000000000001' },
};
const native: GraphEdge = {
  type: 'TRANSFER',
  from: A,
  to: B,
  evidence: { blockNumber: 12, txHash: TX, callPath: '', amount: '5' },
};
const deployed: GraphEdge = { type: 'DEPLOYED', from: A, to: B, evidence: { blockNumber: 12, txHash: TX } };

describe('Ethereum relationship ids', () => {
  it('name the log, the call path (tx for the own value) and the created contract', () => {
    expect(relationshipId('ethereum', erc20)).toBe(`ethereum:TRANSFER:${TX}:log:4`);
    expect(relationshipId('ethereum', native)).toBe(`ethereum:TRANSFER:${TX}:call:tx`);
    const internal = { ...native, evidence: { ...native.evidence, callPath: '0.2' } };
    expect(relationshipId('ethereum', internal)).toBe(`ethereum:TRANSFER:${TX}:call:0.2`);
    expect(relationshipId('ethereum', deployed)).toBe(`ethereum:DEPLOYED:${TX}:${B}`);
  });

  it('do not depend on the case a hash or address is spelled in', () => {
    const upper = { ...deployed, to: B.toUpperCase().replace('0X', '0x') };
    upper.evidence = { ...deployed.evidence, txHash: TX.toUpperCase().replace('0X', '0x') };
    expect(relationshipId('ethereum', upper)).toBe(relationshipId('ethereum', deployed));
  });
});

describe('storable Ethereum edges', () => {
  const nodes = [
    { address: A, type: 'wallet' as const },
    { address: B, type: 'contract' as const },
  ];
  const problems = (edges: GraphEdge[]) => checkSubgraph('ethereum', A, nodes, edges).problems;

  it('accept an ERC-20 log, a native transfer and a creation', () => {
    expect(problems([erc20, native, deployed])).toEqual([]);
  });

  it('name what an edge lacks or has too much of', () => {
    const { token: _t, ...noToken } = erc20.evidence;
    expect(problems([{ ...erc20, evidence: noToken }])).toEqual([
      'edges.0.evidence.token: required for an ERC-20 TRANSFER (logIndex given)',
    ]);
    expect(problems([{ ...native, evidence: { ...native.evidence, token: TOKEN } }])).toEqual([
      'edges.0.evidence.token: must be absent for a native ETH TRANSFER (callPath given)',
    ]);
    expect(problems([{ ...native, evidence: { ...native.evidence, logIndex: 1 } }])).toEqual([
      'edges.0.evidence: an ethereum TRANSFER needs exactly one of logIndex (ERC-20) and callPath (native ETH)',
    ]);
    expect(problems([{ ...deployed, evidence: { ...deployed.evidence, amount: '1' } }])).toEqual([
      'edges.0.evidence.amount: a DEPLOYED edge moves no value',
    ]);
    expect(problems([{ ...deployed, type: 'STAKE_ADD' }])).toEqual([
      'edges.0.type: STAKE_ADD does not exist on ethereum (TRANSFER, DEPLOYED)',
      'edges.0.evidence.amount: required for a STAKE_ADD edge',
    ]);
    const { txHash: _h, ...noHash } = native.evidence;
    expect(problems([{ ...native, evidence: noHash }])).toEqual([
      'edges.0.evidence.txHash: required on ethereum',
    ]);
  });
});
