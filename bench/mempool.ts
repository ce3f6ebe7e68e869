/**
 * npm run bench:mempool -- [--pools 0,1000,4000] [--probes 20] [--poll-ms 50]
 *
 * How fast the defense validator's HTTP mempool watcher (chains/ethereum/watcher.ts, poll mode)
 * sees a new pending tx while the pool holds N other pending txs, and what its polling costs, for
 * the two ways of polling in one run:
 *   filter  — a pending-tx filter (eth_getFilterChanges), then the new txs by hash (the default);
 *   txpool  — the whole pool (txpool_content) every poll (the fallback, and the way before).
 * Against a real anvil (no mining, so every tx stays pending) through a JSON-RPC proxy that counts
 * the bytes answered and, for the txpool way, refuses filter methods as a node without them would.
 * Prints per pool size and way: p50/p99/max from a probe tx sent to its delivery, and the RPC
 * bytes per second while nothing new arrives.
 */
import { parseArgs } from 'node:util';
import { Wallet } from 'ethers';
import { closeMonitorProvider, createMonitorProvider, watchPending } from '../chains/ethereum/watcher.ts';
import { silentLogger } from '../common/logger.ts';
import { percentile } from '../common/stats.ts';
import { type LocalNode, startAnvil } from '../dev/ethereum/localNode.ts';
import { METHOD_NOT_FOUND, startRpcProxy } from '../dev/ethereum/rpcProxy.ts';

const { values: opt } = parseArgs({
  options: {
    pools: { type: 'string', default: '0,1000,4000' },
    probes: { type: 'string', default: '20' },
    'poll-ms': { type: 'string', default: '50' },
  },
});
const POOLS = opt.pools.split(',').map(Number);
const PROBES = Number(opt.probes);
const POLL_MS = Number(opt['poll-ms']);
const FILLERS = 20; // accounts 10..29 fill the pool; accounts 1..5 send the probes
const say = (m: string) => console.log(`[mempool] ${m}`);

/** 1 wei to account 0, gas and fees fixed: one RPC call, no estimate or fee lookup. */
const pay = (from: Wallet, node: LocalNode, nonce: number) =>
  from.sendTransaction({
    to: node.accounts[0]!.address,
    value: 1n,
    nonce,
    gasLimit: 21_000,
    maxFeePerGas: 10n ** 10n,
    maxPriorityFeePerGas: 10n ** 9n,
  });

async function fillPool(node: LocalNode, to: number, nonces: number[]) {
  const provider = createMonitorProvider({ url: node.rpcUrl, chainId: node.chainId });
  const wallets = node.accounts.slice(10, 10 + FILLERS).map((a) => new Wallet(a.privateKey, provider));
  let pending = Number((await node.rpc<{ pending: string }>('txpool_status')).pending);
  while (pending < to) {
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < 50 && pending < to; i++, pending++) {
      const k = pending % FILLERS;
      batch.push(pay(wallets[k]!, node, nonces[k]!++));
    }
    await Promise.all(batch);
    if (pending % 1000 === 0) say(`pool at ${pending} pending txs`);
  }
  await closeMonitorProvider(provider);
}

async function measure(node: LocalNode, way: 'filter' | 'txpool', probeNonces: number[]) {
  const proxy = await startRpcProxy(node.rpcUrl, (m) =>
    way === 'txpool' && m.includes('Filter') ? METHOD_NOT_FOUND : undefined,
  );
  const provider = createMonitorProvider({ url: proxy.url, chainId: node.chainId });
  const seenAt = new Map<string, number>();
  const watcher = await watchPending(provider, (tx) => void seenAt.set(tx.hash!, performance.now()), {
    log: silentLogger,
    pollIntervalMs: POLL_MS,
    onError: (e) => say(`watcher error: ${(e as Error).message}`),
  });
  const sender = createMonitorProvider({ url: node.rpcUrl, chainId: node.chainId });
  try {
    // The first read delivers what is already pending (the pool, read whole once): wait for all of it.
    const pending = Number((await node.rpc<{ pending: string }>('txpool_status')).pending);
    const settled = performance.now() + 60_000;
    while (seenAt.size < pending && performance.now() < settled) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 4 * POLL_MS));
    // Idle cost: RPC bytes answered while nothing new arrives.
    const b0 = proxy.bytesOut();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 2000));
    const idleBytesPerSecond = ((proxy.bytesOut() - b0) * 1000) / (performance.now() - t0);

    const latencies: number[] = [];
    for (let i = 0; i < PROBES; i++) {
      const k = i % 5;
      const w = new Wallet(node.accounts[1 + k]!.privateKey, sender);
      const sent = performance.now();
      const tx = await pay(w, node, probeNonces[k]!++);
      const deadline = performance.now() + 30_000;
      while (!seenAt.has(tx.hash) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      const at = seenAt.get(tx.hash);
      latencies.push(at === undefined ? Number.POSITIVE_INFINITY : at - sent);
    }
    return { latencies, idleBytesPerSecond };
  } finally {
    await watcher.stop();
    await closeMonitorProvider(provider);
    await closeMonitorProvider(sender);
    await proxy.close();
  }
}

async function main() {
  say(`anvil without mining; pools ${POOLS.join(', ')}; ${PROBES} probes per way; poll every ${POLL_MS} ms`);
  const node = await startAnvil({ log: silentLogger, accounts: 10 + FILLERS });
  try {
    const fillNonces = Array.from({ length: FILLERS }, () => 0);
    const probeNonces = Array.from({ length: 5 }, () => 0);
    const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(1).padStart(7) : '  never');
    for (const pool of POOLS) {
      await fillPool(node, pool, fillNonces);
      for (const way of ['filter', 'txpool'] as const) {
        const { latencies, idleBytesPerSecond } = await measure(node, way, probeNonces);
        say(
          `pool ${String(pool).padStart(5)}  ${way.padEnd(6)}  seen after p50 ${fmt(percentile(latencies, 50))} ms` +
            `  p99 ${fmt(percentile(latencies, 99))} ms  max ${fmt(Math.max(...latencies))} ms` +
            `  idle polling ${(idleBytesPerSecond / 1e6).toFixed(3)} MB/s`,
        );
      }
    }
  } finally {
    await node.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
