import { type Common, Mainnet, createCustomCommon } from '@ethereumjs/common';
import type { TypedTransaction } from '@ethereumjs/tx';
import { HARDFORK } from '../../chains/ethereum/hardfork.ts';
import { type JsonRpcClient, createHttpRpc } from '../../chains/ethereum/rpc.ts';
import { type SenderNonces, createSenderNonces } from '../../chains/ethereum/senderNonces.ts';
import type { RpcTransaction } from '../../chains/ethereum/types.ts';
import type { Log } from '../../common/logger.ts';
import { redactUrl } from '../../common/redact.ts';
import { BlockReader } from './forkState.ts';
import { type WatchTarget, createHeadTracker, simBlock } from './heads.ts';
import { type Invariant, type Observable, observableKey, observablesOf } from './invariants.ts';
import { createTxParser, simulate } from './simulate.ts';
import { type CheckRequest, type CheckResult, EngineError, type SimulatedTx, errMsg } from './types.ts';
import { createVmPool } from './vmPool.ts';

export type { RpcTransaction, WatchTarget };
export { nextBaseFee } from './heads.ts';
export {
  type CheckRequest,
  type CheckResult,
  EngineError,
  type SimulatedTx,
  type TxStatus,
} from './types.ts';

export interface EngineOptions {
  /** JSON-RPC endpoint (http/https), or a client to share. */
  rpc: string | JsonRpcClient;
  log: Log;
  /** Pinned hardfork; must match the node's. */
  hardfork?: string;
  /** Fetched with eth_chainId when absent. */
  chainId?: bigint;
  /** VMs able to simulate concurrently (each VM runs one simulation at a time). */
  poolSize?: number;
  /** 'perBlock' (default) shares reads across checks on one head; 'perCheck' starts cold every time. */
  readCache?: 'perBlock' | 'perCheck';
  rpcTimeoutMs?: number;
  /** Where 'auto' priors read the sender's pool (shared where the defense validator is wired). */
  nonces?: Pick<SenderNonces, 'poolOf'>;
}

export interface Engine {
  check(req: CheckRequest): Promise<CheckResult>;
  /** Move to a new head (latest, or the given number): new read cache, watched state prefetched. */
  newHead(blockNumber?: bigint | number): Promise<bigint>;
  /** Register state to warm at each head (and warm it now). Accepts invariants or explicit targets. */
  prefetch(targets: WatchTarget | Invariant[]): Promise<void>;
  readonly chainId: bigint;
  readonly common: Common;
  close(): void;
}

const lower = (a: string) => a.toLowerCase();

/**
 * The EVM check engine: simulates a pending tx (after the sender's earlier ones) on the pending
 * block over the latest head and judges invariants on the state before and after. Its parts: the
 * head tracker (heads.ts), the VM pool (vmPool.ts) and the simulation (simulate.ts); this function
 * wires them and prepares each check (head, warm reads, priors, parsed txs).
 */
