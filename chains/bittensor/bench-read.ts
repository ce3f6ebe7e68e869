/**
 * Seeds a local chain, then reads the seeded range two ways in the same run:
 * readBlockEvents (batched hashes, concurrent fetch, decoded domain events) and a plain sequential
 * loop of chain_getBlockHash + state_getStorage(System.Events) without decoding.
 *
 *   npx tsx chains/bittensor/bench-read.ts <specPath> [accounts=60] [blocks=10] [rounds=3]
 */
import { readBlockEvents } from './blocks.ts';
import { connectSubtensor } from './client.ts';
import { startLocalSubtensor } from './localChain.ts';
import { seedScenario } from './seeder.ts';

const [specPath, accountsArg = '60', blocksArg = '10', roundsArg = '3'] = process.argv.slice(2);
if (!specPath) {
  console.error('usage: bench-read.ts <specPath> [accounts] [blocks] [rounds]');
  process.exit(2);
}
const log = (msg: string) => console.log(msg);
const t0 = Date.now();
const chain = await startLocalSubtensor({ specPath, log });
const startMs = Date.now() - t0;
const api = await connectSubtensor(chain.wsUrl, { log });
try {
  const seedStart = Date.now();
  const manifest = await seedScenario(api, chain, {
    accounts: Number(accountsArg),
    blocks: Number(blocksArg),
    log,
  });
  const seedMs = Date.now() - seedStart;
  const to = chain.head().number;
  const n = to;
  const eventsKey = api.query.system.events.key();
  const rows: string[] = [];
  for (let round = 1; round <= Number(roundsArg); round++) {
    let t = performance.now();
    const decoded = await readBlockEvents(api, { from: 1, to });
    const ours = performance.now() - t;
    t = performance.now();
    let bytes = 0;
    for (let b = 1; b <= to; b++) {
      const hash = await api.rpc.chain.getBlockHash(b);
      const raw = await api.rpc.state.getStorage.raw<Uint8Array | string | null>(eventsKey, hash);
      bytes += raw ? raw.length : 0;
    }
    const rawMs = performance.now() - t;
    const events = decoded.reduce((s, b) => s + b.events.length, 0);
    rows.push(
      `round ${round}: readBlockEvents ${n} blocks (${events} domain events) in ${ours.toFixed(0)} ms = ${((n * 1000) / ours).toFixed(0)} blocks/s | raw getStorage loop ${rawMs.toFixed(0)} ms = ${((n * 1000) / rawMs).toFixed(0)} blocks/s (${bytes} bytes)`,
    );
  }
  console.log(
    `chopsticks start ${startMs} ms; seeding ${manifest.activityBlocks.length} blocks took ${seedMs} ms (${(seedMs / manifest.activityBlocks.length).toFixed(0)} ms/block)`,
  );
  for (const r of rows) console.log(r);
} finally {
  await api.disconnect();
  await chain.close();
}
