import type { Graph } from '../driver.ts';
import type { RelationshipType } from '../model.ts';
import { GROUPS, GROUP_DEGREES } from './fragments.ts';
import type { ReadOptions, WalletKey } from './records.ts';

export type GetDegreesParameters = WalletKey & ReadOptions;

export interface DegreeCount {
  type: RelationshipType;
  direction: 'OUT' | 'IN';
  count: number;
}
/** The groups with relationships; empty for an unknown wallet. */
export type GetDegreesReturnType = DegreeCount[];

/** Relationship counts by type and direction, from Neo4j's degree store (constant time per type). */
export async function getDegrees(
  graph: Graph,
  { chain, address, timeoutMs }: GetDegreesParameters,
): Promise<GetDegreesReturnType> {
  const res = await graph.query(
    `MATCH (w:Wallet {chain: $chain, address: $address}) RETURN [${GROUP_DEGREES}] AS degrees`,
    { chain, address },
    { timeoutMs },
  );
  const degrees = res.records[0]?.get('degrees') as number[] | undefined;
  if (!degrees) return [];
  return GROUPS.map((g, i) => ({ ...g, count: degrees[i]! })).filter((d) => d.count > 0);
}
