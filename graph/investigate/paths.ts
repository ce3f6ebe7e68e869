import neo4j from 'neo4j-driver';
import type { Graph } from '../driver.ts';
import { type Chain, VALUE_TYPES } from '../model.ts';
import {
  type EdgeRecord,
  type FrontierItem,
  type Side,
  degreesOf,
  expandFrontier,
  withDeadline,
} from './expand.ts';
import { type EdgeFilter, filterClause, typePattern } from './filters.ts';
import { type TokenAmount, TokenSums } from './tokens.ts';

export interface FindPathsParameters {
  chain: Chain;
  from: string;
  to: string;
  /** Longest path searched, in hops (1..6). */
  maxDepth: number;
  /** How many paths (distinct wallet sequences), shortest first. */
  limit: number;
  /** true: follow relationships in the direction value moves (from → to); false: either way. */
  directed?: boolean;
  filter?: EdgeFilter;
  /** Relationships followed per wallet per hop, largest amounts first. @defaultValue 100 */
  fanOut?: number;
  /** Wallets kept per frontier per hop. @defaultValue 2000 */
  maxFrontier?: number;
  /** Bounds the whole search (every query of it). */
  timeoutMs?: number;
  /** Relationships listed per hop of a returned path, largest first (an export asks for all). @defaultValue 5 */
  hopRelationships?: number;
}

export interface PathHop {
  from: string;
  to: string;
  /** Every relationship between the two wallets that passes the filters (in the path's direction). */
  count: number;
  /** The exact sum when they move one token; null when none has an amount or they move several. */
  amount: string | null;
  /** The exact sum per token (native first), whatever the filter. */
  amounts: TokenAmount[];
  /** The largest of them, `hopRelationships` at most. */
  relationships: EdgeRecord[];
}

export interface PathRecord {
  wallets: string[];
  hops: PathHop[];
}

export interface FindPathsReturnType {
  paths: PathRecord[];
  shortestLength: number | null;
  /** True when a fan-out or frontier cap left relationships unexplored: a path may have been missed. */
  truncated: boolean;
  explored: { wallets: number; relationships: number; hopsFromSource: number; hopsFromTarget: number };
}

/** Relationships listed per hop of a returned path, unless asked for more. */
const HOP_SAMPLE = 5;
/** DFS steps when enumerating paths in the explored subgraph. */
const MAX_ENUMERATION_STEPS = 200_000;

interface SearchSide {
  dist: Map<string, number>;
  frontier: FrontierItem[];
  depth: number;
  /** Relationships the next expansion will read: the sum of the frontier's degrees. */
  cost: number;
  side: Side;
}

/**
 * Shortest and k-shortest paths between two wallets by bidirectional breadth-first search that
 * always expands the side whose frontier has fewer relationships to read (a supernode end is
 * expanded last, often never). Every relationship read is kept, so once the two balls together
 * span `d` hops the explored subgraph holds every path of length ≤ d (within the caps); paths are
 * then enumerated shortest first, pruned by exact distance-to-target in that subgraph.
 */
export function findPaths(graph: Graph, p: FindPathsParameters): Promise<FindPathsReturnType> {
  return withDeadline(graph, p.timeoutMs, (g) => search(g, p));
}

