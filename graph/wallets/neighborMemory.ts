import { LRUCache } from 'lru-cache';
import type { Chain } from '../model.ts';

/**
 * What neighbor pages remember of dense wallets between requests, so a known supernode's page
 * costs one query. Built once where reads are wired (the API's createApi) and passed to
 * getNeighbors; each holder has its own. Bounded, least recently used first out.
 */
export interface NeighborMemory {
  /**
   * Dense wallets' group degrees as last read, per question shape (`shapeKey`). A page of a
   * wallet found here reads its groups side by side with the first query, on these degrees, and
   * keeps them only if the first query finds the same degrees.
   */
  denseDegrees: LRUCache<string, number[]>;
  /**
   * The first page (unfiltered) of each dense wallet's groups as last read (`groupKey`), with the
   * group's degree then. Exact while the degree is unchanged: ingestion only adds relationships,
   * and any addition changes it. Its first id is where the group's ids begin in the id index (a
   * wallet's ids cluster: they share its blocks), so a first page walks from there; a wallet known
   * to be dense, all of whose wanted groups are here, gets its page in its first query, read back
   * by id.
   */
  firstPages: LRUCache<string, FirstPage>;
}

export interface FirstPage {
  degree: number;
  /** The group's smallest ids, in order (never empty: a dense group has relationships). */
  ids: string[];
  /** `ids` are all of the group's relationships. */
  complete: boolean;
}

export interface NeighborMemoryOptions {
  /** Question shapes whose group degrees are kept (default 10,000). */
  shapes?: number;
  /** Groups whose first page is kept, up to 101 ids each (default 2,000). */
  groups?: number;
}

export function createNeighborMemory(o: NeighborMemoryOptions = {}): NeighborMemory {
  return {
    denseDegrees: new LRUCache({ max: o.shapes ?? 10_000 }),
    firstPages: new LRUCache({ max: o.groups ?? 2000 }),
  };
}

/** The key of a question shape in `denseDegrees`: the wallet, the direction, the type pattern. */
export const shapeKey = (chain: Chain, address: string, direction: string, types: string) =>
  `${chain}\n${address}\n${direction}\n${types}`;

/** The key of a wallet's group in `firstPages`. */
export const groupKey = (chain: Chain, address: string, g: { type: string; direction: string }) =>
  `${chain}\n${address}\n${g.type}\n${g.direction}`;
