/**
 * npm run bench:patrol-eth -- [--blocks 1000] [--rounds 20] [--depth 2]
 *
 * Patrol on Ethereum, on a real anvil seeded fast (dev/ethereum/bulkSeed.ts: locally signed txs sent
 * as JSON-RPC batches, one anvil_mine per block) with ≥ 1,000 blocks and ≥ 10,000 transfers (ETH
 * payments, ERC-20 transfers, internal-call payments):
 *  1. reads in blocks/s, alternated twice in the same run: the miner's reader
 *     (chains/ethereum/activity.ts: logs by topic per 50-block chunk, headers and callTracer traces
 *     batched, decoded into transfers and creations) vs the raw calls it makes without decoding,
 *     with and without the traces (raw eth_getLogs + eth_getBlockByNumber);
 *  2. the miner's subgraph build for the busiest sender over the whole range;
 *  3. the validator's verification (services/patrol/ethereum/verify.ts) in edges/s, cold (a fresh
 *     reader per answer: every named block read from the node) and warm (per-block cache filled;
 *     goal ≥ 20,000 edges/s), and warm with the completeness check and token metadata.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Keyring } from '@polkadot/keyring';
import { TRANSFER_TOPIC, createActivityReader } from '../chains/ethereum/activity.ts';
import { createHttpRpc } from '../chains/ethereum/rpc.ts';
import { createTokenMetadata } from '../chains/ethereum/tokens.ts';
import { cliDestination, createLogger } from '../common/logger.ts';
import { bulkSeed } from '../dev/ethereum/bulkSeed.ts';
import { compileFiles } from '../dev/ethereum/compile.ts';
import { startAnvil } from '../dev/ethereum/localNode.ts';
import { type EthereumChallenge, signAnswer } from '../protocol/patrol.ts';
import { buildEthereumSubgraph } from '../services/patrol/ethereum/miner.ts';
import { ethereumVerifier } from '../services/patrol/ethereum/patrol.ts';
import { verifyEthereumContent } from '../services/patrol/ethereum/verify.ts';
import { DEFAULT_SCORING } from '../services/patrol/scoring.ts';

const { values: opt } = parseArgs({
  options: {
    blocks: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '20' },
    depth: { type: 'string', default: '2' },
  },
});
const say = (m: string) => console.log(`[bench] ${m}`);
const log = createLogger({ level: 'info', name: 'bench', base: {}, destination: cliDestination('[bench] ') });
const root = join(import.meta.dirname, '..');
const hex = (n: number) => `0x${n.toString(16)}`;
const per = (n: number, ms: number) => ((n * 1000) / ms).toFixed(0);

const contracts = await compileFiles([join(root, 'dev', 'contracts', 'PatrolKit.sol')], {
  cacheDir: join(tmpdir(), 'vigil-solc-cache'),
  log,
});
const node = await startAnvil({ log, accounts: 20 });
const rpcs: ReturnType<typeof createHttpRpc>[] = [];
const rpc = () => {
  const r = createHttpRpc({ url: node.rpcUrl, timeoutMs: 120_000 });
  rpcs.push(r);
  return r;
};
try {
  const t0 = performance.now();
  const seeded = await bulkSeed({ node, contracts, blocks: Number(opt.blocks), log });
  const { firstBlock: from, lastBlock: to } = seeded;
  const blocks = to - from + 1;
  say(
    `seeded ${blocks} blocks, ${seeded.transfers} transfers in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  /** The reader's calls, raw: 50-block chunks, 4 in flight, nothing decoded; traces by `traces`. */
  const raw = async (traces: 'trace_block' | 'callTracer' | 'none') => {
    const client = rpc();
    const chunks: [number, number][] = [];
    for (let a = from; a <= to; a += 50) chunks.push([a, Math.min(a + 49, to)]);
    let next = 0;
    const trace = (n: number) =>
      traces === 'trace_block'
        ? client.call('trace_block', [hex(n)])
        : client.call('debug_traceBlockByNumber', [hex(n), { tracer: 'callTracer' }]);
    const worker = async () => {
      while (next < chunks.length) {
        const [a, b] = chunks[next++]!;
        const ns = Array.from({ length: b - a + 1 }, (_, i) => a + i);
        await Promise.all([
          client.call('eth_getLogs', [{ fromBlock: hex(a), toBlock: hex(b), topics: [TRANSFER_TOPIC] }]),
          Promise.all(ns.map((n) => client.call('eth_getBlockByNumber', [hex(n), false]))),
          traces === 'none' ? null : Promise.all(ns.map(trace)),
        ]);
      }
    };
    const t = performance.now();
    await Promise.all([0, 1, 2, 3].map(worker));
    return performance.now() - t;
  };
  const ours = async () => {
    const t = performance.now();
    const read = await createActivityReader(rpc()).range(from, to);
    const ms = performance.now() - t;
    return { ms, transfers: read.reduce((s, b) => s + b.native.length + b.tokens.length, 0) };
  };
  const runs = {
    reader: [] as number[],
    rawTrace: [] as number[],
    rawDebug: [] as number[],
    rawLogs: [] as number[],
  };
  let decoded = 0;
  for (let pass = 0; pass < 2; pass++) {
    const r = await ours();
    decoded = r.transfers;
    runs.reader.push(r.ms);
    runs.rawTrace.push(await raw('trace_block'));
    runs.rawLogs.push(await raw('none'));
  }
  // The callTracer re-executes every block: once is enough to see it.
  runs.rawDebug.push(await raw('callTracer'));
  const bps = (list: number[]) => list.map((ms) => `${per(blocks, ms)}`).join(' / ');
  say(`reads over ${blocks} blocks (${decoded} transfers decoded), blocks/s, pass 1 / pass 2:`);
  say(`  miner reader (logs + headers + trace_block, decoded)   ${bps(runs.reader)}`);
  say(`  raw eth_getLogs + getBlockByNumber + trace_block       ${bps(runs.rawTrace)}`);
  say(`  raw eth_getLogs + getBlockByNumber (no traces)         ${bps(runs.rawLogs)}`);
  say(`  raw eth_getLogs + getBlockByNumber + callTracer (once) ${bps(runs.rawDebug)}`);

  const sender = node.accounts[1]!.address.toLowerCase();
  const miner = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//bench-eth-miner');
  const challenge: EthereumChallenge = {
    chain: 'ethereum',
    id: 'bench',
    round: 1,
    validator: 'bench',
    miner: miner.address,
    target: sender,
    fromBlock: from,
    toBlock: to,
    depth: Number(opt.depth),
    deadline: Date.now() + 3_600_000,
    replyTo: 'bench',
  };
  let t = performance.now();
  const sub = await buildEthereumSubgraph(createActivityReader(rpc()), challenge);
  const buildMs = performance.now() - t;
  const edges = sub.edges.length;
  say(
    `miner: subgraph of ${sender} depth ${challenge.depth} over ${blocks} blocks in ${buildMs.toFixed(0)} ms: ${sub.nodes.length} nodes, ${edges} edges`,
  );
  const answer = signAnswer(miner, challenge.id, sub);

  const rounds = Number(opt.rounds);
  let coldMs = 0;
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    const v = await verifyEthereumContent(answer, challenge, createActivityReader(rpc()));
    coldMs += performance.now() - t;
    if (!v.accepted) throw new Error(`honest answer refused: ${v.reason}`);
  }
  const reader = createActivityReader(rpc());
  await verifyEthereumContent(answer, challenge, reader);
  t = performance.now();
  for (let i = 0; i < rounds; i++) await verifyEthereumContent(answer, challenge, reader);
  const warmMs = (performance.now() - t) / rounds;
  const full = ethereumVerifier(reader, createTokenMetadata(rpc()), { scoring: DEFAULT_SCORING });
  const first = await full(answer, challenge);
  if (!first.accepted || first.completeness !== 1)
    throw new Error(`honest answer not complete: ${JSON.stringify(first)}`);
  t = performance.now();
  for (let i = 0; i < rounds; i++) await full(answer, challenge);
  const fullMs = (performance.now() - t) / rounds;
  say(`validator, ${edges} edges per answer:`);
  say(
    `  verify cold (fresh reader, 3 answers)            ${(coldMs / 3).toFixed(0)} ms = ${per(edges, coldMs / 3)} edges/s`,
  );
  say(
    `  verify warm (${rounds} answers)                      ${warmMs.toFixed(1)} ms = ${per(edges, warmMs)} edges/s (goal ≥ 20,000)`,
  );
  say(
    `  verify + completeness + token metadata, warm     ${fullMs.toFixed(1)} ms = ${per(edges, fullMs)} edges/s`,
  );
} finally {
  for (const r of rpcs) r.close();
  await node.stop();
}
