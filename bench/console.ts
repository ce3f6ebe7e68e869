/**
 * npm run bench:console -- [--scale 1] [--wallets N] [--rels N] [--supernode-degree 150000]
 *                          [--runs 5] [--reuse] [--neo4j-uri bolt://…]
 *
 * The web console in Debian's chromium (playwright-core), against the API in a process of its own
 * (bench/apiProcess.ts) on a synthetic graph of bench:graphql's shape and scale (bench/benchGraph.ts:
 * power-law wallets, and wallet 0 a supernode with --supernode-degree relationships, half in, half
 * out), in a Neo4j of the bench's own (ports 7693/7480, data under .vigil/bench-console).
 * Prints, per wallet (an ordinary one and the supernode), the time from opening the wallet's link
 * to its first graph drawn, p50 and max over --runs fresh tabs, with the page's longest main-thread
 * task meanwhile (a frozen page shows as a long task); the same run's baseline is the API
 * answering the first view's two questions (summary, first neighbour page) to a plain HTTP client.
 * Then each field group of the wallet page asked alone (where a supernode's time goes), and the
 * console's payload: its JS and CSS, raw and gzip.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import neo4j from 'neo4j-driver';
import { loadConfig } from '../common/config.ts';
import { createLogger } from '../common/logger.ts';
import { percentile } from '../common/stats.ts';
import { createGraph } from '../graph/driver.ts';
import { applyMigrations } from '../graph/migrations.ts';
import { startNeo4jServer } from '../infra/neo4j.ts';
import { LAUNCHER_DIR, PROJECT_DIR } from '../infra/up.ts';
import { launchBrowser } from '../test/browser.ts';
import { startApiProcess } from './apiProcess.ts';
import { POWER_LAW_WALLET_CYPHER, walletAddress, walletAddressCypher } from './benchGraph.ts';
import { runBench } from './run.ts';

const { values: opt } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    wallets: { type: 'string' },
    rels: { type: 'string' },
    'supernode-degree': { type: 'string', default: '150000' },
    runs: { type: 'string', default: '5' },
    reuse: { type: 'boolean', default: false },
    'neo4j-uri': { type: 'string' },
  },
});
const SCALE = Number(opt.scale);
const WALLETS = Number(opt.wallets ?? Math.round(1_000_000 * SCALE));
const RELS = Number(opt.rels ?? Math.round(5_000_000 * SCALE));
const SUPER = Number(opt['supernode-degree']);
const RUNS = Number(opt.runs);
const CHAIN = 'bittensor';
const say = (m: string) => console.log(`[bench] ${m}`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Wallets, then the supernode's relationships, then power-law ones, generated inside Neo4j. */
async function load(graph: ReturnType<typeof createGraph>) {
  const t0 = performance.now();
  for (let from = 0; from < WALLETS; from += 100_000)
    await graph.write((tx) =>
      tx.run(
        `UNWIND range($from, $to) AS i CREATE (:Wallet {chain: $chain, address: ${walletAddressCypher('i')}, isHotkey: false})`,
        { from: neo4j.int(from), to: neo4j.int(Math.min(WALLETS, from + 100_000) - 1), chain: CHAIN },
      ),
    );
  const create = `UNWIND range($from, $to - 1) AS k
    WITH k, ${POWER_LAW_WALLET_CYPHER} AS x, ${POWER_LAW_WALLET_CYPHER} AS y
    WITH k, CASE WHEN k < $super THEN (CASE WHEN k % 2 = 0 THEN [0, x] ELSE [x, 0] END)
                 WHEN x = y THEN [x, 1 + (y % ($wallets - 1))] ELSE [x, y] END AS ends
    MATCH (a:Wallet {chain: $chain, address: ${walletAddressCypher('ends[0]')}})
    MATCH (b:Wallet {chain: $chain, address: ${walletAddressCypher('ends[1]')}})
    WITH a, b, k, toString(toInteger(10 ^ (3 + rand() * 9))) AS amount, 1 + toInteger(rand() * 2600000) AS block
    CREATE (a)-[:TRANSFER {id: 'bench:c:' + k, amount: amount, amountValue: toFloat(amount), blockNumber: block,
                           timestamp: block * 12000}]->(b)`;
  for (let from = 0; from < RELS; from += 20_000) {
    const to = Math.min(RELS, from + 20_000);
    await graph.write((tx) =>
      tx.run(create, {
        from: neo4j.int(from),
        to: neo4j.int(to),
        super: neo4j.int(SUPER),
        supernodes: neo4j.int(1),
        wallets: neo4j.int(WALLETS),
        chain: CHAIN,
      }),
    );
    if (to % 200_000 === 0 || to === RELS) say(`${fmt(to)}/${fmt(RELS)} relationships`);
  }
  say(`loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function main() {
  if (RELS < SUPER) throw new Error(`--rels (${RELS}) must be at least --supernode-degree (${SUPER})`);
  const home = path.join(PROJECT_DIR, '.vigil', 'bench-console', 'neo4j');
  if (!opt.reuse && !opt['neo4j-uri']) await rm(home, { recursive: true, force: true });
  say(`graph: ${fmt(WALLETS)} wallets, ${fmt(RELS)} relationships, wallet 0 a supernode of ${fmt(SUPER)}`);
  const log = createLogger({ level: 'warn', name: 'bench' });
  const server = opt['neo4j-uri']
    ? { boltUri: opt['neo4j-uri'], stop: async () => {} }
    : await startNeo4jServer({
        homeDir: home,
        boltPort: 7693,
        httpPort: 7480,
        heap: '1g',
        pagecache: '1g',
        cds: loadConfig().neo4j.cds,
        launcherDir: LAUNCHER_DIR,
        log,
      });
  const graph = createGraph({ uri: server.boltUri, user: 'neo4j', password: '', database: 'neo4j' });
  const browser = await launchBrowser();
  let api: Awaited<ReturnType<typeof startApiProcess>> | undefined;
  try {
    await applyMigrations(graph);
    const n = await graph.read((tx) => tx.run('MATCH ()-[r]->() RETURN count(r) AS n'));
    if (n.records[0]!.get('n') !== RELS) {
      if (n.records[0]!.get('n') > 0)
        throw new Error('the bench database holds another graph; run without --reuse');
      await load(graph);
      await graph.read((tx) => tx.run('CALL db.awaitIndexes(3600)'));
    } else say('reusing the loaded graph');
    await graph.query('MATCH ()-[r]->() RETURN count(r.amountValue) + count(r.blockNumber) AS n', {});
    const ordinary = await graph.read((tx) =>
      tx.run(
        `MATCH (w:Wallet {chain: $chain}) WHERE w.address > $skip WITH w LIMIT 5000
         WITH w, COUNT { (w)--() } AS d WHERE d >= 5 AND d <= 50 RETURN w.address AS a, d LIMIT 1`,
        { chain: CHAIN, skip: walletAddress(0) },
      ),
    );
    const wallets = [
      {
        name: 'ordinary',
        address: ordinary.records[0]!.get('a') as string,
        degree: ordinary.records[0]!.get('d') as number,
      },
      { name: 'supernode', address: walletAddress(0), degree: SUPER },
    ];
    api = await startApiProcess(server.boltUri);
    const consoleUrl = api.url.replace(/\/graphql$/, '/console/');
    await (await fetch(consoleUrl)).text(); // the bundle is built on its first request: not timed
    for (const w of wallets) await measure(browser, consoleUrl, api.url, w);
    for (const w of wallets) await fields(api.url, w); // after measure's warm-up
    await payload(consoleUrl);
  } finally {
    await browser.close();
    await api?.stop();
    await graph.close();
    await server.stop();
  }
}

/** The wallet page's GraphQL fields, one group per request, so each one's cost shows alone. */
const FIELDS: [string, string][] = [
  ['identity + degree (degree store)', 'address isHotkey isContract firstSeenBlock lastSeenBlock degreeTotal degree { type direction count }'],
  ['totals', 'totals { type direction asset netuid count amount alphaAmount }'],
  ['firstSeenAt + lastSeenAt', 'firstSeenAt lastSeenAt'],
  ['owner + hotkeys + parents + children', 'owner { address } hotkeys(first: 25) { netuid } parents(first: 25) { netuid } children(first: 25) { netuid }'],
  ['tags + alerts', 'tags { label } alerts(first: 10) { edges { node { id } } }'],
  ['first neighbour page (100) + totalCount', 'neighbors(first: 100) { totalCount edges { node { address isHotkey isContract } relationship { id type from to amount blockNumber } } }'],
]; // biome-ignore format: a table

/** Each field group of the wallet page asked alone, p50 and max over --runs after one untimed. */
async function fields(graphqlUrl: string, w: { name: string; address: string; degree: number }) {
  say(`${w.name} (${fmt(w.degree)} relationships): each field group of the wallet page alone`);
  for (const [name, sel] of FIELDS) {
    const query = `query ($a: String!) { wallet(chain: BITTENSOR, address: $a) { ${sel} } }`;
    const ms: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const t0 = performance.now();
      const res = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables: { a: w.address } }),
      });
      const body = (await res.json()) as { errors?: { message: string }[] };
      if (body.errors) throw new Error(`the API refused ${name}: ${body.errors[0]!.message}`);
      if (i > 0) ms.push(performance.now() - t0);
    }
    say(
      `  ${name.padEnd(42)} p50 ${percentile(ms, 50).toFixed(0).padStart(5)} ms  max ${Math.max(...ms)
        .toFixed(0)
        .padStart(5)} ms`,
    );
  }
}

// The first view's questions as console/wallet/queries.ts asks them (browser code: not imported).
const WALLET_SUMMARY = `query ($chain: Chain!, $address: String!) { wallet(chain: $chain, address: $address) {
  chain address isHotkey isContract firstSeenBlock lastSeenBlock degreeTotal degree { type direction count }
  owner { address } hotkeys(first: 25) { wallet { address } netuid blockNumber }
  parents(first: 25) { wallet { address } netuid proportion blockNumber }
  children(first: 25) { wallet { address } netuid proportion blockNumber }
  tags { label source createdAt } alerts(first: 10) { edges { node { id severity invariantId contract txHash raisedAt } } } } }`;
const NEIGHBORS = `query ($chain: Chain!, $address: String!, $first: Int) { wallet(chain: $chain, address: $address) {
  address neighbors(first: $first) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { address isHotkey isContract } relationship { id type direction from to amount alphaAmount
      blockNumber timestamp netuid txHash provenance { miners validators } } } } } }`;
const ROOT_PAGE = 100; // console/wallet/graphPanel.tsx

async function measure(
  browser: Awaited<ReturnType<typeof launchBrowser>>,
  consoleUrl: string,
  graphqlUrl: string,
  w: { name: string; address: string; degree: number },
) {
  const first: number[] = [];
  const longest: number[] = [];
  const api: number[] = [];
  // The page's own first-view questions, one after the other as it asks them: the summary, then
  // the first neighbour page (the activity is asked alongside and draws nothing).
  const ask = async () => {
    const t0 = performance.now();
    const errors: { message: string }[] = [];
    for (const [query, extra] of [
      [WALLET_SUMMARY, {}],
      [NEIGHBORS, { first: ROOT_PAGE }],
    ] as const) {
      const res = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables: { chain: 'BITTENSOR', address: w.address, ...extra } }),
      });
      errors.push(...(((await res.json()) as { errors?: { message: string }[] }).errors ?? []));
    }
    return { ms: performance.now() - t0, errors: errors.length ? errors : undefined };
  };
  // Neo4j plans each question shape once, slowly on a fresh JVM: ask until it answers (as the
  // API's own warm-up does), then time.
  for (let tries = 1; ; tries++) {
    const r = await ask();
    if (!r.errors) break;
    if (tries >= 20)
      throw new Error(`the API did not answer the wallet's questions: ${r.errors[0]!.message}`);
    say(`warming up (${r.errors[0]!.message})`);
  }
  for (let i = 0; i <= RUNS; i++) {
    const r = await ask();
    if (r.errors) throw new Error(`the API refused the baseline question: ${JSON.stringify(r.errors)}`);
    const apiMs = r.ms;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${consoleUrl}#/`);
    await page.waitForSelector('nav');
    await page.evaluate(() => {
      (window as any).longest = 0;
      new PerformanceObserver((l) => {
        for (const e of l.getEntries())
          (window as any).longest = Math.max((window as any).longest, e.duration);
      }).observe({ type: 'longtask', buffered: false });
    });
    const t1 = performance.now();
    await page.evaluate((a) => {
      location.hash = `#/wallet?chain=BITTENSOR&address=${a}`;
    }, w.address);
    await page.waitForFunction(
      () => Number(document.querySelector('.graph')?.getAttribute('data-nodes')) > 0,
      null,
      {
        timeout: 60_000,
        polling: 'raf',
      },
    );
    const ms = performance.now() - t1;
    const capped = await page.locator('.capped').count();
    const lt = (await page.evaluate(() => (window as any).longest)) as number;
    await page.close();
    if (i === 0) continue; // the first of each: plans and caches warm, not timed
    first.push(ms);
    longest.push(lt);
    api.push(apiMs);
    if (w.name === 'supernode' && capped === 0)
      throw new Error('the supernode was drawn without the capped notice');
  }
  const p = (xs: number[]) =>
    `p50 ${percentile(xs, 50).toFixed(0).padStart(5)} ms  max ${Math.max(...xs)
      .toFixed(0)
      .padStart(5)} ms`;
  say(
    `${w.name.padEnd(9)} (${fmt(w.degree)} relationships): first graph ${p(first)}; longest main-thread task ${p(longest)}`,
  );
  say(
    `${''.padEnd(9)} baseline, the first view's questions (summary, then first page) to the API alone: ${p(api)}`,
  );
}

async function payload(consoleUrl: string) {
  for (const f of ['app.js', 'app.css']) {
    const body = Buffer.from(await (await fetch(new URL(f, consoleUrl))).arrayBuffer());
    say(
      `payload ${f.padEnd(7)} ${fmt(body.length / 1024)} KiB raw, ${fmt(gzipSync(body).length / 1024)} KiB gzip`,
    );
  }
}

runBench(main);
