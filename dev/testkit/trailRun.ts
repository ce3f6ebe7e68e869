import { Keyring } from '@polkadot/keyring';
import { type Contract, ContractFactory, Wallet, parseEther } from 'ethers';
import { createActivityReader } from '../../chains/ethereum/activity.ts';
import { createHttpRpc } from '../../chains/ethereum/rpc.ts';
import { createTokenMetadata } from '../../chains/ethereum/tokens.ts';
import type { Logger } from '../../common/logger.ts';
import type { Graph } from '../../graph/driver.ts';
import type { EthereumChallenge } from '../../protocol/patrol.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createPauseAgent } from '../../services/defense/actions.ts';
import { upsertInvariant } from '../../services/defense/invariantStore.ts';
import { validateRegistration } from '../../services/defense/registry.ts';
import { createTrailRequester } from '../../services/defense/trail.ts';
import type { RoundReport, Violation } from '../../services/defense/validator.ts';
import { type Engine, createEngine } from '../../services/engine/engine.ts';
import type { ChainView } from '../../services/patrol/chainView.ts';
import { buildEthereumSubgraph } from '../../services/patrol/ethereum/miner.ts';
import { ethereumVerifier } from '../../services/patrol/ethereum/patrol.ts';
import { createPatrolMiner } from '../../services/patrol/miner.ts';
import { DEFAULT_SCORING } from '../../services/patrol/scoring.ts';
import { type TrailParams, createTrails, followTrailRequests } from '../../services/patrol/trail.ts';
import { createPatrolValidator } from '../../services/patrol/validator.ts';
import { type DefenseRun, hotkeyOf, membersNamed, startDefenseRun } from './defenseRun.ts';
import type { Fixture } from './engine.ts';

/**
 * The attacker's trail wired for tests and benches, every part real and in this process: a
 * defense validator (its miners, a pause on the fixture's vault, the trail request on each
 * violation) and a Patrol validator with its trail loop and one honest Ethereum Patrol miner, all
 * on one queue prefix. The caller brings the anvil fixture, Neo4j and an ingest worker.
 */

export interface TrailRunOptions {
  fx: Fixture;
  graph: Graph;
  redisUrl: string;
  prefix: string;
  /** Unique per run: names the invariant, the defense validator and the hotkeys. */
  run: string;
  log: Logger;
  /** The trail loop's log (tests read its lines). */
  trailLog?: Logger;
  trail?: Partial<TrailParams>;
  defenseMiners?: number;
  /** Registered neurons that run no miner (never answer), challenged beside the real one. */
  silentNeurons?: string[];
  /** Timing hooks (the bench's parts). */
  on?: {
    round?: (r: RoundReport) => void;
    requested?: (v: Violation, at: number) => void;
    challenge?: (c: EthereumChallenge, at: number) => void;
    answered?: (c: EthereumChallenge, at: number) => void;
  };
}

export interface TrailRun {
  defense: DefenseRun;
  defenseId: string;
  close(): Promise<void>;
}

