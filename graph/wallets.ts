import neo4j from 'neo4j-driver';
import { rememberBounded } from '../common/bounded.ts';
import type { Graph } from './driver.ts';
import { type EdgeFilter, filterClause, typePattern } from './investigate/filters.ts';
import { type Chain, RELATIONSHIP_TYPES, type RelationshipType } from './model.ts';

/** Read access to wallets and their relationships, for the API and the CLI. */

export interface WalletRecord {
  chain: Chain;
  address: string;
  isHotkey: boolean;
  isContract: boolean;
  firstSeenBlock: number | null;
  lastSeenBlock: number | null;
}

export type Direction = 'OUT' | 'IN' | 'BOTH';

export interface RelationshipRecord {
  id: string;
  type: RelationshipType;
  direction: Exclude<Direction, 'BOTH'>;
  from: string;
  to: string;
  props: Record<string, unknown>;
}

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

export const walletFields = (
  n: string,
) => `{chain: ${n}.chain, address: ${n}.address, isHotkey: coalesce(${n}.isHotkey, false),
  isContract: ${n}:Contract, firstSeenBlock: ${n}.firstSeenBlock, lastSeenBlock: ${n}.lastSeenBlock}`;
const WALLET_FIELDS = walletFields('n');

/** Reads take these options; `timeoutMs` bounds the Neo4j transaction. */
export interface ReadOptions {
  timeoutMs?: number;
}

export async function getWallet(
  graph: Graph,
  chain: Chain,
  address: string,
  o: ReadOptions = {},
): Promise<WalletRecord | null> {
  const res = await graph.query(
    `MATCH (n:Wallet {chain: $chain, address: $address}) RETURN ${WALLET_FIELDS} AS w`,
    { chain, address },
    o,
  );
  return (res.records[0]?.get('w') as WalletRecord | undefined) ?? null;
}

export interface NeighborOptions extends EdgeFilter, ReadOptions {
  direction: Direction;
  first: number;
  after: string | null;
}

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

/** Entries kept in each of the per-Graph maps below; the oldest goes first. */
const REMEMBERED_MAX = 10_000;

/**
 * Dense wallets' group degrees as last read, per question shape (wallet, direction, types). A
 * page of a wallet found here reads its groups side by side with the first query, on these
 * degrees, and keeps them only if the first query finds the same degrees. Per Graph, bounded.
 */
const denseDegrees = new WeakMap<Graph, Map<string, number[]>>();

/**
 * The first page (unfiltered) of each dense wallet's groups as last read, with the group's degree
 * then. Exact while the degree is unchanged: ingestion only adds relationships, and any addition
 * changes it. Its first id is where the group's ids begin in the id index (a wallet's ids cluster:
 * they share its blocks), so a first page walks from there; a wallet known to be dense, all of
 * whose wanted groups are here, gets its page in its first query, read back by id. Per Graph,
 * bounded.
 */
interface FirstPage {
  degree: number;
  /** The group's smallest ids, in order (never empty: a dense group has relationships). */
  ids: string[];
  /** `ids` are all of the group's relationships. */
  complete: boolean;
}
const firstPages = new WeakMap<Graph, Map<string, FirstPage>>();
/** Groups whose first page is kept (up to 101 ids each). */
const FIRST_PAGES_MAX = 2000;
/** The key of a wallet's group in `firstPages`. */
const groupKey = (chain: Chain, address: string, g: { type: string; direction: string }) =>
  `${chain}\n${address}\n${g.type}\n${g.direction}`;

/** This Graph's map in `maps`, made on first use. */
function perGraph<V>(maps: WeakMap<Graph, Map<string, V>>, graph: Graph): Map<string, V> {
  let m = maps.get(graph);
  if (!m) {
    m = new Map();
    maps.set(graph, m);
  }
  return m;
}

interface Group {
  type: RelationshipType;
  direction: 'OUT' | 'IN';
  degree: number;
  /** Relationships of the type in the whole graph (count store). */
  typeTotal: number;
}

