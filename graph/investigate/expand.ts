import neo4j from 'neo4j-driver';
import { VigilError } from '../../common/errors.ts';
import type { Graph } from '../driver.ts';
import type { Chain, RelationshipType } from '../model.ts';
import { type EdgeFilter, filterClause, typePattern } from './filters.ts';

/**
 * One hop of a breadth-first search, for paths and flow: every wallet of a frontier expanded in
 * one round trip, each capped at `fanOut` relationships (largest amounts first, inside a CALL
 * subquery so the cap applies per wallet, not per hop). Supernodes are thereby expanded at most
 * once per hop and never flood the next frontier.
 */
export interface EdgeRecord {
  id: string;
  type: RelationshipType;
  from: string;
  to: string;
  amount: string | null;
  alphaAmount: string | null;
  blockNumber: number;
  timestamp: number | null;
  netuid: number | null;
  /** Ethereum ERC-20: the token contract (lower-case 0x); null for native ETH and on Bittensor. */
  token: string | null;
  /** What the ERC-20 contract answered (validator-read); null when unknown, for ETH and on Bittensor. */
  tokenSymbol: string | null;
  tokenDecimals: number | null;
}

export interface FrontierItem {
  address: string;
  /** Only relationships at or after this block (time-respecting forward flow). */
  since?: number | null;
  /** Only relationships at or before this block (time-respecting backward flow). */
  until?: number | null;
  /**
   * Relationships of the followed types and direction, when known (dense wallets are not sorted;
   * an unknown one is counted by the expansion's query).
   */
  degree?: number;
}

/**
 * From this many relationships on, a wallet's fan-out is its first `fanOut` matches in storage
 * order instead of its largest: sorting a supernode's 150,000 relationships costs about a second
 * per hop, reading 100 of them about a millisecond.
 */
export const DENSE_FANOUT_DEGREE = 2000;

export type Side = 'OUT' | 'IN' | 'BOTH';

export interface ExpandedEdge {
  /** The frontier wallet this edge was reached from, and the wallet at its other end. */
  origin: string;
  other: string;
  /**
   * How many relationships (of the followed types and direction) the other wallet has; null
   * when not asked for (`degrees: false`, the last hop of a search).
   */
  otherDegree: number | null;
  edge: EdgeRecord;
}

export interface Expansion {
  edges: ExpandedEdge[];
  /** Frontier wallets that had more matching relationships than `fanOut`. */
  capped: Set<string>;
}

/** The step from frontier wallet x to y, and the COUNT of a wallet's relationships followed. */
function patterns(side: Side, types: string): { step: string; degree: (w: string) => string } {
  if (side === 'OUT')
    return { step: `(x)-[r${types}]->(y:Wallet)`, degree: (w) => `COUNT { (${w})-[${types}]->() }` };
  if (side === 'IN')
    return { step: `(x)<-[r${types}]-(y:Wallet)`, degree: (w) => `COUNT { (${w})<-[${types}]-() }` };
  return { step: `(x)-[r${types}]-(y:Wallet)`, degree: (w) => `COUNT { (${w})-[${types}]-() }` };
}

/**
 * A frontier is read in slices side by side, each its own auto-commit query: Neo4j runs a query on
 * one thread, so a supernode's hop of 500 wallets would otherwise take one core however many the
 * server has, and under load it gets one share among the light questions' queries. A slice holds
 * at least MIN_SLICE_RELATIONSHIPS (estimated from the wallets' degrees, a dense wallet counting as
 * its fan-out), so the usual small frontier stays one round trip.
 */
export const MIN_SLICE_RELATIONSHIPS = 1000;
export const MAX_SLICES = 4;

/** Relationships a frontier wallet's expansion is expected to read (unknown degree: a fan-out). */
function expectedReads(f: FrontierItem, fanOut: number): number {
  if (f.degree === undefined || f.degree >= DENSE_FANOUT_DEGREE) return fanOut + 1;
  return f.degree;
}

/**
 * Cuts a frontier, in order, into at most `maxSlices` runs of about equal expected reads, none
 * under `minSlice` (a frontier below twice that is one slice).
 */
export function sliceFrontier(
  frontier: FrontierItem[],
  fanOut: number,
  minSlice = MIN_SLICE_RELATIONSHIPS,
  maxSlices = MAX_SLICES,
): FrontierItem[][] {
  const reads = frontier.map((f) => expectedReads(f, fanOut));
  const total = reads.reduce((s, r) => s + r, 0);
  const count = Math.max(1, Math.min(maxSlices, frontier.length, Math.floor(total / minSlice)));
  if (count === 1) return [frontier];
  const target = total / count;
  const slices: FrontierItem[][] = [];
  let current: FrontierItem[] = [];
  let acc = 0;
  frontier.forEach((f, i) => {
    current.push(f);
    acc += reads[i]!;
    if (acc >= target * (slices.length + 1) && slices.length < count - 1) {
      slices.push(current);
      current = [];
    }
  });
  if (current.length > 0) slices.push(current);
  return slices;
}

