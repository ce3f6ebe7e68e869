import type { GraphEdge } from '../../graph/model.ts';
import type { Answer, Challenge, Direction } from '../../protocol/patrol.ts';

/**
 * What a Patrol round needs from one chain, passed in by whoever wires the validator: the round
 * itself (round.ts) knows no chain. Bittensor's are in bittensor.ts; a second chain (Ethereum)
 * supplies its own three and reuses the round, the answer intake, the score history and weights.
 */

/** A registered neuron the round challenges. */
export interface PatrolMiner {
  hotkey: string;
  uid: number;
}

/** A wallet with activity at a block: what a challenge asks the subgraph around. */
export interface TargetCandidate {
  address: string;
  block: number;
  /**
   * Ethereum: the blocks to ask about (both included, never past the head), instead of the
   * round's window either side of `block` (an attacker's trail asks so: services/patrol/trail.ts).
   */
  span?: { fromBlock: number; toBlock: number };
  /** Ethereum: which way the walk goes from the target (absent: both). */
  direction?: Direction;
}

/**
 * Picks one target per miner (same order) at or below `head`. A source may give every miner the
 * same target (tests measure novelty so) or draw distinct ones from real activity.
 */
export type TargetSource = (miners: PatrolMiner[], head: number) => Promise<TargetCandidate[]>;

/** A verifier's verdict on an answer whose arrival checks passed (signature, shape, challenge). */
export type Verified =
  | { accepted: true; edges: GraphEdge[]; volume: number; completeness: number }
  | { accepted: false; kind: 'unverified' | 'incomplete'; reason: string };

/**
 * Checks an answer's content against the chain: every edge proven by the event it names, within
 * the challenge's window and depth, and complete enough to pay. `reason` is what the miner's
 * operator reads. A throw (an RPC failure) rejects the answer as `error`, never pays it.
 */
export type PatrolVerifier = (answer: Answer, challenge: Challenge) => Promise<Verified>;

/** The chain's current best block: the upper bound of a round's challenges. */
export type HeadSource = () => Promise<number>;
