import type { ApiPromise } from '@polkadot/api';
import { type BlockEventCache, createBlockEventCache } from '../../chains/bittensor/blocks.ts';
import type { DomainEvent } from '../../chains/bittensor/events.ts';
import { ownerOf } from '../../chains/bittensor/keys.ts';
import { rememberBounded } from '../../common/bounded.ts';

/** What verification needs from the chain: decoded events and hotkey owners, by block. */
export interface ChainView {
  block(blockNumber: number): Promise<{ hash: string; byIndex: Map<number, DomainEvent> }>;
  ownerAt(hotkey: string, blockNumber: number): Promise<string | null>;
}

/** A chain view over a node, cached per block (events) and per (hotkey, block) (owners). */
export function createChainView(
  api: ApiPromise,
  { maxBlocks = 5_000 } = {},
): ChainView & { cache: BlockEventCache } {
  const cache = createBlockEventCache(api, { maxBlocks });
  const indexed = new WeakMap<object, Map<number, DomainEvent>>();
  const owners = new Map<string, Promise<string | null>>();
  return {
    cache,
    async block(blockNumber) {
      const b = await cache.get(blockNumber);
      let byIndex = indexed.get(b);
      if (!byIndex) {
        byIndex = new Map(b.events.map((e) => [e.eventIndex, e]));
        indexed.set(b, byIndex);
      }
      return { hash: b.hash, byIndex };
    },
    ownerAt(hotkey, blockNumber) {
      const key = `${hotkey}@${blockNumber}`;
      let p = owners.get(key);
      if (!p) {
        p = cache.get(blockNumber).then((b) => ownerOf(api, hotkey, b.hash));
        rememberBounded(owners, key, p, 100_000);
        p.catch(() => owners.delete(key));
      }
      return p;
    },
  };
}
