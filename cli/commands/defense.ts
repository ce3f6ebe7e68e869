import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { connectSubtensor } from '../../chains/bittensor/client.ts';
import { createHttpRpc } from '../../chains/ethereum/rpc.ts';
import { createSenderNonces } from '../../chains/ethereum/senderNonces.ts';
import { closeMonitorProvider, createMonitorProvider } from '../../chains/ethereum/watcher.ts';
import {
  ConfigError,
  ServiceUnavailableError,
  UsageError,
  VigilError,
  namingSetting,
} from '../../common/errors.ts';
import { applyMigrations } from '../../graph/migrations.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue } from '../../queues/ingestion.ts';
import { publishOperatorState } from '../../queues/operatorState.ts';
import { createPauseAgent } from '../../services/defense/actions.ts';
import { createCanaryMaker } from '../../services/defense/canaries.ts';
import { listInvariants, removeInvariant, upsertInvariant } from '../../services/defense/invariantStore.ts';
import { createMembership } from '../../services/defense/membership.ts';
import { createDefenseMiner } from '../../services/defense/miner.ts';
import { defenseOperatorState } from '../../services/defense/operatorState.ts';
import {
  type DefenseActionSpec,
  InvalidRegistrationError,
  validateRegistration,
} from '../../services/defense/registry.ts';
import { createRewardBook, defenseWeights } from '../../services/defense/rewards.ts';
import { createTrailRequester } from '../../services/defense/trail.ts';
import { createDefenseValidator } from '../../services/defense/validator.ts';
import { createEngine } from '../../services/engine/engine.ts';
import { subnetNeurons } from '../../services/patrol/chainAccess.ts';
import { publishDefenseWeights } from '../../services/weights/combined.ts';
import {
  type Runtime,
  neo4jDependency,
  openGraph,
  openVerifiedGraph,
  redisDependency,
  serveHealth,
} from '../runtime.ts';

function needRpc(rt: Runtime): string {
  if (!rt.config.ethereum.rpcUrl)
    throw new ConfigError('ETH_RPC_URL is not set: point it at an Ethereum JSON-RPC endpoint (http)');
  return rt.config.ethereum.rpcUrl;
}

/** The miner's sr25519 hotkey from its secret URI setting (the URI never appears in a message). */
async function minerHotkey(rt: Runtime): Promise<KeyringPair> {
  const uri = rt.config.defense.minerHotkeyUri;
  if (!uri)
    throw new ConfigError(
      'DEFENSE_MINER_HOTKEY_URI is not set: the defense miner needs its hotkey (a mnemonic or //dev URI), registered on the subnet (PATROL_NETUID)',
    );
  await cryptoWaitReady();
  try {
    return new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(uri);
  } catch {
    throw new ConfigError(
      'DEFENSE_MINER_HOTKEY_URI is not a valid secret URI: use a 12/24-word mnemonic, optionally with //derivation, or a //Dev path',
    );
  }
}

/** `vigil defense-miner`: answers defense challenges from its own queue with the EVM engine. */
export async function defenseMinerCommand(rt: Runtime): Promise<void> {
  const d = rt.config.defense;
  const hotkey = await minerHotkey(rt);
  const engine = await namingSetting(
    'ETH_RPC_URL',
    createEngine({
      rpc: needRpc(rt),
      log: rt.log.child({ component: 'engine' }),
      poolSize: d.enginePool,
      hardfork: rt.config.ethereum.hardfork,
      ...(rt.config.ethereum.chainId ? { chainId: BigInt(rt.config.ethereum.chainId) } : {}),
    }),
  );
  rt.shutdown.add('engine', () => engine.close());
  const connection = createRedisConnection(rt.config.redisUrl, 'miner');
  rt.shutdown.add('redis', () => connection.quit());
  const miner = createDefenseMiner({
    hotkey,
    connection,
    prefix: rt.config.queuePrefix,
    engine,
    log: rt.log,
    registry: rt.registry,
    concurrency: d.minerConcurrency,
  });
  rt.shutdown.add('defense miner', () => miner.close());
  // Its simulations read state from the node: without it every vote is an error.
  const healthRpc = createHttpRpc({ url: needRpc(rt), timeoutMs: 1500, maxSockets: 1 });
  rt.shutdown.add('health rpc', () => healthRpc.close());
  await serveHealth(rt, {
    redis: redisDependency(rt, connection),
    rpc: { check: () => healthRpc.call<string>('eth_chainId'), variable: 'ETH_RPC_URL', url: needRpc(rt) },
  });
  rt.log.info(
    { miner: hotkey.address, chainId: Number(engine.chainId), hardfork: rt.config.ethereum.hardfork },
    'defense miner waiting for challenges',
  );
}

