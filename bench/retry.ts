/**
 * npm run bench:retry -- [--calls 300000] [--rounds 3]
 *
 * Same-run A/B of the Neo4j transaction retry (graph/driver.ts) on its hot path: every graph read
 * and write goes through it, and nearly all succeed at the first attempt. Alternating each round:
 * - bare: the work called directly (the floor);
 * - loop: the hand-written retry loop graph/driver.ts had (kept below as the baseline);
 * - p-retry: graph/driver.ts now (pRetry with shouldRetry, maxRetryTime).
 * The work is an async function that resolves at once, so the figure is each wrapper's own cost per
 * call; a real transaction costs ~0.3–3 ms, printed beside it for scale from `--neo4j-ms`.
 * Prints calls per second and ns per call per variant and round.
 */
import { parseArgs } from 'node:util';
import pRetry from 'p-retry';

const { values: opt } = parseArgs({
  options: { calls: { type: 'string', default: '300000' }, rounds: { type: 'string', default: '3' } },
});
const CALLS = Number(opt.calls);
const ROUNDS = Number(opt.rounds);
const retriable = (err: unknown) => (err as { retriable?: boolean })?.retriable === true;

/** graph/driver.ts's retry loop before p-retry: the baseline. */
async function loopRetry<T>(attempt: () => Promise<T>, retryForMs = 30_000): Promise<T> {
  const started = Date.now();
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!retriable(err) || Date.now() - started > retryForMs) throw err;
    }
    await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** n) * (0.8 + Math.random() * 0.4)));
  }
}

/** As graph/driver.ts calls p-retry. */
const libRetry = <T>(attempt: () => Promise<T>, retryForMs = 30_000): Promise<T> =>
  pRetry(attempt, {
    retries: Number.POSITIVE_INFINITY,
    minTimeout: 17,
    factor: 2,
    maxTimeout: 1000,
    randomize: true,
    maxRetryTime: retryForMs,
    shouldRetry: ({ error }) => retriable(error),
  });

let sink = 0;
const work = async () => ++sink;

const variants: Record<string, (w: () => Promise<number>) => Promise<number>> = {
  bare: (w) => w(),
  loop: (w) => loopRetry(w),
  'p-retry': (w) => libRetry(w),
};

async function run(name: string): Promise<number> {
  const call = variants[name]!;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) await call(work);
  return Number(process.hrtime.bigint() - t0) / CALLS;
}

// Warm-up: every variant once, so JIT state is alike.
for (const v of Object.keys(variants)) await run(v);
const results: Record<string, number[]> = {};
for (let r = 1; r <= ROUNDS; r++) {
  const order = r % 2 ? Object.keys(variants) : Object.keys(variants).reverse();
  for (const v of order) (results[v] ??= []).push(await run(v));
}
const load = (await import('node:os')).loadavg()[0]!.toFixed(2);
console.log(`bench:retry  ${CALLS} calls per variant per round, ${ROUNDS} rounds alternating, load ${load}`);
for (const [v, ns] of Object.entries(results)) {
  const median = [...ns].sort((a, b) => a - b)[Math.floor(ns.length / 2)]!;
  console.log(
    `  ${v.padEnd(8)} ${ns.map((x) => `${x.toFixed(0)} ns`).join('  ')}   median ${median.toFixed(0)} ns/call (${Math.round(1e9 / median).toLocaleString('en')} calls/s)`,
  );
}
const med = (v: string) => [...results[v]!].sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
const extra = med('p-retry') - med('loop');
console.log(
  `  p-retry costs ${extra.toFixed(0)} ns more per call than the loop: ${((extra / 300_000) * 100).toFixed(3)} % of a 0.3 ms Neo4j transaction`,
);
