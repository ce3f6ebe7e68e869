import type { Redis } from 'ioredis';
import type { Logger } from '../../common/logger.ts';
import { type DefenseWeightsRead, chainWeights, readDefenseWeights } from '../weights/combined.ts';
import type { ScoreHistory } from './history.ts';
import { normalizeWeights } from './scoring.ts';
import type { PatrolMiner } from './seam.ts';

/** Normalised Patrol weights from the moving averages, per miner hotkey. */
export async function patrolWeights(
  history: ScoreHistory,
  miners: PatrolMiner[],
): Promise<Map<string, number>> {
  return normalizeWeights(await history.averages(miners.map((m) => m.hotkey)));
}

/** What one weight setting published (or would have: nothing is sent when every weight is 0). */
export interface WeightsOutcome {
  uids: number[];
  weights: number[];
  defenseShare: number;
  /** The block the weights landed in; absent when nothing was sent. */
  block?: number;
}

export interface WeightSetterDeps {
  connection: Redis;
  prefix: string;
  log: Logger;
  /** The subnet's neurons now (the validator itself left out). */
  neurons: () => Promise<PatrolMiner[]>;
  /** Patrol's own weights for those neurons (patrolWeights). */
  patrol: (miners: PatrolMiner[]) => Promise<Map<string, number>>;
  /** The defense validator whose published weights are mixed in (DEFENSE_VALIDATOR_ID). */
  defenseValidator: string;
  /** DEFENSE_WEIGHT_SHARE, in [0, 1]. */
  defenseShare: number;
  /** Chain-specific: sets u16 weights on chain (Bittensor: set_weights), returns the block. */
  publish: (w: { uids: number[]; weights: number[] }) => Promise<{ blockNumber: number }>;
}

/**
 * After each round: Patrol's weights mixed with the defense validator's published ones by the
 * share (services/weights/combined.ts), set on chain when any is above 0. Redis failing here must
 * not cost the round its weights: Patrol's then go alone.
 */
export function createWeightSetter(deps: WeightSetterDeps): (round: number) => Promise<WeightsOutcome> {
  return async (round) => {
    const miners = await deps.neurons();
    const patrol = await deps.patrol(miners);
    const defense = await readDefenseWeights(deps.connection, deps.prefix, deps.defenseValidator).catch(
      (err): DefenseWeightsRead => ({ ok: false, reason: `reading them failed: ${(err as Error).message}` }),
    );
    if (!defense.ok) deps.log.info({ round, reason: defense.reason }, 'Patrol weights only');
    const mixed = chainWeights(miners, patrol, defense.ok ? defense.weights : new Map(), deps.defenseShare);
    if (defense.ok && mixed.unmatched > 0)
      deps.log.warn(
        { round, unmatched: mixed.unmatched, published: defense.weights.size },
        'defense miners whose hotkey is no neuron of this subnet (any more) get no weight',
      );
    const { uids, weights, defenseShare } = mixed;
    if (!weights.some((v) => v > 0)) return { uids, weights, defenseShare };
    const { blockNumber } = await deps.publish({ uids, weights });
    deps.log.info(
      { round, block: blockNumber, uids, weights, defenseShare },
      'weights set on chain (WeightsSet)',
    );
    return { uids, weights, defenseShare, block: blockNumber };
  };
}
