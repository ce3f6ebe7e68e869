import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { type Contract, ContractFactory, Wallet, parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivityReader } from '../../chains/ethereum/activity.ts';
import { createHttpRpc } from '../../chains/ethereum/rpc.ts';
import { createTokenMetadata } from '../../chains/ethereum/tokens.ts';
import { type DefenseRun, hotkeyOf, membersNamed, startDefenseRun } from '../../dev/testkit/defenseRun.ts';
import { type Fixture, setupFixture } from '../../dev/testkit/engine.ts';
import type { Graph } from '../../graph/driver.ts';
import { trailStream } from '../../protocol/keys.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createTestApi } from '../../test/api.ts';
import { captureLogger } from '../../test/log.ts';
import {
  openTestGraph,
  redisUrl,
  silentLogger,
  startTestIngestWorker,
  uniquePrefix,
  waitFor,
} from '../../test/services.ts';
import { createPauseAgent } from '../defense/actions.ts';
import { upsertInvariant } from '../defense/invariantStore.ts';
import { validateRegistration } from '../defense/registry.ts';
import { createTrailRequester } from '../defense/trail.ts';
import { type Engine, createEngine } from '../engine/engine.ts';
import type { ChainView } from './chainView.ts';
import { buildEthereumSubgraph } from './ethereum/miner.ts';
import { ethereumVerifier } from './ethereum/patrol.ts';
import { createPatrolMiner } from './miner.ts';
import { DEFAULT_SCORING } from './scoring.ts';
import { createTrails, followTrailRequests } from './trail.ts';
import { createPatrolValidator } from './validator.ts';

/**
 * From an alert to the attacker's money trail, on anvil, with every part real: A → B → attacker
 * (ETH and an ERC-20), the attacker deploys an exploit contract (Relay) and sends an attack; the
 * defense validator flags it pending from the mempool (two defense miners), pauses the vault and
 * requests the trail; the Patrol validator's trail loop asks a real Ethereum Patrol miner, verifies
 * and ingests; the GraphQL API answers the funding path back to A, then the cash-out hop.
 */

const CHAIN_ID = 900_000 + Math.floor(Math.random() * 90_000);
const RUN = crypto.randomUUID().slice(0, 8);
const gwei = (n: number) => BigInt(Math.round(n * 1e9));

let fx: Fixture;
let graph: Graph;
beforeAll(async () => {
  await cryptoWaitReady();
  [fx, graph] = await Promise.all([
    setupFixture({ log: silentLogger(), cacheDir: join(tmpdir(), 'vigil-solc-cache'), chainId: CHAIN_ID }),
    openTestGraph(),
  ]);
}, 180_000);
afterAll(async () => {
  await fx?.stop();
  await graph?.close();
});

