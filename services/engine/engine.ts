import { type Block, createBlock } from '@ethereumjs/block';
import { type Common, Mainnet, createCustomCommon } from '@ethereumjs/common';
import { type TypedTransaction, createTxFromRPC } from '@ethereumjs/tx';
import { createAddressFromString, hexToBytes } from '@ethereumjs/util';
import { type VM, createVM, runTx } from '@ethereumjs/vm';
import { LRUCache } from 'lru-cache';
import { HARDFORK } from '../../chains/ethereum/hardfork.ts';
import { type JsonRpcClient, createHttpRpc } from '../../chains/ethereum/rpc.ts';
import { type SenderNonces, createSenderNonces } from '../../chains/ethereum/senderNonces.ts';
import type { RpcTransaction } from '../../chains/ethereum/types.ts';
import { VigilError } from '../../common/errors.ts';
import type { Log } from '../../common/logger.ts';
import { redactUrl } from '../../common/redact.ts';
import { BlockReader, ForkState } from './forkState.ts';
import {
  type Invariant,
  type InvariantResult,
  type Observable,
  evaluateInvariant,
  observableKey,
  observablesOf,
} from './invariants.ts';

export type { RpcTransaction };

export class EngineError extends VigilError {
  override name = 'EngineError';
}

export interface CheckRequest {
  tx: RpcTransaction;
  invariants: Invariant[];
  /**
   * The sender's earlier pending txs, applied first in nonce order (multi-tx attacks). 'auto' reads
   * them from the node's txpool. Without them a tx whose nonce is ahead of the state fails as `error`.
   */
  priorTxs?: RpcTransaction[] | 'auto';
}

export type TxStatus = 'success' | 'reverted' | 'invalid' | 'error';

export interface SimulatedTx {
  hash?: string;
  status: TxStatus;
  gasUsed?: string;
  /** Revert or validation message. */
  error?: string;
}

export interface CheckResult {
  /** The state the simulation ran on: the pending block on top of this one. */
  blockNumber: number;
  tx: SimulatedTx;
  priorTxs: SimulatedTx[];
  invariants: InvariantResult[];
  violated: boolean;
  durationMs: number;
  /** RPC reads this check issued (0 when everything came from the per-block cache). */
  rpcReads: number;
}

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

