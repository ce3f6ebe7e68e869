import type { Redis } from 'ioredis';
import type { Logger } from '../../common/logger.ts';
import { OPERATOR_LIMITS, type PatrolMinerState, type PatrolState } from '../../protocol/operators.ts';
import { publishOperatorState } from '../../queues/operatorState.ts';
import type { MinerResult, RoundReport } from './round.ts';
import type { WeightsOutcome } from './weights.ts';

/**
 * What a Patrol validator publishes for subnet operators after each round (protocol/operators.ts):
 * each miner's score terms, its last rejection reasons (kept across rounds, newest first) and the
 * weights last set on chain. Lives in the validator process; the API reads it from Redis.
 */
export function createPatrolStatePublisher(deps: {
  connection: Redis;
  prefix: string;
  validator: string;
  log: Logger;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  const rejections = new Map<string, PatrolMinerState['rejections']>();
  let weights: PatrolState['weights'] = null;
  const clamp = (x: number) => Math.min(1, Math.max(0, x));

  const minerState = (round: number, r: MinerResult): PatrolMinerState => {
    let past = rejections.get(r.miner.hotkey) ?? [];
    if (!r.accepted) {
      const reason = (r.reason ?? 'rejected').slice(0, OPERATOR_LIMITS.reasonChars);
      past = [{ round, reason }, ...past].slice(0, OPERATOR_LIMITS.rejections);
      rejections.set(r.miner.hotkey, past);
    }
    const s = r.score;
    const parts = 'volume' in s ? s : undefined;
    return {
      hotkey: r.miner.hotkey,
      uid: r.miner.uid,
      accepted: r.accepted,
      volume: clamp(parts?.volume ?? 0),
      responsiveness: clamp(parts?.responsiveness ?? 0),
      novelty: clamp(parts?.novelty ?? 0),
      completeness: parts ? clamp(parts.completeness) : null,
      total: clamp(s.total),
      average: clamp(r.average),
      edges: r.edges,
      seconds: r.seconds,
      rejections: past,
    };
  };

  return {
    /** Publishes the round (and the weights, when this round set them); failures are logged, not thrown. */
    async publish(report: RoundReport, set?: WeightsOutcome): Promise<void> {
      if (set?.block !== undefined)
        weights = {
          at: now(),
          block: set.block,
          uids: set.uids,
          weights: set.weights,
          defenseShare: set.defenseShare,
        };
      const state: PatrolState = {
        validator: deps.validator,
        at: now(),
        round: report.round,
        miners: report.results.slice(0, OPERATOR_LIMITS.miners).map((r) => minerState(report.round, r)),
        weights,
      };
      await publishOperatorState(deps.connection, deps.prefix, 'patrol', state).catch((err) =>
        deps.log.warn({ err: (err as Error).message }, 'Patrol operator state not published'),
      );
    },
  };
}
