import neo4j from 'neo4j-driver';
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
}

export interface FrontierItem {
  address: string;
  /** Only relationships at or after this block (time-respecting forward flow). */
  since?: number | null;
  /** Only relationships at or before this block (time-respecting backward flow). */
  until?: number | null;
  /** Relationships of the followed types and direction, when known (dense wallets are not sorted). */
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

function patterns(side: Side, types: string): { step: string; degree: string } {
  if (side === 'OUT') return { step: `(x)-[r${types}]->(y:Wallet)`, degree: `COUNT { (y)-[${types}]->() }` };
  if (side === 'IN') return { step: `(x)<-[r${types}]-(y:Wallet)`, degree: `COUNT { (y)<-[${types}]-() }` };
  return { step: `(x)-[r${types}]-(y:Wallet)`, degree: `COUNT { (y)-[${types}]-() }` };
}

export async function expandFrontier(
  graph: Graph,
  chain: Chain,
  frontier: FrontierItem[],
  opts: {
    side: Side;
    filter: EdgeFilter;
    fanOut: number;
    timeoutMs?: number;
    /**
     * Also count the other wallets' relationships (default true). A count walks the wallet's
     * relationship chain: a third of Neo4j's CPU in bench:graphql. Skip it on a search's last hop.
     */
    degrees?: boolean;
  },
): Promise<Expansion> {
  if (frontier.length === 0) return { edges: [], capped: new Set() };
  const types = typePattern(opts.filter.types);
  const { step, degree } = patterns(opts.side, types);
  const { where, params } = filterClause(opts.filter);
  const res = await graph.read(
    (tx) =>
      tx.run(
        `UNWIND $frontier AS f
         MATCH (x:Wallet {chain: $chain, address: f.address})
         CALL (x, f) {
           WITH x, f WHERE NOT f.dense
           MATCH ${step}
           WHERE ${where} AND (f.since IS NULL OR r.blockNumber >= f.since) AND (f.until IS NULL OR r.blockNumber <= f.until)
           RETURN r, y ORDER BY coalesce(r.amountValue, -1.0) DESC, r.id LIMIT $limit
           UNION ALL
           WITH x, f WHERE f.dense
           MATCH ${step}
           WHERE ${where} AND (f.since IS NULL OR r.blockNumber >= f.since) AND (f.until IS NULL OR r.blockNumber <= f.until)
           RETURN r, y LIMIT $limit
         }
         RETURN f.address AS origin, y.address AS other, startNode(r) = x AS out,
                ${opts.degrees === false ? 'null' : degree} AS degree,
                [r.id, type(r), r.amount, r.alphaAmount, r.blockNumber, r.timestamp, r.netuid] AS e`,
        {
          ...params,
          chain,
          frontier: frontier.map((f) => ({
            address: f.address,
            since: f.since ?? null,
            until: f.until ?? null,
            dense: (f.degree ?? 0) >= DENSE_FANOUT_DEGREE,
          })),
          limit: neo4j.int(opts.fanOut + 1),
        },
      ),
    { timeoutMs: opts.timeoutMs },
  );
  const perOrigin = new Map<string, number>();
  const capped = new Set<string>();
  const edges: ExpandedEdge[] = [];
  for (const rec of res.records) {
    const origin = rec.get('origin') as string;
    const n = (perOrigin.get(origin) ?? 0) + 1;
    perOrigin.set(origin, n);
    if (n > opts.fanOut) {
      capped.add(origin);
      continue;
    }
    // A list, not a map: no key strings per row; the ends are the two addresses already returned.
    const [id, type, amount, alphaAmount, blockNumber, timestamp, netuid] = rec.get('e') as [
      string,
      RelationshipType,
      string | null,
      string | null,
      number,
      number | null,
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
  opts: { side: Side; types?: readonly RelationshipType[] | null; timeoutMs?: number },
): Promise<Map<string, number>> {
  const types = typePattern(opts.types);
  const { degree } = patterns(opts.side, types);
  const res = await graph.read(
    (tx) =>
      tx.run(
        `UNWIND $addresses AS a MATCH (y:Wallet {chain: $chain, address: a}) RETURN a, ${degree} AS degree`,
        { chain, addresses },
      ),
    { timeoutMs: opts.timeoutMs },
  );
  return new Map(res.records.map((r) => [r.get('a') as string, r.get('degree') as number]));
}

/**
 * Runs a multi-hop search in ONE read transaction: `work` gets a Graph whose reads reuse that
 * transaction, so hops cost a round trip each instead of a transaction each, and `timeoutMs`
 * bounds the whole search rather than each hop.
 */
export function inOneTransaction<T>(
  graph: Graph,
  timeoutMs: number | undefined,
  work: (g: Graph) => Promise<T>,
): Promise<T> {
  return graph.read(
    (tx) =>
      work({
        ...graph,
        read: (w) => w(tx),
        write: () => Promise.reject(new Error('a search does not write')),
      }),
    { timeoutMs },
  );
}
