import { LRUCache } from 'lru-cache';
import { VigilError } from '../../common/errors.ts';
import { type JsonRpcClient, RpcError } from './rpc.ts';

/**
 * What moved value or created contracts in an Ethereum block, read from a node: native ETH (the
 * transaction's own value and value moved by internal calls, from the node's traces), ERC-20
 * `Transfer` logs of any contract (`eth_getLogs` by topic), and contract creations (top-level or
 * internal). Traces come from `trace_block` (Parity style: anvil, Erigon, Reth, Nethermind; anvil
 * answers it from the traces it kept when mining, 30× faster than re-executing the block) or, on a
 * node without it (geth), `debug_traceBlockByNumber` with the callTracer; both give the same
 * facts (a test compares them), the call path being the trace address. Patrol's Ethereum miner and validator both read through this,
 * so they derive the same facts from the same node.
 */

/** keccak256("Transfer(address,address,uint256)"). */
export const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
const ZERO_ADDRESS = `0x${'0'.repeat(40)}`;

export interface NativeTransfer {
  txHash: string;
  /** "" for the transaction's own value, "0.2" for the third call of the first call (callTracer). */
  callPath: string;
  from: string;
  to: string;
  amount: bigint;
}

export interface TokenTransfer {
  txHash: string;
  logIndex: number;
  /** The ERC-20 contract that emitted the log. */
  token: string;
  from: string;
  to: string;
  amount: bigint;
}

export interface Creation {
  txHash: string;
  callPath: string;
  deployer: string;
  contract: string;
}

export interface BlockActivity {
  number: number;
  hash: string;
  /** Block timestamp, ms. */
  timestamp: number;
  native: NativeTransfer[];
  tokens: TokenTransfer[];
  creations: Creation[];
}

export class EthereumReadError extends VigilError {
  override name = 'EthereumReadError';
}

/** A callTracer frame, as geth and anvil return it. */
interface CallFrame {
  type: string;
  from: string;
  to?: string;
  value?: string;
  error?: string;
  calls?: CallFrame[];
}

interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
}

const hex = (n: number) => `0x${n.toString(16)}`;
/** JSON-RPC "method not found" (-32601), or a node that words it so. */
const missingMethod = (e: RpcError) =>
  e.code === -32601 || /not (found|supported|available)|does not exist|unknown method/i.test(e.message);
const topicAddress = (t: string) => `0x${t.slice(-40)}`.toLowerCase();

/**
 * Value moves and creations of one transaction's call tree. A frame that failed (`error`) moved
 * nothing, and neither did anything under it (reverted). DELEGATECALL and CALLCODE carry the
 * caller's value without moving it; STATICCALL moves none; SELFDESTRUCT sends the balance.
 */
export function callTreeActivity(
  txHash: string,
  root: CallFrame,
): Pick<BlockActivity, 'native' | 'creations'> {
  const native: NativeTransfer[] = [];
  const creations: Creation[] = [];
  const walk = (f: CallFrame, path: string) => {
    if (f.error) return;
    const type = f.type.toUpperCase();
    const to = f.to?.toLowerCase();
    const from = f.from.toLowerCase();
    const amount = f.value ? BigInt(f.value) : 0n;
    const moves = type === 'CALL' || type === 'CREATE' || type === 'CREATE2' || type === 'SELFDESTRUCT';
    if (moves && to && amount > 0n && from !== to) native.push({ txHash, callPath: path, from, to, amount });
    if ((type === 'CREATE' || type === 'CREATE2') && to)
      creations.push({ txHash, callPath: path, deployer: from, contract: to });
    f.calls?.forEach((c, i) => walk(c, path === '' ? String(i) : `${path}.${i}`));
  };
  walk(root, '');
  return { native, creations };
}

/** A `trace_block` entry (Parity style). */
interface ParityTrace {
  type: string;
  action: {
    from?: string;
    to?: string;
    value?: string;
    callType?: string;
    address?: string;
    refundAddress?: string;
    balance?: string;
  };
  result?: { address?: string } | null;
  error?: string;
  traceAddress: number[];
  transactionHash?: string | null;
  blockHash?: string;
}

/**
 * The same facts as callTreeActivity, from a block's Parity-style traces: a trace under a failed
 * one (same transaction, its trace address a prefix) was reverted with it; rewards carry no tx.
 */
