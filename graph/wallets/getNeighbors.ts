import neo4j from 'neo4j-driver';
import type { Graph } from '../driver.ts';
import { type EdgeFilter, filterClause, typePattern } from '../investigate/filters.ts';
import { countNeighbors } from './countNeighbors.ts';
import {
  DENSE_DEGREE,
  type GroupParams,
  denseGroupPage,
  sameGroupDegrees,
  wantedGroups,
} from './denseGroups.ts';
import { GROUP_DEGREES, TYPE_TOTALS, neighborPattern, walletFields } from './fragments.ts';
import { BY_KEPT_IDS, keptPage, pagesOf } from './keptPages.ts';
import { type NeighborMemory, groupKey, shapeKey } from './neighborMemory.ts';
import type { Direction, ReadOptions, RelationshipRecord, WalletKey, WalletRecord } from './records.ts';
import { type GroupPage, type RowList, rowList, toRow } from './rows.ts';

export interface NeighborOptions extends EdgeFilter, ReadOptions {
  direction: Direction;
  first: number;
  after: string | null;
}
export type GetNeighborsParameters = WalletKey & NeighborOptions;

export interface NeighborPage {
  /** The wallet itself, read by the page's first query; null: no such wallet (and no edges). */
  wallet: WalletRecord | null;
  edges: { cursor: string; node: WalletRecord; relationship: RelationshipRecord }[];
  hasNextPage: boolean;
  /** Where the next page starts: the last edge's cursor, or further when a dense group was walked past it. */
  endCursor: string | null;
  /** Every relationship matching the filters: from the degree store when unfiltered, else counted on demand. */
  totalCount(): Promise<number>;
}
export type GetNeighborsReturnType = NeighborPage;

/**
 * The page's first query: the wallet, its degree and, below DENSE_DEGREE, the page itself,
 * expanded and sorted; a dense wallet's group degrees instead, and (with `$kept`) its page read
 * back by id from the kept first pages.
 */
const firstQuery = (pat: string, where: string) =>
  `MATCH (w:Wallet {chain: $chain, address: $address})
     WITH w, COUNT { ${pat.replace('(n)', '()')} } AS degree
     CALL (w, degree) {
       WITH w WHERE degree < $dense
       MATCH ${pat} WHERE r.id > $after AND ${where}
       WITH w, r, n ORDER BY r.id LIMIT $limit
       RETURN collect(${rowList('n')}) AS rows
     }
     CALL (w, degree) {
       WITH w WHERE degree >= $dense
       RETURN collect([${GROUP_DEGREES}, ${TYPE_TOTALS}]) AS groupDegrees
     }
     CALL (w, degree) {
       WITH w WHERE degree >= $dense
       CALL (w) { ${BY_KEPT_IDS} }
       WITH w, r, CASE WHEN startNode(r) = w THEN endNode(r) ELSE startNode(r) END AS n
       RETURN collect(${rowList('n')}) AS keptRows
     }
     RETURN ${walletFields('w')} AS wallet, degree, rows, groupDegrees, keptRows`;

/**
 * One page of a wallet's relationships, ordered by relationship id (a stable keyset: the cursor
 * is an id, so paging never skips or repeats under concurrent writes elsewhere). Only
 * wallet-to-wallet relationship types are followed (never tags).
 *
 * Degree-aware: each (type, direction) group of the wallet is read the cheap way for its size,
 * known from the degree store. A small group is expanded from the wallet and sorted. A dense group
 * (a supernode's) walks the relationship-id index from the cursor (a first page: from the group's
 * first id, remembered in `memory` while its degree holds), sized from the group's share of its
 * type, so a page costs about the same on a wallet with 150,000 relationships as on one with 150.
 * Where the walk would cost more than reading the group (a small share, filters), or finds too
 * few (a gap between the wallet's clusters of ids), the group is read from the wallet: every page
 * is full and exact. A dense wallet's unfiltered first page, once its groups' first pages are in
 * `memory`, is read by id inside the first query: one round trip, as for a small wallet.
 */
