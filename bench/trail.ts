/**
 * From the violating tx seen to the attacker's first funding hop answerable in GraphQL, on real
 * anvil + Redis + Neo4j, every part in this process (dev/testkit/trailRun.ts: a defense validator
 * with two miners and a pause, the trail request on each violation; the Patrol validator's trail
 * loop with one honest Ethereum Patrol miner; an ingest worker; the GraphQL API asked through its
 * own handler every 25 ms). Per attack: a fresh attacker funded A → B → attacker (ETH and the
 * token, one block per hop) deploys an exploit contract and sends the attack, pending; timed from
 * the moment the defense validator's watcher delivered it:
 *   seen → answerable        the B → attacker transfer is in `wallet(...).neighbors(direction: IN)`
 *   seen → alert             the miners' consensus decided the violation
 *   alert → trail requested  pause sent, then the trail request written to the stream
 *   requested → challenge    the Patrol validator took it, read the window, challenged the miner
 *   miner answer             the miner built the backward subgraph on the attacker
 *   verify + ingest          answer built → verified, queued, stored, answerable in GraphQL
 * then one block is mined (the pause lands first), and the vault is unpaused for the next attack.
 * Run: npm run bench:trail -- [attacks] [warm-up]   (defaults 20 and 2; NEO4J_URI / REDIS_URL from
 * the environment as usual). Goal: p99 ≤ 5 s on the 2-core machine.
 */
import os from 'node:os';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { Contract } from 'ethers';
import { Registry } from 'prom-client';
import { loadConfig } from '../common/config.ts';
import { silentLogger } from '../common/logger.ts';
import { percentile } from '../common/stats.ts';
import { type Cleanup, runCleanup, startEthereumBench } from '../dev/testkit/ethereumBench.ts';
import { fundedAttacker, startTrailRun } from '../dev/testkit/trailRun.ts';
import { createRedisConnection } from '../queues/connection.ts';
import { createApi } from '../services/api/server.ts';
import type { RoundReport } from '../services/defense/validator.ts';
import { createIngestWorker } from '../services/ingest/worker.ts';
import { runBench } from './run.ts';

const ATTACKS = Math.max(1, Number(process.argv[2] ?? 20));
const WARMUP = Math.max(0, Number(process.argv[3] ?? 2));
const say = (m: string) => process.stderr.write(`${m}\n`);

interface Row {
  total: number;
  alert: number;
  requested: number;
  challenge: number;
  answer: number;
  ingest: number;
}

