import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { FindingJob, SubgraphJob } from '../protocol/ingest.ts';

await cryptoWaitReady();
const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });

/** A fresh ss58 address, unique per call, so tests never collide in a shared database. */
export function newSs58(): string {
  return keyring.addFromUri(`//vigil-test/${crypto.randomUUID()}`).address;
}

export function newEthAddress(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return `0x${Buffer.from(bytes).toString('hex')}`;
}

export function newHash(): string {
  return `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`;
}

/**
 * A small but complete Bittensor subgraph: target → b (transfer), target → hotkey (stake),
 * owner → hotkey (ownership), hotkey → c (unstake), hotkey → child (parent-child link).
 */
export function sampleSubgraph(overrides: Partial<SubgraphJob> = {}): SubgraphJob {
  const [target, b, c, hotkey, child, owner] = [
    newSs58(),
    newSs58(),
    newSs58(),
    newSs58(),
    newSs58(),
    newSs58(),
  ];
  const block = 1000 + Math.floor(Math.random() * 1_000_000);
  return {
    kind: 'subgraph',
    chain: 'bittensor',
    submissionId: `test:${crypto.randomUUID()}`,
    target,
    window: { from: block - 50, to: block + 50 },
    miner: { hotkey: newSs58(), uid: 1 },
    validator: { hotkey: newSs58(), uid: 0 },
    acceptedAt: new Date().toISOString(),
    nodes: [
      { address: target, type: 'wallet' },
      { address: b, type: 'wallet' },
      { address: c, type: 'wallet' },
      { address: hotkey, type: 'hotkey' },
      { address: child, type: 'hotkey' },
      { address: owner, type: 'wallet' },
    ],
    edges: [
      {
        type: 'TRANSFER',
        from: target,
        to: b,
        evidence: {
          blockNumber: block,
          blockHash: newHash(),
          eventIndex: 3,
          extrinsicIndex: 2,
          amount: '1500000000',
        },
      },
      {
        type: 'STAKE_ADD',
        from: target,
        to: hotkey,
        evidence: {
          blockNumber: block + 1,
          eventIndex: 5,
          extrinsicIndex: 1,
          amount: '700',
          alphaAmount: '650',
          netuid: 1,
        },
      },
      { type: 'OWNS_HOTKEY', from: owner, to: hotkey, evidence: { blockNumber: block } },
      {
        type: 'STAKE_REMOVE',
        from: hotkey,
        to: c,
        evidence: { blockNumber: block + 2, eventIndex: 1, amount: '99', alphaAmount: '90', netuid: 1 },
      },
      {
        type: 'PARENT_OF',
        from: hotkey,
        to: child,
        evidence: {
          blockNumber: block + 3,
          eventIndex: 4,
          subIndex: 0,
          netuid: 1,
          proportion: '9223372036854775807',
        },
      },
    ],
    ...overrides,
  };
}

export function sampleFinding(overrides: Partial<FindingJob> = {}): FindingJob {
  return {
    kind: 'finding',
    chain: 'ethereum',
    chainId: 31337,
    severity: 'critical',
    invariant: {
      id: `inv-${crypto.randomUUID()}`,
      contract: newEthAddress(),
      kind: 'ownerUnchanged',
      description: 'owner must not change',
    },
    tx: { hash: newHash(), from: newEthAddress(), to: newEthAddress(), nonce: 0, blockNumber: null },
    observed: { before: '0x01', after: '0x02' },
    attackerContracts: [],
    consensus: { violated: 3, total: 3, miners: ['m1', 'm2', 'm3'] },
    validator: { hotkey: 'validator-1' },
    raisedAt: new Date().toISOString(),
    ...overrides,
  };
}

type SubgraphEdge = SubgraphJob['edges'][number];
type EdgeEvidence = SubgraphEdge['evidence'];

/**
 * An Ethereum TRANSFER at `block`: native ETH (wei, `callPath` '') unless `erc20` names the token,
 * then an ERC-20 log (index 0 unless given) in the token's units.
 */
export function ethTransfer(
  from: string,
  to: string,
  amount: string,
  block: number,
  erc20?: { token: string; logIndex?: number; tokenSymbol?: string; tokenDecimals?: number },
): SubgraphEdge {
  const evidence: EdgeEvidence = { txHash: newHash(), blockNumber: block, blockHash: newHash(), amount };
  return {
    type: 'TRANSFER',
    from,
    to,
    evidence: erc20 ? { ...evidence, logIndex: 0, ...erc20 } : { ...evidence, callPath: '' },
  };
}

/** An Ethereum DEPLOYED edge: `from` created the contract `to` at `block`. */
export const ethDeployed = (from: string, to: string, block: number): SubgraphEdge => ({
  type: 'DEPLOYED',
  from,
  to,
  evidence: { txHash: newHash(), blockNumber: block, blockHash: newHash() },
});

/**
 * An accepted Ethereum Patrol subgraph around `target` holding `edges`; every address in them is a
 * wallet node, except those in `contracts`. Window 90–110 unless overridden.
 */
export function sampleEthereumSubgraph(
  target: string,
  edges: SubgraphEdge[],
  opts: { contracts?: string[]; window?: SubgraphJob['window'] } = {},
): SubgraphJob {
  const addresses = new Set([target, ...edges.flatMap((e) => [e.from, e.to])]);
  return {
    kind: 'subgraph',
    chain: 'ethereum',
    submissionId: `test:${crypto.randomUUID()}`,
    target,
    window: opts.window ?? { from: 90, to: 110 },
    miner: { hotkey: newSs58(), uid: 1 },
    validator: { hotkey: newSs58(), uid: 0 },
    acceptedAt: new Date().toISOString(),
    nodes: [...addresses].map((address) => ({
      address,
      type: opts.contracts?.includes(address) ? ('contract' as const) : ('wallet' as const),
    })),
    edges,
  };
}