export async function getNeighbors(
  graph: Graph,
  p: GetNeighborsParameters,
  memory: NeighborMemory,
): Promise<GetNeighborsReturnType> {
  const { chain, address } = p;
  const { where, params: fp } = filterClause(p);
  const filtered = where !== 'true';
  const limit = p.first + 1;
  const params: GroupParams = { chain, address, after: p.after ?? '', limit: neo4j.int(limit), ...fp };

  // One auto-commit round trip for nearly every wallet: below DENSE_DEGREE in total it is expanded
  // and sorted at once. A dense wallet gets its groups' degrees (degree and count stores) instead,
  // and its groups are then read side by side.
  const types = typePattern(p.types);
  const pat = neighborPattern(p.direction, types, 'n');
  const readGroups = (degrees: number[]) =>
    Promise.all(
      wantedGroups(p, degrees).map((g) => denseGroupPage(graph, g, p, params, where, memory.firstPages)),
    );
  const shape = shapeKey(chain, address, p.direction, types);
  const remembered = filtered ? undefined : memory.denseDegrees.get(shape);
  // A wallet already known to be dense for this question, every wanted group's first page kept:
  // the page is read by id in the first query. Short of that, its groups are read now, on the
  // degrees last seen, beside the first query. Either is kept only if the first query finds the
  // same degrees. A failed early read is only wasted: the groups are then read again, and fail in
  // the open.
  const cached =
    remembered && params.after === ''
      ? keptPage(
          wantedGroups(p, remembered),
          (g) => memory.firstPages.get(groupKey(chain, address, g)),
          limit,
        )
      : null;
  const early = remembered && !cached ? readGroups(remembered).catch(() => null) : null;
  const small = await graph.query(
    firstQuery(pat, where),
    { ...params, dense: neo4j.int(DENSE_DEGREE), kept: cached?.byType ?? {} },
    p,
  );
  const first = small.records[0];
  // The relationships this query follows: its total degree, from the degree store.
  let degree = (first?.get('degree') as number | undefined) ?? 0;
  let pages: GroupPage[] = [];
  const groupDegrees = (first?.get('groupDegrees') as number[][] | undefined)?.[0];
  if (first && !groupDegrees) {
    const rows = (first.get('rows') as RowList[]).map((l) => toRow(address, l));
    pages = [{ rows, completeTo: rows.length >= limit ? rows.at(-1)!.id : null }];
  } else if (groupDegrees) {
    memory.denseDegrees.set(shape, groupDegrees);
    const same = remembered !== undefined && sameGroupDegrees(remembered, groupDegrees);
    const ready = !same
      ? null
      : cached
        ? pagesOf(cached, first!.get('keptRows') as RowList[], address)
        : await early;
    degree = wantedGroups(p, groupDegrees).reduce((s, g) => s + g.degree, 0);
    pages = ready ?? (await readGroups(groupDegrees));
  }
  return {
    wallet: (first?.get('wallet') as WalletRecord | undefined) ?? null,
    ...mergePages(pages, p.first),
    totalCount: async () => (filtered ? countNeighbors(graph, p) : degree),
  };
}

/** The groups' pages merged up to the point where all of them are complete, cut to `first`. */
function mergePages(
  pages: GroupPage[],
  first: number,
): Pick<NeighborPage, 'edges' | 'hasNextPage' | 'endCursor'> {
  const bounds = pages.map((p) => p.completeTo).filter((b): b is string => b !== null);
  const bound = bounds.length ? bounds.reduce((m, b) => (b < m ? b : m)) : null;
  const rows = pages
    .flatMap((p) => p.rows)
    .filter((r) => bound === null || r.id <= bound)
    .sort((p, q) => (p.id < q.id ? -1 : p.id > q.id ? 1 : 0))
    // A self-transfer is in both the OUT and the IN group of a dense wallet: list it once.
    .filter((r, i, all) => i === 0 || r.id !== all[i - 1]!.id);
  const pageRows = rows.slice(0, first);
  const full = rows.length > first;
  const edges = pageRows.map((r) => ({
    cursor: r.id,
    node: r.node,
    relationship: {
      id: r.id,
      type: r.type,
      direction: (r.outgoing ? 'OUT' : 'IN') as 'OUT' | 'IN',
      from: r.from,
      to: r.to,
      props: r.props,
    },
  }));
  return {
    edges,
    hasNextPage: full || bound !== null,
    endCursor: full || bound === null ? (pageRows.at(-1)?.id ?? null) : bound,
  };
}