/** Bounded in time by the Graph it is given (a search's: withDeadline). */
export async function expandFrontier(
  graph: Graph,
  chain: Chain,
  frontier: FrontierItem[],
  opts: {
    side: Side;
    filter: EdgeFilter;
    fanOut: number;
    /**
     * Also count the other wallets' relationships (default true). A count walks the wallet's
     * relationship chain: a third of Neo4j's CPU in bench:graphql. Skip it on a search's last hop.
     */
    degrees?: boolean;
    /** Slicing (see MIN_SLICE_RELATIONSHIPS); tests set it to compare sliced and whole reads. */
    slices?: { min: number; max: number };
  },
): Promise<Expansion> {
  if (frontier.length === 0) return { edges: [], capped: new Set() };
  const types = typePattern(opts.filter.types);
  const { step, degree } = patterns(opts.side, types);
  const { where, params } = filterClause(opts.filter);
  // A wallet of unknown degree (a search's first) is counted here, not in a round trip of its own.
  const cypher = `UNWIND $frontier AS f
     MATCH (x:Wallet {chain: $chain, address: f.address})
     WITH x, f, coalesce(f.dense, ${degree('x')} >= $denseDegree) AS dense
     CALL (x, f, dense) {
       WITH x, f WHERE NOT dense
       MATCH ${step}
       WHERE ${where} AND (f.since IS NULL OR r.blockNumber >= f.since) AND (f.until IS NULL OR r.blockNumber <= f.until)
       RETURN r, y ORDER BY coalesce(r.amountValue, -1.0) DESC, r.id LIMIT $limit
       UNION ALL
       WITH x, f WHERE dense
       MATCH ${step}
       WHERE ${where} AND (f.since IS NULL OR r.blockNumber >= f.since) AND (f.until IS NULL OR r.blockNumber <= f.until)
       RETURN r, y LIMIT $limit
     }
     RETURN f.address AS origin, y.address AS other, startNode(r) = x AS out,
            ${opts.degrees === false ? 'null' : degree('y')} AS degree,
            [r.id, type(r), r.amount, r.alphaAmount, r.blockNumber, r.timestamp, r.netuid, r.token,
             r.tokenSymbol, r.tokenDecimals] AS e`;
  const slices = sliceFrontier(frontier, opts.fanOut, opts.slices?.min, opts.slices?.max);
  const results = await Promise.all(
    slices.map((slice) =>
      graph.query(cypher, {
        ...params,
        chain,
        frontier: slice.map((f) => ({
          address: f.address,
          since: f.since ?? null,
          until: f.until ?? null,
          dense: f.degree === undefined ? null : f.degree >= DENSE_FANOUT_DEGREE,
        })),
        limit: neo4j.int(opts.fanOut + 1),
        denseDegree: neo4j.int(DENSE_FANOUT_DEGREE),
      }),
    ),
  );
  const perOrigin = new Map<string, number>();
  const capped = new Set<string>();
  const edges: ExpandedEdge[] = [];
  for (const rec of results.flatMap((r) => r.records)) {
    const origin = rec.get('origin') as string;
    const n = (perOrigin.get(origin) ?? 0) + 1;
    perOrigin.set(origin, n);
    if (n > opts.fanOut) {
      capped.add(origin);
      continue;
    }
    // A list, not a map: no key strings per row; the ends are the two addresses already returned.
    const [id, type, amount, alphaAmount, blockNumber, timestamp, netuid, token, tokenSymbol, tokenDecimals] =
      rec.get('e') as [
        string,
        RelationshipType,
        string | null,
        string | null,
        number,
        number | null,
        number | null,
        string | null,
        string | null,
        number | null,
      ];
    const other = rec.get('other') as string;
    const out = rec.get('out') as boolean;
    edges.push({
      origin,
      other,
      otherDegree: rec.get('degree') as number | null,
      edge: {
        id,
        type,
        from: out ? origin : other,
        to: out ? other : origin,
        amount,
        alphaAmount,
        blockNumber,
        timestamp,
        netuid,
        token,
        tokenSymbol,
        tokenDecimals,
      },
    });
  }
  return { edges, capped };
}

/** Degrees of wallets for the followed types and direction (from the degree store). */
export async function degreesOf(
  graph: Graph,
  chain: Chain,
  addresses: string[],
  opts: { side: Side; types?: readonly RelationshipType[] | null },
): Promise<Map<string, number>> {
  const types = typePattern(opts.types);
  const { degree } = patterns(opts.side, types);
  const res = await graph.query(
    `UNWIND $addresses AS a MATCH (y:Wallet {chain: $chain, address: a}) RETURN a, ${degree('y')} AS degree`,
    { chain, addresses },
  );
  return new Map(res.records.map((r) => [r.get('a') as string, r.get('degree') as number]));
}

/** The code of a SearchTimeoutError (the API answers it as QUERY_TIMEOUT, like Neo4j's own). */
export const SEARCH_TIMED_OUT = 'Vigil.Search.TimedOut';

/** A search that ran past its deadline (between two of its queries; within one, Neo4j stops it). */
export class SearchTimeoutError extends VigilError {
  override name = 'SearchTimeoutError';
  readonly code = SEARCH_TIMED_OUT;
  constructor(timeoutMs: number) {
    super(`the search timed out: it took longer than ${timeoutMs} ms`);
  }
}

/**
 * Runs a multi-hop search under one deadline: `work` gets a Graph whose every read is bounded by
 * the time left, so `timeoutMs` bounds the whole search rather than each hop. Its reads are
 * separate auto-commit queries, not one transaction, so a hop's slices can run side by side
 * (Neo4j reads are read-committed either way: one transaction gave no snapshot).
 */
export function withDeadline<T>(
  graph: Graph,
  timeoutMs: number | undefined,
  work: (g: Graph) => Promise<T>,
): Promise<T> {
  if (!timeoutMs) return work(graph);
  const deadline = performance.now() + timeoutMs;
  const left = () => {
    const ms = Math.ceil(deadline - performance.now());
    if (ms <= 0) throw new SearchTimeoutError(timeoutMs);
    return ms;
  };
  return work({
    ...graph,
    read: async (w) => graph.read(w, { timeoutMs: left() }),
    query: async (cypher, params) => graph.query(cypher, params, { timeoutMs: left() }),
    write: () => Promise.reject(new Error('a search does not write')),
  });
}
