import { Transaction, Wallet, toQuantity } from 'ethers';
import { LRUCache } from 'lru-cache';
import type { JsonRpcClient } from '../../chains/ethereum/rpc.ts';
import type { RpcTransaction } from '../../chains/ethereum/types.ts';
import { ServiceUnavailableError } from '../../common/errors.ts';
import { type Engine, nextBaseFee } from '../engine/engine.ts';
import { type Invariant, parseInvariants } from '../engine/invariants.ts';
import type { CanaryCall, RegisteredInvariant } from './registry.ts';

/**
 * Canaries: transactions the validator KNOWS violate a registered invariant, sent to miners exactly
 * like real pending txs, so that every miner's violated recall is measured each epoch (rewards.ts)
 * instead of assumed. The ground truth is the validator's own EVM engine at the challenge block: a
 * candidate is kept only if the engine runs it successfully and says its invariant is violated.
 *
 * Where the call comes from: calls the protocol team registers with its invariant (`canaries` on
 * the registration, never sent to miners: the challenge carries the definition alone), and the
 * calls of violations the miners' consensus decided earlier in this process (`learn`). Either is
 * re-sent from one of the validator's canary senders (DEFENSE_CANARY_KEYS: funded accounts only
 * the validator holds) at its real nonce, with the fees and gas limit a wallet would pick, signed:
 * hash, signature and sender are consistent, and the sender can pay for it. A canary is never
 * broadcast, so it never lands, and the validator never acts on it (no pause, alert, finding or
 * notification; validator.ts). Limits: docs/architecture.md, "Canaries".
 */

/** Replaced in a registered call's data by the canary sender's address (40 hex digits, no 0x). */
export const SENDER_PLACEHOLDER = '{sender}';

export interface Canary {
  tx: RpcTransaction;
  /** The invariant the canary was built to violate. */
  invariant: string;
  /** The validator's simulation per invariant (errors left out: they are not scored). */
  truth: { id: string; outcome: 'holds' | 'violated' }[];
}

export interface CanaryMaker {
  /** Remembers the call of a decided violation as a canary for those invariants (bounded). */
  learn(invariantIds: string[], tx: RpcTransaction): void;
  /** A canary for one of `invariants` at block `head`, or why none could be made. */
  make(invariants: RegisteredInvariant[], head: number): Promise<Canary | { skipped: string }>;
  /** The senders' addresses (lower case). */
  readonly senders: string[];
}

export interface CanaryMakerDeps {
  /** The validator's own engine: its verdict is the ground truth. */
  engine: Engine;
  rpc: JsonRpcClient;
  chainId: number;
  /** Private keys (0x hex) of the canary senders. */
  keys: string[];
  /** Candidates tried per canary before giving up (default 4). */
  attempts?: number;
  random?: () => number;
}

const LEARNED_PER_INVARIANT = 16;

interface RpcBlock {
  baseFeePerGas?: string;
  gasLimit: string;
  gasUsed: string;
}

