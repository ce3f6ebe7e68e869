import neo4j from 'neo4j-driver';
import type { Graph } from '../driver.ts';
import { type Chain, RELATIONSHIP_TYPES, type RelationshipType } from '../model.ts';
import { GROUPS } from './fragments.ts';
import { type NeighborMemory, groupKey } from './neighborMemory.ts';
import type { Direction, ReadOptions } from './records.ts';
import { type GroupPage, type RowList, rowList, toRow } from './rows.ts';

/**
 * Above this many relationships of one type and direction, a wallet's page is read from the
 * relationship-id index (walking ids in order, keeping this wallet's) instead of reading and
 * sorting every relationship of the wallet.
 */
export const DENSE_DEGREE = 2000;
/**
 * Most index entries one dense group may walk per page (the walk is sized from the group's share
 * of its type). A walk that finds too few matches falls back to reading the group from the wallet
 * (O(degree), once), so a page is never short.
 */
export const INDEX_SCAN_BUDGET = 20_000;

/** One (type, direction) group of a dense wallet. */
export interface Group {
  type: RelationshipType;
  direction: 'OUT' | 'IN';
  degree: number;
  /** Relationships of the type in the whole graph (count store). */
  typeTotal: number;
}

/** What a group read needs of the page's question. */
export interface GroupQuestion extends ReadOptions {
  direction: Direction;
  types?: readonly RelationshipType[] | null;
  first: number;
}

/** The page's query parameters (the wallet, the cursor, the filters' parameters). */
export type GroupParams = { chain: Chain; address: string; after: string } & Record<string, unknown>;

/** Whether two reads of a wallet's group degrees agree (the type totals may differ: they only size walks). */
export const sameGroupDegrees = (a: number[], b: number[]) => GROUPS.every((_, i) => a[i] === b[i]);

/**
 * The groups a dense wallet's page reads: those with relationships that the question asks for.
 * `degrees` is GROUP_DEGREES followed by TYPE_TOTALS.
 */
export function wantedGroups(q: GroupQuestion, degrees: number[]): Group[] {
  const wanted = new Set(q.types?.length ? q.types : RELATIONSHIP_TYPES);
  return GROUPS.flatMap(({ type, direction }, i) => {
    const degree = degrees[i]!;
    if (degree === 0 || !wanted.has(type) || (q.direction !== 'BOTH' && q.direction !== direction)) return [];
    const typeTotal = degrees[GROUPS.length + RELATIONSHIP_TYPES.indexOf(type)]!;
    return [{ type, direction, degree, typeTotal }];
  });
}

/**
 * One group of a dense wallet, read the cheap way for its size. Each read is its own auto-commit
 * query, so a wallet's groups are read side by side (one round trip between them, not one each).
 * An unfiltered first page is kept in `pagesKept`, and where a kept one of this degree begins is
 * walked from.
 */
export async function denseGroupPage(
  graph: Graph,
  g: Group,
  q: GroupQuestion,
  params: GroupParams,
  where: string,
  pagesKept: NeighborMemory['firstPages'],
): Promise<GroupPage> {
  if (params.after !== '' || where !== 'true') return readGroupPage(graph, g, q, params, where);
  const key = groupKey(params.chain, params.address, g);
  const before = pagesKept.get(key);
  const page = await readGroupPage(
    graph,
    g,
    q,
    params,
    where,
    before?.degree === g.degree ? before.ids[0] : undefined,
  );
  const ids = page.rows.map((r) => r.id);
  if (ids.length > 0) pagesKept.set(key, { degree: g.degree, ids, complete: page.completeTo === null });
  return page;
}

/** One group's page (see denseGroupPage); `first`: where the group's ids begin, when known. */
async function readGroupPage(
  graph: Graph,
  g: Group,
  q: GroupQuestion,
  params: GroupParams,
  where: string,
  first?: string,
): Promise<GroupPage> {
  const limit = q.first + 1;
  const out = g.direction === 'OUT';
  const groupPattern = out ? `(w)-[r:${g.type}]->(n)` : `(w)<-[r:${g.type}]-(n)`;
  // The group read from the wallet: every relationship of the group, the page's `limit` smallest ids.
  const expandGroup = async (): Promise<GroupPage> => {
    const res = await graph.query(
      `MATCH (w:Wallet {chain: $chain, address: $address}) MATCH ${groupPattern}
       WHERE r.id > $after AND ${where}
       WITH w, r, n ORDER BY r.id LIMIT $limit RETURN ${rowList('n')} AS row`,
      params,
      q,
    );
    const rows = res.records.map((x) => toRow(params.address, x.get('row') as RowList));
    return { rows, completeTo: rows.length >= limit ? rows.at(-1)!.id : null };
  };
  if (g.degree < DENSE_DEGREE) return expandGroup();
  // Dense: walk the relationship-id index from the cursor; it streams, stopping as soon as `limit`
  // matches are found (Limit is lazy). With the wallet's ids spread along the index, that takes
  // about `limit` × (relationships of the type ÷ the group's) entries. Where that is no cheaper
  // than reading the group, or filters make matches rare, read the group instead.
  const expectedWalk = (limit * g.typeTotal) / g.degree;
  if (where !== 'true' || expectedWalk >= g.degree) return expandGroup();
  const walk = neo4j.int(Math.min(INDEX_SCAN_BUDGET, Math.max(1000, Math.ceil(4 * expectedWalk))));
  // A first page starts the walk at the group's first id (known from its kept first page, or read).
  let from = '';
  if (params.after === '' && first !== undefined) from = first;
  else if (params.after === '') {
    const res = await graph.query(
      `MATCH (w:Wallet {chain: $chain, address: $address}) MATCH ${groupPattern} RETURN min(r.id) AS first`,
      params,
      q,
    );
    from = (res.records[0]?.get('first') as string | null) ?? '';
  }
  const res = await graph.query(
    `MATCH (w:Wallet {chain: $chain, address: $address})
     CALL (w) {
       MATCH ()-[r:${g.type}]->() WHERE r.id > $after AND r.id >= $from
       WITH r ORDER BY r.id LIMIT $walk
       WITH r WHERE ${out ? 'startNode(r)' : 'endNode(r)'} = w AND ${where}
       RETURN r LIMIT $limit
     }
     RETURN ${rowList(out ? 'endNode(r)' : 'startNode(r)')} AS row`,
    { ...params, walk, from },
    q,
  );
  const rows = res.records.map((x) => toRow(params.address, x.get('row') as RowList));
  // Short: the group's ids sit beyond the walk (a gap between the wallet's clusters of ids).
  // Read the group from the wallet: O(degree) once, and the page is full and exact, where
  // walking on would return empty pages.
  return rows.length >= limit ? { rows, completeTo: rows.at(-1)!.id } : expandGroup();
}