/**
 * The subnet's registered hotkeys, read from SUBTENSOR_URL on PATROL_NETUID at start (failing
 * there, naming both) and every epoch (at most every 10 min); on a failed refresh the last set
 * stays in use, logged and shown on /health.
 */
async function chainMembership(rt: Runtime) {
  const { url } = rt.config.subtensor;
  const netuid = rt.config.patrol.netuid;
  if (!url)
    throw new ConfigError(
      'SUBTENSOR_URL is not set: the defense validator asks and pays only the hotkeys registered on subnet PATROL_NETUID, read from a subtensor node',
    );
  const api = await namingSetting(
    'SUBTENSOR_URL',
    connectSubtensor(url, { log: rt.log.child({ component: 'subtensor' }) }),
  );
  rt.shutdown.add('subtensor', () => api.disconnect());
  const membership = createMembership({
    load: async () => (await subnetNeurons(api, netuid)).map((n) => n.hotkey),
    refreshMs: Math.min(rt.config.defense.epochMs, 600_000),
    log: rt.log,
    setting: `SUBTENSOR_URL, subnet ${netuid} (PATROL_NETUID)`,
  });
  await membership.start();
  rt.shutdown.add('membership', async () => membership.close());
  if (membership.list().length === 0)
    rt.log.warn({ netuid }, 'no hotkey is registered on the subnet: no defense miner can be asked');
  return membership;
}

