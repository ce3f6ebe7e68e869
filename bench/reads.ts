/**
 * npm run bench:reads -- [--neo4j-uri bolt://127.0.0.1:7690] [--seconds 10] [--clients 16]
 *
 * What one hot read costs through the driver, against the graph `bench:graphql` loaded (start it
 * with `npm run bench:graphql -- --reuse --keep`, or point --neo4j-uri at any Neo4j holding it):
 * the same wallet lookup in a read transaction (`graph.read`, the baseline) and in auto-commit
 * (`graph.query`), then the API's neighbors question at the data layer: wallet and first page as
 * two queries, and as the one query the API runs.
 * Prints requests/s and p50/p99 per variant, and this process's CPU share (the driver's cost).
 */
import { parseArgs } from 'node:util';
import { VigilError } from '../common/errors.ts';
import { percentile } from '../common/stats.ts';
import { createGraph } from '../graph/driver.ts';
import { createNeighborMemory, getNeighbors, getWallet } from '../graph/wallets/index.ts';
import { powerLawWallet, walletAddress } from './benchGraph.ts';
import { ownCpu } from './cpu.ts';
import { runBench } from './run.ts';

const { values: opt } = parseArgs({
  options: {
    'neo4j-uri': { type: 'string', default: 'bolt://127.0.0.1:7690' },
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '16' },
    wallets: { type: 'string', default: '1000000' },
  },
});
const SECONDS = Number(opt.seconds);
const CLIENTS = Number(opt.clients);
const WALLETS = Number(opt.wallets);
const SUPERNODES = 3;
const WALLET_Q = 'MATCH (n:Wallet {chain: $chain, address: $address}) RETURN n.address AS w';

// Drawn as bench:graphql draws its questions, supernodes excluded.
const pick = () => walletAddress(powerLawWallet(WALLETS, SUPERNODES));

const graph = createGraph({ uri: opt['neo4j-uri'], user: 'neo4j', password: '', database: 'neo4j' });

const NEIGHBORS = { chain: 'bittensor', direction: 'BOTH', first: 25, after: null, timeoutMs: 5000 } as const;
// As the API holds one: what pages remember of dense wallets.
const memory = createNeighborMemory();

const variants: [string, (address: string) => Promise<unknown>][] = [
  [
    'wallet, read transaction (baseline)',
    (address) => graph.read((tx) => tx.run(WALLET_Q, { chain: 'bittensor', address }), { timeoutMs: 5000 }),
  ],
  [
    'wallet, auto-commit (graph.query)',
    (address) => graph.query(WALLET_Q, { chain: 'bittensor', address }, { timeoutMs: 5000 }),
  ],
  [
    'wallet, then neighbors page (two queries)',
    async (address) => {
      await getWallet(graph, { chain: 'bittensor', address, timeoutMs: 5000 });
      await getNeighbors(graph, { ...NEIGHBORS, address }, memory);
    },
  ],
  // What the API runs for `wallet { neighbors }`: the page's first query reads the wallet too.
  [
    'wallet with its neighbors page (the API path)',
    (address) => getNeighbors(graph, { ...NEIGHBORS, address }, memory),
  ],
];

async function measure(name: string, one: (address: string) => Promise<unknown>) {
  for (let i = 0; i < 200; i++) await one(pick()); // warm plans and connections
  const ms: number[] = [];
  const cpu = ownCpu();
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await one(pick());
        ms.push(performance.now() - t);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `  ${name.padEnd(Math.max(...variants.map(([n]) => n.length)))} ${String(Math.round(ms.length / secs)).padStart(6)}/s  p50 ${percentile(ms, 50).toFixed(1).padStart(6)} ms  p99 ${percentile(ms, 99).toFixed(1).padStart(6)} ms  this process ${Math.round(cpu.share() * 100)}% of a core`,
  );
  return ms.length / secs;
}

async function main() {
  try {
    await graph.verify();
    const probe = await graph.query(WALLET_Q, { chain: 'bittensor', address: pick() });
    if (probe.records.length === 0)
      throw new VigilError(`no bench wallets at ${opt['neo4j-uri']}`, {
        details: 'load them, and keep the server running, with: npm run bench:graphql -- --keep',
      });
    console.log(
      `hot reads at ${opt['neo4j-uri']}, ${CLIENTS} concurrent callers, ${SECONDS} s each (${new Date().toISOString()})`,
    );
    const rates: number[] = [];
    for (const [name, one] of variants) rates.push(await measure(name, one));
    console.log(
      `  auto-commit vs read transaction: ${(rates[1]! / rates[0]!).toFixed(2)}x the reads per second`,
    );
  } finally {
    await graph.close();
  }
}

runBench(main);
