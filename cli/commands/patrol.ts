import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { connectSubtensor } from '../../chains/bittensor/client.ts';
import { setWeights } from '../../chains/bittensor/neurons.ts';
import { createActivityReader } from '../../chains/ethereum/activity.ts';
import { createHttpRpc } from '../../chains/ethereum/rpc.ts';
import { createTokenMetadata } from '../../chains/ethereum/tokens.ts';
import { ConfigError, ServiceUnavailableError, namingSetting } from '../../common/errors.ts';
import type { Dependency } from '../../common/health.ts';
import { applyMigrations } from '../../graph/migrations.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue } from '../../queues/ingestion.ts';
import { bestBlock, blockProducerFor, subnetNeurons } from '../../services/patrol/chainAccess.ts';
import { createChainView } from '../../services/patrol/chainView.ts';
import { buildEthereumSubgraph } from '../../services/patrol/ethereum/miner.ts';
import { ethereumTargets, ethereumVerifier } from '../../services/patrol/ethereum/patrol.ts';
import { runRounds } from '../../services/patrol/loop.ts';
import { createPatrolMiner } from '../../services/patrol/miner.ts';
import { createPatrolStatePublisher } from '../../services/patrol/operatorState.ts';
import type { RoundReport, RunRound } from '../../services/patrol/round.ts';
import { DEFAULT_SCORING } from '../../services/patrol/scoring.ts';
import { createTrails, followTrailRequests } from '../../services/patrol/trail.ts';
import { createPatrolValidator } from '../../services/patrol/validator.ts';
import { createWeightSetter } from '../../services/patrol/weights.ts';
import { type Runtime, neo4jDependency, openGraph, redisDependency, serveHealth } from '../runtime.ts';

/** The subtensor node as a dependency of a neuron's health (the API reconnects by itself). */
const subtensorDependency = (rt: Runtime, api: { isConnected: boolean }): Dependency => ({
  check: async () => {
    if (!api.isConnected) throw new ServiceUnavailableError('not connected to the subtensor node');
  },
  variable: 'SUBTENSOR_URL',
  url: rt.config.subtensor.url,
});

/**
 * Ethereum Patrol's node when PATROL_ETH_RPC_URL is set (else null): its activity reader, checked
 * at start by reading the head block with its traces, so a node without trace_block or
 * debug_traceBlockByNumber is named before any challenge.
 */
async function ethereumNode(rt: Runtime) {
  const url = rt.config.patrol.ethRpcUrl;
  if (!url) return null;
  const rpc = createHttpRpc({ url, timeoutMs: 60_000 });
  rt.shutdown.add('ethereum rpc', async () => rpc.close());
  const reader = createActivityReader(rpc);
  await namingSetting(
    'PATROL_ETH_RPC_URL',
    reader.head().then((head) => reader.block(head)),
  );
  const dependency: Dependency = {
    check: async () => void (await rpc.call('eth_blockNumber')),
    variable: 'PATROL_ETH_RPC_URL',
    url,
  };
  return { rpc, reader, dependency };
}

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
  const eth = await ethereumNode(rt);
  const api = await namingSetting(
    'SUBTENSOR_URL',
    connectSubtensor(rt.config.subtensor.url, { log: rt.log.child({ component: 'subtensor' }) }),
  );
  rt.shutdown.add('subtensor', () => api.disconnect());
  const connection = createRedisConnection(rt.config.redisUrl, 'miner');
  rt.shutdown.add('redis', () => connection.quit());
  const delay = rt.config.patrol.minerDelayMs;
  const miner = createPatrolMiner({
    ethereum: eth ? (c) => buildEthereumSubgraph(eth.reader, c) : undefined,
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
    ...(eth ? { ethereum: eth.dependency } : {}),
  });
  rt.log.info(
    { hotkey: hotkey.address, chains: eth ? ['bittensor', 'ethereum'] : ['bittensor'] },
    'patrol miner waiting for challenges',
  );
}

/**
 * The attacker's trail (services/patrol/trail.ts): the defense validator of the same operator
 * (DEFENSE_VALIDATOR_ID) requests it on each violation; its Ethereum rounds start at once.
 */
