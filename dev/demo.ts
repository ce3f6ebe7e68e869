import { type ChildProcess, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Keyring } from '@polkadot/keyring';
import { connectSubtensor } from '../chains/bittensor/client.ts';
import { ChainSpecNotFoundError } from '../chains/bittensor/errors.ts';
import { enableWeightSetting } from '../chains/bittensor/neurons.ts';
import { startApi, startIngestWorker } from '../cli/commands/services.ts';
import { type Runtime, openGraph, progressLogger } from '../cli/runtime.ts';
import { VigilError } from '../common/errors.ts';
import { applyMigrations } from '../graph/migrations.ts';
import { infraUp } from '../infra/up.ts';
import { createRedisConnection } from '../queues/connection.ts';
import { type IngestQueue, createIngestQueue } from '../queues/ingestion.ts';
import { EXAMPLE_TYPES, exampleQuery } from '../services/api/example.ts';
import { subnetNeurons } from '../services/patrol/chainAccess.ts';
import { startLocalSubtensor } from './bittensor/localChain.ts';
import { seedScenario } from './bittensor/seeder.ts';
import { runDefenseScenario } from './defense/demoScenario.ts';
import { checkTrail, trailCypher, trailGraphql } from './defense/trailQueries.ts';
import { localMinerUser } from './minerUsers.ts';

/** The demo's EVM chain id: fresh per run, below 2^31 (GraphQL's Int) until 2038. */
const RUN_CHAIN_ID = Math.floor(Date.now() / 1000);

const VIGIL = path.resolve(import.meta.dirname, '../bin/vigil.ts');

/**
 * `vigil demo` (npm start): the whole Patrol loop on local defaults. Starts what is missing
 * (Redis, Neo4j, a real subtensor runtime under chopsticks), seeds real activity, runs two
 * miners and a validator as separate processes for a round, ingests what the validator
 * accepted, and serves GraphQL. Prints where to look, then keeps serving until Ctrl-C.
 */
