/**
 * npm run bench:cold-start -- [--rounds 2]
 *
 * An investigator's first questions after Neo4j (re)starts, with and without the API's warm-up
 * (services/api/warmup.ts), in one run. Needs the graph of `npm run bench:graphql` loaded in
 * .vigil/bench-graphql (it is kept there after a run); a Neo4j left running on it is stopped first.
 *
 * Each round starts that Neo4j afresh twice (a cold JVM and an empty plan cache, as after a
 * restart), once per mode, alternating which mode goes first. After each start: a new GraphQL
 * handler in this process, the warm-up in the "warm" mode, then each question below asked once,
 * about wallets the warm-up did not pick, with the production limits (3 s per read). Prints each
 * answer's time and every error code, then the worst per mode.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../common/config.ts';
import { createLogger, silentLogger } from '../common/logger.ts';
import { type Graph, createGraph } from '../graph/driver.ts';
import { type Neo4jProcess, startNeo4jServer, stopNeo4jByPidFile } from '../infra/neo4j.ts';
import { LAUNCHER_DIR, PROJECT_DIR } from '../infra/up.ts';
import { type ApiHandler, createApi } from '../services/api/server.ts';
import { warmUp } from '../services/api/warmup.ts';

const { values: opt } = parseArgs({ options: { rounds: { type: 'string', default: '2' } } });
const ROUNDS = Number(opt.rounds);
const HOME = path.join(PROJECT_DIR, '.vigil', 'bench-graphql', 'neo4j');
const say = (m: string) => console.log(`[cold-start] ${m}`);

const NEIGHBORS = `query ($a: String!, $after: String, $dir: Direction) { wallet(chain: BITTENSOR, address: $a) {
  neighbors(first: 25, after: $after, direction: $dir) { totalCount pageInfo { endCursor } edges { relationship { id amount } node { address } } } } }`;
const PATHS =
  'query ($a: String!, $b: String!) { paths(chain: BITTENSOR, from: $a, to: $b, maxDepth: 4, limit: 3) { shortestLength paths { wallets } } }';
const FLOW =
  'query ($a: String!) { flow(chain: BITTENSOR, from: $a, depth: 3) { truncated hops { hop count } } }';

/** The questions, in the order asked: [label, document, variables, ask the next page too]. */
const QUESTIONS: [string, string, Record<string, unknown>, boolean][] = [
  ['neighbors', NEIGHBORS, { a: 'w5777' }, true],
  ['neighbors supernode', NEIGHBORS, { a: 'w1' }, true],
  ['neighbors supernode OUT', NEIGHBORS, { a: 'w2', dir: 'OUT' }, true],
  ['paths', PATHS, { a: 'w6234', b: 'w8678' }, false],
  ['flow', FLOW, { a: 'w7321' }, false],
  ['flow supernode', FLOW, { a: 'w2' }, false],
];

async function startCold(): Promise<Neo4jProcess> {
  await stopNeo4jByPidFile(HOME);
  return startNeo4jServer({
    homeDir: HOME,
    boltPort: 7690,
    httpPort: 7477,
    heap: '4g',
    cds: loadConfig().neo4j.cds,
    pagecache: '4g',
    launcherDir: LAUNCHER_DIR,
    log: silentLogger,
  });
}

async function ask(yoga: ApiHandler, query: string, variables: Record<string, unknown>) {
  const t0 = performance.now();
  const res = await yoga.fetch('http://bench/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] };
  const errors = body.errors?.map((e) => e.extensions?.code ?? 'ERROR') ?? [];
  return { ms: performance.now() - t0, data: body.data, errors };
}

async function round(mode: 'cold' | 'warm'): Promise<number[]> {
  const server = await startCold();
  const graph: Graph = createGraph({ uri: server.boltUri, user: 'neo4j', password: '', database: 'neo4j' });
  try {
    const log = createLogger({ level: 'silent', name: 'bench' });
    const yoga = createApi({ graph, log, version: 'bench' });
    let line = `${mode}:`;
    if (mode === 'warm') {
      const r = await warmUp({ graph, fetch: yoga.fetch, log });
      line += ` warm-up ${r.ms} ms (${r.questions} questions, ${r.failed} with errors) |`;
    }
    const times: number[] = [];
    for (const [label, doc, vars, next] of QUESTIONS) {
      const first = await ask(yoga, doc, vars);
      times.push(first.ms);
      line += ` ${label} ${first.ms.toFixed(0)}${first.errors.length ? ` [${first.errors.join(',')}]` : ''}`;
      const after = first.data?.wallet?.neighbors?.pageInfo?.endCursor;
      if (next && after) {
        const page = await ask(yoga, doc, { ...vars, after });
        times.push(page.ms);
        line += `, next ${page.ms.toFixed(0)}${page.errors.length ? ` [${page.errors.join(',')}]` : ''}`;
      }
      line += ';';
    }
    say(line);
    return times;
  } finally {
    await graph.close();
    await server.stop();
  }
}

async function main() {
  say(`Neo4j home ${HOME}; ${ROUNDS} rounds; times in ms`);
  const worst: Record<'cold' | 'warm', number[]> = { cold: [], warm: [] };
  for (let i = 0; i < ROUNDS; i++) {
    const order: ('cold' | 'warm')[] = i % 2 === 0 ? ['cold', 'warm'] : ['warm', 'cold'];
    for (const mode of order) worst[mode].push(Math.max(...(await round(mode))));
  }
  for (const mode of ['cold', 'warm'] as const)
    say(`${mode}: slowest first answer per round ${worst[mode].map((x) => x.toFixed(0)).join(', ')} ms`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
