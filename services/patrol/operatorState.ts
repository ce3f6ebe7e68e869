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
  // The last round of each other chain (and of a trail on it), kept until it plays again.
  const otherChains = new Map<string, PatrolChainRound>();
  let weights: PatrolState['weights'] = null;
  const clamp = (x: number) => Math.min(1, Math.max(0, x));

  /** Rejections are kept per chain and per kind of round: a trail's round numbers are its own. */
  const minerState = (key: string, round: number, r: MinerResult): PatrolMinerState => {
    const at = `${key}:${r.miner.hotkey}`;
    let past = rejections.get(at) ?? [];
    if (!r.accepted) {
      const reason = (r.reason ?? 'rejected').slice(0, OPERATOR_LIMITS.reasonChars);
      past = [{ round, reason }, ...past].slice(0, OPERATOR_LIMITS.rejections);
      rejections.set(at, past);
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
  const miners = (key: string, r: RoundReport) =>
    r.results.slice(0, OPERATOR_LIMITS.miners).map((m) => minerState(key, r.round, m));
  /** The last round of another chain, or of an alert's trail on it. */
  const keepChainRound = (chain: Chain, report: RoundReport, trail: boolean) => {
    const key = trail ? `${chain}:trail` : chain;
    otherChains.set(key, { chain, trail, at: now(), round: report.round, miners: miners(key, report) });
  };
  let main: Pick<PatrolState, 'at' | 'round' | 'miners'> = { at: now(), round: 0, miners: [] };
  const send = () =>
    publishOperatorState(deps.connection, deps.prefix, 'patrol', {
      validator: deps.validator,
      chain: mainChain,
      ...main,
      otherChains: [...otherChains.values()],
      weights,
    } satisfies PatrolState).catch((err) =>
      deps.log.warn({ err: (err as Error).message }, 'Patrol operator state not published'),
    );

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
      for (const o of others) if (o.chain !== mainChain) keepChainRound(o.chain, o.report, false);
      if (set?.block !== undefined)
        weights = {
          at: now(),
          block: set.block,
          uids: set.uids,
          weights: set.weights,
          defenseShare: set.defenseShare,
        };
      main = { at: now(), round: report.round, miners: miners(mainChain, report) };
      await send();
    },
    /**
     * Publishes a round of an alert's trail (services/patrol/trail.ts) as it ends: between the
     * main rounds, numbered by the trail loop, shown next to that chain's regular round.
     */
    async trailRound(chain: Chain, report: RoundReport): Promise<void> {
      keepChainRound(chain, report, true);
      await send();
    },
  };
}