export interface WatchTarget {
  accounts?: string[];
  slots?: { address: string; slot: bigint }[];
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

interface Head {
  number: bigint;
  hash: string;
  reader: BlockReader;
  block: Block;
  baseFee: bigint;
  header: RpcBlock;
}

interface RpcBlock {
  number: string;
  hash: string;
  timestamp: string;
  gasLimit: string;
  gasUsed: string;
  baseFeePerGas?: string;
  miner: string;
  mixHash?: string;
  excessBlobGas?: string;
  blobGasUsed?: string;
}

interface Slot {
  vm: VM;
  state: ForkState;
}

/** EIP-1559 base fee of the next block (elasticity 2, denominator 8). */
export function nextBaseFee(parent: { gasLimit: bigint; gasUsed: bigint; baseFee: bigint }): bigint {
  const target = parent.gasLimit / 2n;
  if (target === 0n || parent.gasUsed === target) return parent.baseFee;
  if (parent.gasUsed > target) {
    const d = (parent.baseFee * (parent.gasUsed - target)) / target / 8n;
    return parent.baseFee + (d > 1n ? d : 1n);
  }
  return parent.baseFee - (parent.baseFee * (target - parent.gasUsed)) / target / 8n;
}

const lower = (a: string) => a.toLowerCase();
// ethereumjs appends a long "(vm hf=... -> block ... -> tx ...)" context to its messages: keep the first part.
const errMsg = (e: unknown) =>
  e instanceof Error ? e.message.split('\n')[0]!.replace(/ \(vm hf=.*$/, '') : String(e);

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
  const log = opts.log;

  // A placeholder reader: every check resets its VM's state onto the right block first.
  const slots: Slot[] = [];
  for (let i = 0; i < Math.max(1, opts.poolSize ?? 1); i++) {
    const state = new ForkState(new BlockReader(rpc, 0n));
    // BLOCKHASH reads through whichever block this VM currently simulates on.
    const blockchain = {
      getBlock: async (n: number) => {
        const h = await state.reader.getBlockHash(n);
        return { hash: () => h };
      },
      putBlock: async () => {},
      shallowCopy() {
        return this;
      },
    };
    // biome-ignore lint/suspicious/noExplicitAny: the VM accepts any object with the EVM blockchain shape
    const vm = await createVM({ common, stateManager: state, blockchain: blockchain as any });
    slots.push({ vm, state });
  }
  const free = [...slots];
  const waiters: ((s: Slot) => void)[] = [];
  const acquire = (): Promise<Slot> => {
    const s = free.pop();
    return s ? Promise.resolve(s) : new Promise((r) => waiters.push(r));
  };
  const release = (s: Slot) => {
    const w = waiters.shift();
    if (w) w(s);
    else free.push(s);
  };

  const watchedAccounts = new Set<string>();
  const watchedSlots = new Map<string, { address: string; slot: bigint }>();
  let head: Head | undefined;
  let headLoading: Promise<Head> | undefined;

  function simBlock(h: RpcBlock, baseFee: bigint): Block {
    const parentExcess = BigInt(h.excessBlobGas ?? '0x0');
    const parentBlobUsed = BigInt(h.blobGasUsed ?? '0x0');
    const target = 393_216n; // Cancun blob gas target per block
    const excess = parentExcess + parentBlobUsed > target ? parentExcess + parentBlobUsed - target : 0n;
    return createBlock(
      {
        header: {
          number: BigInt(h.number) + 1n,
          parentHash: hexToBytes(h.hash as `0x${string}`),
          // The pending block's timestamp is unknown; one second after the parent is the earliest valid value.
          timestamp: BigInt(h.timestamp) + 1n,
          gasLimit: BigInt(h.gasLimit),
          baseFeePerGas: baseFee,
          coinbase: createAddressFromString(h.miner),
          mixHash: h.mixHash ? hexToBytes(h.mixHash as `0x${string}`) : new Uint8Array(32),
          excessBlobGas: excess,
        },
      },
      { common, skipConsensusFormatValidation: true },
    );
  }

  async function loadHead(tag: string): Promise<Head> {
    const b = await rpc.call<RpcBlock | null>('eth_getBlockByNumber', [tag, false]);
    if (!b) throw new EngineError(`block ${tag} not found`);
    if (head && head.hash === b.hash) return head;
    const baseFee = nextBaseFee({
      gasLimit: BigInt(b.gasLimit),
      gasUsed: BigInt(b.gasUsed),
      baseFee: BigInt(b.baseFeePerGas ?? '0x0'),
    });
    const h: Head = {
      number: BigInt(b.number),
      hash: b.hash,
      reader: new BlockReader(rpc, BigInt(b.number)),
      block: simBlock(b, baseFee),
      baseFee,
      header: b,
    };
    head = h;
    if (watchedAccounts.size + watchedSlots.size > 0) {
      await h.reader.prefetch(watchedAccounts, watchedSlots.values());
    }
    return h;
  }

  async function newHead(blockNumber?: bigint | number): Promise<bigint> {
    const tag = blockNumber === undefined ? 'latest' : `0x${BigInt(blockNumber).toString(16)}`;
    headLoading = loadHead(tag);
    try {
      const h = await headLoading;
      log.debug(
        { head: Number(h.number), accounts: watchedAccounts.size, slots: watchedSlots.size },
        'head loaded, watched state prefetched',
      );
      return h.number;
    } finally {
      headLoading = undefined;
    }
  }

  async function currentHead(): Promise<Head> {
    if (headLoading) return headLoading;
    if (head) return head;
    await newHead();
    return head!;
  }

  function addTargets(targets: WatchTarget | Invariant[]): WatchTarget {
    const t: WatchTarget = { accounts: [], slots: [] };
    if (Array.isArray(targets)) {
      for (const inv of targets) {
        for (const o of observablesOf(inv)) {
          if (o.kind === 'balance') t.accounts!.push(o.address);
          else t.slots!.push({ address: o.address, slot: o.slot });
        }
        // The contract's code and balance are read by any call into it.
        if ('field' in inv) t.accounts!.push(inv.field.contract);
      }
    } else {
      t.accounts = (targets.accounts ?? []).map(lower);
      t.slots = (targets.slots ?? []).map((s) => ({ address: lower(s.address), slot: s.slot }));
    }
    for (const a of t.accounts!) watchedAccounts.add(a);
    for (const s of t.slots!) watchedSlots.set(`${s.address}:${s.slot}`, s);
    return t;
  }

  // Every tx constructor copies its Common and re-merges tx params through JSON (~0.4 ms per tx, the
  // largest cost of a warm check). Txs share one private, pre-parametrised Common whose copy is itself.
  let txCommon: Common | undefined;
  // A pending tx is re-checked at every head until mined: keep its parsed form (bounded, least
  // recently used out).
  const parsedTxs = new LRUCache<string, TypedTransaction>({ max: 4096 });
  async function toEthjsTx(raw: RpcTransaction): Promise<TypedTransaction> {
    const key = raw.hash ? `${raw.hash}:${lower(raw.from ?? '')}` : undefined;
    const hit = key ? parsedTxs.get(key) : undefined;
    if (hit) return hit;
    const tx = await parseTx(raw);
    if (key) parsedTxs.set(key, tx);
    return tx;
  }

  async function parseTx(raw: RpcTransaction): Promise<TypedTransaction> {
    if (typeof raw.from !== 'string')
      throw new EngineError("transaction has no `from`: pass the node's pending tx object");
    const params: Record<string, unknown> = { ...raw };
    // Pending 1559 txs come with an effective gasPrice the typed constructor would reject.
    if (raw.type !== undefined && BigInt(raw.type) >= 2n) params.gasPrice = undefined;
    const tx = await createTxFromRPC(params as Parameters<typeof createTxFromRPC>[0], {
      common: txCommon ?? common,
      freeze: false,
    });
    if (!txCommon) {
      const c = tx.common;
      c.copy = () => c;
      c.updateParams = () => c;
      txCommon = c;
    }
    // Trust the node's `from`: recovering it from the signature costs ~2.5 ms per tx.
    const sender = createAddressFromString(raw.from);
    (tx as { getSenderAddress: () => typeof sender }).getSenderAddress = () => sender;
    return tx;
  }

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

  async function runOne(slot: Slot, block: Block, tx: TypedTransaction, hash?: string): Promise<SimulatedTx> {
    try {
      const r = await runTx(slot.vm, {
        tx,
        block,
        skipBlockGasLimitValidation: true,
        skipHardForkValidation: true,
      });
      const ex = r.execResult.exceptionError;
      return {
        ...(hash ? { hash } : {}),
        status: ex ? 'reverted' : 'success',
        gasUsed: r.totalGasSpent.toString(),
        ...(ex ? { error: ex.error } : {}),
      };
    } catch (e) {
      // Our own errors (RPC down, bad input) are engine failures; anything else is the EVM refusing the tx.
      const status: TxStatus = e instanceof VigilError ? 'error' : 'invalid';
      return { ...(hash ? { hash } : {}), status, error: errMsg(e) };
    }
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
    let h: Head;
    let reader: BlockReader;
    let txs: TypedTransaction[];
    let priorsRaw: RpcTransaction[];
    const observables = new Map<string, Observable>();
    for (const inv of req.invariants)
      for (const o of observablesOf(inv)) observables.set(observableKey(o), o);
    try {
      h = await currentHead();
      blockNumber = Number(h.number);
      reader = readCache === 'perCheck' ? new BlockReader(rpc, h.number) : h.reader;
      const readsBefore = reader.reads;
      // Warm everything we know will be read, in one batch, before taking a VM.
      const accounts = new Set<string>([lower(req.tx.from), lower(h.header.miner)]);
      if (req.tx.to) accounts.add(lower(req.tx.to));
      const slotsToRead: { address: string; slot: bigint }[] = [];
      for (const o of observables.values()) {
        if (o.kind === 'balance') accounts.add(o.address);
        else slotsToRead.push(o);
      }
      await reader.prefetch(accounts, slotsToRead);
      priorsRaw = req.priorTxs === 'auto' ? await autoPriors(reader, req.tx) : [...(req.priorTxs ?? [])];
      priorsRaw.sort((a, b) => (BigInt(a.nonce) < BigInt(b.nonce) ? -1 : 1));
      txs = await Promise.all([...priorsRaw, req.tx].map(toEthjsTx));
      reads = reader.reads - readsBefore;
    } catch (e) {
      return failAll(`engine: ${errMsg(e)}`, { hash: req.tx.hash, status: 'error', error: errMsg(e) });
    }

    // Pending txs whose fee cap is under the next base fee are simulated at their cap (they wait for it).
    let block = h.block;
    const main = txs[txs.length - 1]!;
    const cap =
      'maxFeePerGas' in main ? (main.maxFeePerGas as bigint) : (main as { gasPrice: bigint }).gasPrice;
    if (cap < h.baseFee) block = simBlock(h.header, cap);

    const slot = await acquire();
    const readsBefore = reader.reads;
    try {
      slot.state.reset(reader);
      const priorResults: SimulatedTx[] = [];
      for (let i = 0; i < priorsRaw.length; i++) {
        const r = await runOne(slot, block, txs[i]!, priorsRaw[i]!.hash);
        priorResults.push(r);
        if (r.status === 'invalid' || r.status === 'error') {
          return failAll(
            `prior tx ${r.hash ?? i} could not be applied: ${r.error}`,
            { hash: req.tx.hash, status: 'error' },
            priorResults,
          );
        }
      }
      const txResult = await runOne(slot, block, main, req.tx.hash);
      if (txResult.status === 'invalid' || txResult.status === 'error') {
        const hint =
          txResult.error?.includes('nonce') && priorsRaw.length === 0
            ? ' (earlier pending txs of the sender not applied?)'
            : '';
        return failAll(`tx not simulated: ${txResult.error}${hint}`, txResult, priorResults);
      }
      const before = new Map<string, bigint>();
      const after = new Map<string, bigint>();
      await Promise.all(
        [...observables].map(async ([k, o]) => {
          if (o.kind === 'balance') {
            before.set(k, (await reader.getAccount(o.address)).balance);
            after.set(k, await slot.state.readBalance(o.address));
          } else {
            before.set(k, await reader.getStorage(o.address, o.slot));
            after.set(k, await slot.state.readSlot(o.address, o.slot));
          }
        }),
      );
      const results = req.invariants.map((inv) => {
        try {
          return evaluateInvariant(inv, { before, after });
        } catch (e) {
          return { id: inv.id, kind: inv.kind, status: 'error' as const, reason: errMsg(e) };
        }
      });
      reads += reader.reads - readsBefore;
      return {
        blockNumber,
        tx: txResult,
        priorTxs: priorResults,
        invariants: results,
        violated: results.some((r) => r.status === 'violated'),
        durationMs: performance.now() - t0,
        rpcReads: reads,
      };
    } catch (e) {
      return failAll(`engine: ${errMsg(e)}`, { hash: req.tx.hash, status: 'error', error: errMsg(e) });
    } finally {
      release(slot);
    }
  }

  return {
    check,
    newHead,
    async prefetch(targets) {
      const t = addTargets(targets);
      const h = await currentHead();
      await h.reader.prefetch(t.accounts ?? [], t.slots ?? []);
    },
    chainId,
    common,
    close() {
      if (ownsRpc) rpc.close();
    },
  };
}
