import type { ManagedTransaction } from 'neo4j-driver';
import type { Graph } from './driver.ts';
import {
  type Chain,
  type GraphEdge,
  RELATIONSHIP_TYPES,
  type RelationshipType,
  relationshipId,
} from './model.ts';

// Per type, so each lookup uses that type's uniqueness index on `id`.
const EXISTING: Record<RelationshipType, string> = Object.fromEntries(
  RELATIONSHIP_TYPES.map((t) => [t, `UNWIND $ids AS id MATCH ()-[r:${t} {id: id}]->() RETURN r.id AS id`]),
) as Record<RelationshipType, string>;

/** Which of these ids of one type are stored, inside the caller's transaction. */
export async function storedIds(
  tx: ManagedTransaction,
  type: RelationshipType,
  ids: string[],
): Promise<Set<string>> {
  const res = await tx.run(EXISTING[type], { ids });
  return new Set(res.records.map((r) => r.get('id') as string));
}

/** Which of these edges the graph already holds (by evidence identity): the complement is novel. */
export async function existingRelationshipIds(
  graph: Graph,
  chain: Chain,
  edges: GraphEdge[],
): Promise<Set<string>> {
  const byType = new Map<RelationshipType, string[]>();
  for (const e of edges) {
    const list = byType.get(e.type) ?? [];
    list.push(relationshipId(chain, e));
    byType.set(e.type, list);
  }
  const found = new Set<string>();
  await graph.read(async (tx) => {
    for (const [type, ids] of byType) for (const id of await storedIds(tx, type, ids)) found.add(id);
  });
  return found;
}