export async function demoCommand(rt: Runtime, args: string[]): Promise<void> {
  const { values: opt } = parseArgs({
    args,
    options: {
      accounts: { type: 'string', default: '200' },
      blocks: { type: 'string', default: '6' },
      exit: { type: 'boolean', default: false },
    },
  });
  const step = (m: string) => console.log(`\n==> ${m}`);
  const say = (m: string) => console.log(`    ${m}`);
  // Progress of the modules below (infra, chain, seeder): the same indented lines, with fields.
  const progress = progressLogger(rt, '    ');

  // Checked before anything starts: a wrong SUBTENSOR_SPEC must not cost a Neo4j start first.
  const specPath = rt.config.subtensor.specPath;
  await access(specPath).catch((cause) => {
    throw new ChainSpecNotFoundError(specPath, { cause });
  });

  step('infrastructure');
  const infra = await infraUp(rt.config, progress.child({ component: 'infra' }));
  const graph = openGraph(rt);
  await graph.verify();
  await applyMigrations(graph, progress.child({ component: 'migrations' }));

  step('GraphQL API and ingestion worker');
  const connection = createRedisConnection(rt.config.redisUrl, 'worker');
  rt.shutdown.add('redis', () => connection.quit());
  startIngestWorker(rt, graph);
  const api = await startApi(rt, graph);
  say(`GraphQL at ${api.url}`);

  step(
    `local Bittensor chain (real subtensor runtime under chopsticks, spec ${rt.config.subtensor.specPath})`,
  );
  const chain = await startLocalSubtensor({
    specPath: rt.config.subtensor.specPath,
    chopsticksLogLevel: 'warn',
    log: progress.child({ component: 'local-chain' }),
  });
  rt.shutdown.add('local chain', () => chain.close());
  const chainApi = await connectSubtensor(chain.wsUrl, { timeoutMs: 30_000 });
  rt.shutdown.add('chain api', () => chainApi.disconnect());
  say(`subtensor at ${chain.wsUrl}`);

  step(
    `seeding real activity: ${opt.accounts} accounts, ${opt.blocks} blocks of transfers, stakes, moves, children`,
  );
  const started = Date.now();
  const manifest = await seedScenario(chainApi, chain, {
    accounts: Number(opt.accounts),
    subnets: 2,
    blocks: Number(opt.blocks),
    log: progress.child({ component: 'seeder' }),
  });
  say(
    `${manifest.transfers.length} transfers, ${manifest.stakes.length} stake changes, ${manifest.moves.length} moves, ${manifest.children.length} set_children in blocks ${manifest.firstBlock}-${manifest.lastBlock} (${Math.round((Date.now() - started) / 1000)} s)`,
  );

  step('Patrol round: 2 miners and 1 validator as separate processes');
  const netuid = manifest.subnets[0]!.netuid;
  const neurons = manifest.hotkeys.filter((h) => h.netuids.includes(netuid));
  const [validatorHk, ...minerHks] = neurons;
  // Each miner on its own Redis user, as on a real validator's Redis (README "Onboarding a miner").
  const minerUsers = await Promise.all(
    minerHks.slice(0, 2).map((hk) => localMinerUser(rt.config.redisUrl, rt.config.queuePrefix, hk.address)),
  );
  rt.shutdown.add('miner redis users', () => Promise.allSettled(minerUsers.map((u) => u.revoke())));
  const validatorUid = (await subnetNeurons(chainApi, netuid)).find(
    (n) => n.hotkey === validatorHk!.address,
  )!.uid;
  const sudo = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Alice');
  await enableWeightSetting(chainApi, chain, { netuid, sudo, validatorUids: [validatorUid] });
  const env = {
    ...process.env,
    SUBTENSOR_URL: chain.wsUrl,
    SUBTENSOR_DEV_BLOCKS: 'true',
    // Each process its own /health port.
    METRICS_PORT: '0',
    PATROL_NETUID: String(netuid),
    PATROL_WINDOW: String(manifest.lastBlock),
    PATROL_TIMEOUT_MS: '15000',
    LOG_LEVEL: 'info',
  };
  const children: ChildProcess[] = [];
  rt.shutdown.add('neurons', () => children.forEach((c) => c.kill('SIGTERM')));
  const run = (cmd: string, extra: Record<string, string>, onLine: (l: Record<string, unknown>) => void) => {
    const child = spawn(process.execPath, ['--import', 'tsx', VIGIL, cmd], {
      env: { ...env, ...extra },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (l.startsWith('{')) onLine(JSON.parse(l));
    });
    return child;
  };
  /** The two miners, as processes; resolves once both listen. */
  const startMiners = (extra: Record<string, string> = {}) => {
    let listening = 0;
    const miners: ChildProcess[] = [];
    const ready = new Promise<ChildProcess[]>((resolve) => {
      minerHks.slice(0, 2).forEach((hk, i) =>
        miners.push(
          run(
            'patrol-miner',
            {
              PATROL_HOTKEY_URI: hk.uri,
              PATROL_MINER_DELAY_MS: i === 1 ? '2000' : '0',
              REDIS_URL: minerUsers[i]!.url,
              ...extra,
            },
            (l) => {
              if (l.msg === 'patrol miner waiting for challenges' && ++listening === 2) resolve(miners);
              if (l.msg === 'answered')
                say(
                  `miner ${String(l.challenge).split('-')[2]} answered: ${l.nodes} nodes, ${l.edges} edges in ${l.ms} ms`,
                );
            },
          ),
        ),
      );
    });
    return ready;
  };
  const miners = await startMiners();
  const onSubnet = await subnetNeurons(chainApi, netuid);
  const minerUids = new Set(
    minerHks.slice(0, 2).map((hk) => onSubnet.find((n) => n.hotkey === hk.address)?.uid),
  );
  say(
    `miners up as uids ${[...minerUids].join(' and ')} (the second one answers 2 s late); validator uid ${validatorUid} on subnet ${netuid}; ` +
      `the subnet's other ${onSubnet.length - minerUids.size - 1} registered neurons run no miner in this demo`,
  );
  const validator = run(
    'patrol-validator',
    { PATROL_HOTKEY_URI: validatorHk!.uri, PATROL_ROUNDS: '1', PATROL_ROUND_INTERVAL_MS: '0' },
    (l) => {
      if (l.msg === 'miner scored' && !l.accepted && !minerUids.has(l.uid as number)) {
        say(
          `uid ${l.uid}: a registered neuron of subnet ${netuid} that runs no miner in this demo: ${l.reason} (score 0)`,
        );
      } else if (l.msg === 'miner scored') {
        say(
          `uid ${l.uid}: ${l.accepted ? `accepted, ${l.edges} edges, score ${Number(l.score).toFixed(3)} (volume ${Number(l.volume).toFixed(3)}, responsiveness ${Number(l.responsiveness).toFixed(3)}, novelty ${Number(l.novelty).toFixed(2)})` : `rejected: ${l.reason}`}`,
        );
      }
      if (l.msg === 'weights set on chain (WeightsSet)')
        say(
          `weights set on chain in block ${l.block}: uids ${JSON.stringify(l.uids)} → ${JSON.stringify(l.weights)}`,
        );
    },
  );
  const code = await new Promise<number | null>((resolve) => validator.on('exit', resolve));
  if (code !== 0)
    throw new VigilError(`the Patrol validator exited with code ${code}`, {
      details: 'Its log lines above say which round or step failed.',
    });

  step('ingestion');
  const ingestQueue = createIngestQueue(connection, rt.config.queuePrefix);
  rt.shutdown.add('ingest queue', () => ingestQueue.close());
  const stored = await waitForIngestion(graph, ingestQueue);
  say(`${stored.wallets} wallets and ${stored.relationships} relationships in Neo4j`);
  const target = stored.sampleTarget;

  step('BitDefense: a pending attack on a watched vault');
  const defense = await runDefenseScenario({
    // A chain id of this run's own (its start in Unix seconds): the local node deploys the same
    // contracts at the same addresses each run, so alerts of earlier runs differ only by chain.
    chainId: RUN_CHAIN_ID,
    graph,
    redisUrl: rt.config.redisUrl,
    prefix: rt.config.queuePrefix,
    ingestQueue,
    log: say,
    shutdown: rt.shutdown,
    // The defense miners' hotkeys join the Patrol subnet (PATROL_NETUID is the defense netuid too).
    subnet: { api: chainApi, chain, netuid, coldkeyUri: manifest.accounts.at(-1)!.uri },
  });
  if (!defense.pauseFirst || !defense.attackReverted || !defense.vaultIntact) {
    throw new VigilError(
      `the defense did not hold: pause first ${defense.pauseFirst}, attack reverted ${defense.attackReverted}, vault intact ${defense.vaultIntact}`,
    );
  }

  step('Patrol on Ethereum: the same miners and validator, now also reading the local EVM node');
  for (const m of miners) m.kill('SIGTERM');
  await startMiners({ PATROL_ETH_RPC_URL: defense.rpcUrl });
  const ethValidator = run(
    'patrol-validator',
    {
      PATROL_HOTKEY_URI: validatorHk!.uri,
      PATROL_ROUNDS: '1',
      PATROL_ROUND_INTERVAL_MS: '0',
      PATROL_ETH_RPC_URL: defense.rpcUrl,
      // It follows the demo defense validator's trail requests: the attacker's trail at once.
      DEFENSE_VALIDATOR_ID: defense.validatorId,
    },
    (l) => {
      if (l.msg === 'trail opened')
        say(`trail of alert ${l.alert}: asking about ${(l.targets as string[]).join(' and ')}`);
      if (l.msg === 'trail asked')
        say(
          `trail: ${l.direction === 'in' ? 'who funded' : 'where value went from'} ${l.target} (blocks ${l.fromBlock}–${l.toBlock}): ${l.accepted} of ${l.miners} answers accepted, ${l.edges} edges`,
        );
      if (l.msg === 'miner scored' && l.chain === 'ethereum' && minerUids.has(l.uid as number))
        say(
          `uid ${l.uid} on Ethereum: ${l.accepted ? `accepted, ${l.edges} edges, score ${Number(l.score).toFixed(3)}` : `rejected: ${l.reason}`}`,
        );
    },
  );
  const ethCode = await new Promise<number | null>((resolve) => ethValidator.on('exit', resolve));
  if (ethCode !== 0)
    throw new VigilError(`the Patrol validator (both chains) exited with code ${ethCode}`, {
      details: 'Its log lines above say which round or step failed.',
    });
  const eth = await waitForIngestion(graph, ingestQueue, 'ethereum');
  say(`${eth.wallets} Ethereum wallets and contracts, ${eth.relationships} relationships in Neo4j`);
  const trail = await checkTrail(graph, `${api.url}`, defense.attackTx);
  say(
    trail.funders.length > 0
      ? `the attacker's trail: funded by ${trail.funders.map((f) => `${f.address} (${f.amount} ${f.token ?? 'wei'})`).join(', ')}; the Cypher query below returns ${trail.cypherPaths} funding paths`
      : "the attacker's trail: NOT in the graph (see the trail lines above)",
  );

  step('waiting until the API answers the common questions (query plans warmed up)');
  const warm = (await api.ready) as { warm?: boolean; ms?: number } | undefined;
  say(
    warm?.warm
      ? `ready in ${Math.round((warm.ms ?? 0) / 1000)} s`
      : 'the warm-up did not finish: first answers may be slow',
  );

  console.log(`
Where to look
  Web console         ${api.consoleUrl}#/wallet?chain=BITTENSOR&address=${target}
  GraphQL (GraphiQL)  ${api.url}
  Neo4j Browser       ${infra.browserUrl}
  Local EVM node      ${defense.rpcUrl} (chain ${defense.chainId}; the vault ${defense.contract} is paused)

Try in GraphiQL (the wallet's transfers and stakes, with their evidence):
  ${exampleQuery(target).replaceAll('\n', '\n  ')}

Try in Neo4j Browser:
  MATCH (s:Submission)-[:TARGETS]->(t:Wallet) WITH t LIMIT 1
  MATCH p = (t)-[*1..2]-(:Wallet) RETURN p LIMIT 100

Patrol on Ethereum (the local EVM node's wallets; contracts also :Contract), in Neo4j Browser:
  MATCH p = (:Submission {chain: 'ethereum'})-[:TARGETS]->(:Wallet)-[:TRANSFER|DEPLOYED*1..2]-(:Wallet) RETURN p LIMIT 100

BitDefense — this run's alerts (chain ${defense.chainId} is this run's own), in GraphiQL:
  { alerts(filter: {contract: "${defense.contract}", chainId: ${defense.chainId}}, first: 10) {
      edges { node { id severity invariantId txHash sender contract before after
                     votesViolated votesTotal miners validator raisedAt } } } }

and in Neo4j Browser:
  MATCH p = (a:Alert {txHash: "${defense.attackTx}"})-[:VIOLATES|RAISED_ON|IN_TX]->() RETURN p

The attacker's trail next to the alert (Patrol asked its miners the moment the alert was raised), in GraphiQL:
  ${trailGraphql(defense.attackTx).replaceAll('\n', '\n  ')}

and in Neo4j Browser (who funded the attacker, up to 3 hops back):
  ${trailCypher(defense.attackTx).replaceAll('\n', '\n  ')}
`);
  if (opt.exit) {
    await rt.shutdown.kill();
    process.exit(0);
  }
  console.log('Serving until Ctrl-C.');
}

