/**
 * npm run bench:ingest -- [--edges 1000000] [--wallets 200000] [--job-edges 5000]
 *                         [--baseline-edges 500] [--concurrency 2] [--batch-size 10000] [--keep]
 *
 * N synthetic edges over M wallets go through the real ingestion queue (Redis) into a real Neo4j
 * by a real `vigil ingest-worker` process. Then, in the same run, a sample is written one
 * transaction per edge (what a naive writer does) as the baseline. Prints edges/s, batches/s,
 * the worker's peak memory and the ratio. The bench uses a Neo4j of its own (ports 7689/7476,
 * data under .vigil/bench) so the developer's graph stays clean; --keep leaves it running.
 * BENCH_WORKER_LOG_LEVEL=debug lets the worker log each retried Neo4j transaction with its code
 * (how the deadlocks between concurrent jobs were found).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeAddress } from '@polkadot/util-crypto';
import neo4j from 'neo4j-driver';
import { loadConfig } from '../common/config.ts';
import { cliDestination, createLogger } from '../common/logger.ts';
import { createGraph } from '../graph/driver.ts';
import { applyMigrations } from '../graph/migrations.ts';
import type { RelationshipType } from '../graph/model.ts';
import { startNeo4jServer } from '../infra/neo4j.ts';
import { ensureRedis } from '../infra/redis.ts';
import { LAUNCHER_DIR, PROJECT_DIR } from '../infra/up.ts';
import type { SubgraphJob } from '../protocol/ingest.ts';
import { createRedisConnection } from '../queues/connection.ts';
import { INGEST_JOB_OPTIONS, createIngestQueue } from '../queues/ingestion.ts';
import { cpuMeter } from './cpu.ts';
import { runBench } from './run.ts';

const { values: opt } = parseArgs({
  options: {
    edges: { type: 'string', default: '1000000' },
    wallets: { type: 'string', default: '200000' },
    'job-edges': { type: 'string', default: '5000' },
    'baseline-edges': { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '2' },
    'batch-size': { type: 'string', default: '10000' },
    keep: { type: 'boolean', default: false },
  },
});
const EDGES = Number(opt.edges);
const WALLETS = Number(opt.wallets);
const JOB_EDGES = Number(opt['job-edges']);
const BASELINE_EDGES = Number(opt['baseline-edges']);
const BOLT_PORT = 7689;
const HTTP_PORT = 7476;

const config = loadConfig();
const say = (m: string) => console.log(`[bench] ${m}`);
/** The same progress lines from the modules the bench drives (infra, migrations, seeder). */
const sayLog = createLogger({
  level: 'info',
  name: 'bench',
  base: {},
  destination: cliDestination('[bench] '),
});
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

// Random 32-byte public keys encoded as ss58: valid addresses, cheap to make by the hundred thousand.
function makeWallets(n: number, seed: number): string[] {
  const out: string[] = new Array(n);
  const bytes = new Uint8Array(32);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    view.setUint32(0, seed);
    view.setUint32(4, i);
    crypto.getRandomValues(bytes.subarray(8));
    out[i] = encodeAddress(bytes, 42);
  }
  return out;
}

const TYPES: RelationshipType[] = ['TRANSFER', 'TRANSFER', 'TRANSFER', 'STAKE_ADD', 'STAKE_REMOVE'];

function makeJob(wallets: string[], jobIndex: number, edgeCount: number, firstEdge: number): SubgraphJob {
  const nodes = new Map<string, 'wallet'>();
  const edges: SubgraphJob['edges'] = [];
  for (let k = 0; k < edgeCount; k++) {
    const i = firstEdge + k;
    const from = wallets[Math.floor(Math.random() * wallets.length)]!;
    let to = wallets[Math.floor(Math.random() * wallets.length)]!;
    if (to === from) to = wallets[(wallets.indexOf(from) + 1) % wallets.length]!;
    nodes.set(from, 'wallet');
    nodes.set(to, 'wallet');
    edges.push({
      type: TYPES[i % TYPES.length]!,
      from,
      to,
      evidence: {
        blockNumber: 1 + Math.floor(i / 64),
        eventIndex: i % 64,
        amount: String(1 + (i % 1_000_000) * 997),
      },
    });
  }
  return {
    kind: 'subgraph',
    chain: 'bittensor',
    submissionId: `bench:${jobIndex}`,
    target: edges[0]!.from,
    miner: { hotkey: 'bench-miner' },
    validator: { hotkey: 'bench-validator' },
    acceptedAt: new Date().toISOString(),
    nodes: [...nodes.keys()].map((address) => ({ address, type: 'wallet' as const })),
    edges,
  };
}

