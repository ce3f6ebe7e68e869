import type { Block } from '@ethereumjs/block';
import type { Common } from '@ethereumjs/common';
import { type TypedTransaction, createTxFromRPC } from '@ethereumjs/tx';
import { createAddressFromString } from '@ethereumjs/util';
import { runTx } from '@ethereumjs/vm';
import { LRUCache } from 'lru-cache';
import type { RpcTransaction } from '../../chains/ethereum/types.ts';
import { VigilError } from '../../common/errors.ts';
import type { BlockReader } from './forkState.ts';
import { type Invariant, type InvariantResult, type Observable, evaluateInvariant } from './invariants.ts';
import { EngineError, type SimulatedTx, type TxStatus, errMsg } from './types.ts';
import type { VmSlot } from './vmPool.ts';

/** Pending txs in @ethereumjs form, parsed once (a pending tx is re-checked at every head until mined). */
export interface TxParser {
  parse(raw: RpcTransaction): Promise<TypedTransaction>;
}

export function createTxParser(common: Common, max = 4096): TxParser {
  // Every tx constructor copies its Common and re-merges tx params through JSON (~0.4 ms per tx, the
  // largest cost of a warm check). Txs share one private, pre-parametrised Common whose copy is itself.
  let txCommon: Common | undefined;
  const parsed = new LRUCache<string, TypedTransaction>({ max });

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

  return {
    async parse(raw) {
      const key = raw.hash ? `${raw.hash}:${(raw.from ?? '').toLowerCase()}` : undefined;
      const hit = key ? parsed.get(key) : undefined;
      if (hit) return hit;
      const tx = await parseTx(raw);
      if (key) parsed.set(key, tx);
      return tx;
    },
  };
}

/** Runs one tx on the slot's VM; never throws (a failure is the tx's status). */
export async function runOne(
  slot: VmSlot,
  block: Block,
  tx: TypedTransaction,
  hash?: string,
): Promise<SimulatedTx> {
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

/** What a simulation ran and found; `failed` names why the invariants could not be judged. */
export type Simulation =
  | { failed: string; tx: SimulatedTx; priorTxs: SimulatedTx[] }
  | { failed?: undefined; tx: SimulatedTx; priorTxs: SimulatedTx[]; invariants: InvariantResult[] };

/**
 * The sender's priors then the tx, on `slot` reset onto `reader`'s block, and each invariant
 * judged on its observables before (the block) and after (the VM's state).
 */
export async function simulate(opts: {
  slot: VmSlot;
  reader: BlockReader;
  block: Block;
  priors: { raw: RpcTransaction; tx: TypedTransaction }[];
  main: { raw: RpcTransaction; tx: TypedTransaction };
  invariants: Invariant[];
  observables: Map<string, Observable>;
}): Promise<Simulation> {
  const { slot, reader, block } = opts;
  slot.state.reset(reader);
  const priorTxs: SimulatedTx[] = [];
  for (let i = 0; i < opts.priors.length; i++) {
    const p = opts.priors[i]!;
    const r = await runOne(slot, block, p.tx, p.raw.hash);
    priorTxs.push(r);
    if (r.status === 'invalid' || r.status === 'error')
      return {
        failed: `prior tx ${r.hash ?? i} could not be applied: ${r.error}`,
        tx: { hash: opts.main.raw.hash, status: 'error' },
        priorTxs,
      };
  }
  const tx = await runOne(slot, block, opts.main.tx, opts.main.raw.hash);
  if (tx.status === 'invalid' || tx.status === 'error') {
    const hint =
      tx.error?.includes('nonce') && opts.priors.length === 0
        ? ' (earlier pending txs of the sender not applied?)'
        : '';
    return { failed: `tx not simulated: ${tx.error}${hint}`, tx, priorTxs };
  }
  const before = new Map<string, bigint>();
  const after = new Map<string, bigint>();
  await Promise.all(
    [...opts.observables].map(async ([k, o]) => {
      if (o.kind === 'balance') {
        before.set(k, (await reader.getAccount(o.address)).balance);
        after.set(k, await slot.state.readBalance(o.address));
      } else {
        before.set(k, await reader.getStorage(o.address, o.slot));
        after.set(k, await slot.state.readSlot(o.address, o.slot));
      }
    }),
  );
  const invariants = opts.invariants.map((inv) => {
    try {
      return evaluateInvariant(inv, { before, after });
    } catch (e) {
      return { id: inv.id, kind: inv.kind, status: 'error' as const, reason: errMsg(e) };
    }
  });
  return { tx, priorTxs, invariants };
}
