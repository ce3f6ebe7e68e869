import { type JsonRpcApiProvider, JsonRpcProvider, Network, SocketProvider, WebSocketProvider } from 'ethers';
import { LRUCache } from 'lru-cache';
import { VigilError } from '../../common/errors.ts';
import type { Log } from '../../common/logger.ts';
import type { SenderNonces } from './senderNonces.ts';
import type { RpcTransaction } from './types.ts';

export class WatcherError extends VigilError {
  override name = 'WatcherError';
}

/**
 * A provider for monitoring: `cacheTimeout: -1` because ethers otherwise answers identical requests
 * (a nonce, a pending block) from a 250 ms cache; static network so no chainId round trip per call.
 */
export function createMonitorProvider(opts: {
  url: string;
  chainId: number;
  pollingIntervalMs?: number;
}): JsonRpcApiProvider {
  const network = Network.from(opts.chainId);
  const options = {
    staticNetwork: network,
    cacheTimeout: -1,
    batchStallTime: 0,
    pollingInterval: opts.pollingIntervalMs ?? 1000,
  };
  if (opts.url.startsWith('ws://') || opts.url.startsWith('wss://'))
    return new WebSocketProvider(opts.url, network, options);
  return new JsonRpcProvider(opts.url, network, options);
}

/**
 * ethers' off() sends eth_unsubscribe without awaiting it; destroying the socket right after turns
 * that into an unhandled rejection. One more round trip on the same socket lets it finish first.
 */
async function settleUnsubscribe(provider: JsonRpcApiProvider): Promise<void> {
  if (!(provider instanceof SocketProvider) || provider.destroyed) return;
  try {
    await provider.send('eth_chainId', []);
  } catch {
    // socket already gone: nothing left to settle
  }
}

/** Stops every listener and closes the provider cleanly. */
export async function closeMonitorProvider(provider: JsonRpcApiProvider): Promise<void> {
  await provider.removeAllListeners();
  await settleUnsubscribe(provider);
  provider.destroy();
}

export interface Watcher {
  readonly mode: 'subscribe' | 'poll';
  /** Unsubscribes, stops polling and waits for handlers already running. Does not destroy the provider. */
  stop(): Promise<void>;
}

export interface WatchPendingOptions {
  log: Log;
  /** 'auto': WebSocket subscription when the provider is a socket provider, else polling. */
  mode?: 'auto' | 'subscribe' | 'poll';
  pollIntervalMs?: number;
  /** Handler or fetch failures; the watcher keeps running. */
  onError?: (err: unknown) => void;
  /** Bound of the memory of delivered hashes (the oldest are forgotten first). */
  maxSeen?: number;
  /** Every delivered tx is recorded here first (its sender's pending txs, senderNonces.ts). */
  nonces?: Pick<SenderNonces, 'remember'>;
}

type Pool = Record<string, Record<string, RpcTransaction>>;

/** The node's JSON-RPC error inside an ethers error (its message names the method, so not that). */
const rpcError = (e: unknown): { code?: number; message: string } => {
  const inner = (e as { error?: { code?: number; message?: string } })?.error;
  return inner?.message !== undefined
    ? { code: inner.code, message: inner.message }
    : { message: String((e as Error)?.message ?? e) };
};
/** The node lacks the method (geth: "does not exist/is not available"; anvil over WS: "did not match"). */
const unsupported = (e: unknown) => {
  const { code, message } = rpcError(e);
  return (
    code === -32601 ||
    /method not found|not supported|not available|does not exist|did not match any variant/i.test(message)
  );
};
const filterLost = (e: unknown) => /filter not found/i.test(rpcError(e).message);

/** How often the subscription's backstop polls (see watchPending). */
export const BACKSTOP_POLL_MS = 250;

