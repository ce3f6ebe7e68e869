import type { KeyringPair } from '@polkadot/keyring/types';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Logger } from '../../common/logger.ts';
import type { Graph } from '../../graph/driver.ts';
import type { Chain } from '../../protocol/model.ts';
import type { IngestQueue } from '../../queues/ingestion.ts';
import { createAnswerIntake } from './answers.ts';
import { bittensorTargets, bittensorVerifier } from './bittensor.ts';
import type { ChainView } from './chainView.ts';
import { createScoreHistory } from './history.ts';
import { type RoundParams, createRound } from './round.ts';
import type { PatrolMiner, PatrolVerifier, TargetSource } from './seam.ts';
import { patrolWeights } from './weights.ts';

export type { PatrolMiner } from './seam.ts';
export type { MinerResult, RoundReport } from './round.ts';

export interface ValidatorParams extends RoundParams {
  /** Blocks probed for activity when drawing targets (Bittensor's target source). */
  probes: number;
  /** Wallets drawn per answer for the completeness check, besides the target (default 16). */
  completenessSample?: number;
}

export interface ValidatorDeps {
  hotkey: KeyringPair;
  connection: Redis;
  prefix: string;
  log: Logger;
  graph: Graph;
  ingest: IngestQueue;
  /** The subtensor view the Bittensor target source and verifier read (unused when both are given). */
  chain: ChainView;
  /** The chain's current best block: the upper bound of challenges. */
  head: () => Promise<number>;
  miners: () => Promise<PatrolMiner[]>;
  params: ValidatorParams;
  /** Overrides target sampling (tests give every miner the same target to measure novelty). */
  pickTargets?: TargetSource;
  /** Overrides the Bittensor verifier (seam.ts: a second chain brings its own). */
  verify?: PatrolVerifier;
  /** The graph the answers go to (default bittensor). */
  chainName?: Chain;
  /**
   * Patrol on Ethereum (services/patrol/ethereum/patrol.ts): its target source, verifier and head.
   * Its rounds (runEthereumRound) share the answer intake and the score history with Bittensor's:
   * the same miners, streams and moving average, whichever chain a round asks about.
   */
  ethereum?: { targets: TargetSource; verify: PatrolVerifier; head: () => Promise<number> };
  random?: () => number;
  /** Where the Patrol answer metrics are registered (the service's /metrics). */
  metrics?: Registry;
}

/**
 * A Patrol validator, wired from its parts: the answer intake (answers.ts), the score history
 * (history.ts), the round (round.ts) with the chain's target source and verifier (seam.ts; Bittensor's
 * by default, bittensor.ts), and Patrol weights from the moving averages (weights.ts).
 */
export function createPatrolValidator(deps: ValidatorDeps) {
  const validator = deps.hotkey.address;
  const { connection, prefix, log } = deps;
  const random = deps.random ?? Math.random;
  const intake = createAnswerIntake({ connection, prefix, validator, log, metrics: deps.metrics });
  const history = createScoreHistory({ connection, prefix, validator, log, scoring: deps.params.scoring });
  const shared = {
    validator,
    connection,
    prefix,
    log,
    graph: deps.graph,
    ingest: deps.ingest,
    intake,
    history,
    miners: deps.miners,
    params: deps.params,
    metrics: deps.metrics,
  };
  const eth = deps.ethereum;
  const runEthereumRound = eth
    ? createRound({ ...shared, chain: 'ethereum', head: eth.head, targets: eth.targets, verify: eth.verify })
    : undefined;
  const runRound = createRound({
    ...shared,
    chain: deps.chainName ?? 'bittensor',
    head: deps.head,
    targets: deps.pickTargets ?? bittensorTargets(deps.chain, { probes: deps.params.probes, random }),
    verify:
      deps.verify ??
      bittensorVerifier(deps.chain, {
        scoring: deps.params.scoring,
        sample: deps.params.completenessSample,
        random,
      }),
  });
  return {
    runRound,
    /** A round on Ethereum, when `ethereum` is given. */
    runEthereumRound,
    history,
    /** Normalised weights from the moving averages, per miner hotkey. */
    weights: (miners: PatrolMiner[]) => patrolWeights(history, miners),
    close: () => intake.close(),
  };
}
