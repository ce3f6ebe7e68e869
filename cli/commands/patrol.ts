import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { connectSubtensor } from '../../chains/bittensor/client.ts';
import { setWeights } from '../../chains/bittensor/neurons.ts';
import { ConfigError, namingSetting } from '../../common/errors.ts';
import type { Dependency } from '../../common/health.ts';
import { applyMigrations } from '../../graph/migrations.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue } from '../../queues/ingestion.ts';
import { bestBlock, blockProducerFor, subnetNeurons } from '../../services/patrol/chainAccess.ts';
import { createChainView } from '../../services/patrol/chainView.ts';
import { createPatrolMiner } from '../../services/patrol/miner.ts';
import { DEFAULT_SCORING } from '../../services/patrol/scoring.ts';
import { createPatrolValidator } from '../../services/patrol/validator.ts';
import {
  type DefenseWeightsRead,
  chainWeights,
  readDefenseWeights,
} from '../../services/weights/combined.ts';
import { type Runtime, neo4jDependency, openGraph, redisDependency, serveHealth } from '../runtime.ts';

/** The subtensor node as a dependency of a neuron's health (the API reconnects by itself). */
const subtensorDependency = (rt: Runtime, api: { isConnected: boolean }): Dependency => ({
  check: async () => {
    if (!api.isConnected) throw new Error('not connected to the subtensor node');
  },
  variable: 'SUBTENSOR_URL',
  url: rt.config.subtensor.url,
});

async function hotkeyFrom(rt: Runtime) {
  if (!rt.config.patrol.hotkeyUri)
    throw new ConfigError(
      'PATROL_HOTKEY_URI is not set: the neuron needs its hotkey (a mnemonic or //dev URI)',
    );
  if (!rt.config.subtensor.url)
    throw new ConfigError('SUBTENSOR_URL is not set: point it at a subtensor node (see README)');
  await cryptoWaitReady();
  try {
    return new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(rt.config.patrol.hotkeyUri);
  } catch {
    // The library's message may quote the URI: it is a secret, so say only what is wrong.
    throw new ConfigError(
      'PATROL_HOTKEY_URI is not a valid secret URI: use a 12/24-word mnemonic, optionally with //derivation, or a //Dev path',
    );
  }
}

/** `vigil patrol-miner`: answers Patrol challenges from its queue with chain-evidenced subgraphs. */
export async function patrolMinerCommand(rt: Runtime): Promise<void> {
  const hotkey = await hotkeyFrom(rt);
  const api = await namingSetting(
    'SUBTENSOR_URL',
    connectSubtensor(rt.config.subtensor.url, { log: (m) => rt.log.info(m) }),
  );
  rt.shutdown.add('subtensor', () => api.disconnect());
  const connection = createRedisConnection(rt.config.redisUrl, 'miner');
  rt.shutdown.add('redis', () => connection.quit());
  const delay = rt.config.patrol.minerDelayMs;
  const miner = createPatrolMiner({
    api,
    hotkey,
    connection,
    prefix: rt.config.queuePrefix,
    log: rt.log,
    tamper:
      delay > 0
        ? async (a) => {
            await new Promise((r) => setTimeout(r, delay));
            return a;
          }
        : undefined,
  });
  rt.shutdown.add('patrol miner', () => miner.close());
  await serveHealth(rt, {
    redis: redisDependency(rt, connection),
    subtensor: subtensorDependency(rt, api),
  });
  rt.log.info({ hotkey: hotkey.address }, 'patrol miner waiting for challenges');
}

