import type { PauseResult } from '../actions.ts';
import type { InvariantConsensus } from '../consensus.ts';

export interface DefenseParams {
  /** Miners asked per transaction (k). */
  minersPerTx: number;
  /** Share of the asked miners a status needs (> 1/2; 2/3 by default). */
  threshold: number;
  /** How long after sending a challenge answers still count. */
  deadlineMs: number;
  /** How often the registry is re-read from Neo4j. */
  registryRefreshMs: number;
  /** A miner whose heartbeat is older than this is not asked. */
  minerTtlMs: number;
  /** A tx whose check could not start (no live miner, a Redis or RPC blip) is tried again this often... */
  retryMs: number;
  /** ...this many times at most (until then it is dropped once mined). */
  maxRetries: number;
  /** Canaries each live miner is sent per reward epoch (with `canaries` and `rewards` given). */
  canariesPerEpoch: number;
  /** Blocks after a pause is sent before its outcome is "not mined" (validator/outcomes.ts). */
  pauseWatchBlocks: number;
}

export const DEFAULT_DEFENSE_PARAMS: DefenseParams = {
  minersPerTx: 3,
  threshold: 2 / 3,
  deadlineMs: 2000,
  registryRefreshMs: 5000,
  minerTtlMs: 10_000,
  retryMs: 250,
  maxRetries: 40,
  canariesPerEpoch: 3,
  pauseWatchBlocks: 5,
};

export interface RoundReport {
  challengeId: string;
  txHash: string;
  from: string;
  asked: string[];
  answers: number;
  consensus: InvariantConsensus[];
  /** Per answer: the miner's own time for it, and its arrival after the challenges were queued (ms). */
  latencies: { miner: string; minerMs: number; arrivalMs: number }[];
  pauses: PauseResult[];
  findings: string[];
  /** performance.now() marks: tx seen, challenges queued, first violation decided, pause sent, findings queued, round closed. */
  marks: { seen: number; sent: number; violated?: number; paused?: number; queued?: number; closed: number };
  skipped?: string;
  /** A canary round: scored against the validator's own truth, never acted on. */
  canary?: boolean;
}

export const lower = (a: string | null | undefined) => (a ? a.toLowerCase() : null);