describe('the attacker trail', () => {
  it('answers the funding path back to A within seconds of the alert, then the cash-out hop', async () => {
    const prefix = uniquePrefix();
    const conns: ReturnType<typeof createRedisConnection>[] = [];
    const conn = () => {
      const c = createRedisConnection(redisUrl(), 'worker');
      conns.push(c);
      return c;
    };
    const closers: (() => Promise<unknown>)[] = [];
    const trailLog = captureLogger('info');
    const nonceOf = (a: string) => fx.provider.getTransactionCount(a, 'pending');
    const token = fx.addresses.token.toLowerCase();
    try {
      const yoga = createTestApi({ graph });
      const gql = async (query: string, variables: Record<string, unknown> = {}) => {
        const res = await yoga.fetch('http://vigil.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await res.json()) as { data?: any; errors?: unknown[] };
        if (body.errors) throw new Error(JSON.stringify(body.errors));
        return body.data;
      };
      const worker = startTestIngestWorker(conn(), prefix, graph, { concurrency: 2, batchSize: 1000 });
      closers.push(() => worker.close());

      // The defense side: a pause on the vault, two miners, and the trail request on each violation.
      const reg = validateRegistration({
        chainId: CHAIN_ID,
        severity: 'critical',
        definition: { id: `${RUN}-owner`, kind: 'ownerUnchanged', contract: fx.addresses.vault },
        actions: [{ kind: 'pause' }],
      });
      await upsertInvariant(graph, reg.registration, reg.invariant);
      const defenseId = `${RUN}-defense`;
      const names = [`${RUN}-d0`, `${RUN}-d1`];
      const run: DefenseRun = await startDefenseRun(
        {
          node: fx.node,
          graph,
          redisUrl: redisUrl(),
          log: silentLogger(),
          chainId: CHAIN_ID,
          id: defenseId,
          prefix,
          ws: true,
          validator: ({ rpc, connection }) => ({
            members: membersNamed(names),
            params: { minersPerTx: 2, threshold: 2 / 3, deadlineMs: 5000, registryRefreshMs: 60_000 },
            pauseAgent: createPauseAgent({
              rpc,
              privateKey: fx.guardian.privateKey,
              chainId: CHAIN_ID,
              log: silentLogger(),
              redis: connection,
              prefix,
            }),
            onViolation: createTrailRequester({
              connection,
              prefix,
              validatorId: defenseId,
              chainId: CHAIN_ID,
              head: async () => Number(BigInt(await rpc.call<string>('eth_blockNumber'))),
              log: silentLogger(),
            }),
          }),
        },
        false,
      );
      closers.push(() => run.close());
      const engines: Engine[] = [];
      for (const n of names) {
        const engine = await createEngine({
          rpc: fx.node.rpcUrl,
          log: silentLogger(),
          chainId: BigInt(CHAIN_ID),
        });
        engines.push(engine);
        run.addMiner({ hotkey: hotkeyOf(n), engine });
      }
      closers.push(async () => engines.forEach((e) => e.close()));
      await run.validator.start();
      await run.untilLive(names.map((n) => hotkeyOf(n).address));

      // The Patrol side: one honest Ethereum miner, the validator, and its trail loop.
      const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
      const minerKey = keyring.addFromUri(`//trail-miner-${RUN}`);
      const validatorKey = keyring.addFromUri(`//trail-validator-${RUN}`);
      const rpcs = [createHttpRpc({ url: fx.node.rpcUrl }), createHttpRpc({ url: fx.node.rpcUrl })];
      closers.push(async () => rpcs.forEach((r) => r.close()));
      const minerReader = createActivityReader(rpcs[0]!);
      const miner = createPatrolMiner({
        hotkey: minerKey,
        connection: conn(),
        prefix,
        log: silentLogger(),
        ethereum: (c) => buildEthereumSubgraph(minerReader, c),
      });
      closers.push(() => miner.close());
      const reader = createActivityReader(rpcs[1]!);
      const ingest = run.ingest;
      const validator = createPatrolValidator({
        hotkey: validatorKey,
        connection: conn(),
        prefix,
        log: silentLogger(),
        graph,
        ingest,
        chain: undefined as unknown as ChainView, // Ethereum rounds only
        head: () => reader.head(),
        miners: async () => [{ hotkey: minerKey.address, uid: 0 }],
        params: { window: 50, depth: 3, timeoutMs: 20_000, probes: 8, scoring: DEFAULT_SCORING },
        ethereum: {
          head: () => reader.head(),
          targets: async () => {
            throw new Error('this test plays trail rounds only');
          },
          verify: ethereumVerifier(reader, createTokenMetadata(rpcs[1]!), { scoring: DEFAULT_SCORING }),
        },
      });
      closers.push(() => validator.close());
      const trails = createTrails({
        runRound: validator.runEthereumRound!,
        reader,
        chainId: CHAIN_ID,
        log: trailLog.log,
        params: { maxTargets: 4, lookbackBlocks: 1000, openMs: 180_000, pollMs: 300, depth: 3 },
      });
      const following = followTrailRequests({
        connection: conn(),
        prefix,
        validator: validatorKey.address,
        defenseValidatorId: defenseId,
        trails,
        log: trailLog.log,
      });
      closers.unshift(() => following.close());

      // A → B → attacker, in ETH and in the token, one block per hop.
      const [a, b, attacker, cashOut] = [0, 1, 2, 3].map(
        () => new Wallet(Wallet.createRandom().privateKey, fx.provider),
      );
      const pay = async (from: Wallet, to: Wallet, eth: bigint, units: bigint) => {
        await from.sendTransaction({ to: to.address, value: eth, nonce: await nonceOf(from.address) });
        await (fx.token.connect(from) as Contract).getFunction('transfer')(to.address, units, {
          nonce: await nonceOf(from.address),
        });
        await fx.node.mine();
      };
      await pay(fx.deployer, a!, parseEther('5'), parseEther('1000'));
      await pay(a!, b!, parseEther('2'), parseEther('500'));
      await pay(b!, attacker!, parseEther('1'), parseEther('200'));
      const relay = fx.contracts.Relay!;
      const exploit = await new ContractFactory(relay.abi as never, relay.bytecode, attacker!).deploy({
        nonce: await nonceOf(attacker!.address),
      });
      await fx.node.mine();
      const exploitAddress = (await exploit.getAddress()).toLowerCase();

      // The attack, pending: flagged, paused, and the trail requested.
      const seen = Date.now();
      const attack = await (exploit.connect(attacker!) as Contract).getFunction('attack')(
        fx.addresses.vault,
        attacker!.address,
        {
          nonce: await nonceOf(attacker!.address),
          maxPriorityFeePerGas: gwei(3),
          maxFeePerGas: gwei(60),
          gasLimit: 300_000,
        },
      );
      const [A, B, X, C] = [a!, b!, attacker!, cashOut!].map((w) => w.address.toLowerCase());
      const funding = await waitFor(
        "the alert's attacker and the funding path in GraphQL",
        async () => {
          const d = await gql(
            `query ($tx: String!, $a: String!, $x: String!) {
               alerts(filter: { txHash: $tx }) { edges { node { attacker { address
                 neighbors(direction: IN, types: [TRANSFER]) { edges { node { address } relationship { amount token } } } } } } }
               paths(chain: ETHEREUM, from: $a, to: $x) { paths { wallets hops { relationships { from to amount token } } } } }`,
            { tx: attack.hash, a: A, x: X },
          );
          return d.paths.paths.length > 0 && d.alerts.edges[0]?.node.attacker ? d : undefined;
        },
        60_000,
      );
      const funded = Date.now();
      console.log(
        `trail test: seen → funding path back to A answerable in GraphQL ${(funded - seen) / 1000} s`,
      );
      expect(funding.alerts.edges[0].node.attacker.address).toBe(X);
      const into = funding.alerts.edges[0].node.attacker.neighbors.edges.map((e: any) => [
        e.node.address,
        e.relationship.amount,
        e.relationship.token,
      ]);
      expect(into.sort()).toEqual(
        [
          [B, parseEther('1').toString(), null],
          [B, parseEther('200').toString(), token],
        ].sort(),
      );
      const bySort = <T extends { amount: string }>(rels: T[]) =>
        [...rels].sort((p, q) => p.amount.localeCompare(q.amount));
      expect(funding.paths.paths).toHaveLength(1);
      expect(funding.paths.paths[0].wallets).toEqual([A, B, X]);
      expect(funding.paths.paths[0].hops.map((h: any) => bySort(h.relationships))).toEqual([
        bySort([
          { from: A, to: B, amount: parseEther('2').toString(), token: null },
          { from: A, to: B, amount: parseEther('500').toString(), token },
        ]),
        bySort([
          { from: B, to: X, amount: parseEther('1').toString(), token: null },
          { from: B, to: X, amount: parseEther('200').toString(), token },
        ]),
      ]);
      // The request named the sender and the exploit contract, never the vault.
      const entries = await conns[0]!.xrange(trailStream(prefix, defenseId), '-', '+');
      expect(entries).toHaveLength(1);
      expect(JSON.parse(entries[0]![1][1]!).targets).toEqual([
        { address: X, role: 'sender' },
        { address: exploitAddress, role: 'callee' },
      ]);
      expect(trailLog.lines.filter((l) => l.msg === 'trail opened')).toHaveLength(1);

      // The pause lands first; the attacker moves what it holds on: the forward trail finds it.
      await fx.node.mine();
      expect(await fx.vault.getFunction('paused')()).toBe(true);
      await pay(attacker!, cashOut!, parseEther('0.5'), parseEther('100'));
      const cash = await waitFor(
        'the cash-out hop in GraphQL',
        async () => {
          const d = await gql(
            `query ($x: String!, $c: String!) { paths(chain: ETHEREUM, from: $x, to: $c) {
               paths { wallets hops { relationships { from to amount token } } } } }`,
            { x: X, c: C },
          );
          return d.paths.paths.length > 0 ? d.paths.paths : undefined;
        },
        60_000,
      );
      expect(cash.map((p: any) => p.wallets)).toEqual([[X, C]]);
      expect(bySort(cash[0].hops[0].relationships)).toEqual(
        bySort([
          { from: X, to: C, amount: parseEther('0.5').toString(), token: null },
          { from: X, to: C, amount: parseEther('100').toString(), token },
        ]),
      );
      // Logged per alert: backwards on both targets, forwards as blocks came.
      const asked = trailLog.lines.filter((l) => l.msg === 'trail asked');
      expect(
        asked
          .filter((l) => l.direction === 'in')
          .map((l) => l.target)
          .sort(),
      ).toEqual([X, exploitAddress].sort());
      expect(asked.some((l) => l.direction === 'out' && l.target === X && l.accepted === 1)).toBe(true);
      expect(asked.every((l) => l.accepted === 1)).toBe(true);
    } finally {
      for (const c of closers) await c().catch(() => {});
      for (const c of conns) c.disconnect();
    }
  }, 240_000);
});