async function search(graph: Graph, p: FindPathsParameters): Promise<FindPathsReturnType> {
  const directed = p.directed ?? true;
  const filter: EdgeFilter = { ...p.filter, types: p.filter?.types?.length ? p.filter.types : VALUE_TYPES };
  const fanOut = p.fanOut ?? 100;
  const maxFrontier = p.maxFrontier ?? 2000;
  const empty = { paths: [], shortestLength: null, truncated: false };
  if (p.from === p.to)
    return { ...empty, explored: { wallets: 1, relationships: 0, hopsFromSource: 0, hopsFromTarget: 0 } };

  const a: SearchSide = {
    dist: new Map([[p.from, 0]]),
    frontier: [],
    depth: 0,
    cost: 0,
    side: directed ? 'OUT' : 'BOTH',
  };
  const b: SearchSide = {
    dist: new Map([[p.to, 0]]),
    frontier: [],
    depth: 0,
    cost: 0,
    side: directed ? 'IN' : 'BOTH',
  };
  const [da, db] = await Promise.all([
    degreesOf(graph, p.chain, [p.from], { side: a.side, types: filter.types }),
    degreesOf(graph, p.chain, [p.to], { side: b.side, types: filter.types }),
  ]);
  if (!da.has(p.from) || !db.has(p.to)) {
    return { ...empty, explored: { wallets: 0, relationships: 0, hopsFromSource: 0, hopsFromTarget: 0 } };
  }
  a.cost = da.get(p.from)!;
  b.cost = db.get(p.to)!;
  a.frontier = [{ address: p.from, degree: a.cost }];
  b.frontier = [{ address: p.to, degree: b.cost }];

  // Path-direction adjacency: next.get(u).get(v) = relationships letting a path step from u to v.
  const next = new Map<string, Map<string, EdgeRecord[]>>();
  const seen = new Set<string>();
  const link = (u: string, v: string, e: EdgeRecord) => {
    let m = next.get(u);
    if (!m) {
      m = new Map();
      next.set(u, m);
    }
    const list = m.get(v);
    if (list) list.push(e);
    else m.set(v, [e]);
  };
  let truncated = false;
  let found: string[][] = [];

  while (a.depth + b.depth < p.maxDepth && a.frontier.length > 0 && b.frontier.length > 0) {
    const s = a.cost <= b.cost ? a : b;
    const exp = await expandFrontier(graph, p.chain, s.frontier, {
      side: s.side,
      filter,
      fanOut,
      // Degrees steer the next expansions; after the last one allowed they are not needed.
      degrees: a.depth + b.depth + 1 < p.maxDepth,
    });
    if (exp.capped.size > 0) truncated = true;
    const nextFrontier: FrontierItem[] = [];
    let cost = 0;
    for (const { other, otherDegree, edge } of exp.edges) {
      if (!seen.has(edge.id)) {
        seen.add(edge.id);
        link(edge.from, edge.to, edge);
        if (!directed) link(edge.to, edge.from, edge);
      }
      if (!s.dist.has(other)) {
        s.dist.set(other, s.depth + 1);
        // A simple path ends at the target and starts at the source: never expand through them.
        if (other === (s === a ? p.to : p.from)) continue;
        if (nextFrontier.length < maxFrontier) {
          nextFrontier.push({ address: other, degree: otherDegree ?? undefined });
          cost += otherDegree ?? 0;
        } else truncated = true;
      }
    }
    s.depth++;
    s.frontier = nextFrontier;
    s.cost = cost;
    found = enumeratePaths(next, p.from, p.to, a.depth + b.depth, p.limit);
    if (found.length >= p.limit) break;
  }

  const paths = await describePaths(graph, p.chain, found, {
    directed,
    filter,
    sample: p.hopRelationships ?? HOP_SAMPLE,
  });
  return {
    paths,
    shortestLength: paths[0] ? paths[0].wallets.length - 1 : null,
    truncated,
    explored: {
      wallets: new Set([...a.dist.keys(), ...b.dist.keys()]).size,
      relationships: seen.size,
      hopsFromSource: a.depth,
      hopsFromTarget: b.depth,
    },
  };
}

/**
 * Up to `limit` simple wallet sequences from → to of at most `maxLength` hops, shortest first.
 * Pruned by each wallet's exact distance to the target in the explored subgraph.
 */
