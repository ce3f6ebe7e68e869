import { percentile } from '../../common/stats.ts';
import type { Vote } from '../../protocol/defense.ts';
import type { InvariantConsensus } from './consensus.ts';

/**
 * Miner rewards, per epoch (stats reset at each epoch boundary):
 *
 *   S = N * A * (5000 / L99_ms)          (BitDefense's formula)
 *
 *   N   distinct transactions the miner answered before the deadline (canaries included: a miner
 *       cannot tell them from real ones);
 *   L99 99th percentile of its answer latency as the VALIDATOR measured it (arrival - sent), >= 1 ms;
 *   A   accuracy, as the product of two recalls over the invariants whose truth is known:
 *         (agreed on `holds` / `holds` seen) * (agreed on `violated` / `violated` seen)
 *       The truth of a real tx is the miners' consensus (undecided invariants are not scored); the
 *       truth of a canary is the validator's own simulation (services/defense/canaries.ts), never
 *       the miners' votes.
 *       Violated recall is MEASURED, never assumed: a miner that saw no violated case in the epoch
 *       gets 0 for it (no recall credit), so it earns nothing. Canaries give every live miner
 *       violated cases each epoch; without them an always-"holds" miner would be paid in full in
 *       every epoch without a decided attack. Holds recall of a miner that saw no holds case counts
 *       1: a miner crying wolf loses it on the first benign tx decided `holds`.
 *       A miner answering "safe" to everything scores 0 on violated recall; plain agreement
 *       (BitDefense) would pay it ~100 %. `error` votes agree with nothing.
 */

export interface MinerScore {
  miner: string;
  txs: number;
  accuracy: number;
  l99Ms: number;
  score: number;
  holdsRecall: { agreed: number; seen: number };
  violatedRecall: { agreed: number; seen: number };
  /** Canary rounds answered, and those whose every known invariant the miner got right. */
  canaries: { agreed: number; seen: number };
}

interface MinerStats {
  txs: Set<string>;
  latencies: number[];
  holds: { agreed: number; seen: number };
  violated: { agreed: number; seen: number };
  canaries: { agreed: number; seen: number };
}

export interface RoundRecord {
  txHash: string;
  /** Per miner that answered in time: its votes by invariant id and the latency the validator measured. */
  answers: Map<string, { votes: Map<string, Vote>; latencyMs: number }>;
  /** The truth per invariant: the consensus of a real tx, the validator's simulation of a canary. */
  consensus: Pick<InvariantConsensus, 'id' | 'outcome'>[];
  /** A canary round (its `consensus` is the validator's own ground truth). */
  canary?: boolean;
}

/** Recall of a class; `unseen` is what a class never seen in the epoch is worth. */
const recall = (r: { agreed: number; seen: number }, unseen: 0 | 1) =>
  r.seen === 0 ? unseen : r.agreed / r.seen;

export interface RewardBook {
  record(round: RoundRecord, now?: number): void;
  /** Scores of the epoch in progress. */
  current(): MinerScore[];
  /** Scores of the last finished epoch (empty before the first boundary). */
  lastEpoch(): MinerScore[];
  /** Ends the epoch now: its scores become lastEpoch(), stats start from zero. */
  closeEpoch(now?: number): MinerScore[];
  /** Ends the epoch if its time is up (also when no round came to do it); true if it did. */
  rollEpoch(now?: number): boolean;
  /** What weights rest on, with its epoch number: the last finished epoch, or the running one before the first. */
  settled(): { epoch: number; scores: MinerScore[] };
  readonly epoch: number;
  /** When the running epoch started (epoch ms), and how long an epoch lasts. */
  readonly startedAt: number;
  readonly epochMs: number;
}

export function createRewardBook(opts: { epochMs: number; now?: number }): RewardBook {
  let stats = new Map<string, MinerStats>();
  let last: MinerScore[] = [];
  let epoch = 0;
  let epochStart = opts.now ?? Date.now();

  const of = (miner: string) => {
    let s = stats.get(miner);
    if (!s) {
      s = {
        txs: new Set(),
        latencies: [],
        holds: { agreed: 0, seen: 0 },
        violated: { agreed: 0, seen: 0 },
        canaries: { agreed: 0, seen: 0 },
      };
      stats.set(miner, s);
    }
    return s;
  };

  const scores = (): MinerScore[] =>
    [...stats.entries()]
      .map(([miner, s]) => {
        const accuracy = recall(s.holds, 1) * recall(s.violated, 0);
        const l99Ms = s.latencies.length > 0 ? Math.max(1, percentile(s.latencies, 99)) : 1;
        const txs = s.txs.size;
        return {
          miner,
          txs,
          accuracy,
          l99Ms,
          score: txs * accuracy * (5000 / l99Ms),
          holdsRecall: { ...s.holds },
          violatedRecall: { ...s.violated },
          canaries: { ...s.canaries },
        };
      })
      .sort((a, b) => (a.miner < b.miner ? -1 : 1));

  const book: RewardBook = {
    get epoch() {
      return epoch;
    },
    get startedAt() {
      return epochStart;
    },
    epochMs: opts.epochMs,
    record(round, now = Date.now()) {
      book.rollEpoch(now);
      for (const [miner, a] of round.answers) {
        const s = of(miner);
        s.txs.add(round.txHash);
        s.latencies.push(a.latencyMs);
        let right = true;
        for (const c of round.consensus) {
          if (c.outcome === 'undecided') continue;
          const cls = c.outcome === 'holds' ? s.holds : s.violated;
          cls.seen++;
          if (a.votes.get(c.id) === c.outcome) cls.agreed++;
          else right = false;
        }
        if (round.canary) {
          s.canaries.seen++;
          if (right) s.canaries.agreed++;
        }
      }
    },
    current: scores,
    lastEpoch: () => last,
    rollEpoch(now = Date.now()) {
      if (now - epochStart < opts.epochMs) return false;
      book.closeEpoch(now);
      return true;
    },
    settled: () => (epoch > 0 ? { epoch: epoch - 1, scores: last } : { epoch, scores: scores() }),
    closeEpoch(now = Date.now()) {
      last = scores();
      stats = new Map();
      epoch++;
      epochStart = now;
      return last;
    },
  };
  return book;
}

/** Scores → weights summing to 1 (all zero when nobody scored). */
export function defenseWeights(scores: MinerScore[]): Map<string, number> {
  const total = scores.reduce((s, x) => s + x.score, 0);
  return new Map(scores.map((x) => [x.miner, total > 0 ? x.score / total : 0]));
}
