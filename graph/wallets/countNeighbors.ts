import type { Graph } from '../driver.ts';
import { type EdgeFilter, filterClause, typePattern } from '../investigate/filters.ts';
import { neighborPattern } from './fragments.ts';
import type { Direction, ReadOptions, WalletKey } from './records.ts';

export interface CountNeighborsParameters extends WalletKey, EdgeFilter, ReadOptions {
  direction: Direction;
}
export type CountNeighborsReturnType = number;

/** Relationships of a wallet that pass the filters (reads each of them: slow on a supernode). */
export async function countNeighbors(
  graph: Graph,
  p: CountNeighborsParameters,
): Promise<CountNeighborsReturnType> {
  const pat = neighborPattern(p.direction, typePattern(p.types));
  const { where, params } = filterClause(p);
  const res = await graph.read(
    (tx) =>
      tx.run(
        `MATCH (w:Wallet {chain: $chain, address: $address}) RETURN COUNT { MATCH ${pat} WHERE ${where} } AS total`,
        { ...params, chain: p.chain, address: p.address },
      ),
    p,
  );
  return (res.records[0]?.get('total') as number | undefined) ?? 0;
}