/**
 * Calls onTx once per new pending transaction, with the full RPC tx object (`from` included, as the
 * engine needs it).
 *
 * Poll mode polls a pending-tx filter, whose polls cost what is new (36 bytes and 2 ms on an idle
 * anvil), not what is pending: a txpool_content read of 1,000 pending txs took 225 ms and 0.6 MB
 * there, of 4,000 (a mainnet-sized pool) 890 ms. The whole pool is read once, when a filter is
 * (re)created, so txs pending before it are delivered too. Nodes without filters or without the
 * txpool namespace fall back to reading the pool, then the pending block, every poll.
 *
 * Subscribe mode (WebSocket) takes the node's `pending` notifications, and polls as above every
 * BACKSTOP_POLL_MS: a notification can be dropped, and its lookup can fail. Both share one memory
 * of what was delivered or is being looked up, so a tx is looked up once however it is announced.
 * A failed lookup is retried by the next poll.
 *
 * Resolves after the first poll has run (failed or not): the txs pending at the start have been
 * handed to onTx, unless that read failed (then the next polls retry it).
 */
export async function watchPending(
  provider: JsonRpcApiProvider,
  onTx: (tx: RpcTransaction) => void | Promise<void>,
  opts: WatchPendingOptions,
): Promise<Watcher> {
  const mode =
    opts.mode === 'subscribe' || (opts.mode !== 'poll' && provider instanceof SocketProvider)
      ? 'subscribe'
      : 'poll';
  if (mode === 'subscribe' && !(provider instanceof SocketProvider)) {
    throw new WatcherError('pending-tx subscription needs a WebSocket provider', {
      details: 'use a ws:// URL or mode: "poll"',
    });
  }
  const onError =
    opts.onError ??
    ((e: unknown) => opts.log.warn({ err: errMessage(e) }, 'pending-tx watch failed; still watching'));
  const maxSeen = opts.maxSeen ?? 50_000;
  const inflight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    inflight.add(p);
    p.finally(() => inflight.delete(p));
  };
  let stopped = false;

  const delivered = new LRUCache<string, true>({ max: maxSeen });
  const deliver = (tx: RpcTransaction) => {
    if (!tx.hash || delivered.has(tx.hash)) return;
    delivered.set(tx.hash, true);
    // Before the handler runs: a later nonce delivered in the same poll finds this one as a prior.
    opts.nonces?.remember(tx);
    track(
      (async () => {
        try {
          await onTx(tx);
        } catch (e) {
          onError(e);
        }
      })(),
    );
  };

  // Lookups by hash: one at a time per hash; a failed one is kept for the next poll to retry.
  const lookingUp = new Set<string>();
  const unfetched = new Set<string>();
  /** Looks `hash` up and delivers its tx; `tries` > 1 waits out a node that announced it early. */
  const lookUp = async (hash: string, tries = 1): Promise<void> => {
    if (delivered.has(hash) || lookingUp.has(hash)) return;
    lookingUp.add(hash);
    unfetched.delete(hash);
    try {
      for (let i = 0; i < tries && !stopped; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 20 * i));
        const tx = (await provider.send('eth_getTransactionByHash', [hash])) as RpcTransaction | null;
        if (tx) return deliver(tx); // null: not visible yet, or dropped or replaced since
      }
    } catch (e) {
      if (unfetched.size < maxSeen) unfetched.add(hash);
      throw e;
    } finally {
      lookingUp.delete(hash);
    }
  };
  /**
   * Looks up every hash; rejects with the first failure (each failed one stays for a retry). Over
   * HTTP, ethers sends one poll's lookups as one JSON-RPC batch (20 at once: one request).
   */
  const lookUpAll = async (hashes: string[]) => {
    const failed = (await Promise.allSettled(hashes.map((h) => lookUp(h)))).find(
      (r): r is PromiseRejectedResult => r.status === 'rejected',
    );
    if (failed) throw failed.reason;
  };

  let source: 'filter' | 'txpool' | 'pendingBlock' = 'filter';
  let filterId: string | null = null;
  // Set with each new filter; cleared only once a pool read succeeds, so a failed read is retried.
  let poolUnread = true;
  const readPool = async (): Promise<RpcTransaction[]> => {
    if (source !== 'pendingBlock') {
      try {
        const pool = (await provider.send('txpool_content', [])) as { pending?: Pool; queued?: Pool };
        return Object.values(pool.pending ?? {}).flatMap((byNonce) => Object.values(byNonce));
      } catch (e) {
        if (!unsupported(e)) throw e;
        if (source === 'txpool') {
          source = 'pendingBlock';
          opts.log.info('txpool_content unsupported: polling the pending block');
        }
      }
    }
    const block = (await provider.send('eth_getBlockByNumber', ['pending', true])) as {
      transactions?: RpcTransaction[];
    } | null;
    return block?.transactions ?? [];
  };
  /** What the filter reports since the last poll; a new filter reports nothing (the pool is read). */
  const newHashes = async (): Promise<string[]> => {
    try {
      if (!filterId) {
        filterId = (await provider.send('eth_newPendingTransactionFilter', [])) as string;
        poolUnread = true;
        return [];
      }
      return (await provider.send('eth_getFilterChanges', [filterId])) as string[];
    } catch (e) {
      if (filterLost(e)) {
        // The node restarted or expired the filter: a new one, and the pool read once again.
        opts.log.warn('pending-tx filter lost: creating a new one');
        filterId = null;
        return newHashes();
      }
      if (!unsupported(e)) throw e;
      source = 'txpool';
      opts.log.info('pending-tx filters unsupported: polling txpool_content');
      return [];
    }
  };
  const poll = async () => {
    if (source === 'filter') {
      const hashes = await newHashes();
      if (source === 'filter') {
        await lookUpAll([...unfetched, ...hashes]);
        if (!poolUnread) return;
      }
    }
    for (const tx of await readPool()) deliver(tx);
    poolUnread = false;
  };

  let listener: ((hash: string) => void) | undefined;
  if (mode === 'subscribe') {
    listener = (hash: string) => {
      if (!stopped) track(lookUp(hash, 5).catch(onError));
    };
    await provider.on('pending', listener);
    opts.log.info('subscribed to pending txs');
  }
  const intervalMs = mode === 'subscribe' ? BACKSTOP_POLL_MS : (opts.pollIntervalMs ?? 250);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = () => {
    running = poll()
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, intervalMs);
      });
  };
  loop();
  // The first poll reads the pool: once it has run, every tx pending before the watcher started is
  // delivered or being looked up, so a caller knows where its watch begins.
  await running;
  opts.log.info({ intervalMs, backstop: Boolean(listener) }, 'polling pending txs');
  return {
    mode,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (listener) await provider.off('pending', listener);
      await running;
      await Promise.allSettled([...inflight]);
      if (filterId) await provider.send('eth_uninstallFilter', [filterId]).catch(() => {});
      await settleUnsubscribe(provider);
    },
  };
}

/** Calls onHead with each new block number (newHeads subscription on WebSocket, polling otherwise). */
export async function watchHeads(
  provider: JsonRpcApiProvider,
  onHead: (blockNumber: number) => void | Promise<void>,
  opts: { log: Log; onError?: (err: unknown) => void },
): Promise<Watcher> {
  const onError =
    opts.onError ??
    ((e: unknown) => opts.log.warn({ err: errMessage(e) }, 'head watch failed; still watching'));
  const inflight = new Set<Promise<void>>();
  let stopped = false;
  const listener = (n: number) => {
    if (stopped) return;
    const p = (async () => {
      try {
        await onHead(n);
      } catch (e) {
        onError(e);
      }
    })();
    inflight.add(p);
    p.finally(() => inflight.delete(p));
  };
  await provider.on('block', listener);
  return {
    mode: provider instanceof SocketProvider ? 'subscribe' : 'poll',
    async stop() {
      stopped = true;
      await provider.off('block', listener);
      await settleUnsubscribe(provider);
      await Promise.allSettled([...inflight]);
    },
  };
}

const errMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
