import type { Answer, Vote } from '../../protocol/defense.ts';

/**
 * Consensus of miners on one challenge, per invariant. A status wins when at least `threshold` of
 * the miners ASKED voted for it (a missing answer counts for nothing, so silence cannot tip a
 * vote). An `error` vote is never counted as `holds`: an engine that failed says nothing about
 * safety. Anything short of a qualified majority is `undecided`.
 */

export type Outcome = 'holds' | 'violated' | 'undecided';

export interface VoteCount {
  holds: number;
  violated: number;
  error: number;
  missing: number;
}

export interface InvariantConsensus {
  id: string;
  outcome: Outcome;
  votes: VoteCount;
  asked: number;
  /** Miners whose vote matches the outcome (for `undecided`: none). */
  agreeing: string[];
  /** The before/after values most of the agreeing miners reported. */
  before: string | null;
  after: string | null;
}

/** Votes needed out of `asked` for a qualified majority. */
export function votesNeeded(asked: number, threshold: number): number {
  return Math.max(1, Math.ceil(asked * threshold - 1e-9));
}

function mostCommon(values: (string | undefined)[]): string | null {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | null = null;
  let n = 0;
  for (const [v, c] of counts) if (c > n) [best, n] = [v, c];
  return best;
}

/**
 * Consensus per invariant over the answers received so far. Safe to call before every answer is in:
 * a `violated` (or `holds`) outcome reached with `asked` miners cannot be overturned by later votes
 * when threshold > 1/2, so the validator acts on it at once.
 */
export function decide(
  invariantIds: string[],
  asked: string[],
  answers: Answer[],
  threshold: number,
): InvariantConsensus[] {
  const askedSet = new Set(asked);
  // One vote per asked miner: the first answer counts, duplicates and strangers are ignored.
  const byMiner = new Map<string, Answer>();
  for (const a of answers) if (askedSet.has(a.miner) && !byMiner.has(a.miner)) byMiner.set(a.miner, a);
  const need = votesNeeded(asked.length, threshold);
  return invariantIds.map((id) => {
    const votes: VoteCount = { holds: 0, violated: 0, error: 0, missing: 0 };
    const voters: Record<Vote, { miner: string; before?: string; after?: string }[]> = {
      holds: [],
      violated: [],
      error: [],
    };
    for (const miner of asked) {
      const r = byMiner.get(miner)?.results.find((x) => x.id === id);
      if (!byMiner.has(miner)) {
        votes.missing++;
        continue;
      }
      // An answer that skips an invariant it was asked about is an error for that invariant.
      const status: Vote = r?.status ?? 'error';
      votes[status]++;
      voters[status].push({ miner, before: r?.before, after: r?.after });
    }
    const outcome: Outcome =
      votes.violated >= need ? 'violated' : votes.holds >= need ? 'holds' : 'undecided';
    const agreeing = outcome === 'undecided' ? [] : voters[outcome];
    return {
      id,
      outcome,
      votes,
      asked: asked.length,
      agreeing: agreeing.map((v) => v.miner),
      before: mostCommon(agreeing.map((v) => v.before)),
      after: mostCommon(agreeing.map((v) => v.after)),
    };
  });
}
