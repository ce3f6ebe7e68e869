import { type Block, createBlock } from '@ethereumjs/block';
import type { Common } from '@ethereumjs/common';
import { createAddressFromString, hexToBytes } from '@ethereumjs/util';
import type { JsonRpcClient } from '../../chains/ethereum/rpc.ts';
import { VigilError } from '../../common/errors.ts';
import type { Log } from '../../common/logger.ts';
import { BlockReader } from './forkState.ts';
import { type Invariant, observablesOf } from './invariants.ts';

export interface WatchTarget {
  accounts?: string[];
  slots?: { address: string; slot: bigint }[];
}

export interface RpcBlock {
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

/** The block simulations run on top of: its per-block read cache and the pending block built on it. */
export interface Head {
  number: bigint;
  hash: string;
  reader: BlockReader;
  block: Block;
  baseFee: bigint;
  header: RpcBlock;
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

/** The pending block on top of `h` with this base fee (a tx capped under it is simulated at its cap). */
export function simBlock(common: Common, h: RpcBlock, baseFee: bigint): Block {
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

/**
 * Head tracking: the current head (loaded on first use or by `newHead`), its read cache, and the
 * watched state warmed at each new head.
 */
export interface HeadTracker {
  /** Move to a new head (latest, or the given number): new read cache, watched state prefetched. */
  newHead(blockNumber?: bigint | number): Promise<bigint>;
  /** The head now (a head being loaded is waited for). */
  current(): Promise<Head>;
  /** Registers state to warm at each head and warms it now. */
  prefetch(targets: WatchTarget | Invariant[]): Promise<void>;
}

const lower = (a: string) => a.toLowerCase();

export function createHeadTracker(opts: {
  rpc: JsonRpcClient;
  common: Common;
  log: Log;
  /** Thrown when a block is missing (the engine's own error class). */
  error?: new (
    msg: string,
  ) => VigilError;
}): HeadTracker {
  const Err = opts.error ?? VigilError;
  const watchedAccounts = new Set<string>();
  const watchedSlots = new Map<string, { address: string; slot: bigint }>();
  let head: Head | undefined;
  let loading: Promise<Head> | undefined;

  async function load(tag: string): Promise<Head> {
    const b = await opts.rpc.call<RpcBlock | null>('eth_getBlockByNumber', [tag, false]);
    if (!b) throw new Err(`block ${tag} not found`);
    if (head && head.hash === b.hash) return head;
    const baseFee = nextBaseFee({
      gasLimit: BigInt(b.gasLimit),
      gasUsed: BigInt(b.gasUsed),
      baseFee: BigInt(b.baseFeePerGas ?? '0x0'),
    });
    const h: Head = {
      number: BigInt(b.number),
      hash: b.hash,
      reader: new BlockReader(opts.rpc, BigInt(b.number)),
      block: simBlock(opts.common, b, baseFee),
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
    loading = load(tag);
    try {
      const h = await loading;
      opts.log.debug(
        { head: Number(h.number), accounts: watchedAccounts.size, slots: watchedSlots.size },
        'head loaded, watched state prefetched',
      );
      return h.number;
    } finally {
      loading = undefined;
    }
  }

  async function current(): Promise<Head> {
    if (loading) return loading;
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

  return {
    newHead,
    current,
    async prefetch(targets) {
      const t = addTargets(targets);
      const h = await current();
      await h.reader.prefetch(t.accounts ?? [], t.slots ?? []);
    },
  };
}