export function enumeratePaths(
  next: Map<string, Map<string, unknown>>,
  from: string,
  to: string,
  maxLength: number,
  limit: number,
): string[][] {
  // Distances to `to` over reversed adjacency.
  const prev = new Map<string, string[]>();
  for (const [u, m] of next) {
    for (const v of m.keys()) {
      const list = prev.get(v);
      if (list) list.push(u);
      else prev.set(v, [u]);
    }
  }
  const distTo = new Map<string, number>([[to, 0]]);
  let layer = [to];
  for (let d = 1; d <= maxLength && layer.length; d++) {
    const nl: string[] = [];
    for (const v of layer) {
      for (const u of prev.get(v) ?? []) {
        if (distTo.has(u)) continue;
        distTo.set(u, d);
        nl.push(u);
      }
    }
    layer = nl;
  }
  const shortest = distTo.get(from);
  if (shortest === undefined) return [];
  const out: string[][] = [];
  let steps = 0;
  const path = [from];
  const onPath = new Set([from]);
  const dfs = (u: string, remaining: number): void => {
    if (out.length >= limit || steps > MAX_ENUMERATION_STEPS) return;
    steps++;
    if (remaining === 0) {
      if (u === to) out.push([...path]);
      return;
    }
    for (const v of (next.get(u) ?? new Map()).keys()) {
      const dv = distTo.get(v);
      if (dv === undefined || dv > remaining - 1 || onPath.has(v)) continue;
      if (v === to && remaining - 1 !== 0) continue; // a simple path ends at the target
      path.push(v);
      onPath.add(v);
      dfs(v, remaining - 1);
      path.pop();
      onPath.delete(v);
      if (out.length >= limit) return;
    }
  };
  for (let len = shortest; len <= maxLength && out.length < limit; len++) dfs(from, len);
  return out;
}

/** Every relationship of each hop of the found paths, counted and summed exactly (Expand(Into)). */
async function describePaths(
  graph: Graph,
  chain: Chain,
  found: string[][],
  o: { directed: boolean; filter: EdgeFilter; sample: number },
): Promise<PathRecord[]> {
  if (found.length === 0) return [];
  const pairs = new Map<string, { from: string; to: string }>();
  for (const w of found)
    for (let i = 0; i + 1 < w.length; i++) pairs.set(`${w[i]}>${w[i + 1]}`, { from: w[i]!, to: w[i + 1]! });
  const types = typePattern(o.filter.types);
  const { where, params } = filterClause(o.filter);
  const rel = o.directed ? `-[r${types}]->` : `-[r${types}]-`;
  const res = await graph.query(
    `UNWIND $pairs AS p
         MATCH (x:Wallet {chain: $chain, address: p.from}), (y:Wallet {chain: $chain, address: p.to})
         CALL (x, y) {
           MATCH (x)${rel}(y) WHERE ${where}
           WITH r ORDER BY coalesce(r.amountValue, -1.0) DESC, r.id
           RETURN count(r) AS n, collect([r.amount, r.token, r.tokenSymbol, r.tokenDecimals]) AS amounts,
                  collect({id: r.id, type: type(r), from: startNode(r).address, to: endNode(r).address, amount: r.amount,
                           alphaAmount: r.alphaAmount, blockNumber: r.blockNumber, timestamp: r.timestamp, netuid: r.netuid, token: r.token,
                           tokenSymbol: r.tokenSymbol, tokenDecimals: r.tokenDecimals})[..$sample] AS rels
         }
         RETURN p.from AS from, p.to AS to, n, amounts, rels`,
    { ...params, chain, pairs: [...pairs.values()], sample: neo4j.int(o.sample) },
  );
  const hops = new Map<string, PathHop>();
  for (const rec of res.records) {
    // Per token: ETH and an ERC-20 (or two ERC-20s) between the same wallets are never added.
    const sums = new TokenSums(chain);
    const rows = rec.get('amounts') as [string | null, string | null, string | null, number | null][];
    for (const [amount, token, tokenSymbol, tokenDecimals] of rows)
      if (amount != null) sums.add({ amount, token, tokenSymbol, tokenDecimals });
    const amounts = sums.list();
    hops.set(`${rec.get('from')}>${rec.get('to')}`, {
      from: rec.get('from') as string,
      to: rec.get('to') as string,
      count: rec.get('n') as number,
      amount: amounts.length ? sums.single() : null,
      amounts,
      relationships: (rec.get('rels') as EdgeRecord[]).map(normalizeEdge),
    });
  }
  return found.map((wallets) => ({
    wallets,
    hops: wallets.slice(1).map((to, i) => hops.get(`${wallets[i]}>${to}`)!),
  }));
}

export function normalizeEdge(e: EdgeRecord): EdgeRecord {
  return {
    ...e,
    amount: e.amount ?? null,
    alphaAmount: e.alphaAmount ?? null,
    timestamp: e.timestamp ?? null,
    netuid: e.netuid ?? null,
    token: e.token ?? null,
    tokenSymbol: e.tokenSymbol ?? null,
    tokenDecimals: e.tokenDecimals ?? null,
  };
}