export async function createEngine(opts: EngineOptions): Promise<Engine> {
  const rpc =
    typeof opts.rpc === 'string' ? createHttpRpc({ url: opts.rpc, timeoutMs: opts.rpcTimeoutMs }) : opts.rpc;
  const ownsRpc = typeof opts.rpc === 'string';
  const nonces = opts.nonces ?? createSenderNonces({ rpc });
  const hardfork = opts.hardfork ?? HARDFORK;
  let chainId = opts.chainId;
  if (chainId === undefined) {
    try {
      chainId = BigInt(await rpc.call<string>('eth_chainId'));
    } catch (e) {
      if (ownsRpc) rpc.close();
      throw new EngineError(`cannot reach the chain at ${redactUrl(rpc.url)}`, {
        cause: e,
        details: errMsg(e),
      });
    }
  }
  const common = createCustomCommon({ chainId: Number(chainId), name: `vigil-${chainId}` }, Mainnet, {
    hardfork,
  });
  const readCache = opts.readCache ?? 'perBlock';
  const pool = await createVmPool({ common, rpc, size: opts.poolSize ?? 1 });
  const heads = createHeadTracker({ rpc, common, log: opts.log, error: EngineError });
  const parser = createTxParser(common);

  async function autoPriors(reader: BlockReader, tx: RpcTransaction): Promise<RpcTransaction[]> {
    // The state nonce from the simulated block (not the node's latest): priors must fit that state.
    const stateNonce = (await reader.getAccount(lower(tx.from))).nonce;
    const nonce = BigInt(tx.nonce);
    if (nonce <= stateNonce) return [];
    const byNonce = await nonces.poolOf(tx.from);
    const out: RpcTransaction[] = [];
    for (let n = stateNonce; n < nonce; n++) {
      const t = byNonce.get(n);
      if (!t) throw new EngineError(`nonce gap: the sender's tx with nonce ${n} is not in the txpool`);
      out.push(t);
    }
    return out;
  }

  /** Everything before a VM is taken: the head, the reads warmed in one batch, the priors, parsed txs. */
  async function prepare(req: CheckRequest, observables: Map<string, Observable>) {
    const h = await heads.current();
    const reader = readCache === 'perCheck' ? new BlockReader(rpc, h.number) : h.reader;
    const readsBefore = reader.reads;
    const accounts = new Set<string>([lower(req.tx.from), lower(h.header.miner)]);
    if (req.tx.to) accounts.add(lower(req.tx.to));
    const slotsToRead: { address: string; slot: bigint }[] = [];
    for (const o of observables.values()) {
      if (o.kind === 'balance') accounts.add(o.address);
      else slotsToRead.push(o);
    }
    await reader.prefetch(accounts, slotsToRead);
    const priorsRaw = req.priorTxs === 'auto' ? await autoPriors(reader, req.tx) : [...(req.priorTxs ?? [])];
    priorsRaw.sort((a, b) => (BigInt(a.nonce) < BigInt(b.nonce) ? -1 : 1));
    const txs: TypedTransaction[] = await Promise.all([...priorsRaw, req.tx].map((t) => parser.parse(t)));
    // Pending txs whose fee cap is under the next base fee are simulated at their cap (they wait for it).
    const main = txs[txs.length - 1]!;
    const cap =
      'maxFeePerGas' in main ? (main.maxFeePerGas as bigint) : (main as { gasPrice: bigint }).gasPrice;
    const block = cap < h.baseFee ? simBlock(common, h.header, cap) : h.block;
    return { h, reader, reads: reader.reads - readsBefore, priorsRaw, txs, block };
  }

  async function check(req: CheckRequest): Promise<CheckResult> {
    const t0 = performance.now();
    let blockNumber = -1;
    let reads = 0;
    const failAll = (reason: string, tx: SimulatedTx, priorTxs: SimulatedTx[] = []): CheckResult => ({
      blockNumber,
      tx,
      priorTxs,
      invariants: req.invariants.map((inv) => ({ id: inv.id, kind: inv.kind, status: 'error', reason })),
      violated: false,
      durationMs: performance.now() - t0,
      rpcReads: reads,
    });
    const observables = new Map<string, Observable>();
    for (const inv of req.invariants)
      for (const o of observablesOf(inv)) observables.set(observableKey(o), o);
    let prep: Awaited<ReturnType<typeof prepare>>;
    try {
      prep = await prepare(req, observables);
      blockNumber = Number(prep.h.number);
      reads = prep.reads;
    } catch (e) {
      return failAll(`engine: ${errMsg(e)}`, { hash: req.tx.hash, status: 'error', error: errMsg(e) });
    }
    const { reader, priorsRaw, txs, block } = prep;
    const slot = await pool.acquire();
    const readsBefore = reader.reads;
    try {
      const sim = await simulate({
        slot,
        reader,
        block,
        priors: priorsRaw.map((raw, i) => ({ raw, tx: txs[i]! })),
        main: { raw: req.tx, tx: txs[txs.length - 1]! },
        invariants: req.invariants,
        observables,
      });
      if (sim.failed !== undefined) return failAll(sim.failed, sim.tx, sim.priorTxs);
      reads += reader.reads - readsBefore;
      return {
        blockNumber,
        tx: sim.tx,
        priorTxs: sim.priorTxs,
        invariants: sim.invariants,
        violated: sim.invariants.some((r) => r.status === 'violated'),
        durationMs: performance.now() - t0,
        rpcReads: reads,
      };
    } catch (e) {
      return failAll(`engine: ${errMsg(e)}`, { hash: req.tx.hash, status: 'error', error: errMsg(e) });
    } finally {
      pool.release(slot);
    }
  }

  return {
    check,
    newHead: (n) => heads.newHead(n),
    prefetch: (targets: WatchTarget | Invariant[]) => heads.prefetch(targets),
    chainId,
    common,
    close() {
      if (ownsRpc) rpc.close();
    },
  };
}
