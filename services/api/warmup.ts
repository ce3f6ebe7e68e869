import type { Logger } from '../../common/logger.ts';
import type { Graph } from '../../graph/driver.ts';
import type { Chain } from '../../graph/model.ts';
import { DENSE_DEGREE } from '../../graph/wallets/index.ts';
import { isValidAddress } from '../../protocol/ingest.ts';
import { exampleQuery } from './example.ts';

/**
 * Asks the API's common questions once, at start, so investigators do not pay for a cold Neo4j.
 *
 * Neo4j plans each query text on first sight, and a freshly started JVM plans slowly: on the
 * 1M-wallet bench graph the first neighbors question took 3.5 s (answered QUERY_TIMEOUT, past the
 * 3 s read limit) and each new question shape about another second, against 20–90 ms once planned
 * (docs/benchmarks.md, "Cold start"). Plans are cached per query text, so asking the same shapes
 * about any wallet plans them for all wallets. Asked through the GraphQL handler, the questions
 * also warm this process's own code for them (graphql-jit compiles each operation once).
 */

/**
 * What the warm-up needs: the GraphQL handler (server.ts internalFetch: it reads with the read role
 * when reads need a key) and the graph to pick wallets from.
 */
export interface WarmUpDeps {
  graph: Graph;
  fetch: (url: string, init: RequestInit) => Promise<Response> | Response;
  log: Logger;
  /** Stops before the next question (the server is closing). */
  signal?: AbortSignal;
  /** The wallets to ask about; default: `sampleWallets(graph)`. */
  sample?: WarmUpSample;
}

export interface WarmUpSample {
  chain: string;
  /** One or two ordinary wallets (the paths question goes from the first to the last). */
  ordinary: string[];
  dense: string | null;
}

export interface WarmUpReport {
  questions: number;
  /** Questions answered with errors (a time-out while cold is expected; the plan is still kept). */
  failed: number;
  ms: number;
}

const NEIGHBORS = `query ($chain: Chain!, $a: String!, $after: String, $dir: Direction) {
  wallet(chain: $chain, address: $a) { degreeTotal neighbors(first: 25, after: $after, direction: $dir) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor relationship { id type amount } node { address } } } } }`;
const PATHS = `query ($chain: Chain!, $a: String!, $b: String!) {
  paths(chain: $chain, from: $a, to: $b, maxDepth: 4, limit: 3) { shortestLength paths { wallets } } }`;
const FLOW = `query ($chain: Chain!, $a: String!, $dir: FlowDirection) {
  flow(chain: $chain, from: $a, direction: $dir, depth: 3) { truncated hops { hop count amount } } }`;
const ALERTS = 'query { alerts(first: 10) { edges { node { id } } pageInfo { hasNextPage } } }';

/**
 * A valid address no wallet has (the all-zero key / account): its questions still plan the first
 * query of each shape (an invalid one is refused before Neo4j).
 */
const ABSENT: Record<string, string> = {
  bittensor: '5C4hrfjw9DjXZTzV3MwzrrAr9P1MJhSrvWGWqi1eSuyUpnhM',
  ethereum: `0x${'0'.repeat(40)}`,
};

/**
 * Wallets to ask about: two ordinary and one dense (its groups are read by other queries), found
 * among the first wallets stored. A graph with no wallets still plans the first query of each
 * shape, on an address that does not exist.
 */
export async function sampleWallets(graph: Graph): Promise<WarmUpSample> {
  const res = await graph.query(
    `MATCH (w:Wallet) WITH w LIMIT 2000
     WITH w, COUNT { (w)--() } AS degree
     RETURN w.chain AS chain, w.address AS address, degree >= $dense AS dense`,
    { dense: DENSE_DEGREE },
    { timeoutMs: 30_000 },
  );
  const rows = res.records.map((r) => ({
    chain: r.get('chain') as string,
    address: r.get('address') as string,
    dense: r.get('dense') as boolean,
  }));
  const chain = rows[0]?.chain ?? 'bittensor';
  // Only addresses the API accepts: a question about a malformed one is refused before Neo4j, plans
  // nothing and would keep readiness waiting.
  const sameChain = rows.filter((r) => r.chain === chain && isValidAddress(r.chain as Chain, r.address));
  const ordinary = sameChain.filter((r) => !r.dense).map((r) => r.address);
  return {
    chain,
    ordinary: ordinary.slice(0, 2),
    dense: sameChain.find((r) => r.dense)?.address ?? null,
  };
}

