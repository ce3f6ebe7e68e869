import { type JsonRpcApiProvider, JsonRpcProvider, Network, SocketProvider, WebSocketProvider } from 'ethers';
import { VigilError } from '../../common/errors.ts';
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
  log: (msg: string) => void;
  /** 'auto': WebSocket subscription when the provider is a socket provider, else polling. */
  mode?: 'auto' | 'subscribe' | 'poll';
  pollIntervalMs?: number;
  /** Handler or fetch failures; the watcher keeps running. */
  onError?: (err: unknown) => void;
  /** Bound of the seen-hash memory in subscribe mode (the poll mode forgets what left the pool). */
  maxSeen?: number;
}

type Pool = Record<string, Record<string, RpcTransaction>>;

/**
 * Calls onTx once per new pending transaction, with the full RPC tx object (`from` included, as the
 * engine needs it). Subscribes to `pending` over WebSocket, or polls `txpool_content`, falling back
 * to `eth_getBlockByNumber('pending', true)` on nodes without the txpool namespace.
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
    opts.onError ?? ((e: unknown) => opts.log(`watcher: ${e instanceof Error ? e.message : String(e)}`));
  const inflight = new Set<Promise<void>>();
  let stopped = false;

  const deliver = (tx: RpcTransaction) => {
    const p = (async () => {
      try {
        await onTx(tx);
      } catch (e) {
        onError(e);
      }
    })();
    inflight.add(p);
    p.finally(() => inflight.delete(p));
  };

  if (mode === 'subscribe') {
    const maxSeen = opts.maxSeen ?? 50_000;
    const seen = new Set<string>();
    const listener = (hash: string) => {
      if (stopped || seen.has(hash)) return;
      seen.add(hash);
      // Sets iterate in insertion order: evict the oldest.
      if (seen.size > maxSeen) seen.delete(seen.values().next().value as string);
      const p = (async () => {
        // The node announced it, but a getter can race the announcement: retry briefly.
        for (let i = 0; i < 5 && !stopped; i++) {
          try {
            const tx = await provider.send('eth_getTransactionByHash', [hash]);
            if (tx) return deliver(tx as RpcTransaction);
          } catch (e) {
            return onError(e);
          }
          await new Promise((r) => setTimeout(r, 20 * (i + 1)));
        }
      })();
      inflight.add(p);
      p.finally(() => inflight.delete(p));
    };
    await provider.on('pending', listener);
    opts.log('watcher: subscribed to pending txs');
    return {
      mode,
      async stop() {
        stopped = true;
        await provider.off('pending', listener);
        await settleUnsubscribe(provider);
        await Promise.allSettled([...inflight]);
      },
    };
  }

  // Poll mode: remember only what is still pending, so memory is bounded by the pool itself.
  let seen = new Set<string>();
  let source: 'txpool' | 'pendingBlock' = 'txpool';
  const poll = async () => {
    let txs: RpcTransaction[];
    if (source === 'txpool') {
      try {
        const pool = (await provider.send('txpool_content', [])) as { pending?: Pool; queued?: Pool };
        txs = Object.values(pool.pending ?? {}).flatMap((byNonce) => Object.values(byNonce));
      } catch (e) {
        if (!/txpool|not (found|supported|available)|-32601/i.test(String((e as Error).message ?? e)))
          throw e;
        source = 'pendingBlock';
        opts.log('watcher: txpool_content unsupported, polling the pending block');
        return poll();
      }
    } else {
      const block = (await provider.send('eth_getBlockByNumber', ['pending', true])) as {
        transactions?: RpcTransaction[];
      } | null;
      txs = block?.transactions ?? [];
    }
    const now = new Set<string>();
    for (const tx of txs) {
      if (!tx.hash) continue;
      now.add(tx.hash);
      if (!seen.has(tx.hash)) deliver(tx);
    }
    seen = now;
  };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = () => {
    running = poll()
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, opts.pollIntervalMs ?? 250);
      });
  };
  loop();
  opts.log(`watcher: polling pending txs every ${opts.pollIntervalMs ?? 250} ms`);
  return {
    mode,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await Promise.allSettled([...inflight]);
    },
  };
}

/** Calls onHead with each new block number (newHeads subscription on WebSocket, polling otherwise). */
export async function watchHeads(
  provider: JsonRpcApiProvider,
  onHead: (blockNumber: number) => void | Promise<void>,
  opts: { log: (msg: string) => void; onError?: (err: unknown) => void },
): Promise<Watcher> {
  const onError =
    opts.onError ?? ((e: unknown) => opts.log(`heads: ${e instanceof Error ? e.message : String(e)}`));
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
