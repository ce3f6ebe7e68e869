import { LRUCache } from 'lru-cache';
import type { JsonRpcClient } from './rpc.ts';
import type { RpcTransaction } from './types.ts';

type PoolPart = Record<string, Record<string, RpcTransaction>>;

/**
 * "The sender's earlier pending transactions and its state nonce", read one way for the whole
 * defense validator process: the validator (priors of a challenged tx, and whether a deferred tx was
 * mined), the watcher (every tx it delivers is recorded here first) and the engine (its 'auto'
 * priors read the sender's pool through poolOf).
 */
export interface SenderNonces {
  /** The head the nonce cache and the pending records are kept for. */
  readonly head: number;
  /** A new head: pending txs seen more than 32 blocks ago are forgotten (mined or dropped). */
  onHead(n: number): void;
  /** Records a pending tx under its sender (synchronous, so a later nonce finds it). */
  remember(tx: RpcTransaction): void;
  /** The sender's nonce in the latest state, cached per head. */
  stateNonce(from: string): Promise<number>;
  /** The sender's txs in the node's txpool (pending and queued), by nonce. */
  poolOf(from: string): Promise<Map<bigint, RpcTransaction>>;
  /**
   * The sender's earlier pending txs still ahead of its state nonce, in nonce order; 'mined' when
   * the tx's nonce is used already. Ones not seen yet are read from the txpool; a gap left after
   * that is left out (the miners' simulation then fails as `error`, never `holds`).
   */
  priors(tx: RpcTransaction): Promise<RpcTransaction[] | 'mined'>;
  /** Senders with pending records (memory check). */
  readonly senders: number;
}

const lower = (a: string) => a.toLowerCase();
const nonceOf = (tx: RpcTransaction) => Number(BigInt(tx.nonce));

export function createSenderNonces(opts: { rpc: JsonRpcClient; maxSenders?: number }): SenderNonces {
  let head = 0;
  const pendingBySender = new Map<string, Map<number, { tx: RpcTransaction; head: number }>>();
  const stateNonces = new LRUCache<string, { head: number; nonce: number }>({
    max: opts.maxSenders ?? 50_000,
  });

  function record(tx: RpcTransaction) {
    const from = lower(tx.from);
    let mine = pendingBySender.get(from);
    if (!mine) {
      mine = new Map();
      pendingBySender.set(from, mine);
    }
    mine.set(nonceOf(tx), { tx, head });
    return mine;
  }

  async function stateNonce(from: string): Promise<number> {
    const key = lower(from);
    const hit = stateNonces.get(key);
    if (hit && hit.head === head) return hit.nonce;
    const nonce = Number(BigInt(await opts.rpc.call<string>('eth_getTransactionCount', [key, 'latest'])));
    stateNonces.set(key, { head, nonce });
    return nonce;
  }

  async function poolOf(from: string): Promise<Map<bigint, RpcTransaction>> {
    const key = lower(from);
    const pool = await opts.rpc.call<{ pending?: PoolPart; queued?: PoolPart }>('txpool_content');
    const byNonce = new Map<bigint, RpcTransaction>();
    // Pending last: a pending tx wins over a queued one with the same nonce.
    for (const part of [pool.queued, pool.pending]) {
      for (const [addr, txs] of Object.entries(part ?? {})) {
        if (lower(addr) !== key) continue;
        for (const t of Object.values(txs)) byNonce.set(BigInt(t.nonce), { ...t, from: t.from ?? key });
      }
    }
    return byNonce;
  }

  async function priors(tx: RpcTransaction): Promise<RpcTransaction[] | 'mined'> {
    const from = lower(tx.from);
    const nonce = nonceOf(tx);
    if (nonce === 0) return [];
    const state = await stateNonce(from);
    // Its nonce is used already: it (or a replacement) was mined before we got to it.
    if (nonce < state) return 'mined';
    if (nonce === state) return [];
    // A head may have pruned the sender's entry since the tx was remembered: record it again.
    const mine = pendingBySender.get(from) ?? record(tx);
    for (const n of [...mine.keys()]) if (n < state) mine.delete(n);
    let missing = false;
    for (let n = state; n < nonce; n++) if (!mine.has(n)) missing = true;
    if (missing) {
      // Only pending (not queued) txs fill a gap here: a queued one is itself behind a gap.
      const pool = await opts.rpc
        .call<{ pending?: PoolPart }>('txpool_content')
        .catch((): { pending?: PoolPart } => ({}));
      for (const [a, byNonce] of Object.entries(pool.pending ?? {})) {
        if (lower(a) !== from) continue;
        for (const t of Object.values(byNonce)) {
          const n = nonceOf(t);
          if (n >= state && n < nonce && !mine.has(n)) mine.set(n, { tx: { ...t, from }, head });
        }
      }
    }
    const out: RpcTransaction[] = [];
    for (let n = state; n < nonce; n++) {
      const e = mine.get(n);
      if (e) out.push(e.tx);
    }
    return out;
  }

  return {
    get head() {
      return head;
    },
    get senders() {
      return pendingBySender.size;
    },
    onHead(n) {
      if (n <= head) return;
      head = n;
      // Memory stays bounded by the live pool.
      for (const [from, txsOf] of pendingBySender) {
        for (const [nonce, e] of txsOf) if (e.head < n - 32) txsOf.delete(nonce);
        if (txsOf.size === 0) pendingBySender.delete(from);
      }
    },
    remember(tx) {
      if (tx.from) record(tx);
    },
    stateNonce,
    poolOf,
    priors,
  };
}