export function createCanaryMaker(deps: CanaryMakerDeps): CanaryMaker {
  if (deps.keys.length === 0) throw new RangeError('canaries need at least one sender key');
  const random = deps.random ?? Math.random;
  const wallets = deps.keys.map((k) => new Wallet(k));
  const learned = new Map<string, LRUCache<string, CanaryCall>>();
  const parsed = new LRUCache<string, Invariant[]>({ max: 8 });
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  /** The calls learned for an invariant, oldest first (the order a canary is picked from). */
  const learnedCalls = (id: string): CanaryCall[] =>
    [...(learned.get(id)?.rvalues() ?? [])].filter((c): c is CanaryCall => c !== undefined);

  const invariantsOf = (list: RegisteredInvariant[]): Invariant[] => {
    const key = JSON.stringify(list.map((i) => i.definition));
    let p = parsed.get(key);
    if (!p) {
      p = parseInvariants(list.map((i) => i.definition));
      parsed.set(key, p);
    }
    return p;
  };

  /** A signed type-2 tx from `wallet` as a wallet would fill it, in the node's pending-tx shape. */
  async function build(wallet: Wallet, call: CanaryCall, head: number): Promise<RpcTransaction> {
    const from = wallet.address.toLowerCase();
    const data = call.data.replaceAll(SENDER_PLACEHOLDER, from.slice(2));
    const value = BigInt(call.value ?? '0');
    const at = toQuantity(head);
    const [nonce, gas, prio, block] = await Promise.all([
      deps.rpc.call<string>('eth_getTransactionCount', [from, 'pending']),
      deps.rpc.call<string>('eth_estimateGas', [{ from, to: call.to, data, value: toQuantity(value) }]),
      deps.rpc.call<string>('eth_maxPriorityFeePerGas'),
      deps.rpc.call<RpcBlock | null>('eth_getBlockByNumber', [at, false]),
    ]);
    if (!block)
      throw new ServiceUnavailableError(
        `the Ethereum node (ETH_RPC_URL) has no block ${head}, the head to build the canary on`,
      );
    const baseFee = BigInt(block.baseFeePerGas ?? '0x0');
    const maxPriorityFeePerGas = BigInt(prio);
    // What ethers' getFeeData picks: room for the base fee to double.
    const maxFeePerGas = 2n * baseFee + maxPriorityFeePerGas;
    const signed = Transaction.from(
      await wallet.signTransaction({
        type: 2,
        chainId: deps.chainId,
        nonce: Number(BigInt(nonce)),
        to: call.to,
        data,
        value,
        gasLimit: BigInt(gas),
        maxFeePerGas,
        maxPriorityFeePerGas,
      }),
    );
    const sig = signed.signature!;
    // A node reports a pending tx's gasPrice at the NEXT block's base fee (geth and anvil alike).
    const next = nextBaseFee({ gasLimit: BigInt(block.gasLimit), gasUsed: BigInt(block.gasUsed), baseFee });
    const effective = next + maxPriorityFeePerGas < maxFeePerGas ? next + maxPriorityFeePerGas : maxFeePerGas;
    // Field for field what a node answers for a pending type-2 tx (anvil's order; geth's set).
    return {
      type: '0x2',
      chainId: toQuantity(deps.chainId),
      nonce: toQuantity(BigInt(nonce)),
      gas: toQuantity(BigInt(gas)),
      maxFeePerGas: toQuantity(maxFeePerGas),
      maxPriorityFeePerGas: toQuantity(maxPriorityFeePerGas),
      to: call.to.toLowerCase(),
      value: toQuantity(value),
      accessList: [],
      input: data,
      r: toQuantity(sig.r),
      s: toQuantity(sig.s),
      yParity: toQuantity(sig.yParity),
      v: toQuantity(sig.yParity),
      hash: signed.hash!,
      blockHash: null,
      blockNumber: null,
      transactionIndex: null,
      from,
      gasPrice: toQuantity(effective),
    };
  }

  async function tryOne(
    inv: RegisteredInvariant,
    call: CanaryCall,
    all: Invariant[],
    head: number,
  ): Promise<Canary | string> {
    let tx: RpcTransaction;
    try {
      tx = await build(pick(wallets), call, head);
    } catch (e) {
      // eth_estimateGas fails on a call that reverts (e.g. the contract is paused).
      return `building the tx for ${inv.id} failed: ${(e as Error).message.split('\n')[0]}`;
    }
    const r = await deps.engine.check({ tx, invariants: all, priorTxs: [] });
    if (r.tx.status !== 'success') return `${inv.id}: the call ${r.tx.status} (${r.tx.error ?? ''})`;
    const target = r.invariants.find((x) => x.id === inv.id);
    if (target?.status !== 'violated') return `${inv.id}: the call does not violate it (${target?.status})`;
    const truth = r.invariants.flatMap((x) =>
      x.status === 'error' ? [] : [{ id: x.id, outcome: x.status as 'holds' | 'violated' }],
    );
    return { tx, invariant: inv.id, truth };
  }

  return {
    senders: wallets.map((w) => w.address.toLowerCase()),
    learn(invariantIds, tx) {
      if (!tx.to || !tx.input) return;
      const call: CanaryCall = {
        to: tx.to.toLowerCase(),
        data: tx.input,
        value: BigInt(tx.value ?? '0x0').toString(),
      };
      for (const id of invariantIds) {
        let calls = learned.get(id);
        if (!calls) {
          calls = new LRUCache({ max: LEARNED_PER_INVARIANT });
          learned.set(id, calls);
        }
        calls.set(`${call.to}:${call.data}:${call.value}`, call);
      }
    },
    async make(invariants, head) {
      const candidates = invariants.flatMap((inv) =>
        [...(inv.canaries ?? []), ...learnedCalls(inv.id)].map((call) => ({ inv, call })),
      );
      if (candidates.length === 0)
        return { skipped: 'no canary call registered with, or learned for, any watched invariant' };
      const all = invariantsOf(invariants);
      await deps.engine.newHead(head);
      const reasons: string[] = [];
      for (let i = 0; i < (deps.attempts ?? 4); i++) {
        const c = pick(candidates);
        const got = await tryOne(c.inv, c.call, all, head);
        if (typeof got !== 'string') return got;
        reasons.push(got);
      }
      return { skipped: [...new Set(reasons)].join('; ') };
    },
  };
}

