import type { RpcTransaction } from '../../chains/ethereum/types.ts';
import { VigilError } from '../../common/errors.ts';
import type { Invariant, InvariantResult } from './invariants.ts';

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

// ethereumjs appends a long "(vm hf=... -> block ... -> tx ...)" context to its messages: keep the first part.
export const errMsg = (e: unknown) =>
  e instanceof Error ? e.message.split('\n')[0]!.replace(/ \(vm hf=.*$/, '') : String(e);