async function followTrails(
  rt: Runtime,
  deps: {
    eth: NonNullable<Awaited<ReturnType<typeof ethereumNode>>>;
    connection: ReturnType<typeof createRedisConnection>;
    validator: string;
    runRound: RunRound;
  },
) {
  const chainId = Number(
    BigInt(await namingSetting('PATROL_ETH_RPC_URL', deps.eth.rpc.call<string>('eth_chainId'))),
  );
  const log = rt.log.child({ component: 'trail' });
  const trails = createTrails({
    runRound: deps.runRound,
    reader: deps.eth.reader,
    chainId,
    log,
    params: { ...rt.config.patrol.trail, depth: rt.config.patrol.depth },
    metrics: rt.registry,
  });
  const following = followTrailRequests({
    connection: deps.connection,
    prefix: rt.config.queuePrefix,
    validator: deps.validator,
    defenseValidatorId: rt.config.defense.validatorId,
    trails,
    log,
  });
  rt.shutdown.add('trails', () => following.close());
  log.info({ defenseValidator: rt.config.defense.validatorId, chainId }, 'following trail requests');
}

/** `vigil patrol-validator`: runs rounds, verifies and scores answers, ingests them, sets weights. */
export async function patrolValidatorCommand(rt: Runtime): Promise<void> {
  const hotkey = await hotkeyFrom(rt);
  const eth = await ethereumNode(rt);
  const p = rt.config.patrol;
  const api = await namingSetting(
    'SUBTENSOR_URL',
    connectSubtensor(rt.config.subtensor.url, { log: rt.log.child({ component: 'subtensor' }) }),
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
    ethereum: eth
      ? {
          head: () => eth.reader.head(),
          targets: ethereumTargets(eth.reader, { probes: 16, recent: p.ethRecentBlocks }),
          verify: ethereumVerifier(eth.reader, createTokenMetadata(eth.rpc), { scoring: DEFAULT_SCORING }),
        }
      : undefined,
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
  const operatorState = createPatrolStatePublisher({
    connection,
    prefix: rt.config.queuePrefix,
    validator: hotkey.address,
    log: rt.log,
  });
  if (eth) {
    const runEthereumRound = validator.runEthereumRound!;
    await followTrails(rt, {
      eth,
      connection,
      validator: hotkey.address,
      // Each trail round reaches operators as it ends (their scores move the weights too).
      runRound: async (...args) => {
        const report = await runEthereumRound(...args);
        await operatorState.trailRound('ethereum', report);
        return report;
      },
    });
  }
  const producer = blockProducerFor(api, { devBlocks: rt.config.subtensor.devBlocks });
  await serveHealth(rt, {
    redis: redisDependency(rt, connection),
    neo4j: neo4jDependency(rt, graph),
    subtensor: subtensorDependency(rt, api),
    ...(eth ? { ethereum: eth.dependency } : {}),
  });

  const setWeightsAfter = createWeightSetter({
    connection,
    prefix: rt.config.queuePrefix,
    log: rt.log,
    neurons,
    patrol: validator.weights,
    defenseValidator: rt.config.defense.validatorId,
    defenseShare: rt.config.defense.weightShare,
    publish: ({ uids, weights }) =>
      setWeights(api, producer, { netuid: p.netuid, signer: hotkey, uids, weights }),
  });
  // A round on each chain, then the weights they move (each round's outcome is logged per miner).
  // The Bittensor round's scores reach operators (API, console) even when setting weights fails.
  const playRound = async (round: number) => {
    const report = await validator.runRound(round);
    let set: Awaited<ReturnType<typeof setWeightsAfter>> | undefined;
    const others: { chain: 'ethereum'; report: RoundReport }[] = [];
    try {
      const eth = await validator.runEthereumRound?.(round);
      if (eth) others.push({ chain: 'ethereum', report: eth });
      set = await setWeightsAfter(round);
    } finally {
      await operatorState.publish(report, set, others);
    }
  };
  const loop = () =>
    runRounds({
      play: playRound,
      rounds: p.rounds,
      intervalMs: p.roundIntervalMs,
      signal: rt.shutdown.signal,
      log: rt.log,
    });
  loop().then(
    () => rt.shutdown.kill().then(() => process.exit(0)),
    (err) => {
      rt.log.error({ err: err.message }, 'patrol validator stopped');
      rt.shutdown.kill().then(() => process.exit(1));
    },
  );
}