/** Canary rounds an epoch needs so that each of `live` miners is sent `perMiner` of them, k at a time. */
export function canaryRounds(live: number, perMiner: number, k: number): number {
  if (live === 0 || perMiner === 0) return 0;
  return Math.ceil((live * perMiner) / Math.max(1, Math.min(k, live)));
}

export interface CanaryPlan {
  /**
   * How many canaries are due now. At a new epoch it draws the epoch's canary times at random over
   * its window (see canaryWindow); when more miners are live than planned for, it adds times over
   * what is left of it.
   */
  due(now: number, epoch: { number: number; startedAt: number }, live: number): number;
  /** The k miners for the next canary: those sent fewest canaries this epoch, ties at random. */
  pick(live: string[]): string[];
}

/**
 * The share of an epoch canaries are sent in: its first 90 %, and at least two rounds' time
 * (`closeMs`, the round deadline) before its end, but never less than its first half. Why: a
 * round is scored when it closes; a canary sent near the end would close in the next epoch and
 * leave this one short of the violated cases every miner needs to be paid (rewards.ts).
 */
export function canaryWindow(epochMs: number, closeMs = 0): number {
  return Math.min(0.9, Math.max(0.5, 1 - (2 * closeMs) / epochMs));
}

export function createCanaryPlan(opts: {
  perMiner: number;
  k: number;
  epochMs: number;
  /** How long a canary round can take to close (the round deadline). */
  closeMs?: number;
  random?: () => number;
}): CanaryPlan {
  const random = opts.random ?? Math.random;
  let epoch = -1;
  let planned = 0;
  let times: number[] = [];
  let served = new Map<string, number>();
  const draw = (n: number, from: number, to: number) => {
    for (let i = 0; i < n; i++) times.push(from + random() * Math.max(0, to - from));
    times.sort((a, b) => a - b);
  };
  return {
    due(now, e, live) {
      const end = e.startedAt + canaryWindow(opts.epochMs, opts.closeMs) * opts.epochMs;
      if (e.number !== epoch) {
        epoch = e.number;
        times = [];
        served = new Map();
        planned = canaryRounds(live, opts.perMiner, opts.k);
        draw(planned, Math.max(now, e.startedAt), Math.max(now, end));
      } else {
        const need = canaryRounds(live, opts.perMiner, opts.k);
        if (need > planned) {
          draw(need - planned, now, Math.max(now, end));
          planned = need;
        }
      }
      let n = 0;
      while (times.length > 0 && times[0]! <= now) {
        times.shift();
        n++;
      }
      return n;
    },
    pick(live) {
      const shuffled = live
        .map((m) => ({ m, r: random() }))
        .sort((a, b) => (served.get(a.m) ?? 0) - (served.get(b.m) ?? 0) || a.r - b.r)
        .slice(0, opts.k)
        .map((x) => x.m);
      for (const m of shuffled) served.set(m, (served.get(m) ?? 0) + 1);
      return shuffled.sort();
    },
  };
}