/** Waits until the ingestion queue is drained, then counts what the graph holds of `chain`. */
async function waitForIngestion(
  graph: ReturnType<typeof openGraph>,
  queue: IngestQueue,
  chain: 'bittensor' | 'ethereum' = 'bittensor',
) {
  for (let i = 0; i < 120; i++) {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    if (Object.values(c).some((n) => n > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    const res = await graph.read((tx) =>
      tx.run(
        `MATCH (s:Submission {chain: $chain})-[:TARGETS]->(t:Wallet)
         WITH collect(t.address)[0] AS sampleTarget, count(s) AS submissions
         RETURN sampleTarget, submissions,
                COUNT { (:Wallet {chain: $chain}) } AS wallets,
                COUNT { (:Wallet {chain: $chain})-[]->(:Wallet) } AS relationships`,
        { chain },
      ),
    );
    const r = res.records[0]!;
    if ((r.get('submissions') as number) > 0) {
      return {
        sampleTarget: (await walletWithExampleNeighbours(graph)) ?? (r.get('sampleTarget') as string),
        wallets: r.get('wallets') as number,
        relationships: r.get('relationships') as number,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new VigilError(
    'the accepted submissions did not all reach Neo4j within 60 s: see `vigil ingest stats`',
  );
}

/** The accepted subgraphs' target with the most relationships of the example's types (exampleQuery). */
async function walletWithExampleNeighbours(graph: ReturnType<typeof openGraph>): Promise<string | undefined> {
  const res = await graph.read((tx) =>
    tx.run(
      `MATCH (:Submission {chain: 'bittensor'})-[:TARGETS]->(t:Wallet)
            WITH DISTINCT t, COUNT { (t)-[r]-(:Wallet) WHERE type(r) IN $types } AS n WHERE n > 0
            RETURN t.address AS address ORDER BY n DESC LIMIT 1`,
      { types: [...EXAMPLE_TYPES] },
    ),
  );
  return res.records[0]?.get('address') as string | undefined;
}