/** `vigil defense-validator`: watches the mempool, asks k miners, takes consensus, defends, ingests. */
export async function defenseValidatorCommand(rt: Runtime): Promise<void> {
  const d = rt.config.defense;
  const rpcUrl = needRpc(rt);
  const membership = await chainMembership(rt);
  const rpc = createHttpRpc({ url: rpcUrl });
  rt.shutdown.add('rpc', () => rpc.close());
  const chainId =
    rt.config.ethereum.chainId ||
    Number(BigInt(await namingSetting('ETH_RPC_URL', rpc.call<string>('eth_chainId'))));
  const provider = createMonitorProvider({ url: rt.config.ethereum.wsUrl || rpcUrl, chainId });
  rt.shutdown.add('provider', () => closeMonitorProvider(provider));
  const graph = openGraph(rt);
  await graph.verify();
  await applyMigrations(graph);
  const connection = createRedisConnection(rt.config.redisUrl, 'worker');
  rt.shutdown.add('redis', () => connection.quit());
  const ingest = createIngestQueue(connection, rt.config.queuePrefix);
  rt.shutdown.add('ingest queue', () => ingest.close());
  const pauseAgent = d.guardianKey
    ? createPauseAgent({
        rpc,
        privateKey: d.guardianKey,
        chainId,
        log: rt.log.child({ component: 'pause-agent' }),
        redis: connection,
        prefix: rt.config.queuePrefix,
        bumpBps: d.pauseBumpBps,
        maxFeeCapWei: BigInt(d.pauseMaxFeeGwei) * 1_000_000_000n,
        gasLimit: BigInt(d.pauseGas),
      })
    : undefined;
  if (!pauseAgent) rt.log.warn('DEFENSE_GUARDIAN_KEY is not set: pause actions will not be sent');
  const rewards = createRewardBook({ epochMs: d.epochMs });
  // One view of the senders' pending txs and nonces for the validator, its watcher and canary engine.
  const nonces = createSenderNonces({ rpc });
  let canaries: ReturnType<typeof createCanaryMaker> | undefined;
  if (d.canaryKeys.length > 0 && d.canariesPerEpoch > 0) {
    // The validator's own engine: its verdict on a canary is the truth miners are scored against.
    const engine = await createEngine({
      rpc,
      log: rt.log.child({ component: 'canary-engine' }),
      hardfork: rt.config.ethereum.hardfork,
      chainId: BigInt(chainId),
      nonces,
    });
    canaries = createCanaryMaker({ engine, rpc, chainId, keys: d.canaryKeys });
  } else {
    rt.log.warn(
      'no canaries (DEFENSE_CANARY_KEYS empty or DEFENSE_CANARIES_PER_EPOCH=0): violated recall is measured only on real attacks, and an epoch without one pays no miner',
    );
  }
  const validator = createDefenseValidator({
    id: d.validatorId,
    chainId,
    connection,
    prefix: rt.config.queuePrefix,
    provider,
    rpc,
    graph,
    ingest,
    log: rt.log,
    members: membership,
    metrics: rt.registry,
    params: {
      minersPerTx: d.minersPerTx,
      threshold: d.threshold,
      deadlineMs: d.deadlineMs,
      registryRefreshMs: d.registryRefreshMs,
      canariesPerEpoch: d.canariesPerEpoch,
    },
    pauseAgent,
    canaries,
    notifiers: { webhookSecret: d.webhookSecret, telegram: d.telegram },
    rewards,
    nonces,
    // Each decided violation asks Patrol for the attacker's trail (services/defense/trail.ts).
    onViolation: createTrailRequester({
      connection,
      prefix: rt.config.queuePrefix,
      validatorId: d.validatorId,
      chainId,
      head: async () => Number(BigInt(await rpc.call<string>('eth_blockNumber'))),
      log: rt.log,
    }),
  });
  rt.shutdown.add('defense validator', () => validator.close());
  await validator.start();
  // Scores are logged and published for the Patrol validator, which sets the combined weights on
  // chain: the last finished epoch's (the running one's only before the first ends). Epochs also
  // end on this timer, so a validator that sees no rounds stops publishing old scores.
  const publish = async () => {
    rewards.rollEpoch();
    // Operators see the epoch even before any miner scored (the API's defenseValidators).
    await publishOperatorState(
      connection,
      rt.config.queuePrefix,
      'defense',
      defenseOperatorState(rewards, { validator: d.validatorId, isMember: (m) => membership.has(m) }),
    ).catch((err) => rt.log.warn({ err: (err as Error).message }, 'defense operator state not published'));
    const { epoch, scores: all } = rewards.settled();
    // Paid by hotkey, only while registered (the Patrol validator maps hotkeys to uids).
    const scores = all.filter((s) => membership.has(s.miner));
    if (scores.length === 0) return;
    const weights = defenseWeights(scores);
    rt.log.info(
      { epoch, scores: scores.map((s) => ({ ...s, weight: weights.get(s.miner) })) },
      'defense miner scores',
    );
    await publishDefenseWeights(connection, rt.config.queuePrefix, {
      validator: d.validatorId,
      epoch,
      weights,
    }).catch((err) => rt.log.warn({ err: (err as Error).message }, 'defense weights not published'));
  };
  void publish();
  const timer = setInterval(() => void publish(), 60_000);
  timer.unref();
  rt.shutdown.add('score timer', () => clearInterval(timer));
  await serveHealth(rt, {
    redis: redisDependency(rt, connection),
    neo4j: neo4jDependency(rt, graph),
    rpc: { check: () => rpc.call<string>('eth_chainId'), variable: 'ETH_RPC_URL', url: rpcUrl },
    membership: {
      check: async () => {
        const s = membership.status();
        if (!s.ok)
          throw new ServiceUnavailableError(
            `registered hotkeys not refreshed (${s.error}); using the set read ${Math.round(s.ageMs / 1000)} s ago (${s.members} hotkeys)`,
          );
      },
      variable: 'SUBTENSOR_URL',
      url: rt.config.subtensor.url,
    },
  });
  rt.log.info(
    {
      validator: d.validatorId,
      chainId,
      guardian: pauseAgent?.guardian ?? null,
      canarySenders: canaries?.senders.length ?? 0,
      netuid: rt.config.patrol.netuid,
      members: membership.list().length,
    },
    'defense validator running',
  );
}

const USAGE = `usage:
  vigil invariants add --chain-id <n> (--definition '<json>' | --file <path.json>) [--severity low|medium|high|critical]
                       [--webhook <url>]... [--telegram <chat id>]... [--pause] [--pause-contract 0x…] [--pause-signature 'pause()']
                       [--canary '{"to":"0x…","data":"0x…{sender}…","value":"0"}']...
  vigil invariants list [--chain-id <n>] [--contract 0x…] [--json]
  vigil invariants remove <id>`;