interface Row {
  id: string;
  type: RelationshipType;
  outgoing: boolean;
  props: Record<string, unknown>;
  from: string;
  to: string;
  node: WalletRecord;
}

interface GroupPage {
  rows: Row[];
  /** Every match with an id ≤ this is in `rows`; null: every match after the cursor is. */
  completeTo: string | null;
}

/**
 * A neighbor row as a list, read back by `toRow`: lists unpack without a key string per field,
 * and the page's hot path unpacks 26 of them per request.
 */
const rowList = (
  other: string,
) => `[r.id, type(r), startNode(r) = w, properties(r), ${other}.chain, ${other}.address,
  coalesce(${other}.isHotkey, false), ${other}:Contract, ${other}.firstSeenBlock, ${other}.lastSeenBlock]`;
type RowList = [
  string,
  RelationshipType,
  boolean,
  Record<string, unknown>,
  Chain,
  string,
  boolean,
  boolean,
  number | null,
  number | null,
];
/** A `rowList` of wallet `self` back to a Row. */
function toRow(self: string, l: RowList): Row {
  const [id, type, outgoing, props, chain, address, isHotkey, isContract, firstSeenBlock, lastSeenBlock] = l;
  return {
    id,
    type,
    outgoing,
    props,
    from: outgoing ? self : address,
    to: outgoing ? address : self,
    node: { chain, address, isHotkey, isContract, firstSeenBlock, lastSeenBlock },
  };
}

/**
 * One page of a wallet's relationships, ordered by relationship id (a stable keyset: the cursor
 * is an id, so paging never skips or repeats under concurrent writes elsewhere). Only
 * wallet-to-wallet relationship types are followed (never tags).
 *
 * Degree-aware: each (type, direction) group of the wallet is read the cheap way for its size,
 * known from the degree store. A small group is expanded from the wallet and sorted. A dense group
 * (a supernode's) walks the relationship-id index from the cursor (a first page: from the group's
 * first id, remembered while its degree holds), sized from the group's share of its type, so a page
 * costs about the same on a wallet with 150,000 relationships as on one with 150. Where the walk
 * would cost more than reading the group (a small share, filters), or finds too few (a gap between
 * the wallet's clusters of ids), the group is read from the wallet: every page is full and exact.
 * A dense wallet's unfiltered first page, once its groups' first pages are known (`firstPages`),
 * is read by id inside the first query: one round trip, as for a small wallet.
 */
