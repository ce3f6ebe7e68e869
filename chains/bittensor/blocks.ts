import type { ApiPromise } from '@polkadot/api';
import type { EventRecord } from '@polkadot/types/interfaces';
import type { Registry } from '@polkadot/types/types';
import { hexToU8a } from '@polkadot/util';
import { VigilError } from '../../common/errors.ts';
import { type Log, silentLogger } from '../../common/logger.ts';
import { type DomainEvent, type EventDecoder, createEventDecoder } from './events.ts';

export interface BlockEvents {
  number: number;
  hash: string;
  events: DomainEvent[];
}

export interface ReadBlockEventsOptions {
  from: number;
  /** Inclusive. */
  to: number;
  /** Blocks whose hashes are fetched together before their events. Default 25 (as Patrol). */
  batchSize?: number;
  /** Event fetches in flight at once. Default 4. */
  concurrency?: number;
  /**
   * 'current' decodes every block with the connected runtime's metadata (fast; right when the
   * range has no runtime upgrade, e.g. a local chain). 'perBlock' asks the node for the runtime
   * of each block (one more round trip per unseen block; needed across upgrades on mainnet).
   */
  runtime?: 'current' | 'perBlock';
  log?: Log;
}

export class BlockNotFoundError extends VigilError {
  override name = 'BlockNotFoundError';
  readonly blockNumber: number;
  constructor(blockNumber: number) {
    super(`block ${blockNumber} not found on the node`);
    this.blockNumber = blockNumber;
  }
}

/** Shared by readers and caches: one decoder per runtime registry. */
export interface EventSource {
  hashOf(blockNumber: number): Promise<string>;
  eventsAt(blockNumber: number, hash: string): Promise<DomainEvent[]>;
}

export function createEventSource(
  api: ApiPromise,
  { runtime = 'current', log = silentLogger }: { runtime?: 'current' | 'perBlock'; log?: Log } = {},
): EventSource {
  const decoders = new WeakMap<Registry, EventDecoder>();
  const eventsKey = api.query.system.events.key();
  const decoderFor = (registry: Registry) => {
    let d = decoders.get(registry);
    if (!d) {
      d = createEventDecoder(registry, {
        onUnknownLayout: (name, fields) =>
          log.warn(
            { event: name, fields: fields.map((x) => `${x.name || '_'}:${x.kind}`).join(', ') },
            'unknown event layout: skipped',
          ),
      });
      decoders.set(registry, d);
    }
    return d;
  };
  return {
    async hashOf(blockNumber) {
      const hash = await api.rpc.chain.getBlockHash(blockNumber);
      // The node answers the zero hash for blocks it does not have.
      if (hash.isEmpty) throw new BlockNotFoundError(blockNumber);
      return hash.toHex();
    },
    async eventsAt(blockNumber, hash) {
      const registry =
        runtime === 'perBlock' ? (await api.getBlockRegistry(hexToU8a(hash))).registry : api.registry;
      const raw = await api.rpc.state.getStorage.raw<unknown>(eventsKey, hash);
      if (raw === null || raw === undefined) return [];
      const records = registry.createType('Vec<EventRecord>', raw as Uint8Array) as unknown as EventRecord[];
      return decoderFor(registry).decode(records, { blockNumber, blockHash: hash });
    },
  };
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Yields the blocks of [from, to] batch by batch, in order. */
export async function* iterateBlockEvents(
  api: ApiPromise,
  {
    from,
    to,
    batchSize = 25,
    concurrency = 4,
    runtime = 'current',
    log = silentLogger,
  }: ReadBlockEventsOptions,
): AsyncGenerator<BlockEvents[]> {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from)
    throw new VigilError(`invalid block range [${from}, ${to}]`);
  const source = createEventSource(api, { runtime, log });
  for (let start = from; start <= to; start += batchSize) {
    const numbers = Array.from({ length: Math.min(batchSize, to - start + 1) }, (_, i) => start + i);
    const hashes = await Promise.all(numbers.map((n) => source.hashOf(n)));
    const blocks = await mapLimit(numbers, concurrency, async (n) => {
      const hash = hashes[n - start] as string;
      return { number: n, hash, events: await source.eventsAt(n, hash) };
    });
    log.debug({ from: start, to: numbers[numbers.length - 1] }, 'read block events');
    yield blocks;
  }
}

/** Every block of [from, to] with its decoded domain events (blocks with none included). */
export async function readBlockEvents(api: ApiPromise, opts: ReadBlockEventsOptions): Promise<BlockEvents[]> {
  const out: BlockEvents[] = [];
  for await (const batch of iterateBlockEvents(api, opts)) out.push(...batch);
  return out;
}

export interface BlockEventCache {
  /** Decoded events of a block; concurrent calls for the same block share one fetch. */
  get(blockNumber: number): Promise<BlockEvents>;
  readonly size: number;
  clear(): void;
}

/**
 * LRU of decoded blocks by number for validators re-checking evidence. Keyed by number, so use
 * it for finalized blocks only (a re-org would change what a number means).
 */
export function createBlockEventCache(
  api: ApiPromise,
  {
    maxBlocks = 1_000,
    runtime = 'current',
    log,
  }: { maxBlocks?: number; runtime?: 'current' | 'perBlock'; log?: Log } = {},
): BlockEventCache {
  const source = createEventSource(api, { runtime, log });
  const entries = new Map<number, Promise<BlockEvents>>();
  return {
    get(blockNumber) {
      const hit = entries.get(blockNumber);
      if (hit) {
        // Map keeps insertion order: re-inserting marks it most recently used.
        entries.delete(blockNumber);
        entries.set(blockNumber, hit);
        return hit;
      }
      const p = (async () => {
        const hash = await source.hashOf(blockNumber);
        return { number: blockNumber, hash, events: await source.eventsAt(blockNumber, hash) };
      })();
      entries.set(blockNumber, p);
      // Failures are not cached: the next call retries.
      p.catch(() => {
        if (entries.get(blockNumber) === p) entries.delete(blockNumber);
      });
      while (entries.size > maxBlocks) entries.delete(entries.keys().next().value as number);
      return p;
    },
    get size() {
      return entries.size;
    },
    clear() {
      entries.clear();
    },
  };
}
