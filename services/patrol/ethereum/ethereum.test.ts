import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ActivityReader, createActivityReader } from '../../../chains/ethereum/activity.ts';
import { type JsonRpcClient, createHttpRpc } from '../../../chains/ethereum/rpc.ts';
import { createTokenMetadata } from '../../../chains/ethereum/tokens.ts';
import { type PatrolScenario, startPatrolScenario } from '../../../dev/ethereum/patrolScenario.ts';
import type { Graph } from '../../../graph/driver.ts';
import { writeSubgraph } from '../../../graph/ingest.ts';
import type { GraphEdge } from '../../../graph/model.ts';
import { type SubgraphJob, checkBuiltSubgraphJob } from '../../../protocol/ingest.ts';
import { type EthereumChallenge, type Subgraph, signAnswer } from '../../../protocol/patrol.ts';
import { openTestGraph, silentLogger } from '../../../test/services.ts';
import { DEFAULT_SCORING } from '../scoring.ts';
import { buildEthereumSubgraph } from './miner.ts';
import { ethereumVerifier } from './patrol.ts';
import { sampleEthereumTargets } from './targets.ts';
import { verifyEthereumContent } from './verify.ts';

let s: PatrolScenario;
let graph: Graph;
const rpcs: JsonRpcClient[] = [];
/** A reader of its own (fresh cache), as a separate miner or validator process would have. */
const freshReader = (): ActivityReader => {
  const rpc = createHttpRpc({ url: s.node.rpcUrl });
  rpcs.push(rpc);
  return createActivityReader(rpc);
};
const pair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//eth-patrol-miner');

beforeAll(async () => {
  s = await startPatrolScenario({ log: silentLogger(), cacheDir: join(tmpdir(), 'vigil-solc-cache') });
  graph = await openTestGraph();
}, 180_000);
afterAll(async () => {
  for (const r of rpcs) r.close();
  await graph?.close();
  await s?.stop();
});

const challenge = (over: Partial<EthereumChallenge> = {}): EthereumChallenge => ({
  chain: 'ethereum',
  id: `c-${crypto.randomUUID()}`,
  round: 1,
  validator: 'v',
  miner: pair.address,
  target: s.who.target,
  fromBlock: s.firstBlock,
  toBlock: s.lastBlock,
  depth: 2,
  deadline: Date.now() + 60_000,
  replyTo: 'unused',
  ...over,
});

/** An edge as a comparable line: what the scenario's sender knows, none of it read from traces. */
const line = (e: GraphEdge) =>
  [
    e.type,
    e.from,
    e.to,
    e.evidence.txHash,
    e.evidence.amount ?? '',
    e.evidence.token ?? '',
    e.evidence.logIndex ?? '',
    e.evidence.callPath ?? '',
  ].join('|');

/** What the scenario did, edge by edge (dev/ethereum/patrolScenario.ts), around the target to depth 2. */
function expectedDepth2(): string[] {
  const { who, contracts: k, tx } = s;
  const eth = (x: string) => parseEther(x).toString();
  return [
    ['TRANSFER', who.funder, who.target, tx.fund.hash, eth('1'), '', '', ''],
    ['TRANSFER', who.funder, who.target, tx.vglToTarget.hash, eth('500'), k.vgl, 0, ''],
    ['TRANSFER', who.funder, who.target, tx.tokToTarget.hash, eth('7'), k.tok, 0, ''],
    ['DEPLOYED', who.target, k.splitter, tx.deploySplitter.hash, '', '', '', ''],
    ['TRANSFER', who.target, k.splitter, tx.split.hash, eth('0.3'), '', '', ''],
    ['TRANSFER', who.target, k.splitter, tx.spawn.hash, eth('0.01'), '', '', ''],
    ['TRANSFER', who.target, who.d, tx.vglToD.hash, eth('100'), k.vgl, 0, ''],
    // Depth 2: the funder's creations, the Splitter's internal calls and its internal creation.
    ['DEPLOYED', who.funder, k.vgl, tx.deployVgl.hash, '', '', '', ''],
    ['DEPLOYED', who.funder, k.tok, tx.deployTok.hash, '', '', '', ''],
    ['TRANSFER', k.splitter, who.b, tx.split.hash, eth('0.15'), '', '', '0'],
    ['TRANSFER', k.splitter, who.c, tx.split.hash, eth('0.15'), '', '', '1'],
    ['DEPLOYED', k.splitter, k.child, tx.spawn.hash, '', '', '', ''],
    ['TRANSFER', k.splitter, k.child, tx.spawn.hash, eth('0.01'), '', '', '0'],
  ]
    .map((parts) => parts.join('|'))
    .sort();
}