/** The part of an answer the warm-up reads: whether a neighbors page has a next one. */
interface Answer {
  wallet?: { neighbors?: { pageInfo?: { hasNextPage: boolean; endCursor: string | null } } } | null;
}

export async function warmUp(deps: WarmUpDeps): Promise<WarmUpReport> {
  const t0 = performance.now();
  let questions = 0;
  let failed = 0;
  const ask = async (query: string, variables: Record<string, unknown>) => {
    if (deps.signal?.aborted) return undefined;
    questions++;
    try {
      const res = await deps.fetch('http://vigil.warm-up/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: Answer; errors?: { message: string }[] };
      if (body.errors?.length) {
        failed++;
        deps.log.debug({ error: body.errors[0]!.message }, 'warm-up question answered with an error');
      }
      return body.data;
    } catch (err) {
      failed++;
      deps.log.debug({ err }, 'warm-up question failed');
      return undefined;
    }
  };

  const sample = deps.sample ?? (await sampleWallets(deps.graph));
  const { ordinary, dense } = sample;
  const chain = sample.chain.toUpperCase(); // stored 'bittensor', the GraphQL enum BITTENSOR
  const a = ordinary[0] ?? ABSENT[sample.chain] ?? ABSENT.bittensor!;
  const b = ordinary.at(-1) ?? a;
  // Each direction's first page, and a next page (a dense wallet's next page is its own query).
  for (const address of dense ? [a, dense] : [a]) {
    for (const dir of ['BOTH', 'OUT', 'IN']) {
      const first = await ask(NEIGHBORS, { chain, a: address, dir });
      const page = first?.wallet?.neighbors?.pageInfo;
      if (page?.hasNextPage) await ask(NEIGHBORS, { chain, a: address, dir, after: page.endCursor });
    }
  }
  await ask(PATHS, { chain, a, b });
  for (const dir of ['OUT', 'IN']) await ask(FLOW, { chain, a: dense ?? a, dir });
  await ask(ALERTS, {});
  // The README's example (its relationship-type filter is a shape of its own) is a Bittensor
  // question: on a graph sampled on Ethereum it asks an absent Bittensor wallet, never a 0x one.
  await ask(exampleQuery(sample.chain === 'bittensor' ? a : ABSENT.bittensor!), {});
  return { questions, failed, ms: Math.round(performance.now() - t0) };
}

export interface ReadyReport extends WarmUpReport {
  /** Rounds of questions asked; the last one is the one reported. */
  rounds: number;
  /** Every question of the last round answered without error. */
  warm: boolean;
}

/**
 * Asks the common questions until one whole round answers without error (a question that timed
 * out while Neo4j planned it answers once the plan is cached), or until `boundMs` has passed.
 * Readiness waits for this: a service reported ready answers the common questions.
 */
export async function warmUntilAnswered(deps: WarmUpDeps & { boundMs: number }): Promise<ReadyReport> {
  const t0 = performance.now();
  const sample = deps.sample ?? (await sampleWallets(deps.graph));
  for (let rounds = 1; ; rounds++) {
    const r = await warmUp({ ...deps, sample });
    const ms = Math.round(performance.now() - t0);
    const report = { ...r, ms, rounds, warm: r.failed === 0 };
    if (report.warm || deps.signal?.aborted || ms >= deps.boundMs) return report;
    await new Promise((resolve) => setTimeout(resolve, 1000)); // e.g. Neo4j is not up yet
  }
}
