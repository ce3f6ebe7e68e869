/**
 * npm run bench:rpc -- [--calls 2000] [--rounds 3] [--concurrency 16]
 *
 * Same-run A/B of the hand-written JSON-RPC client (chains/ethereum/rpc.ts createHttpRpc) against
 * the kept library beside it, ethers' JsonRpcProvider, on the engine's hot call shapes against a
 * local anvil (started here, not timed):
 * - sequential: one eth_getStorageAt at a time (the latency a cold simulation pays per slot);
 * - concurrent: `--concurrency` calls in flight at once (prefetching a block's watched slots).
 * ethers runs twice: with its defaults (batchStallTime 10 ms) and with batchStallTime 0, as
 * chains/ethereum/watcher.ts configures its monitor provider. Variants alternate each round.
 * Prints µs per call per variant and round.
 */
import { parseArgs } from 'node:util';
import { JsonRpcProvider } from 'ethers';
import { createHttpRpc } from '../chains/ethereum/rpc.ts';
import { silentLogger } from '../common/logger.ts';
import { startAnvil } from '../dev/ethereum/localNode.ts';

const { values: opt } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
  },
});
const CALLS = Number(opt.calls);
const ROUNDS = Number(opt.rounds);
const CONCURRENCY = Number(opt.concurrency);

type Call = (slot: number) => Promise<unknown>;

async function sequential(call: Call): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) await call(i % 64);
  return ((performance.now() - t0) * 1000) / CALLS;
}

async function concurrent(call: Call): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i += CONCURRENCY) {
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, j) => call((i + j) % 64)));
  }
  return ((performance.now() - t0) * 1000) / CALLS;
}

async function main() {
  const node = await startAnvil({ log: silentLogger });
  const contract = node.accounts[0]!.address;
  const slotHex = (s: number) => `0x${s.toString(16)}`;
  const own = createHttpRpc({ url: node.rpcUrl });
  const ethersDefault = new JsonRpcProvider(node.rpcUrl, node.chainId, { staticNetwork: true });
  const ethersNoStall = new JsonRpcProvider(node.rpcUrl, node.chainId, {
    staticNetwork: true,
    batchStallTime: 0,
  });
  const variants: Array<[string, Call]> = [
    ['rpc.ts (kept)', (s) => own.call('eth_getStorageAt', [contract, slotHex(s), 'latest'])],
    ['ethers default', (s) => ethersDefault.send('eth_getStorageAt', [contract, slotHex(s), 'latest'])],
    ['ethers stall 0', (s) => ethersNoStall.send('eth_getStorageAt', [contract, slotHex(s), 'latest'])],
  ];
  try {
    for (const [, call] of variants) await concurrent(call); // warm sockets and JIT, not counted
    console.log(`${CALLS} eth_getStorageAt calls per variant and shape, concurrency ${CONCURRENCY}`);
    for (let r = 1; r <= ROUNDS; r++) {
      for (const [name, call] of variants) {
        const seq = await sequential(call);
        const conc = await concurrent(call);
        console.log(
          `round ${r}  ${name.padEnd(15)} sequential ${seq.toFixed(0).padStart(6)} µs/call   concurrent ${conc.toFixed(0).padStart(5)} µs/call`,
        );
      }
    }
  } finally {
    own.close();
    ethersDefault.destroy();
    ethersNoStall.destroy();
    await node.stop();
  }
}

await main();