export function parityActivity(traces: ParityTrace[]): Pick<BlockActivity, 'native' | 'creations'> {
  const native: NativeTransfer[] = [];
  const creations: Creation[] = [];
  const failed = new Set<string>();
  for (const t of traces) {
    if (!t.transactionHash) continue;
    const txHash = t.transactionHash.toLowerCase();
    const path = t.traceAddress.join('.');
    const reverted =
      t.error !== undefined ||
      t.traceAddress.some((_, i) => failed.has(`${txHash}:${t.traceAddress.slice(0, i).join('.')}`));
    if (reverted) {
      failed.add(`${txHash}:${path}`);
      continue;
    }
    const a = t.action;
    let from = a.from?.toLowerCase();
    let to: string | undefined;
    let amount = 0n;
    if (t.type === 'call') {
      to = a.to?.toLowerCase();
      if (a.callType === 'call') amount = BigInt(a.value ?? '0x0');
    } else if (t.type === 'create') {
      to = t.result?.address?.toLowerCase();
      amount = BigInt(a.value ?? '0x0');
      if (from && to) creations.push({ txHash, callPath: path, deployer: from, contract: to });
    } else if (t.type === 'suicide') {
      from = a.address?.toLowerCase();
      to = a.refundAddress?.toLowerCase();
      amount = BigInt(a.balance ?? '0x0');
    }
    if (from && to && amount > 0n && from !== to) native.push({ txHash, callPath: path, from, to, amount });
  }
  return { native, creations };
}

/**
 * An ERC-20 Transfer log as a transfer, or null: three topics (ERC-721's has four), a 32-byte
 * amount, value moved (not zero), between two holders (mints and burns, the zero address, are
 * not transfers between holders: the zero address would join every holder of every token).
 */
export function tokenTransferOf(log: RpcLog): TokenTransfer | null {
  if (log.removed || log.topics.length !== 3 || log.topics[0]?.toLowerCase() !== TRANSFER_TOPIC) return null;
  if (!/^0x[0-9a-fA-F]{64}$/.test(log.data)) return null;
  const from = topicAddress(log.topics[1]!);
  const to = topicAddress(log.topics[2]!);
  const amount = BigInt(log.data);
  if (amount === 0n || from === to || from === ZERO_ADDRESS || to === ZERO_ADDRESS) return null;
  return {
    txHash: log.transactionHash.toLowerCase(),
    logIndex: Number(log.logIndex),
    token: log.address.toLowerCase(),
    from,
    to,
    amount,
  };
}

export interface ActivityReader {
  /** One block's activity, from the cache or the node. */
  block(n: number): Promise<BlockActivity>;
  /**
   * Blocks from..to (both included), in order: the uncached ones read with one `eth_getLogs` per
   * chunk of `logsChunk` blocks, and headers and traces batched, `concurrency` chunks at a time.
   */
  range(from: number, to: number): Promise<BlockActivity[]>;
  /** The node's best block. */
  head(): Promise<number>;
  /** Whether `address` holds code at block `n` (an EIP-7702 delegation is still an account). */
  isContract(address: string, n: number): Promise<boolean>;
  readonly cache: { size: number; clear(): void };
}

export interface ActivityReaderOptions {
  /** Blocks kept (LRU). */
  maxBlocks?: number;
  /** Blocks per eth_getLogs call and per header/trace batch. */
  logsChunk?: number;
  /** Chunks read at the same time. */
  concurrency?: number;
  /** Which trace call to use; `auto` (default) tries `trace_block` once and keeps the first that works. */
  traces?: 'auto' | 'trace_block' | 'callTracer';
}

