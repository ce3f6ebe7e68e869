/**
 * npm run bench:bounded -- [--ops 1000000] [--rounds 3]
 *
 * Same-run A/B of the hand-written bounded maps (common/bounded.ts until lru-cache replaced it;
 * kept below as the baseline) and serial queue (common/serial.ts) against the kept libraries
 * (lru-cache, p-queue), on the shapes of their hot call sites, alternating A and B each round:
 * - cache: a pending-tx parse cache (services/engine toEthjsTx): 4,096 entries, keys drawn from
 *   the 8,192 most recent, so about half hit; a miss sets.
 * - seen: the watcher's delivered set (chains/ethereum/watcher.ts): 50,000 entries, every hash
 *   offered twice.
 * - serial: one-at-a-time work (the ingest worker's writes): 100,000 tiny async jobs queued at once.
 * Prints operations per second per variant and round.
 */
import { parseArgs } from 'node:util';
import { LRUCache } from 'lru-cache';
import PQueue from 'p-queue';
import { oneAtATime } from '../common/serial.ts';

const { values: opt } = parseArgs({
  options: { ops: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' } },
});
const OPS = Number(opt.ops);
const ROUNDS = Number(opt.rounds);

/** The hand-written bounded map and set (common/bounded.ts) that lru-cache replaced: the baseline. */
function rememberBounded<K, V>(m: Map<K, V>, key: K, value: V, max: number): void {
  m.delete(key);
  m.set(key, value);
  if (m.size > max) m.delete(m.keys().next().value as K);
}
function addBounded<T>(s: Set<T>, value: T, max: number): boolean {
  if (s.has(value)) return false;
  s.add(value);
  if (s.size > max) s.delete(s.values().next().value as T);
  return true;
}

const keys = Array.from({ length: OPS + 8192 }, (_, i) => `0x${i.toString(16).padStart(64, '0')}:0xsender`);
/** The i-th lookup's key: one of the 8,192 most recent (deterministic, so A and B see the same). */
const recent = (i: number) => keys[i + ((i * 2654435761) % 8192)]!;

function cacheMap(): number {
  const m = new Map<string, object>();
  let hits = 0;
  for (let i = 0; i < OPS; i++) {
    const k = recent(i);
    if (m.get(k)) hits++;
    else rememberBounded(m, k, { i }, 4096);
  }
  return hits;
}
function cacheLru(): number {
  const m = new LRUCache<string, object>({ max: 4096 });
  let hits = 0;
  for (let i = 0; i < OPS; i++) {
    const k = recent(i);
    if (m.get(k)) hits++;
    else m.set(k, { i });
  }
  return hits;
}
function seenSet(): number {
  const s = new Set<string>();
  let fresh = 0;
  for (let i = 0; i < OPS; i++) if (addBounded(s, keys[i >> 1]!, 50_000)) fresh++;
  return fresh;
}
function seenLru(): number {
  const s = new LRUCache<string, true>({ max: 50_000 });
  let fresh = 0;
  for (let i = 0; i < OPS; i++) {
    const k = keys[i >> 1]!;
    if (s.has(k)) continue;
    s.set(k, true);
    fresh++;
  }
  return fresh;
}
const JOBS = 100_000;
async function serialOwn(): Promise<number> {
  const run = oneAtATime();
  const done = await Promise.all(Array.from({ length: JOBS }, (_, i) => run(async () => i)));
  return done.length;
}
async function serialPQueue(): Promise<number> {
  const q = new PQueue({ concurrency: 1 });
  const done = await Promise.all(Array.from({ length: JOBS }, (_, i) => q.add(async () => i)));
  return done.length;
}

async function time(name: string, n: number, f: () => number | Promise<number>): Promise<void> {
  const t0 = performance.now();
  const result = await f();
  const s = (performance.now() - t0) / 1000;
  console.log(
    `  ${name.padEnd(34)} ${Math.round(n / s)
      .toLocaleString('en-US')
      .padStart(12)} ops/s  (${result})`,
  );
}

for (let r = 1; r <= ROUNDS; r++) {
  console.log(`round ${r}`);
  await time('cache: Map + rememberBounded', OPS, cacheMap);
  await time('cache: lru-cache', OPS, cacheLru);
  await time('seen: Set + addBounded', OPS, seenSet);
  await time('seen: lru-cache', OPS, seenLru);
  await time('serial: oneAtATime', JOBS, serialOwn);
  await time('serial: p-queue (concurrency 1)', JOBS, serialPQueue);
}
