import type { DefenseState } from '../../protocol/operators.ts';
import { OPERATOR_LIMITS } from '../../protocol/operators.ts';
import { type RewardBook, defenseWeights } from './rewards.ts';

/**
 * A defense validator's state for subnet operators (protocol/operators.ts): the running epoch and
 * the scores weights rest on (RewardBook.settled), each miner with its reward share. Only registered
 * miners are listed, as only they are paid. Canary calls are never part of it.
 */
export function defenseOperatorState(
  book: RewardBook,
  opts: { validator: string; isMember: (miner: string) => boolean; now?: number },
): DefenseState {
  const { epoch, scores: all } = book.settled();
  const scores = all.filter((s) => opts.isMember(s.miner)).slice(0, OPERATOR_LIMITS.miners);
  const shares = defenseWeights(scores);
  return {
    validator: opts.validator,
    at: opts.now ?? Date.now(),
    epoch: book.epoch,
    epochStartedAt: book.startedAt,
    epochMs: book.epochMs,
    scoredEpoch: epoch,
    miners: scores.map((s) => ({
      miner: s.miner,
      txs: s.txs,
      accuracy: s.accuracy,
      l99Ms: s.l99Ms,
      score: s.score,
      share: shares.get(s.miner) ?? 0,
      holdsRecall: s.holdsRecall,
      violatedRecall: s.violatedRecall,
      canaries: s.canaries,
    })),
  };
}