describe('the Ethereum miner', () => {
  it('builds the subgraph the scenario made: ETH, ERC-20, internal calls and creations, nothing reverted', async () => {
    const sub = await buildEthereumSubgraph(freshReader(), challenge());
    expect(sub.edges.map(line).sort()).toEqual(expectedDepth2());
    const types = Object.fromEntries(sub.nodes.map((n) => [n.address, n.type]));
    const { who, contracts: k } = s;
    expect(types).toEqual({
      [who.target]: 'wallet',
      [who.funder]: 'wallet',
      [who.d]: 'wallet',
      [who.b]: 'wallet',
      [who.c]: 'wallet',
      [k.splitter]: 'contract',
      [k.vgl]: 'contract',
      [k.tok]: 'contract',
      [k.child]: 'contract',
    });
    // The reverted call's 0.2 ETH moved nowhere.
    expect(sub.edges.some((e) => e.evidence.txHash === s.tx.failing.hash)).toBe(false);
  });

  it('reads the same facts from trace_block and from the callTracer (geth has only the latter)', async () => {
    const rpc = createHttpRpc({ url: s.node.rpcUrl });
    rpcs.push(rpc);
    const parity = await createActivityReader(rpc, { traces: 'trace_block' }).range(
      s.firstBlock,
      s.lastBlock,
    );
    const geth = await createActivityReader(rpc, { traces: 'callTracer' }).range(s.firstBlock, s.lastBlock);
    expect(parity.flatMap((b) => b.native).length).toBe(6);
    expect(parity.flatMap((b) => b.creations).length).toBe(4);
    expect(parity).toEqual(geth);
  });

  it('walks only the direction asked: who funded the target, or where its value went', async () => {
    const { who, contracts: k } = s;
    const back = await buildEthereumSubgraph(freshReader(), challenge({ direction: 'in' }));
    expect(back.edges.map((e) => `${e.type}|${e.from}|${e.to}`).sort()).toEqual(
      [
        `TRANSFER|${who.funder}|${who.target}`,
        `TRANSFER|${who.funder}|${who.target}`,
        `TRANSFER|${who.funder}|${who.target}`,
      ].sort(),
    );
    const forward = await buildEthereumSubgraph(freshReader(), challenge({ direction: 'out', depth: 1 }));
    expect(forward.edges.map((e) => `${e.type}|${e.from}|${e.to}`).sort()).toEqual(
      [
        `DEPLOYED|${who.target}|${k.splitter}`,
        `TRANSFER|${who.target}|${k.splitter}`,
        `TRANSFER|${who.target}|${k.splitter}`,
        `TRANSFER|${who.target}|${who.d}`,
      ].sort(),
    );
  });

  it('draws targets from addresses active in recent blocks', async () => {
    const targets = await sampleEthereumTargets(freshReader(), {
      count: 3,
      head: s.lastBlock,
      recent: s.lastBlock,
      probes: 100,
      random: () => 0.5,
    });
    expect(targets).toHaveLength(3);
    const active = new Set(expectedDepth2().flatMap((l) => l.split('|').slice(1, 3)));
    for (const t of targets) expect(active.has(t.address)).toBe(true);
    expect(new Set(targets.map((t) => t.address)).size).toBe(3);
  });
});

describe('Ethereum targets on a quiet node', () => {
  it('say there is no target this round when the probed blocks hold no activity', async () => {
    await s.node.mine(5);
    const head = Number(await s.node.rpc<string>('eth_blockNumber'));
    const quiet = sampleEthereumTargets(freshReader(), { count: 1, head, recent: 5, probes: 16 });
    await expect(quiet).rejects.toThrow(
      `no Ethereum activity in 5 probe blocks between ${head - 4} and ${head}: no target to challenge miners on this round`,
    );
  });
});