export async function getNeighbors(
  graph: Graph,
  chain: Chain,
  address: string,
  opts: NeighborOptions,
): Promise<NeighborPage> {
  const { where, params: fp } = filterClause(opts);
  const filtered = where !== 'true';
  const limit = opts.first + 1;
  const params = {
    chain,
    address,
    after: opts.after ?? '',
    limit: neo4j.int(limit),
    ...fp,
  };

  // One auto-commit round trip for nearly every wallet: below DENSE_DEGREE in total it is expanded
  // and sorted at once. A dense wallet gets its groups' degrees (degree and count stores) instead,
  // and its groups are then read side by side.
  const types = typePattern(opts.types);
  const pat =
    opts.direction === 'OUT'
      ? `(w)-[r${types}]->(n)`
      : opts.direction === 'IN'
        ? `(w)<-[r${types}]-(n)`
        : `(w)-[r${types}]-(n)`;
  const pagesKept = perGraph(firstPages, graph);
  const readGroups = (degrees: number[]) =>
    Promise.all(
      wantedGroups(opts, degrees).map((g) => denseGroupPage(graph, g, opts, params, where, pagesKept)),
    );
  const known = perGraph(denseDegrees, graph);
  const shape = `${chain}\n${address}\n${opts.direction}\n${types}`;
  const remembered = filtered ? undefined : known.get(shape);
  // A wallet already known to be dense for this question, every wanted group's first page kept:
  // the page is read by id in the first query. Short of that, its groups are read now, on the
  // degrees last seen, beside the first query. Either is kept only if the first query finds the
  // same degrees. A failed early read is only wasted: the groups are then read again, and fail in
  // the open.
  const cached =
    remembered && params.after === ''
      ? keptPage(wantedGroups(opts, remembered), (g) => pagesKept.get(groupKey(chain, address, g)), limit)
      : null;
  const early = remembered && !cached ? readGroups(remembered).catch(() => null) : null;
  const small = await graph.query(
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
     RETURN ${walletFields('w')} AS wallet, degree, rows, groupDegrees, keptRows`,
    { ...params, dense: neo4j.int(DENSE_DEGREE), kept: cached?.byType ?? {} },
    opts,
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
    rememberBounded(known, shape, groupDegrees, REMEMBERED_MAX);
    const same = remembered !== undefined && sameGroupDegrees(remembered, groupDegrees);
    const ready = !same
      ? null
      : cached
        ? pagesOf(cached, first!.get('keptRows') as RowList[], address)
        : await early;
    const groups = wantedGroups(opts, groupDegrees);
    degree = groups.reduce((s, g) => s + g.degree, 0);
    pages = ready ?? (await readGroups(groupDegrees));
  }

  // Merge the groups up to the point where all of them are complete.
  const bounds = pages.map((p) => p.completeTo).filter((b): b is string => b !== null);
  const bound = bounds.length ? bounds.reduce((m, b) => (b < m ? b : m)) : null;
  const rows = pages
    .flatMap((p) => p.rows)
    .filter((r) => bound === null || r.id <= bound)
    .sort((p, q) => (p.id < q.id ? -1 : p.id > q.id ? 1 : 0))
    // A self-transfer is in both the OUT and the IN group of a dense wallet: list it once.
    .filter((r, i, all) => i === 0 || r.id !== all[i - 1]!.id);
  const pageRows = rows.slice(0, opts.first);
  const full = rows.length > opts.first;
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
    wallet: (first?.get('wallet') as WalletRecord | undefined) ?? null,
    edges,
    hasNextPage: full || bound !== null,
    endCursor: full || bound === null ? (pageRows.at(-1)?.id ?? null) : bound,
    totalCount: async () => (filtered ? countNeighbors(graph, chain, address, opts) : degree),
  };
}

/** Every (type, direction) group of a wallet, in one fixed order shared by the degree reads below. */
const GROUPS = RELATIONSHIP_TYPES.flatMap((type) =>
  (['OUT', 'IN'] as const).map((direction) => ({ type, direction })),
);
/** Each group's degree of wallet `w` (degree store), in GROUPS order. */
const GROUP_DEGREES = GROUPS.map(({ type, direction }) =>
  direction === 'OUT' ? `COUNT { (w)-[:${type}]->() }` : `COUNT { (w)<-[:${type}]-() }`,
).join(', ');
/** Each type's relationships in the whole graph (count store), in RELATIONSHIP_TYPES order. */
const TYPE_TOTALS = RELATIONSHIP_TYPES.map((t) => `COUNT { ()-[:${t}]->() }`).join(', ');

/** Whether two reads of a wallet's group degrees agree (the type totals may differ: they only size walks). */
const sameGroupDegrees = (a: number[], b: number[]) => GROUPS.every((_, i) => a[i] === b[i]);

/**
 * The relationships of ids in `$kept` (a list per type; a type absent: none) that touch `w`: a
 * unique-index seek each.
 */
const BY_KEPT_IDS = RELATIONSHIP_TYPES.map(
  (t) =>
    `UNWIND $kept.${t} AS id MATCH ()-[r:${t} {id: id}]->() WHERE startNode(r) = w OR endNode(r) = w RETURN r`,
).join(' UNION ALL ');

/** A page cut from kept first pages: its ids in order (and per type), complete up to `completeTo`. */
interface KeptPage {
  ids: string[];
  byType: Partial<Record<RelationshipType, string[]>>;
  completeTo: string | null;
}

/**
 * A page of `limit` from the groups' kept first pages, as the merge in getNeighbors would cut it:
 * their ids up to the smallest group's bound, the first `limit` of them. Null unless every group
 * has one of its degree, and of `limit` ids or all of the group.
 */
function keptPage(
  groups: Group[],
  keptOf: (g: Group) => FirstPage | undefined,
  limit: number,
): KeptPage | null {
  const typeOf = new Map<string, RelationshipType>();
  let bound = null as string | null;
  for (const g of groups) {
    const page = keptOf(g);
    if (!page || page.degree !== g.degree) return null;
    const own = page.ids.slice(0, limit);
    if (own.length >= limit) bound = bound === null || own.at(-1)! < bound ? own.at(-1)! : bound;
    else if (!page.complete) return null;
    for (const id of own) typeOf.set(id, g.type);
  }
  const ids = [...typeOf.keys()]
    .filter((id) => bound === null || id <= bound)
    .sort()
    .slice(0, limit);
  const byType: KeptPage['byType'] = {};
  for (const id of ids) {
    const type = typeOf.get(id)!;
    byType[type] ??= [];
    byType[type].push(id);
  }
  return { ids, byType, completeTo: bound };
}

/** The kept page with its rows read back by id, as one group page; null if any id was not found. */
function pagesOf(cached: KeptPage, keptRows: RowList[], address: string): GroupPage[] | null {
  const byId = new Map(keptRows.map((l) => [l[0], l]));
  const rows: Row[] = [];
  for (const id of cached.ids) {
    const l = byId.get(id);
    if (!l) return null;
    rows.push(toRow(address, l));
  }
  return [{ rows, completeTo: cached.completeTo }];
}

/**
 * The groups a dense wallet's page reads: those with relationships that the options ask for.
 * `degrees` is GROUP_DEGREES followed by TYPE_TOTALS.
 */
function wantedGroups(opts: NeighborOptions, degrees: number[]): Group[] {
  const wanted = new Set(opts.types?.length ? opts.types : RELATIONSHIP_TYPES);
  return GROUPS.flatMap(({ type, direction }, i) => {
    const degree = degrees[i]!;
    if (degree === 0 || !wanted.has(type) || (opts.direction !== 'BOTH' && opts.direction !== direction))
      return [];
    const typeTotal = degrees[GROUPS.length + RELATIONSHIP_TYPES.indexOf(type)]!;
    return [{ type, direction, degree, typeTotal }];
  });
}

/**
 * One group of a dense wallet, read the cheap way for its size. Each read is its own auto-commit
 * query, so a wallet's groups are read side by side (one round trip between them, not one each).
 */
async function denseGroupPage(
  graph: Graph,
  g: Group,
  opts: NeighborOptions,
  params: { chain: Chain; address: string; after: string } & Record<string, unknown>,
  where: string,
  pagesKept: Map<string, FirstPage>,
): Promise<GroupPage> {
  // An unfiltered first page is kept, and where a kept one of this degree begins is walked from.
  if (params.after !== '' || where !== 'true') return readGroupPage(graph, g, opts, params, where);
  const key = groupKey(params.chain, params.address, g);
  const before = pagesKept.get(key);
  const page = await readGroupPage(
    graph,
    g,
    opts,
    params,
    where,
    before?.degree === g.degree ? before.ids[0] : undefined,
  );
  const ids = page.rows.map((r) => r.id);
  if (ids.length > 0)
    rememberBounded(
      pagesKept,
      key,
      { degree: g.degree, ids, complete: page.completeTo === null },
      FIRST_PAGES_MAX,
    );
  return page;
}

/** One group's page (see denseGroupPage); `first`: where the group's ids begin, when known. */
async function readGroupPage(
  graph: Graph,
  g: Group,
  opts: NeighborOptions,
  params: { chain: Chain; address: string; after: string } & Record<string, unknown>,
  where: string,
  first?: string,
): Promise<GroupPage> {
  const limit = opts.first + 1;
  const out = g.direction === 'OUT';
  const groupPattern = out ? `(w)-[r:${g.type}]->(n)` : `(w)<-[r:${g.type}]-(n)`;
  // The group read from the wallet: every relationship of the group, the page's `limit` smallest ids.
  const expandGroup = async (): Promise<GroupPage> => {
    const res = await graph.query(
      `MATCH (w:Wallet {chain: $chain, address: $address}) MATCH ${groupPattern}
       WHERE r.id > $after AND ${where}
       WITH w, r, n ORDER BY r.id LIMIT $limit RETURN ${rowList('n')} AS row`,
      params,
      opts,
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
      opts,
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
    opts,
  );
  const rows = res.records.map((x) => toRow(params.address, x.get('row') as RowList));
  // Short: the group's ids sit beyond the walk (a gap between the wallet's clusters of ids).
  // Read the group from the wallet: O(degree) once, and the page is full and exact, where
  // walking on would return empty pages.
  return rows.length >= limit ? { rows, completeTo: rows.at(-1)!.id } : expandGroup();
}

/** Relationships of a wallet that pass the filters (reads each of them: slow on a supernode). */
export async function countNeighbors(
  graph: Graph,
  chain: Chain,
  address: string,
  opts: NeighborOptions,
): Promise<number> {
  const types = typePattern(opts.types);
  const { where, params } = filterClause(opts);
  const pat =
    opts.direction === 'OUT'
      ? `(w)-[r${types}]->()`
      : opts.direction === 'IN'
        ? `(w)<-[r${types}]-()`
        : `(w)-[r${types}]-()`;
  const res = await graph.read(
    (tx) =>
      tx.run(
        `MATCH (w:Wallet {chain: $chain, address: $address}) RETURN COUNT { MATCH ${pat} WHERE ${where} } AS total`,
        { ...params, chain, address },
      ),
    opts,
  );
  return (res.records[0]?.get('total') as number | undefined) ?? 0;
}

// ---------------------------------------------------------------------------------------------
// Wallet summary

export interface DegreeCount {
  type: RelationshipType;
  direction: 'OUT' | 'IN';
  count: number;
}

/** Relationship counts by type and direction, from Neo4j's degree store (constant time per type). */
export async function getDegrees(
  graph: Graph,
  chain: Chain,
  address: string,
  o: ReadOptions = {},
): Promise<DegreeCount[]> {
  const res = await graph.query(
    `MATCH (w:Wallet {chain: $chain, address: $address}) RETURN [${GROUP_DEGREES}] AS degrees`,
    { chain, address },
    o,
  );
  const degrees = res.records[0]?.get('degrees') as number[] | undefined;
  if (!degrees) return [];
  return GROUPS.map((g, i) => ({ ...g, count: degrees[i]! })).filter((d) => d.count > 0);
}

export interface WalletTotal {
  type: RelationshipType;
  direction: 'OUT' | 'IN';
  netuid: number | null;
  count: number;
  /** Exact sum of `amount` (rao or wei); null when no relationship of the group carries one. */
  amount: string | null;
  /** Exact sum of `alphaAmount` (alpha on `netuid`). */
  alphaAmount: string | null;
}

export interface WalletActivity {
  totals: WalletTotal[];
  firstSeenAt: number | null;
  lastSeenAt: number | null;
}

/**
 * Cypher cannot add numbers beyond 64 bits, so each amount is cut into 12-digit limbs summed
 * separately (exact while a group has fewer than 9 million relationships), recombined with BigInt.
 */
const LIMB = 12;
const LIMBS = 7; // 84 digits: a uint256 has 78.
const WIDTH = LIMB * LIMBS;
const ZEROS = '0'.repeat(WIDTH);
/** `p` is the amount left-padded to WIDTH digits; limb i counts from the right. */
function limbSums(p: string, name: string): string {
  return Array.from(
    { length: LIMBS },
    (_, i) => `toString(sum(toInteger(substring(${p}, ${WIDTH - LIMB * (i + 1)}, ${LIMB})))) AS ${name}${i}`,
  ).join(', ');
}
function joinLimbs(rec: { get(k: string): unknown }, name: string, present: number): string | null {
  if (present === 0) return null;
  let total = 0n;
  for (let i = 0; i < LIMBS; i++)
    total += BigInt((rec.get(`${name}${i}`) as string | null) ?? '0') * 10n ** BigInt(LIMB * i);
  return total.toString();
}

/** Totals in and out by relationship type and subnet, and the time span of the wallet's activity. */
export async function getActivity(
  graph: Graph,
  chain: Chain,
  address: string,
  o: ReadOptions = {},
): Promise<WalletActivity> {
  const types = typePattern(null);
  const res = await graph.read(
    (tx) =>
      tx.run(
        `MATCH (w:Wallet {chain: $chain, address: $address})
         CALL (w) {
           MATCH (w)-[r${types}]->() RETURN r, 'OUT' AS direction
           UNION ALL
           MATCH (w)<-[r${types}]-() RETURN r, 'IN' AS direction
         }
         WITH type(r) AS type, direction, r.netuid AS netuid, r.timestamp AS ts,
              right($zeros + r.amount, ${WIDTH}) AS a, right($zeros + r.alphaAmount, ${WIDTH}) AS al
         RETURN type, direction, netuid, count(*) AS n, count(a) AS na, count(al) AS nal, min(ts) AS t0, max(ts) AS t1,
                ${limbSums('a', 'a')}, ${limbSums('al', 'al')}
         ORDER BY type, direction, netuid`,
        { chain, address, zeros: ZEROS },
      ),
    o,
  );
  let firstSeenAt: number | null = null;
  let lastSeenAt: number | null = null;
  const totals = res.records.map((rec) => {
    const t0 = rec.get('t0') as number | null;
    const t1 = rec.get('t1') as number | null;
    if (t0 != null && (firstSeenAt == null || t0 < firstSeenAt)) firstSeenAt = t0;
    if (t1 != null && (lastSeenAt == null || t1 > lastSeenAt)) lastSeenAt = t1;
    return {
      type: rec.get('type') as RelationshipType,
      direction: rec.get('direction') as 'OUT' | 'IN',
      netuid: (rec.get('netuid') as number | null) ?? null,
      count: rec.get('n') as number,
      amount: joinLimbs(rec, 'a', rec.get('na') as number),
      alphaAmount: joinLimbs(rec, 'al', rec.get('nal') as number),
    };
  });
  return { totals, firstSeenAt, lastSeenAt };
}

export interface StakeLink {
  wallet: WalletRecord;
  netuid: number | null;
  proportion: string | null;
  blockNumber: number;
  relationshipId: string;
}

/**
 * Ownership and parent-child links of a hotkey or coldkey: `owner` (coldkey owning this hotkey),
 * `hotkeys` (owned by this coldkey), `parents` and `children` (PARENT_OF, per subnet). Each list is
 * capped at `limit`, newest block first.
 */
export async function getStakeLinks(
  graph: Graph,
  chain: Chain,
  address: string,
  kind: 'owners' | 'hotkeys' | 'parents' | 'children',
  opts: { limit: number } & ReadOptions,
): Promise<StakeLink[]> {
  const pat = {
    owners: '(w)<-[r:OWNS_HOTKEY]-(n:Wallet)',
    hotkeys: '(w)-[r:OWNS_HOTKEY]->(n:Wallet)',
    parents: '(w)<-[r:PARENT_OF]-(n:Wallet)',
    children: '(w)-[r:PARENT_OF]->(n:Wallet)',
  }[kind];
  const res = await graph.read(
    (tx) =>
      tx.run(
        `MATCH (w:Wallet {chain: $chain, address: $address}) MATCH ${pat}
         WITH r, n ORDER BY r.blockNumber DESC, r.id LIMIT $limit
         RETURN ${WALLET_FIELDS} AS node, r.netuid AS netuid, r.proportion AS proportion, r.blockNumber AS block, r.id AS id`,
        { chain, address, limit: neo4j.int(opts.limit) },
      ),
    opts,
  );
  return res.records.map((rec) => ({
    wallet: rec.get('node') as WalletRecord,
    netuid: (rec.get('netuid') as number | null) ?? null,
    proportion: (rec.get('proportion') as string | null) ?? null,
    blockNumber: rec.get('block') as number,
    relationshipId: rec.get('id') as string,
  }));
}