/** A reader over `rpc` (chains/ethereum/rpc.ts: calls of one tick go as one JSON-RPC batch). */
export function createActivityReader(rpc: JsonRpcClient, opts: ActivityReaderOptions = {}): ActivityReader {
  const logsChunk = opts.logsChunk ?? 50;
  const concurrency = opts.concurrency ?? 4;
  // A block read alone (a validator checking one edge) shares the read in flight for it.
  const blocks = new LRUCache<number, BlockActivity>({
    max: opts.maxBlocks ?? 5_000,
    fetchMethod: async (n) => (await readChunk(n, n))[0]!,
    ignoreFetchAbort: true,
  });
  const code = new LRUCache<string, { contract: boolean }>({
    max: 100_000,
    fetchMethod: async (key) => {
      const [address, n] = key.split('@') as [string, string];
      const c = await rpc.call<string>('eth_getCode', [address, hex(Number(n))]);
      return { contract: c !== '0x' && !/^0xef0100[0-9a-f]{40}$/i.test(c) };
    },
    ignoreFetchAbort: true,
  });

  let traceMode: 'trace_block' | 'callTracer' | undefined =
    opts.traces === 'auto' || opts.traces === undefined ? undefined : opts.traces;
  /** One block's value moves and creations, by the node's trace call (see the top of this file). */
  async function traceBlock(
    n: number,
  ): Promise<Pick<BlockActivity, 'native' | 'creations'> & { blockHash?: string }> {
    if (traceMode !== 'callTracer') {
      try {
        const traces = await rpc.call<ParityTrace[]>('trace_block', [hex(n)]);
        traceMode = 'trace_block';
        const blockHash = traces.find((t) => t.blockHash)?.blockHash?.toLowerCase();
        return { ...parityActivity(traces), ...(blockHash ? { blockHash } : {}) };
      } catch (err) {
        // Only a node that lacks the method falls back; any other failure is the node's.
        if (traceMode === 'trace_block' || !(err instanceof RpcError) || !missingMethod(err)) throw err;
        traceMode = 'callTracer';
      }
    }
    const frames = await rpc.call<{ txHash: string; result: CallFrame }[]>('debug_traceBlockByNumber', [
      hex(n),
      { tracer: 'callTracer' },
    ]);
    const out: Pick<BlockActivity, 'native' | 'creations'> = { native: [], creations: [] };
    for (const f of frames) {
      const { native, creations } = callTreeActivity(f.txHash.toLowerCase(), f.result);
      out.native.push(...native);
      out.creations.push(...creations);
    }
    return out;
  }

  async function readChunk(from: number, to: number): Promise<BlockActivity[]> {
    const numbers = Array.from({ length: to - from + 1 }, (_, i) => from + i);
    const [logs, headers, traces] = await Promise.all([
      rpc.call<RpcLog[]>('eth_getLogs', [
        { fromBlock: hex(from), toBlock: hex(to), topics: [TRANSFER_TOPIC] },
      ]),
      Promise.all(
        numbers.map((n) =>
          rpc.call<{ hash: string; timestamp: string } | null>('eth_getBlockByNumber', [hex(n), false]),
        ),
      ),
      Promise.all(numbers.map(traceBlock)),
    ]);
    const out = numbers.map((n, i): BlockActivity => {
      const h = headers[i];
      if (!h) throw new EthereumReadError(`block ${n} is not on the node (head is lower)`);
      const activity: BlockActivity = {
        number: n,
        hash: h.hash.toLowerCase(),
        timestamp: Number(h.timestamp) * 1000,
        native: [],
        tokens: [],
        creations: [],
      };
      const { native, creations } = traces[i]!;
      if (traces[i]!.blockHash !== undefined && traces[i]!.blockHash !== activity.hash)
        throw new EthereumReadError(`block ${n} changed while it was read (reorg): read again`);
      activity.native = native;
      activity.creations = creations;
      return activity;
    });
    for (const log of logs) {
      const b = out[Number(log.blockNumber) - from];
      // A log of another block than the header read (a reorg between the calls): read again later.
      if (!b || log.blockHash.toLowerCase() !== b.hash)
        throw new EthereumReadError(`block ${log.blockNumber} changed while it was read (reorg): read again`);
      const t = tokenTransferOf(log);
      if (t) b.tokens.push(t);
    }
    return out;
  }

  return {
    cache: blocks,
    async block(n) {
      return (await blocks.fetch(n))!;
    },
    async range(from, to) {
      const missing: [number, number][] = [];
      for (let n = from; n <= to; n++) {
        if (blocks.has(n)) continue;
        const last = missing.at(-1);
        if (last && last[1] === n - 1 && n - last[0] < logsChunk) last[1] = n;
        else missing.push([n, n]);
      }
      let next = 0;
      const worker = async () => {
        while (next < missing.length) {
          const [a, b] = missing[next++]!;
          for (const activity of await readChunk(a, b)) blocks.set(activity.number, activity);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, missing.length) }, worker));
      const out: BlockActivity[] = [];
      for (let n = from; n <= to; n++) out.push(blocks.get(n) ?? (await this.block(n)));
      return out;
    },
    async head() {
      return Number(await rpc.call<string>('eth_blockNumber'));
    },
    async isContract(address, n) {
      return (await code.fetch(`${address.toLowerCase()}@${n}`))!.contract;
    },
  };
}
