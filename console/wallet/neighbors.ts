import { gql } from '../api.ts';
import type { Chain } from '../format.ts';
import type { NeighborFilter } from './filters.tsx';
import { NEIGHBORS, type NeighborPage } from './queries.ts';

/** One page of a wallet's neighbours under the filters; null if Vigil never saw the wallet. */
export async function neighborPage(
  chain: Chain,
  address: string,
  filter: NeighborFilter,
  first: number,
  after?: string,
): Promise<NeighborPage | null> {
  const d = await gql<{ wallet: { neighbors: NeighborPage } | null }>(NEIGHBORS, {
    chain,
    address,
    ...filter,
    first,
    after,
  });
  return d.wallet?.neighbors ?? null;
}

export const kindOf = (n: { isHotkey: boolean; isContract: boolean }) =>
  n.isContract ? 'contract' : n.isHotkey ? 'hotkey' : 'wallet';