/** `vigil invariants add|list|remove`: manage the invariant registry in Neo4j. */
export async function invariantsCommand(rt: Runtime, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (!sub || !['add', 'list', 'remove'].includes(sub))
    throw new UsageError(`unknown invariants command "${sub ?? ''}"`, { details: USAGE });
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        'chain-id': { type: 'string' },
        definition: { type: 'string' },
        file: { type: 'string' },
        severity: { type: 'string' },
        webhook: { type: 'string', multiple: true },
        telegram: { type: 'string', multiple: true },
        pause: { type: 'boolean' },
        'pause-contract': { type: 'string' },
        'pause-signature': { type: 'string' },
        canary: { type: 'string', multiple: true },
        contract: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new VigilError((e as Error).message, { details: USAGE });
  }
  const v = parsed.values as Record<string, string | string[] | boolean | undefined>;
  const graph = await openVerifiedGraph(rt);
  await applyMigrations(graph);

  if (sub === 'list') {
    const list = await listInvariants(graph, {
      chainId: v['chain-id'] ? Number(v['chain-id']) : null,
      contract: (v.contract as string | undefined) ?? null,
    });
    if (v.json) {
      console.log(JSON.stringify(list, null, 2));
      return;
    }
    if (list.length === 0) console.log('no invariants registered');
    for (const i of list) {
      const acts = i.actions.map((a) =>
        a.kind === 'webhook'
          ? `webhook ${new URL(a.url).origin}`
          : a.kind === 'telegram'
            ? `telegram ${a.chatId}`
            : `pause ${a.signature}`,
      );
      console.log(
        `${i.id}  chain ${i.chainId}  ${i.severity.padEnd(8)} ${i.kind.padEnd(16)} ${i.contract}  ${acts.join(', ') || 'no actions'}`,
      );
    }
    return;
  }

  if (sub === 'remove') {
    const id = parsed.positionals[0];
    if (!id) throw new VigilError('which invariant? give its id', { details: USAGE });
    const removed = await removeInvariant(graph, id);
    if (!removed) throw new VigilError(`no registered invariant "${id}"`);
    console.log(`removed invariant ${id}`);
    return;
  }

  let definitionText = v.definition as string | undefined;
  if (v.file) definitionText = await readFile(v.file as string, 'utf8');
  if (!definitionText)
    throw new VigilError('give the definition with --definition or --file', { details: USAGE });
  let definition: unknown;
  try {
    definition = JSON.parse(definitionText);
  } catch (e) {
    throw new VigilError(`the definition is not valid JSON: ${(e as Error).message}`);
  }
  const actions: DefenseActionSpec[] = [
    ...((v.webhook as string[] | undefined) ?? []).map((url) => ({ kind: 'webhook' as const, url })),
    ...((v.telegram as string[] | undefined) ?? []).map((chatId) => ({ kind: 'telegram' as const, chatId })),
  ];
  if (v.pause || v['pause-contract'] || v['pause-signature']) {
    actions.push({
      kind: 'pause',
      ...(v['pause-contract'] ? { contract: v['pause-contract'] as string } : {}),
      signature: (v['pause-signature'] as string | undefined) ?? 'pause()',
    });
  }
  const canaries = ((v.canary as string[] | undefined) ?? []).map((text, n) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new VigilError(`--canary #${n + 1} is not valid JSON: ${(e as Error).message}`);
    }
  });
  try {
    const { registration, invariant } = validateRegistration({
      chainId: Number(v['chain-id']),
      ...(v.severity ? { severity: v.severity } : {}),
      definition,
      actions,
      canaries,
    });
    const saved = await upsertInvariant(graph, registration, invariant);
    console.log(
      `registered invariant ${saved.id} (${saved.kind}) on ${saved.contract}, chain ${saved.chainId}, ${saved.actions.length} action(s), ${saved.canaries?.length ?? 0} canary call(s)`,
    );
  } catch (e) {
    if (e instanceof InvalidRegistrationError)
      throw new VigilError('the invariant was not registered', {
        details: e.issues.map((i) => `  ${i}`).join('\n'),
      });
    throw e;
  }
}
