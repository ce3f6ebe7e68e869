/**
 * npm run bench:abuse -- [--wallets 3000] [--rels 20000] [--hub-degree 2000] [--clients 8]
 *                        [--rate 10] [--attackers 4] [--seconds 20] [--per-kind] [--no-admission]
 *                        [--no-rest] [--api-cpu-prof DIR]
 *
 * Does an attacker within the API's limits slow investigators down? In one run, against a real API
 * process (bench/apiProcess.ts, production limits and admission) on a Neo4j of the bench's own
 * (free ports, data under .vigil/bench-abuse): a small graph is built (wallet 0 a hub), then
 * --clients investigators, each with its own API key, ask neighbors questions (at most --rate a
 * second each) for --seconds alone; then again while --attackers loops send the heaviest requests
 * the limits and the admission allow, first all from one caller (one API key: its cost budget is
 * per caller), then each from a caller of its own; /health polled every 100 ms throughout. Prints
 * the investigators' p50/p99 per phase, each attacked phase's p99 over the alone one (goal ≤ 2×),
 * the slowest /health (goal < 1 s), what the attackers got (answers, 429, 503), and per phase the
 * CPU of the API and Neo4j and the API's event-loop delay (where the time goes).
 * `--per-kind` adds a phase per kind of attack; `--no-admission` runs the API without the cost
 * budget and the expensive lane (the baseline to alternate with); `--no-rest` keeps admission but
 * turns the expensive lane's duty cycle off (expensiveRest 0, lane.ts); `--api-cpu-prof DIR` writes the
 * API process's CPU profile there (node --cpu-prof).
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { getIntrospectionQuery, parse } from 'graphql';
import neo4j from 'neo4j-driver';
import { cliDestination, createLogger } from '../common/logger.ts';
import { freePorts } from '../common/ports.ts';
import { percentile } from '../common/stats.ts';
import { createGraph } from '../graph/driver.ts';
import { applyMigrations } from '../graph/migrations.ts';
import { startNeo4jServer } from '../infra/neo4j.ts';
import { LAUNCHER_DIR, PROJECT_DIR } from '../infra/up.ts';
import { DEFAULT_ADMISSION } from '../services/api/admission.ts';
import { analyzeOperation } from '../services/api/limits.ts';
import { createApiSchema } from '../services/api/server.ts';
import { startApiProcess } from './apiProcess.ts';
import { walletAddress, walletAddressCypher } from './benchGraph.ts';
import { cpuMeter, ownCpu } from './cpu.ts';
import { runBench } from './run.ts';

const { values: opt } = parseArgs({
  options: {
    wallets: { type: 'string', default: '3000' },
    rels: { type: 'string', default: '20000' },
    'hub-degree': { type: 'string', default: '2000' },
    clients: { type: 'string', default: '8' },
    /** Questions per second of each investigator at most (each has its own API key and budget). */
    rate: { type: 'string', default: '10' },
    attackers: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '20' },
    /** Also run one attack phase per kind of attack, to see which one costs investigators most. */
    'per-kind': { type: 'boolean', default: false },
    /** The baseline: the API without admission (no cost budget, no expensive lane). */
    'no-admission': { type: 'boolean', default: false },
    /** Admission without the expensive lane's rest between heavy requests (its A/B). */
    'no-rest': { type: 'boolean', default: false },
    /** Profile the API process (node --cpu-prof) into this folder: where its CPU goes under attack. */
    'api-cpu-prof': { type: 'string' },
  },
});
const WALLETS = Number(opt.wallets);
const RELS = Number(opt.rels);
const HUB_DEGREE = Number(opt['hub-degree']);
const CLIENTS = Number(opt.clients);
const ATTACKERS = Number(opt.attackers);
const SECONDS = Number(opt.seconds);
const RATE = Number(opt.rate);
const BASELINE = opt['no-admission'] ?? false;
const NO_REST = opt['no-rest'] ?? false;
for (const [name, v] of Object.entries({ WALLETS, RELS, HUB_DEGREE, CLIENTS, RATE, ATTACKERS, SECONDS }))
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name.toLowerCase()}: expected a positive integer`);

const say = (m: string) => console.log(`[bench] ${m}`);
/** The same progress lines from the modules the bench drives (infra, migrations, seeder). */
const sayLog = createLogger({
  level: 'info',
  name: 'bench',
  base: {},
  destination: cliDestination('[bench] '),
});
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
 * errors). In the expensive lane (cost ≥ 1,000): 4 full introspections (cost 4,000, ~300 KB), 4
 * hub pages of 100 neighbors each with its degree read (cost 4,920: 400 Neo4j reads), 4 path
 * searches of depth 6 from the hub (4,900). Just under the lane: a hub page of 80 neighbors with
 * their degrees (990: 80 Neo4j reads) and a path search of depth 4 (825).
 */
const hubPage = (alias: string, first: number, direction: string) =>
  `${alias}: wallet(chain: BITTENSOR, address: "${HUB}") { neighbors(first: ${first}, direction: ${direction}) { edges { node { degreeTotal } } } }`;
const pathSearch = (alias: string, to: number, maxDepth: number) =>
  `${alias}: paths(chain: BITTENSOR, from: "${HUB}", to: "${walletAddress(to)}", maxDepth: ${maxDepth}, limit: 25, directed: false) { shortestLength truncated paths { wallets } }`;
const ATTACKS: Record<string, string> = {
  introspection: `{ ${[1, 2, 3, 4].map((i) => `s${i}: __schema { ...S }`).join(' ')} } ${getIntrospectionQuery()
    .replace(/^\s*query IntrospectionQuery \{\s*__schema \{/, 'fragment S on __Schema {')
    .replace(/\}\s*\}\s*(fragment FullType)/, '}\n$1')}`,
  hubNeighbors: `{ ${['BOTH', 'OUT', 'IN', 'BOTH'].map((d, i) => hubPage(`n${i}`, 100, d)).join(' ')} }`,
  paths: `{ ${[1, 2, 3, 4].map((i) => pathSearch(`p${i}`, WALLETS - i, 6)).join(' ')} }`,
  hubPageUnderLane: `{ ${hubPage('n', 80, 'BOTH')} }`,
  pathsUnderLane: `{ ${pathSearch('p', WALLETS - 5, 4)} }`,
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
  return (method: 'GET' | 'POST', target: string, body?: string, key?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (key) headers['x-api-key'] = key;
      const req = http.request(new URL(target, url), { method, agent, headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
}

/**
 * Runs `step` in `n` loops until `until`, the loop of index i passing i; a loop starts its steps at
 * most every `paceMs` (0: back to back). Returns each step's duration (the pause not included) and
 * how many failed.
 */
async function loops(n: number, until: number, step: (loop: number) => Promise<boolean>, paceMs = 0) {
  const times: number[] = [];
  let failed = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, loop) => {
      while (performance.now() < until) {
        const t0 = performance.now();
        if (!(await step(loop))) failed++;
        const took = performance.now() - t0;
        times.push(took);
        if (paceMs > took) await new Promise((r) => setTimeout(r, paceMs - took));
      }
    }),
  );
  return { times, failed };
}

/** A bench API key (read role): random, 16+ characters, one per investigator or attacker caller. */
const benchKey = (who: string) => `${who}-${randomBytes(12).toString('hex')}`;

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
    log: sayLog,
  });
  const graph = createGraph({ uri: server.boltUri, user: 'neo4j', password: '', database: 'neo4j' });
  let api: Awaited<ReturnType<typeof startApiProcess>> | undefined;
  try {
    await applyMigrations(graph, sayLog);
    await load(graph);
    await graph.read((tx) => tx.run('CALL db.awaitIndexes(600)'));
    say(
      `graph: ${WALLETS} wallets, ${RELS} relationships, hub ${HUB.slice(0, 10)}… of degree ≥ ${HUB_DEGREE}`,
    );
    const attacks = Object.entries(ATTACKS);
    // Keys: one per investigator, one for the checks, and fresh attacker keys for every phase
    // (a spent budget must not carry over from one phase to the next).
    const investigators = Array.from({ length: CLIENTS }, (_, i) => benchKey(`investigator${i}`));
    const checkKey = benchKey('check');
    const attackPhases = 2 + (opt['per-kind'] ? attacks.length : 0);
    const attackerKeys = Array.from({ length: attackPhases * ATTACKERS }, (_, i) => benchKey(`attacker${i}`));
    const admission = BASELINE ? { costBudget: 0, expensiveCost: 0 } : NO_REST ? { expensiveRest: 0 } : {};
    api = await startApiProcess(server.boltUri, {
      keys: [...investigators, checkKey, ...attackerKeys].map((key) => ({ role: 'read' as const, key })),
      admission,
      nodeArgs: opt['api-cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${opt['api-cpu-prof']}`] : [],
    });
    say(
      BASELINE
        ? 'API with admission OFF (the baseline: no cost budget, no expensive lane)'
        : `API with the production admission defaults: ${JSON.stringify({ ...DEFAULT_ADMISSION, ...admission })}${NO_REST ? ' (--no-rest)' : ''}`,
    );
    const apiUrl = api.url;
    const base = new URL(apiUrl);
    const healthUrl = `${base.origin}/health`;
    const ask = client(apiUrl, CLIENTS + ATTACKERS + 1);
    const poll = client(apiUrl, 1);

    const normalErrors = new Map<string, number>();
    const normal = async (loop: number) => {
      const a = walletAddress(1 + Math.floor(Math.random() * (WALLETS - 1)));
      const body = JSON.stringify({ query: NORMAL, variables: { a } });
      const { text } = await ask('POST', apiUrl, body, investigators[loop]);
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
    const schema = createApiSchema();
    for (const [name, query] of attacks) {
      const { cost } = analyzeOperation(schema, parse(query), null, {});
      const { status, text } = await ask('POST', apiUrl, JSON.stringify({ query }), checkKey);
      const errors = (JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] }).errors ?? [];
      // Refused by a limit before it ran: not an attack the limits allow. (A first, cold-plan
      // QUERY_TIMEOUT on a loaded machine is not a refusal.)
      const refused = errors.find((e) => /_LIMIT$|INTROSPECTION|TOO_LARGE/.test(e.extensions?.code ?? ''));
      if (refused) throw new Error(`attack "${name}" is refused (${status}): ${JSON.stringify(refused)}`);
      say(
        `attack "${name}": allowed, cost ${cost}${!BASELINE && cost >= DEFAULT_ADMISSION.expensiveCost ? ' (expensive lane)' : ''}, answer ${(text.length / 1024).toFixed(0)} KB${errors.length ? ` (first try: ${errors[0]!.extensions?.code})` : ''}`,
      );
    }

    /** What the attackers got: answered, refused by their budget (429), lane busy (503), other errors. */
    const outcomes = new Map<string, number>();
    let next = 0;
    const attacker = (keyOf: (loop: number) => string, only?: string) => async (loop: number) => {
      const query = only ?? attacks[next++ % attacks.length]![1];
      const { status, text } = await ask('POST', apiUrl, JSON.stringify({ query }), keyOf(loop));
      const code = (JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]
        ?.extensions?.code;
      const outcome = code ? `${status} ${code}` : 'answered';
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      return !code;
    };

    // The API reports ready (/health 200) once its own warm-up has answered the common questions:
    // measured before that, the alone phase counted the 503s of a warming API as failed checks.
    const readyBy = performance.now() + 180_000;
    while (!(await health())) {
      if (performance.now() > readyBy) throw new Error('the API did not report ready within 180 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    const paceMs = 1000 / RATE;
    // Then this compiles the bench's shapes and V8's hot code.
    await loops(CLIENTS, performance.now() + 5000, normal, paceMs);
    /** The API's event-loop delay since the last scrape (prom-client resets it at each one). */
    const loopLag = async () => {
      const text = (await poll('GET', `${base.origin}/metrics`)).text;
      const read = (name: string) =>
        Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN) * 1000;
      return `event loop delay p99 ${read('nodejs_eventloop_lag_p99_seconds').toFixed(0)} ms, max ${read('nodejs_eventloop_lag_max_seconds').toFixed(0)} ms`;
    };
    const phase = async (label: string, attack?: (loop: number) => Promise<boolean>) => {
      await loopLag();
      outcomes.clear();
      const cpu = await cpuMeter({ api: api!.pid, neo4j: server.pid });
      const own = ownCpu();
      const until = performance.now() + SECONDS * 1000;
      const [n, h, a] = await Promise.all([
        loops(CLIENTS, until, normal, paceMs),
        loops(1, until, async () => health(), 100),
        attack ? loops(ATTACKERS, until, attack) : Promise.resolve({ times: [], failed: 0 }),
      ]);
      const slowHealth = h.times.filter((t) => t >= 1000).length;
      say(`${label}: normal ${spread(n.times)} (${n.times.length} asked, ${n.failed} failed)`);
      say(
        `${label}: /health ${spread(h.times)} (${h.times.length} polls, ${h.failed} not 200, ${slowHealth} ≥ 1 s)`,
      );
      if (attack)
        say(
          `${label}: attacker ${spread(a.times)} (${a.times.length} sent: ${[...outcomes].map(([k, v]) => `${v} ${k}`).join(', ')})`,
        );
      say(
        `${label}: CPU (% of one core) ${await cpu.share()}, bench clients ${(own.share() * 100).toFixed(0)}%; API ${await loopLag()}`,
      );
      return { label: label.trim(), normal: n.times, health: h.times };
    };
    const phases = [await phase('alone                ')];
    let keyBase = 0;
    const keysForPhase = (callers: 'one' | 'several') => {
      const first = keyBase;
      keyBase += ATTACKERS;
      return (loop: number) => attackerKeys[callers === 'one' ? first : first + loop]!;
    };
    phases.push(await phase('attack from one caller', attacker(keysForPhase('one'))));
    phases.push(
      await phase(`attack from ${ATTACKERS} callers`.padEnd(22), attacker(keysForPhase('several'))),
    );
    if (opt['per-kind'])
      for (const [name, query] of attacks)
        phases.push(
          await phase(`${name}, ${ATTACKERS} callers`.padEnd(22), attacker(keysForPhase('several'), query)),
        );

    const aloneP99 = percentile(phases[0]!.normal, 99);
    const aloneP50 = percentile(phases[0]!.normal, 50);
    // p50 too: on a shared machine a p99 of 20 s is mostly the other processes' bursts.
    for (const p of phases.slice(1))
      say(
        `normal-query p99, ${p.label} / alone: ${(percentile(p.normal, 99) / aloneP99).toFixed(2)}× (goal ≤ 2×); p50 ${(percentile(p.normal, 50) / aloneP50).toFixed(2)}×`,
      );
    const slowestHealth = Math.max(...phases.flatMap((p) => p.health));
    say(`slowest /health ${slowestHealth.toFixed(0)} ms (goal < 1000 ms)`);
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
