/**
 * npm run bench:abuse -- [--wallets 3000] [--rels 20000] [--hub-degree 2000] [--clients 4]
 *                        [--attackers 2] [--seconds 20]
 *
 * Does an attacker within the API's limits slow investigators down? In one run, against a real API
 * process (bench/apiProcess.ts, production limits) on a Neo4j of the bench's own (free ports, data
 * under .vigil/bench-abuse): a small graph is built (wallet 0 a hub), then --clients investigators
 * ask neighbors questions for --seconds alone, then again while --attackers loops send the heaviest
 * requests the limits still allow, /health polled every 100 ms throughout. Prints the investigators'
 * p50/p99 alone and under attack, their ratio (goal ≤ 2×), the slowest /health (goal < 1 s), and
 * what the attacker got through.
 */
import { rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { getIntrospectionQuery } from 'graphql';
import neo4j from 'neo4j-driver';
import { freePorts } from '../common/ports.ts';
import { percentile } from '../common/stats.ts';
import { createGraph } from '../graph/driver.ts';
import { applyMigrations } from '../graph/migrations.ts';
import { startNeo4jServer } from '../infra/neo4j.ts';
import { LAUNCHER_DIR, PROJECT_DIR } from '../infra/up.ts';
import { startApiProcess } from './apiProcess.ts';
import { walletAddress, walletAddressCypher } from './benchGraph.ts';
import { runBench } from './run.ts';

const { values: opt } = parseArgs({
  options: {
    wallets: { type: 'string', default: '3000' },
    rels: { type: 'string', default: '20000' },
    'hub-degree': { type: 'string', default: '2000' },
    clients: { type: 'string', default: '4' },
    attackers: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '20' },
  },
});
const WALLETS = Number(opt.wallets);
const RELS = Number(opt.rels);
const HUB_DEGREE = Number(opt['hub-degree']);
const CLIENTS = Number(opt.clients);
const ATTACKERS = Number(opt.attackers);
const SECONDS = Number(opt.seconds);
for (const [name, v] of Object.entries({ WALLETS, RELS, HUB_DEGREE, CLIENTS, ATTACKERS, SECONDS }))
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name.toLowerCase()}: expected a positive integer`);

const say = (m: string) => console.log(`[bench] ${m}`);
const ms = (n: number) => `${n.toFixed(1).padStart(7)} ms`;
const spread = (xs: number[]) =>
  xs.length
    ? `p50 ${ms(percentile(xs, 50))}  p99 ${ms(percentile(xs, 99))}  max ${ms(Math.max(...xs))}`
    : 'none';

const HUB = walletAddress(0);
const NORMAL = `query ($a: String!) { wallet(chain: BITTENSOR, address: $a) { degreeTotal neighbors(first: 25) {
  pageInfo { endCursor } edges { node { address } relationship { id type amount blockNumber } } } } }`;

/**
 * The heaviest requests the default limits let through (each is checked to answer without
 * errors): 4 full introspections (cost 4,000, ~300 KB), 4 hub pages of 100 neighbors each with
 * its degree read (cost 4,120: 400 Neo4j reads), and 4 path searches of depth 6 from the hub.
 */
const ATTACKS: Record<string, string> = {
  introspection: `{ ${[1, 2, 3, 4].map((i) => `s${i}: __schema { ...S }`).join(' ')} } ${getIntrospectionQuery()
    .replace(/^\s*query IntrospectionQuery \{\s*__schema \{/, 'fragment S on __Schema {')
    .replace(/\}\s*\}\s*(fragment FullType)/, '}\n$1')}`,
  hubNeighbors: `{ ${[1, 2, 3, 4]
    .map(
      (i) =>
        `n${i}: wallet(chain: BITTENSOR, address: "${HUB}") { neighbors(first: 100, direction: ${['BOTH', 'OUT', 'IN', 'BOTH'][i - 1]}) { edges { node { degreeTotal } } } }`,
    )
    .join(' ')} }`,
  paths: `{ ${[1, 2, 3, 4]
    .map(
      (i) =>
        `p${i}: paths(chain: BITTENSOR, from: "${HUB}", to: "${walletAddress(WALLETS - i)}", maxDepth: 6, limit: 25, directed: false) { shortestLength truncated paths { wallets } }`,
    )
    .join(' ')} }`,
};

async function load(graph: ReturnType<typeof createGraph>) {
  await graph.write((tx) =>
    tx.run(
      `UNWIND range(0, $n - 1) AS i CREATE (:Wallet {chain: 'bittensor', address: ${walletAddressCypher('i')}, isHotkey: false})`,
      { n: neo4j.int(WALLETS) },
    ),
  );
  // Relationship k joins the hub (k < hub degree) or two random wallets.
  for (let from = 0; from < RELS; from += 5000) {
    await graph.write((tx) =>
      tx.run(
        `UNWIND range($from, $to - 1) AS k
         WITH k, CASE WHEN k < $hub THEN 0 ELSE 1 + toInteger(rand() * ($n - 1)) END AS x,
                 1 + toInteger(rand() * ($n - 1)) AS y
         MATCH (a:Wallet {chain: 'bittensor', address: ${walletAddressCypher('x')}})
         MATCH (b:Wallet {chain: 'bittensor', address: ${walletAddressCypher('y')}})
         WITH a, b, k, toString(1000 + toInteger(rand() * 1000000)) AS amount
         CREATE (a)-[:TRANSFER {id: 'bittensor:TRANSFER:' + k + ':0:0', amount: amount,
                 amountValue: toFloat(amount), blockNumber: k, timestamp: k * 12000}]->(b)`,
        {
          from: neo4j.int(from),
          to: neo4j.int(Math.min(RELS, from + 5000)),
          hub: neo4j.int(HUB_DEGREE),
          n: neo4j.int(WALLETS),
        },
      ),
    );
  }
}

function client(url: string, sockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  return (method: 'GET' | 'POST', target: string, body?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        new URL(target, url),
        { method, agent, headers: { 'content-type': 'application/json' } },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

/** Runs `step` in `n` loops until `until`; returns every step's duration and how many failed. */
async function loops(n: number, until: number, step: () => Promise<boolean>) {
  const times: number[] = [];
  let failed = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        if (!(await step())) failed++;
        times.push(performance.now() - t0);
      }
    }),
  );
  return { times, failed };
}

async function main() {
  const home = path.join(PROJECT_DIR, '.vigil', 'bench-abuse', 'neo4j');
  await rm(home, { recursive: true, force: true });
  const [boltPort, httpPort] = (await freePorts(2)) as [number, number];
  const server = await startNeo4jServer({
    homeDir: home,
    boltPort,
    httpPort,
    heap: '512m',
    pagecache: '256m',
    launcherDir: LAUNCHER_DIR,
    log: say,
  });
  const graph = createGraph({ uri: server.boltUri, user: 'neo4j', password: '', database: 'neo4j' });
  let api: Awaited<ReturnType<typeof startApiProcess>> | undefined;
  try {
    await applyMigrations(graph, say);
    await load(graph);
    await graph.read((tx) => tx.run('CALL db.awaitIndexes(600)'));
    say(
      `graph: ${WALLETS} wallets, ${RELS} relationships, hub ${HUB.slice(0, 10)}… of degree ≥ ${HUB_DEGREE}`,
    );
    api = await startApiProcess(server.boltUri);
    const apiUrl = api.url;
    const base = new URL(apiUrl);
    const healthUrl = `${base.origin}/health`;
    const ask = client(apiUrl, CLIENTS + ATTACKERS);
    const poll = client(apiUrl, 1);

    const normalErrors = new Map<string, number>();
    const normal = async () => {
      const a = walletAddress(1 + Math.floor(Math.random() * (WALLETS - 1)));
      const { text } = await ask('POST', apiUrl, JSON.stringify({ query: NORMAL, variables: { a } }));
      const errors = (JSON.parse(text) as { errors?: { message: string; extensions?: { code?: string } }[] })
        .errors;
      const first = errors?.[0];
      if (first) {
        const key = first.extensions?.code ?? first.message.slice(0, 80);
        normalErrors.set(key, (normalErrors.get(key) ?? 0) + 1);
      }
      return !errors;
    };
    const health = async () => (await poll('GET', healthUrl)).status === 200;
    const attacks = Object.entries(ATTACKS);
    for (const [name, query] of attacks) {
      const { status, text } = await ask('POST', apiUrl, JSON.stringify({ query }));
      const errors = (JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] }).errors ?? [];
      // Refused by a limit before it ran: not an attack the limits allow. (A first, cold-plan
      // QUERY_TIMEOUT on a loaded machine is not a refusal.)
      const refused = errors.find((e) => /_LIMIT$|INTROSPECTION|TOO_LARGE/.test(e.extensions?.code ?? ''));
      if (refused) throw new Error(`attack "${name}" is refused (${status}): ${JSON.stringify(refused)}`);
      say(
        `attack "${name}": allowed, answer ${(text.length / 1024).toFixed(0)} KB${errors.length ? ` (first try: ${errors[0]!.extensions?.code})` : ''}`,
      );
    }
    let next = 0;
    const attack = async () => {
      const [, query] = attacks[next++ % attacks.length]!;
      const { text } = await ask('POST', apiUrl, JSON.stringify({ query }));
      return !(JSON.parse(text) as { errors?: unknown }).errors;
    };

    // The API reports ready (/health 200) once its own warm-up has answered the common questions:
    // measured before that, the alone phase counted the 503s of a warming API as failed checks.
    const readyBy = performance.now() + 180_000;
    while (!(await health())) {
      if (performance.now() > readyBy) throw new Error('the API did not report ready within 180 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    // Then this compiles the bench's shapes and V8's hot code.
    await loops(CLIENTS, performance.now() + 5000, normal);
    const phase = async (label: string, withAttack: boolean) => {
      const until = performance.now() + SECONDS * 1000;
      const pollHealth = async () => {
        const t0 = performance.now();
        const ok = await health();
        await new Promise((r) => setTimeout(r, 100));
        return ok && performance.now() - t0 < 1100;
      };
      const [n, h, a] = await Promise.all([
        loops(CLIENTS, until, normal),
        loops(1, until, pollHealth),
        withAttack ? loops(ATTACKERS, until, attack) : Promise.resolve({ times: [], failed: 0 }),
      ]);
      // The health loop's 100 ms pause is not the health check's latency.
      const healthMs = h.times.map((t) => t - 100);
      say(`${label}: normal ${spread(n.times)} (${n.times.length} asked, ${n.failed} failed)`);
      say(`${label}: /health ${spread(healthMs)} (${healthMs.length} polls, ${h.failed} failed or ≥ 1 s)`);
      if (withAttack)
        say(`${label}: attacker ${spread(a.times)} (${a.times.length} sent, ${a.failed} with errors)`);
      return { normal: n.times, health: healthMs };
    };
    const alone = await phase('alone       ', false);
    const attacked = await phase('under attack', true);
    const ratio = percentile(attacked.normal, 99) / percentile(alone.normal, 99);
    const slowestHealth = Math.max(...alone.health, ...attacked.health);
    say(
      `normal-query p99 under attack / alone: ${ratio.toFixed(2)}× (goal ≤ 2×); slowest /health ${slowestHealth.toFixed(0)} ms (goal < 1000 ms)`,
    );
    if (normalErrors.size) say(`normal-question errors: ${JSON.stringify(Object.fromEntries(normalErrors))}`);
    say(
      `machine: ${os.cpus().length} cores, load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await api?.stop();
    await graph.close();
    await server.stop();
  }
}

runBench(main);