async function main() {
  const config = loadConfig();
  await cryptoWaitReady();
  const run = crypto.randomUUID().slice(0, 8);
  const prefix = `vigilbench-trail-${run}`;
  const chainId = 800_000 + Math.floor(Math.random() * 90_000);
  const cleanup: Cleanup = [];
  const load0 = os.loadavg();
  try {
    const { fx, graph } = await startEthereumBench({ neo4j: config.neo4j, chainId, cleanup, say });
    const workerConn = createRedisConnection(config.redisUrl, 'worker');
    cleanup.push(() => workerConn.disconnect());
    const worker = createIngestWorker({
      connection: workerConn,
      prefix,
      graph,
      log: silentLogger,
      registry: new Registry(),
      concurrency: 2,
      batchSize: 1000,
    });
    cleanup.push(() => worker.close());
    const api = createApi({ graph, log: silentLogger, version: 'bench', admission: { costBudget: 0 } });

    const reports = new Map<string, RoundReport>();
    const requested = new Map<string, number>();
    const challenged = new Map<string, { at: number; answered?: number }>();
    const trail = await startTrailRun({
      fx,
      graph,
      redisUrl: config.redisUrl,
      prefix,
      run,
      log: silentLogger,
      trail: { openMs: 5_000, pollMs: 500 },
      on: {
        round: (r) => reports.set(r.txHash, r),
        requested: (v, at) => requested.set(v.tx.hash!.toLowerCase(), at),
        challenge: (c, at) => {
          if (c.direction === 'in' && !challenged.has(c.target)) challenged.set(c.target, { at });
        },
        answered: (c, at) => {
          const got = challenged.get(c.target);
          if (c.direction === 'in' && got && got.answered === undefined) got.answered = at;
        },
      },
    });
    cleanup.push(() => trail.close());

    const fundedBy = async (attacker: string, b: string) => {
      const res = await api.fetch('http://vigil.bench/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `query ($x: String!) { wallet(chain: ETHEREUM, address: $x) {
            neighbors(direction: IN, types: [TRANSFER]) { edges { node { address } } } } }`,
          variables: { x: attacker },
        }),
      });
      const body = (await res.json()) as {
        data?: { wallet: { neighbors: { edges: { node: { address: string } }[] } } | null };
      };
      return body.data?.wallet?.neighbors.edges.some((e) => e.node.address === b) ?? false;
    };

    const rows: Row[] = [];
    for (let i = 0; i < WARMUP + ATTACKS; i++) {
      const warm = i < WARMUP;
      const s = await fundedAttacker(fx);
      const [x, b] = [s.attacker.address.toLowerCase(), s.b.address.toLowerCase()];
      const tx = await s.attack();
      const hash = tx.hash.toLowerCase();
      const end = Date.now() + 60_000;
      while (!(await fundedBy(x, b))) {
        if (Date.now() > end) throw new Error(`attack ${i + 1}: no funding hop in GraphQL after 60 s`);
        await new Promise((r) => setTimeout(r, 25));
      }
      const answerable = performance.now();
      while (!reports.has(hash)) await new Promise((r) => setTimeout(r, 25));
      const r = reports.get(hash)!;
      const c = challenged.get(x)!;
      const req = requested.get(hash)!;
      const row: Row = {
        total: answerable - r.marks.seen,
        alert: r.marks.violated! - r.marks.seen,
        requested: req - r.marks.violated!,
        challenge: c.at - req,
        answer: c.answered! - c.at,
        ingest: answerable - c.answered!,
      };
      if (!warm) rows.push(row);
      say(
        `${warm ? 'warm-up' : 'attack'} ${warm ? i + 1 : i + 1 - WARMUP}/${warm ? WARMUP : ATTACKS}: seen → funding hop answerable ${(row.total / 1000).toFixed(2)} s, load ${os.loadavg()[0]!.toFixed(2)}`,
      );
      await fx.node.mine(); // the pause lands first, the attack reverts
      await (fx.vault.connect(fx.deployer) as Contract).getFunction('unpause')({
        nonce: await fx.provider.getTransactionCount(fx.deployer.address, 'pending'),
      });
      await fx.node.mine();
    }

    const stat = (k: keyof Row) => {
      const xs = rows.map((r) => r[k]);
      return { p50: percentile(xs, 50), p99: percentile(xs, 99), max: Math.max(...xs) };
    };
    const fmt = (v: number) => (v / 1000).toFixed(3).padStart(7);
    const load1 = os.loadavg();
    const total = stat('total');
    console.log(
      [
        `attacker trail — ${ATTACKS} attacks (+${WARMUP} warm-up) on anvil, 2 defense miners, 1 Patrol miner, all in one process, ${os.cpus().length} cores`,
        `load average (1/5/15 min) at start ${load0.map((l) => l.toFixed(2)).join('/')}, at end ${load1.map((l) => l.toFixed(2)).join('/')}`,
        '',
        '| part                                    |   p50 s |   p99 s |   max s |',
        '|-----------------------------------------|---------|---------|---------|',
        ...(
          [
            ['seen → funding hop answerable (GraphQL)', 'total'],
            ['  seen → alert (consensus)', 'alert'],
            ['  alert → trail requested (pause first)', 'requested'],
            ['  requested → challenge at the miner', 'challenge'],
            ['  miner answer (backward subgraph)', 'answer'],
            ['  verify + ingest → answerable', 'ingest'],
          ] as const
        ).map(([label, k]) => {
          const v = stat(k);
          return `| ${label.padEnd(39)} | ${fmt(v.p50)} | ${fmt(v.p99)} | ${fmt(v.max)} |`;
        }),
        '',
        `goal p99 ≤ 5 s: ${total.p99 <= 5000 ? 'met' : 'NOT met'}`,
      ].join('\n'),
    );
  } finally {
    await runCleanup(cleanup);
  }
}

runBench(main);
