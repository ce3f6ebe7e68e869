import type { Redis } from 'ioredis';
import type { Logger } from '../../common/logger.ts';
import type { Chain } from '../../protocol/model.ts';
import {
  OPERATOR_LIMITS,
  type PatrolChainRound,
  type PatrolMinerState,
  type PatrolState,
} from '../../protocol/operators.ts';
import { publishOperatorState } from '../../queues/operatorState.ts';
import type { MinerResult, RoundReport } from './round.ts';
import type { WeightsOutcome } from './weights.ts';

/**
 * What a Patrol validator publishes for subnet operators after each round (protocol/operators.ts):
 * each miner's score terms, its last rejection reasons (kept across rounds, newest first) and the
 * weights last set on chain, for the main chain's round and, per chain, the last Ethereum round. Lives in the validator process; the API reads it from Redis.
 */
export function createPatrolStatePublisher(deps: {
  connection: Redis;
  prefix: string;
  validator: string;
  log: Logger;
  /** The chain of the main round. @defaultValue 'bittensor' */
  chain?: Chain;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  const mainChain = deps.chain ?? 'bittensor';
  // Per chain and miner: an Ethereum rejection is not a Bittensor one.
  const rejections = new Map<string, PatrolMinerState['rejections']>();
  // The last round of each other chain, kept until that chain plays again.
  const otherChains = new Map<Chain, PatrolChainRound>();
  let weights: PatrolState['weights'] = null;
  const clamp = (x: number) => Math.min(1, Math.max(0, x));

  const minerState = (chain: Chain, round: number, r: MinerResult): PatrolMinerState => {
    const key = `${chain}:${r.miner.hotkey}`;
    let past = rejections.get(key) ?? [];
    if (!r.accepted) {
      const reason = (r.reason ?? 'rejected').slice(0, OPERATOR_LIMITS.reasonChars);
      past = [{ round, reason }, ...past].slice(0, OPERATOR_LIMITS.rejections);
      rejections.set(key, past);
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
    /**
     * Publishes the main round, the rounds other chains played (Ethereum's, when it ran) and the
     * weights, when this round set them; failures are logged, not thrown.
     */
    async publish(
      report: RoundReport,
      set?: WeightsOutcome,
      others: { chain: Chain; report: RoundReport }[] = [],
    ): Promise<void> {
      const miners = (chain: Chain, r: RoundReport) =>
        r.results.slice(0, OPERATOR_LIMITS.miners).map((m) => minerState(chain, r.round, m));
      for (const o of others)
        if (o.chain !== mainChain)
          otherChains.set(o.chain, {
            chain: o.chain,
            at: now(),
            round: o.report.round,
            miners: miners(o.chain, o.report),
          });
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
        chain: mainChain,
        round: report.round,
        miners: miners(mainChain, report),
        otherChains: [...otherChains.values()],
        weights,
      };
      await publishOperatorState(deps.connection, deps.prefix, 'patrol', state).catch((err) =>
        deps.log.warn({ err: (err as Error).message }, 'Patrol operator state not published'),
      );
    },
  };
}
