import { LRUCache } from 'lru-cache';
import type { JsonRpcClient } from '../../../chains/ethereum/rpc.ts';
import type { RpcTransaction } from '../../../chains/ethereum/types.ts';
import type { Logger } from '../../../common/logger.ts';
import type { Graph } from '../../../graph/driver.ts';
import { listInvariants } from '../invariantStore.ts';
import type { RegisteredInvariant } from '../registry.ts';

import { lower } from './types.ts';

/** The registered invariants of one chain, re-read from Neo4j in the background when stale. */
export interface InvariantView {
  /** Reads the registry now (one read at a time: callers meanwhile share it). */
  refresh(): Promise<RegisteredInvariant[]>;
  /** The list to check a tx against: the last one read; a stale one is refreshed behind it. */
  current(): Promise<RegisteredInvariant[]>;
  /** Addresses of the watched contracts (lower case). */
  readonly watched: ReadonlySet<string>;
  readonly list: readonly RegisteredInvariant[];
}

export function createInvariantView(deps: {
  graph: Graph;
  chainId: number;
  refreshMs: number;
  log: Logger;
  /** Holds the background refresh until close (the validator's background set). */
  track: (p: Promise<unknown>) => void;
}): InvariantView {
  let list: RegisteredInvariant[] = [];
  let watched = new Set<string>();
  let at = 0;
  let loading: Promise<RegisteredInvariant[]> | undefined;

  function refresh(): Promise<RegisteredInvariant[]> {
    loading ??= listInvariants(deps.graph, { chainId: deps.chainId })
      .then((l) => {
        list = l;
        watched = new Set(l.map((i) => i.contract));
        at = Date.now();
        return l;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  }

  return {
    refresh,
    async current() {
      if (Date.now() - at > deps.refreshMs) {
        // Stale: refresh in the background, keep serving the last list (never block a tx on Neo4j).
        if (at === 0) return refresh();
        deps.track(
          refresh().catch((e) => deps.log.warn({ err: (e as Error).message }, 'registry refresh failed')),
        );
      }
      return list;
    },
    get watched() {
      return watched;
    },
    get list() {
      return list;
    },
  };
}

/**
 * Whether a pending tx may touch a watched contract. At minimum: to a watched contract, to any
 * contract (internal calls may reach one), a creation, or from a watched account. Whether an
 * address has code is cached (bounded): a contract keeps its code, and an EOA turning into one is
 * rare enough to be caught by the next eviction.
 */
export interface RelevanceFilter {
  relevant(tx: RpcTransaction): Promise<boolean>;
  /** eth_getCode reads so far (tests: the cache works). */
  readonly codeReads: number;
}

export function createRelevanceFilter(deps: {
  rpc: JsonRpcClient;
  watched: () => ReadonlySet<string>;
  maxCodes?: number;
}): RelevanceFilter {
  const hasCode = new LRUCache<string, boolean>({ max: deps.maxCodes ?? 50_000 });
  let codeReads = 0;

  async function isContract(address: string): Promise<boolean> {
    const hit = hasCode.get(address);
    if (hit !== undefined) return hit;
    codeReads++;
    const code = await deps.rpc.call<string>('eth_getCode', [address, 'latest']);
    const yes = code !== '0x' && code !== '0x0';
    hasCode.set(address, yes);
    return yes;
  }

  return {
    get codeReads() {
      return codeReads;
    },
    async relevant(tx) {
      const watched = deps.watched();
      const to = lower(tx.to);
      if (to === null) return true;
      if (watched.has(to) || watched.has(lower(tx.from)!)) return true;
      if (
        Array.isArray(tx.accessList) &&
        tx.accessList.some((e: { address?: string }) => watched.has(lower(e.address) ?? ''))
      )
        return true;
      return isContract(to);
    },
  };
}