/** `vigil patrol-validator`: runs rounds, verifies and scores answers, ingests them, sets weights. */
export async function patrolValidatorCommand(rt: Runtime): Promise<void> {
  const hotkey = await hotkeyFrom(rt);
  const p = rt.config.patrol;
  const api = await namingSetting(
    'SUBTENSOR_URL',
    connectSubtensor(rt.config.subtensor.url, { log: (m) => rt.log.info(m) }),
  );
  rt.shutdown.add('subtensor', () => api.disconnect());
  const graph = openGraph(rt);
  await graph.verify();
  await applyMigrations(graph);
  const connection = createRedisConnection(rt.config.redisUrl, 'worker');
  rt.shutdown.add('redis', () => connection.quit());
  const ingest = createIngestQueue(connection, rt.config.queuePrefix);
  rt.shutdown.add('ingest queue', () => ingest.close());
  const neurons = () => subnetNeurons(api, p.netuid, [hotkey.address]);
  const validator = createPatrolValidator({
    hotkey,
    connection,
    prefix: rt.config.queuePrefix,
    log: rt.log,
    graph,
    ingest,
    chain: createChainView(api),
    head: () => bestBlock(api),
    miners: neurons,
    metrics: rt.registry,
    params: {
      window: p.window,
      depth: p.depth,
      timeoutMs: p.timeoutMs,
      probes: 16,
      scoring: DEFAULT_SCORING,
    },
  });
  rt.shutdown.add('patrol validator', () => validator.close());
  const producer = blockProducerFor(api, { devBlocks: rt.config.subtensor.devBlocks });
  await serveHealth(rt, {
    redis: redisDependency(rt, connection),
    neo4j: neo4jDependency(rt, graph),
    subtensor: subtensorDependency(rt, api),
  });

  const loop = async () => {
    for (let round = 1; !rt.shutdown.signal.aborted && (p.rounds === 0 || round <= p.rounds); round++) {
      try {
        await playRound(round);
      } catch (err) {
        // One bad round (no activity to sample, a rate-limited set_weights, an RPC blip) must
        // not stop the validator: log it and go on with the next.
        rt.log.error({ round, err: (err as Error).message }, 'patrol round failed; next round continues');
      }
      if (p.roundIntervalMs > 0) await new Promise((r) => setTimeout(r, p.roundIntervalMs));
    }
  };
  const playRound = async (round: number) => {
    const report = await validator.runRound(round);
    for (const r of report.results) {
      rt.log.info(
        {
          round,
          miner: r.miner.hotkey,
          uid: r.miner.uid,
          accepted: r.accepted,
          reason: r.reason,
          edges: r.edges,
          ...r.score,
          score: r.score.total,
          average: r.average,
        },
        'miner scored',
      );
    }
    const miners = await neurons();
    const weights = await validator.weights(miners);
    // The defense validator of this operator publishes its miners' weights; mixed in by the split.
    // Redis failing here must not cost the round its set_weights: Patrol's weights then go alone.
    const defense = await readDefenseWeights(
      connection,
      rt.config.queuePrefix,
      rt.config.defense.validatorId,
    ).catch(
      (err): DefenseWeightsRead => ({ ok: false, reason: `reading them failed: ${(err as Error).message}` }),
    );
    if (!defense.ok) rt.log.info({ round, reason: defense.reason }, 'Patrol weights only');
    const mixed = chainWeights(
      miners,
      weights,
      defense.ok ? defense.weights : new Map(),
      rt.config.defense.weightShare,
    );
    if (defense.ok && mixed.unmatched > 0)
      rt.log.warn(
        { round, unmatched: mixed.unmatched, published: defense.weights.size },
        'defense miners whose hotkey is no neuron of this subnet (any more) get no weight',
      );
    const { uids, weights: values } = mixed;
    if (values.some((v) => v > 0)) {
      const ev = await setWeights(api, producer, {
        netuid: p.netuid,
        signer: hotkey,
        uids,
        weights: values,
      });
      rt.log.info(
        { round, block: ev.blockNumber, uids, weights: values, defenseShare: mixed.defenseShare },
        'weights set on chain (WeightsSet)',
      );
    }
  };
  loop().then(
    () => rt.shutdown.kill().then(() => process.exit(0)),
    (err) => {
      rt.log.error({ err: err.message }, 'patrol validator stopped');
      rt.shutdown.kill().then(() => process.exit(1));
    },
  );
}