describe('the Ethereum validator', () => {
  const honest = async (c: EthereumChallenge) => buildEthereumSubgraph(freshReader(), c);
  const verify = (sub: Subgraph, c: EthereumChallenge) =>
    verifyEthereumContent(signAnswer(pair, c.id, sub), c, freshReader());

  it('accepts the honest answer, complete, with token metadata read from the token contract, and it lands in Neo4j', async () => {
    const c = challenge();
    const sub = await honest(c);
    const rpc = createHttpRpc({ url: s.node.rpcUrl });
    rpcs.push(rpc);
    const verifier = ethereumVerifier(freshReader(), createTokenMetadata(rpc), { scoring: DEFAULT_SCORING });
    const verdict = await verifier(signAnswer(pair, c.id, sub), c);
    expect(verdict).toMatchObject({
      accepted: true,
      completeness: 1,
      volume: sub.nodes.length + sub.edges.length,
    });
    if (!verdict.accepted) return;
    const vgl = verdict.edges.filter((e) => e.evidence.token === s.contracts.vgl);
    expect(vgl.map((e) => [e.evidence.tokenSymbol, e.evidence.tokenDecimals])).toEqual([
      ['VGL', 18],
      ['VGL', 18],
    ]);
    // Token.sol has neither function: nothing is made up for it.
    const tok = verdict.edges.find((e) => e.evidence.token === s.contracts.tok)!;
    expect([tok.evidence.tokenSymbol, tok.evidence.tokenDecimals]).toEqual([undefined, undefined]);

    const job: SubgraphJob = checkBuiltSubgraphJob({
      kind: 'subgraph',
      chain: 'ethereum',
      submissionId: `${c.id}:${pair.address}`,
      target: c.target,
      window: { from: c.fromBlock, to: c.toBlock },
      miner: { hotkey: pair.address, uid: 1 },
      validator: { hotkey: 'v' },
      acceptedAt: new Date().toISOString(),
      nodes: sub.nodes,
      edges: verdict.edges,
    });
    await writeSubgraph(graph, job, { batchSize: 500 });
    const rows = await graph.read((tx) =>
      tx.run(
        `MATCH (a:Wallet {chain: 'ethereum'})-[r]->(b:Wallet {chain: 'ethereum'})
         WHERE r.txHash IN $hashes
         RETURN type(r) AS type, a.address AS from, b.address AS to, r.id AS id, r.amount AS amount,
                r.token AS token, r.tokenSymbol AS symbol, b:Contract AS contract`,
        { hashes: Object.values(s.tx).map((t) => t.hash) },
      ),
    );
    const stored = rows.records.map((r) => r.toObject());
    expect(stored).toHaveLength(expectedDepth2().length);
    const { who, contracts: k, tx } = s;
    expect(stored).toEqual(
      expect.arrayContaining([
        {
          type: 'TRANSFER',
          from: who.funder,
          to: who.target,
          id: `ethereum:TRANSFER:${tx.vglToTarget.hash}:log:0`,
          amount: '500000000000000000000',
          token: k.vgl,
          symbol: 'VGL',
          contract: false,
        },
        {
          type: 'DEPLOYED',
          from: k.splitter,
          to: k.child,
          id: `ethereum:DEPLOYED:${tx.spawn.hash}:${k.child}`,
          amount: null,
          token: null,
          symbol: null,
          contract: true,
        },
        {
          type: 'TRANSFER',
          from: k.splitter,
          to: who.c,
          id: `ethereum:TRANSFER:${tx.split.hash}:call:1`,
          amount: '150000000000000000',
          token: null,
          symbol: null,
          contract: false,
        },
        {
          type: 'TRANSFER',
          from: who.funder,
          to: who.target,
          id: `ethereum:TRANSFER:${tx.fund.hash}:call:tx`,
          amount: '1000000000000000000',
          token: null,
          symbol: null,
          contract: false,
        },
      ]),
    );
  });

  it('refuses each forged shape with its reason', async () => {
    const c = challenge();
    const sub = await honest(c);
    const { who, contracts: k, tx } = s;
    const at = (pred: (e: GraphEdge) => boolean) => sub.edges.findIndex(pred);
    const vglIn = at((e) => e.evidence.txHash === tx.vglToTarget.hash);
    const internal = at((e) => e.evidence.callPath === '0' && e.to === who.b);
    const deployed = at((e) => e.type === 'DEPLOYED' && e.to === k.splitter);
    const forged = (i: number, change: (e: GraphEdge) => GraphEdge): Subgraph => {
      const copy = structuredClone(sub);
      copy.edges[i] = change(copy.edges[i]!);
      return copy;
    };
    const ev = (e: GraphEdge, over: Partial<GraphEdge['evidence']>) => ({
      ...e,
      evidence: { ...e.evidence, ...over },
    });
    const cases: [string, Subgraph, string | RegExp][] = [
      [
        'wrong log index',
        forged(vglIn, (e) => ev(e, { logIndex: 3 })),
        `edge ${vglIn} (TRANSFER ${who.funder} → ${who.target}): wrong log index: tx ${tx.vglToTarget.hash}'s Transfer from ${who.funder} to ${who.target} is log #0, not #3`,
      ],
      [
        'wrong amount',
        forged(vglIn, (e) => ev(e, { amount: parseEther('5000').toString() })),
        `edge ${vglIn} (TRANSFER ${who.funder} → ${who.target}): wrong amount: log #0 of tx ${tx.vglToTarget.hash} moved 500000000000000000000, not 5000000000000000000000`,
      ],
      [
        'wrong token',
        forged(vglIn, (e) => ev(e, { token: k.tok })),
        `edge ${vglIn} (TRANSFER ${who.funder} → ${who.target}): wrong token: log #0 of tx ${tx.vglToTarget.hash} is a transfer of ${k.vgl}, not ${k.tok}`,
      ],
      [
        'invented transfer',
        forged(vglIn, (e) => ev(e, { txHash: `0x${'12'.repeat(32)}` })),
        `edge ${vglIn} (TRANSFER ${who.funder} → ${who.target}): invented: block ${tx.vglToTarget.block} has no ERC-20 Transfer log #0 in tx 0x${'12'.repeat(32)}`,
      ],
      [
        'wrong callPath',
        forged(internal, (e) => ev(e, { callPath: '0.0' })),
        `edge ${internal} (TRANSFER ${k.splitter} → ${who.b}): wrong callPath: tx ${tx.split.hash} moved ETH from ${k.splitter} to ${who.b} at call path "0", not "0.0"`,
      ],
      [
        'deployer mismatch',
        forged(deployed, (e) => ({ ...e, from: who.funder })),
        `edge ${deployed} (DEPLOYED ${who.funder} → ${k.splitter}): deployer mismatch: the node says ${who.target} created ${k.splitter} in tx ${tx.deploySplitter.hash}`,
      ],
      [
        'token metadata from a miner',
        forged(vglIn, (e) => ev(e, { tokenSymbol: 'USDC', tokenDecimals: 6 })),
        `edge ${vglIn}: tokenSymbol and tokenDecimals are read by the validator from the token contract, never taken from a miner`,
      ],
      [
        'wrong block hash',
        forged(vglIn, (e) => ev(e, { blockHash: `0x${'34'.repeat(32)}` })),
        /names block hash 0x3434.*, the node has 0x[0-9a-f]{64} at \d+$/,
      ],
    ];
    for (const [name, forgedSub, reason] of cases) {
      const verdict = await verify(forgedSub, c);
      expect(verdict.accepted, name).toBe(false);
      if (!verdict.accepted)
        typeof reason === 'string'
          ? expect(verdict.reason, name).toBe(reason)
          : expect(verdict.reason, name).toMatch(reason);
    }
    // A contract passed off as a wallet (its :Contract label would be lost).
    const retyped = structuredClone(sub);
    retyped.nodes = retyped.nodes.map((n) => (n.address === k.splitter ? { ...n, type: 'wallet' } : n));
    expect(await verify(retyped, c)).toEqual({
      accepted: false,
      reason: `node ${k.splitter} is typed wallet, the node makes it a contract (code at block ${c.toBlock}, or created in the answer)`,
    });
    expect(await verify(sub, c)).toMatchObject({ accepted: true });
  });

  it('refuses evidence outside the window and edges beyond the depth or against the direction', async () => {
    const c = challenge();
    const sub = await honest(c);
    const fund = sub.edges.findIndex((e) => e.evidence.txHash === s.tx.fund.hash);
    const narrow = challenge({ id: c.id, fromBlock: s.tx.fund.block + 1 });
    expect(await verify(sub, narrow)).toEqual({
      accepted: false,
      reason: `edge ${fund} has evidence at block ${s.tx.fund.block}, outside the challenge window [${narrow.fromBlock}, ${narrow.toBlock}]`,
    });
    const shallow = challenge({ id: c.id, depth: 1 });
    expect(await verify(sub, shallow)).toEqual({
      accepted: false,
      reason: '6 edges are not reached from the target within depth 1 walking both',
    });
    const backwards = challenge({ id: c.id, direction: 'in' });
    expect(await verify(sub, backwards)).toMatchObject({
      accepted: false,
      reason: expect.stringMatching(/edges are not reached from the target within depth 2 walking in$/),
    });
  });

  it('refuses an answer that leaves out edges the node shows (incomplete)', async () => {
    const c = challenge();
    const sub = await honest(c);
    // Keep only the funding edges: every one real, most of the target's edges missing.
    const lazy: Subgraph = {
      nodes: sub.nodes.filter((n) => n.address === s.who.target || n.address === s.who.funder),
      edges: sub.edges.filter((e) => e.from === s.who.funder && e.to === s.who.target),
    };
    const rpc = createHttpRpc({ url: s.node.rpcUrl });
    rpcs.push(rpc);
    const verifier = ethereumVerifier(freshReader(), createTokenMetadata(rpc), { scoring: DEFAULT_SCORING });
    const verdict = await verifier(signAnswer(pair, c.id, lazy), c);
    expect(verdict).toMatchObject({
      accepted: false,
      kind: 'incomplete',
      reason: expect.stringMatching(
        /^incomplete: the answer holds 3 of the 9 edges the node shows for 2 sampled addresses/,
      ),
    });
  });
});
