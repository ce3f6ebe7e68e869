import { RELATIONSHIP_TYPES, type RelationshipType } from '../model.ts';
import type { Group } from './denseGroups.ts';
import type { FirstPage } from './neighborMemory.ts';
import { type GroupPage, type Row, type RowList, toRow } from './rows.ts';

/**
 * A known dense wallet's page cut from its groups' kept first pages (NeighborMemory.firstPages)
 * and read back by id inside the page's first query.
 */

/**
 * The relationships of ids in `$kept` (a list per type; a type absent: none) that touch `w`: a
 * unique-index seek each.
 */
export const BY_KEPT_IDS = RELATIONSHIP_TYPES.map(
  (t) =>
    `UNWIND $kept.${t} AS id MATCH ()-[r:${t} {id: id}]->() WHERE startNode(r) = w OR endNode(r) = w RETURN r`,
).join(' UNION ALL ');

/** A page cut from kept first pages: its ids in order (and per type), complete up to `completeTo`. */
export interface KeptPage {
  ids: string[];
  byType: Partial<Record<RelationshipType, string[]>>;
  completeTo: string | null;
}

/**
 * A page of `limit` from the groups' kept first pages, as the merge in getNeighbors would cut it:
 * their ids up to the smallest group's bound, the first `limit` of them. Null unless every group
 * has one of its degree, and of `limit` ids or all of the group.
 */
export function keptPage(
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
export function pagesOf(cached: KeptPage, keptRows: RowList[], address: string): GroupPage[] | null {
  const byId = new Map(keptRows.map((l) => [l[0], l]));
  const rows: Row[] = [];
  for (const id of cached.ids) {
    const l = byId.get(id);
    if (!l) return null;
    rows.push(toRow(address, l));
  }
  return [{ rows, completeTo: cached.completeTo }];
}
