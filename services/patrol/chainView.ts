import type { ApiPromise } from '@polkadot/api';
import { LRUCache } from 'lru-cache';
import { type BlockEventCache, createBlockEventCache } from '../../chains/bittensor/blocks.ts';
import type { DomainEvent } from '../../chains/bittensor/events.ts';
import { ownerOf } from '../../chains/bittensor/keys.ts';
import type { GraphEdge } from '../../graph/model.ts';
import { edgesOfEvent } from './edges.ts';

/** What verification needs from the chain: decoded events and hotkey owners, by block. */
export interface ChainView {
  block(blockNumber: number): Promise<{ hash: string; byIndex: Map<number, DomainEvent> }>;
  /** The edges the block's events prove (edges.ts, as miners build them), by each address they touch. */
  edgesByAddress(blockNumber: number): Promise<Map<string, GraphEdge[]>>;
  ownerAt(hotkey: string, blockNumber: number): Promise<string | null>;
}

/** A chain view over a node, cached per block (events) and per (hotkey, block) (owners). */
export function createChainView(
  api: ApiPromise,
  { maxBlocks = 5_000 } = {},
): ChainView & { cache: BlockEventCache } {
  const cache = createBlockEventCache(api, { maxBlocks });
  const indexed = new WeakMap<object, Map<number, DomainEvent>>();
  const edgesIndexed = new WeakMap<object, Map<string, GraphEdge[]>>();
  // Owners by hotkey and block, fetched once however many edges ask at the same time (lru-cache's
  // fetch shares the one in flight); a failed lookup is not kept. Wrapped: a cache holds no null.
  const owners = new LRUCache<string, { owner: string | null }, { hotkey: string; blockNumber: number }>({
    max: 100_000,
    fetchMethod: async (_key, _stale, { context }) => ({
      owner: await ownerOf(api, context.hotkey, (await cache.get(context.blockNumber)).hash),
    }),
    ignoreFetchAbort: true, // evicted while in flight: still answer the callers waiting on it
  });
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
    async edgesByAddress(blockNumber) {
      const b = await cache.get(blockNumber);
      let index = edgesIndexed.get(b);
      if (!index) {
        index = new Map();
        for (const e of b.events.flatMap(edgesOfEvent))
          for (const end of new Set([e.from, e.to])) {
            const list = index.get(end);
            if (list) list.push(e);
            else index.set(end, [e]);
          }
        edgesIndexed.set(b, index);
      }
      return index;
    },
    async ownerAt(hotkey, blockNumber) {
      const hit = await owners.fetch(`${hotkey}@${blockNumber}`, { context: { hotkey, blockNumber } });
      return hit!.owner;
    },
  };
}