export async function startTrailRun(o: TrailRunOptions): Promise<TrailRun> {
  const { fx, prefix, log } = o;
  const chainId = fx.node.chainId;
  const closers: (() => Promise<unknown>)[] = [];
  const conns: ReturnType<typeof createRedisConnection>[] = [];
  const conn = () => {
    const c = createRedisConnection(o.redisUrl, 'worker');
    conns.push(c);
    return c;
  };
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
    for (const c of conns) c.disconnect();
  };
  try {
    const reg = validateRegistration({
      chainId,
      severity: 'critical',
      definition: { id: `${o.run}-owner`, kind: 'ownerUnchanged', contract: fx.addresses.vault },
      actions: [{ kind: 'pause' }],
    });
    await upsertInvariant(o.graph, reg.registration, reg.invariant);
    const defenseId = `${o.run}-defense`;
    const names = Array.from({ length: o.defenseMiners ?? 2 }, (_, i) => `${o.run}-d${i}`);
    const defense = await startDefenseRun(
      {
        node: fx.node,
        graph: o.graph,
        redisUrl: o.redisUrl,
        log,
        chainId,
        id: defenseId,
        prefix,
        ws: true,
        validator: ({ rpc, connection }) => {
          const request = createTrailRequester({
            connection,
            prefix,
            validatorId: defenseId,
            chainId,
            head: async () => Number(BigInt(await rpc.call<string>('eth_blockNumber'))),
            log,
          });
          return {
            members: membersNamed(names),
            params: {
              minersPerTx: names.length,
              threshold: 2 / 3,
              deadlineMs: 5000,
              registryRefreshMs: 60_000,
            },
            pauseAgent: createPauseAgent({
              rpc,
              privateKey: fx.guardian.privateKey,
              chainId,
              log,
              redis: connection,
              prefix,
            }),
            onRound: o.on?.round,
            onViolation: async (v) => {
              await request(v);
              o.on?.requested?.(v, performance.now());
            },
          };
        },
      },
      false,
    );
    closers.push(() => defense.close());
    const engines: Engine[] = [];
    closers.push(async () => engines.forEach((e) => e.close()));
    for (const n of names) {
      const engine = await createEngine({ rpc: fx.node.rpcUrl, log, chainId: BigInt(chainId) });
      engines.push(engine);
      defense.addMiner({ hotkey: hotkeyOf(n), engine });
    }
    await defense.validator.start();
    await defense.untilLive(names.map((n) => hotkeyOf(n).address));

    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    const minerKey = keyring.addFromUri(`//trail-miner-${o.run}`);
    const validatorKey = keyring.addFromUri(`//trail-validator-${o.run}`);
    const rpcs = [createHttpRpc({ url: fx.node.rpcUrl }), createHttpRpc({ url: fx.node.rpcUrl })];
    closers.push(async () => rpcs.forEach((r) => r.close()));
    const minerReader = createActivityReader(rpcs[0]!);
    const miner = createPatrolMiner({
      hotkey: minerKey,
      connection: conn(),
      prefix,
      log,
      ethereum: async (c) => {
        o.on?.challenge?.(c, performance.now());
        const sub = await buildEthereumSubgraph(minerReader, c);
        o.on?.answered?.(c, performance.now());
        return sub;
      },
    });
    closers.push(() => miner.close());
    const reader = createActivityReader(rpcs[1]!);
    const validator = createPatrolValidator({
      hotkey: validatorKey,
      connection: conn(),
      prefix,
      log,
      graph: o.graph,
      ingest: defense.ingest,
      chain: undefined as unknown as ChainView, // Ethereum trail rounds only
      head: () => reader.head(),
      miners: async () => [
        { hotkey: minerKey.address, uid: 0 },
        ...(o.silentNeurons ?? []).map((hotkey, i) => ({ hotkey, uid: i + 1 })),
      ],
      params: { window: 50, depth: 3, timeoutMs: 20_000, probes: 8, scoring: DEFAULT_SCORING },
      ethereum: {
        head: () => reader.head(),
        targets: async () => {
          throw new Error('a trail run plays trail rounds only');
        },
        verify: ethereumVerifier(reader, createTokenMetadata(rpcs[1]!), { scoring: DEFAULT_SCORING }),
      },
    });
    closers.push(() => validator.close());
    const trails = createTrails({
      runRound: validator.runEthereumRound!,
      reader,
      chainId,
      log: o.trailLog ?? log,
      params: {
        maxTargets: 4,
        lookbackBlocks: 1000,
        openMs: 180_000,
        pollMs: 300,
        timeoutMs: 3_000,
        depth: 3,
        ...o.trail,
      },
    });
    const following = followTrailRequests({
      connection: conn(),
      prefix,
      validator: validatorKey.address,
      defenseValidatorId: defenseId,
      trails,
      log: o.trailLog ?? log,
    });
    closers.push(() => following.close());
    return { defense, defenseId, close };
  } catch (e) {
    await close();
    throw e;
  }
}

const gwei = (n: number) => BigInt(Math.round(n * 1e9));

/** Sends `eth` wei and `units` of the fixture's token from one wallet to another, then mines one block. */
export async function pay(fx: Fixture, from: Wallet, to: string, eth: bigint, units: bigint) {
  const nonce = await fx.provider.getTransactionCount(from.address, 'pending');
  await from.sendTransaction({ to, value: eth, nonce });
  await (fx.token.connect(from) as Contract).getFunction('transfer')(to, units, { nonce: nonce + 1 });
  await fx.node.mine();
}

/**
 * An attacker funded through two hops, A → B → attacker (2 then 1 ETH, 500 then 200 tokens; A
 * funded by the deployer), one block per hop, who then deploys an exploit contract (Relay): four
 * blocks. `attack()` sends the exploit's call on the vault, left pending, with a tip a guardian's
 * pause can outbid.
 */
export async function fundedAttacker(fx: Fixture) {
  const [a, b, attacker] = [0, 1, 2].map(() => new Wallet(Wallet.createRandom().privateKey, fx.provider)) as [
    Wallet,
    Wallet,
    Wallet,
  ];
  await pay(fx, fx.deployer, a.address, parseEther('5'), parseEther('1000'));
  await pay(fx, a, b.address, parseEther('2'), parseEther('500'));
  await pay(fx, b, attacker.address, parseEther('1'), parseEther('200'));
  const relay = fx.contracts.Relay!;
  const exploit = await new ContractFactory(relay.abi as never, relay.bytecode, attacker).deploy({
    nonce: await fx.provider.getTransactionCount(attacker.address, 'pending'),
  });
  await fx.node.mine();
  const exploitAddress = (await exploit.getAddress()).toLowerCase();
  const attack = async () =>
    (exploit.connect(attacker) as Contract).getFunction('attack')(fx.addresses.vault, attacker.address, {
      nonce: await fx.provider.getTransactionCount(attacker.address, 'pending'),
      maxPriorityFeePerGas: gwei(3),
      maxFeePerGas: gwei(60),
      gasLimit: 300_000,
    }) as Promise<{ hash: string }>;
  return { a, b, attacker, exploitAddress, attack };
}
