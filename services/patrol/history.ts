import type { Redis } from 'ioredis';
import type { Logger } from '../../common/logger.ts';
import { patrolScoresKey } from '../../protocol/keys.ts';
import { scoreEntrySchema } from '../../protocol/patrol.ts';
import { type ScoringParams, movingAverage } from './scoring.ts';

export interface ScoreHistory {
  /** Appends a round score and returns the miner's moving average over the kept history. */
  record(miner: string, total: number): Promise<number>;
  /** The moving average per miner hotkey (0 for one with no history). */
  averages(miners: string[]): Promise<Map<string, number>>;
}

/**
 * Each miner's last `scoring.historySize` round scores, in Redis under the validator's own key
 * (keys.ts patrolScoresKey): what its weight is the moving average of. An entry that is not a
 * score (the key was written by someone else) is left out and logged, never counted.
 */
export function createScoreHistory(deps: {
  connection: Redis;
  prefix: string;
  validator: string;
  scoring: ScoringParams;
  log: Logger;
}): ScoreHistory {
  const key = (miner: string) => patrolScoresKey(deps.prefix, deps.validator, miner);
  const scoresOf = (miner: string, entries: string[]): number[] =>
    entries.flatMap((entry, i) => {
      const score = scoreEntrySchema.safeParse(entry);
      if (score.success) return [score.data];
      deps.log.warn({ miner, entry, index: i }, 'score history entry is not a score: left out');
      return [];
    });
  return {
    async record(miner, total) {
      // Append, trim, read back: one round trip.
      const k = key(miner);
      const res = await deps.connection
        .multi()
        .rpush(k, String(total))
        .ltrim(k, -deps.scoring.historySize, -1)
        .lrange(k, 0, -1)
        .exec();
      const [err, history] = res?.[2] ?? [new Error('no reply from Redis')];
      if (err) throw err;
      return movingAverage(scoresOf(miner, history as string[]), deps.scoring);
    },
    async averages(miners) {
      const out = new Map<string, number>();
      for (const m of miners)
        out.set(m, movingAverage(scoresOf(m, await deps.connection.lrange(key(m), 0, -1)), deps.scoring));
      return out;
    },
  };
}