/** The worker's count of Neo4j transactions run again after a transient error (its /metrics). */
async function workerRetries(): Promise<string> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${WORKER_METRICS_PORT}/metrics`)).text();
    const lines = text.split('\n').filter((l) => l.startsWith('vigil_neo4j_transaction_retries_total'));
    return String(lines.reduce((n, l) => n + Number(l.split(' ').at(-1)), 0));
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  }
}
const WORKER_METRICS_PORT = 9499;

/** Peak resident memory (VmHWM) of a process, in MiB, from /proc. */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function main() {
  const benchDir = path.join(PROJECT_DIR, '.vigil', 'bench');
  await rm(path.join(benchDir, 'neo4j'), { recursive: true, force: true });
  await ensureRedis({ url: config.redisUrl, dataDir: path.join(config.dataDir, 'redis'), log: sayLog });
  const neo4jUri = `bolt://127.0.0.1:${BOLT_PORT}`;
  say('starting a fresh Neo4j for the bench');
  const server = await startNeo4jServer({
    homeDir: path.join(benchDir, 'neo4j'),
    boltPort: BOLT_PORT,
    httpPort: HTTP_PORT,
    pagecache: '2g',
    heap: '4g',
    cds: loadConfig().neo4j.cds,
    launcherDir: LAUNCHER_DIR,
    // --keep: the JVM outlives the bench (a non-detached one stops when the bench exits).
    detached: opt.keep,
    log: sayLog,
  });
  const graph = createGraph({ uri: neo4jUri, user: 'neo4j', password: '', database: 'neo4j' });
  await applyMigrations(graph, sayLog);

  const prefix = `bench-${Date.now()}`;
  const producer = createRedisConnection(config.redisUrl, 'producer');
  const queue = createIngestQueue(producer, prefix);

  say(`generating ${fmt(WALLETS)} wallets`);
  const wallets = makeWallets(WALLETS, 1);

  const worker = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(PROJECT_DIR, 'bin/vigil.ts'), 'ingest-worker'],
    {
      env: {
        ...process.env,
        NEO4J_URI: neo4jUri,
        VIGIL_QUEUE_PREFIX: prefix,
        INGEST_CONCURRENCY: opt.concurrency,
        INGEST_BATCH_SIZE: opt['batch-size'],
        METRICS_PORT: String(WORKER_METRICS_PORT),
        LOG_LEVEL: process.env.BENCH_WORKER_LOG_LEVEL ?? 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );

  const jobCount = Math.ceil(EDGES / JOB_EDGES);
  say(`enqueueing ${fmt(EDGES)} edges in ${fmt(jobCount)} jobs of ${fmt(JOB_EDGES)} edges`);
  const started = performance.now();
  // Which process the throughput waited on: CPU of each, as a share of one core over the run.
  const meter = await cpuMeter({ worker: worker.pid, Neo4j: server.pid, 'bench (producer)': process.pid });
  let enqueued = 0;
  const enqueueAll = (async () => {
    for (let j = 0; j < jobCount; j++) {
      const size = Math.min(JOB_EDGES, EDGES - j * JOB_EDGES);
      const job = makeJob(wallets, j, size, j * JOB_EDGES);
      await queue.add('subgraph', job, { ...INGEST_JOB_OPTIONS, jobId: `bench_${j}` });
      enqueued++;
    }
  })();

  let completed = 0;
  let lastLine = 0;
  while (completed < jobCount) {
    await new Promise((r) => setTimeout(r, 500));
    const counts = await queue.getJobCounts('completed', 'failed');
    if ((counts.failed ?? 0) > 0) {
      const [f] = await queue.getFailed(0, 0);
      throw new Error(`a bench job failed: ${f?.failedReason}`);
    }
    completed = counts.completed ?? 0;
    if (performance.now() - lastLine > 5000 || completed === jobCount) {
      lastLine = performance.now();
      const secs = (performance.now() - started) / 1000;
      const done = Math.min(EDGES, completed * JOB_EDGES);
      say(
        `${fmt(done)}/${fmt(EDGES)} edges (${((done / EDGES) * 100).toFixed(0)}%), ${fmt(done / secs)} edges/s, ${enqueued} jobs enqueued`,
      );
    }
  }
  await enqueueAll;
  const elapsed = (performance.now() - started) / 1000;
  const cpu = await meter.share();
  const retries = await workerRetries();
  const workerPeak = peakRssMiB(worker.pid!);
  worker.kill('SIGTERM');

  // Write statements as the worker reports them: its batches per job, plus the Submission write
  // (one transaction per job holds them all).
  const completedJobs = await queue.getCompleted(0, -1);
  const writeTxs = completedJobs.reduce(
    (n, j) => n + ((j.returnvalue as { batches?: number })?.batches ?? 0) + 1,
    0,
  );
  const queueRate = EDGES / elapsed;

  // Baseline: a naive writer, one transaction per edge, on fresh wallets.
  say(`baseline: ${fmt(BASELINE_EDGES)} edges, one transaction each`);
  const baseWallets = makeWallets(Math.max(100, Math.floor(BASELINE_EDGES / 5)), 2);
  const sample = makeJob(baseWallets, 0, BASELINE_EDGES, 10_000_000_000).edges;
  const session = graph.driver.session({ database: 'neo4j' });
  const baseStart = performance.now();
  try {
    for (const [i, e] of sample.entries()) {
      await session.executeWrite((tx) =>
        tx.run(
          `MERGE (a:Wallet {chain: 'bittensor', address: $from}) MERGE (b:Wallet {chain: 'bittensor', address: $to})
           MERGE (a)-[r:TRANSFER {id: $id}]->(b) ON CREATE SET r.amount = $amount, r.blockNumber = $block`,
          {
            from: e.from,
            to: e.to,
            id: `baseline:${i}`,
            amount: e.evidence.amount,
            block: neo4j.int(e.evidence.blockNumber),
          },
        ),
      );
    }
  } finally {
    await session.close();
  }
  const baseRate = BASELINE_EDGES / ((performance.now() - baseStart) / 1000);

  // Count-store lookups (O(1)): every relationship minus the Submission→target links.
  const totals = await graph.read((tx) =>
    tx.run(`MATCH (w:Wallet) WITH count(w) AS wallets
            MATCH ()-[r]->() WITH wallets, count(r) AS all
            MATCH ()-[t:TARGETS]->() WITH wallets, all, count(t) AS targets
            RETURN wallets, all - targets AS rels`),
  );
  const storedRels = totals.records[0]!.get('rels') as number;
  const storedWallets = totals.records[0]!.get('wallets') as number;
  const load = (await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

  console.log(`
Ingestion benchmark (${new Date().toISOString()}, ${(await import('node:os')).cpus().length} cores, load average ${load})
  edges through the queue     ${fmt(EDGES)} over ${fmt(WALLETS)} wallets, ${fmt(jobCount)} jobs of ${fmt(JOB_EDGES)}
  stored (incl. baseline)     ${fmt(storedWallets)} wallets, ${fmt(storedRels)} wallet-to-wallet relationships
  wall time                   ${elapsed.toFixed(1)} s
  throughput                  ${fmt(queueRate)} edges/s, ${(writeTxs / elapsed).toFixed(1)} write statements/s (${fmt(writeTxs)} counted, one transaction per job), ${(jobCount / elapsed).toFixed(2)} jobs/s
  worker peak memory (VmHWM)  ${workerPeak.toFixed(0)} MiB
  CPU, % of one core          ${cpu || 'not measured (no /proc)'}
  transactions retried        ${retries} (deadlocks and other transient errors, from the worker's /metrics)
  baseline, 1 tx per edge     ${fmt(baseRate)} edges/s (${fmt(BASELINE_EDGES)} edges)
  ratio                       ${(queueRate / baseRate).toFixed(0)}x
  targets                     >= 50,000 edges/s: ${queueRate >= 50_000 ? 'met' : 'MISSED'}; >= 100x baseline: ${queueRate / baseRate >= 100 ? 'met' : 'MISSED'}`);

  if (storedRels !== EDGES + BASELINE_EDGES)
    throw new Error(`expected ${EDGES + BASELINE_EDGES} relationships, found ${storedRels}`);
  await queue.obliterate({ force: true });
  await queue.close();
  producer.disconnect();
  await graph.close();
  if (!opt.keep) await server.stop();
}

runBench(main);
