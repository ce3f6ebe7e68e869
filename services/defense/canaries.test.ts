import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { type Contract, Transaction, Wallet, parseEther } from 'ethers';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpRpc } from '../../chains/ethereum/rpc.ts';
import type { RpcTransaction } from '../../chains/ethereum/types.ts';
import { closeMonitorProvider, createMonitorProvider } from '../../chains/ethereum/watcher.ts';
import { addressOf, hotkeyOf, startDefenseRun } from '../../dev/testkit/defenseRun.ts';
import { type Fixture, setupFixture } from '../../dev/testkit/engine.ts';
import type { Graph } from '../../graph/driver.ts';
import type { Challenge } from '../../protocol/defense.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue } from '../../queues/ingestion.ts';
import { createTestApi } from '../../test/api.ts';
import { runVigil } from '../../test/cli.ts';
import {
  neo4jUri,
  openTestGraph,
  redisUrl,
  silentLogger,
  startTestIngestWorker,
  uniquePrefix,
  waitFor,
} from '../../test/services.ts';
import { type Engine, createEngine, nextBaseFee } from '../engine/engine.ts';
import { createPauseAgent } from './actions.ts';
import { SENDER_PLACEHOLDER, createCanaryMaker } from './canaries.ts';
import { getInvariant, upsertInvariant } from './invariantStore.ts';
import { createDefenseMiner } from './miner.ts';
import { validateRegistration } from './registry.ts';
import { type MinerScore, createRewardBook } from './rewards.ts';
import { type RoundReport, createDefenseValidator } from './validator.ts';

/**
 * Canaries against the real services: anvil with the vulnerable vault, Redis, Neo4j, the project's
 * validator and miner code. A canary is the vault take-over `setOwner(sender)` sent from a funded
 * account only the validator holds.
 */

const log = silentLogger();
const CHAIN_ID = 800_000 + Math.floor(Math.random() * 90_000);
const RUN = crypto.randomUUID().slice(0, 8);
const INV = `${RUN}-owner`;
const SECRET = 'webhook-secret-for-canary-tests';
const TG_TOKEN = '123456:canary-token';

let fx: Fixture;
let graph: Graph;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const canaryKeys = [0, 1, 2].map(() => Wallet.createRandom().privateKey);
const conns: ReturnType<typeof createRedisConnection>[] = [];
const conn = () => {
  const c = createRedisConnection(redisUrl(), 'worker');
  conns.push(c);
  return c;
};
const closers: (() => Promise<unknown>)[] = [];

/** Local receiver for webhooks and the Telegram Bot API: anything it gets is a notification. */
async function startReceiver() {
  const got: string[] = [];
  const server = http.createServer((req, res) => {
    got.push(req.url ?? '');
    req.resume();
    req.on('end', () =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"result":{}}'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    got,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const raw = (hash: string) => fx.node.rpc<RpcTransaction>('eth_getTransactionByHash', [hash]);
const nonceOf = (a: string) => fx.provider.getTransactionCount(a, 'pending');

beforeAll(async () => {
  await cryptoWaitReady();
  [fx, graph, receiver] = await Promise.all([
    setupFixture({ log: silentLogger(), cacheDir: join(tmpdir(), 'vigil-solc-cache'), chainId: CHAIN_ID }),
    openTestGraph(),
    startReceiver(),
  ]);
  // The canary senders: fresh accounts, funded once (as an operator would), never used for anything else.
  let n = await nonceOf(fx.deployer.address);
  for (const k of canaryKeys)
    await fx.deployer.sendTransaction({ to: new Wallet(k).address, value: parseEther('1'), nonce: n++ });
  await fx.node.mine();
  // The vault's owner must not change; the team registers the take-over it knows as a canary call,
  // with every defense action a real violation triggers.
  const setOwner = fx.vault.interface.encodeFunctionData('setOwner', [`0x${'00'.repeat(20)}`]);
  const reg = validateRegistration({
    chainId: CHAIN_ID,
    severity: 'critical',
    definition: { id: INV, kind: 'ownerUnchanged', contract: fx.addresses.vault },
    actions: [
      { kind: 'pause' },
      { kind: 'webhook', url: `${receiver.url}/hook` },
      { kind: 'telegram', chatId: '-1001' },
    ],
    canaries: [{ to: fx.addresses.vault, data: `${setOwner.slice(0, 34)}${SENDER_PLACEHOLDER}` }],
  });
  await upsertInvariant(graph, reg.registration, reg.invariant);
});

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
  for (const c of conns) c.disconnect();
  await receiver?.close();
  await fx?.stop();
  await graph?.close();
});

async function engine(): Promise<Engine> {
  const e = await createEngine({
    rpc: fx.node.rpcUrl,
    log: silentLogger(),
    chainId: BigInt(CHAIN_ID),
    poolSize: 3,
  });
  closers.push(async () => e.close());
  return e;
}

/** A miner that never simulates: every invariant "holds", answered at once. */
const alwaysHolds: Engine = {
  check: async (req) => ({
    blockNumber: 0,
    tx: { status: 'success' },
    priorTxs: [],
    invariants: req.invariants.map((i) => ({ id: i.id, kind: i.kind, status: 'holds' as const })),
    violated: false,
    durationMs: 0,
    rpcReads: 0,
  }),
  newHead: async (n) => BigInt(n ?? 0),
  prefetch: async () => {},
  chainId: 0n,
  common: undefined as never,
  close() {},
};

async function setup(opts: {
  honest: string[];
  cheats?: string[];
  epochMs: number;
  canariesPerEpoch: number;
  withActions?: boolean;
}) {
  const prefix = uniquePrefix();
  const rewards = createRewardBook({ epochMs: opts.epochMs });
  const metrics = new Registry();
  const reports: RoundReport[] = [];
  const challenges: Challenge[] = [];
  const honestEngine = await engine();
  const names = [...opts.honest, ...(opts.cheats ?? [])];
  const ids = names.map(addressOf);
  const members = new Set(ids);
  const validatorEngine = await engine();
  const run = await startDefenseRun({
    node: fx.node,
    graph,
    redisUrl: redisUrl(),
    log,
    chainId: CHAIN_ID,
    id: `${RUN}-v-${prefix.slice(-8)}`,
    prefix,
    validator: ({ rpc, connection }) => ({
      metrics,
      members: { has: (h: string) => members.has(h) },
      params: {
        minersPerTx: ids.length,
        threshold: 2 / 3,
        deadlineMs: 5000,
        registryRefreshMs: 60_000,
        canariesPerEpoch: opts.canariesPerEpoch,
      },
      rewards,
      canaries: createCanaryMaker({ engine: validatorEngine, rpc, chainId: CHAIN_ID, keys: canaryKeys }),
      ...(opts.withActions
        ? {
            pauseAgent: createPauseAgent({
              rpc,
              privateKey: fx.guardian.privateKey,
              chainId: CHAIN_ID,
              log: silentLogger(),
              redis: connection,
              prefix,
            }),
            notifiers: { webhookSecret: SECRET, telegram: { baseUrl: receiver.url, token: TG_TOKEN } },
          }
        : {}),
      onRound: (r) => reports.push(r),
    }),
  });
  closers.push(() => run.close());
  for (const id of names)
    run.addMiner({
      hotkey: hotkeyOf(id),
      engine: opts.honest.includes(id) ? honestEngine : alwaysHolds,
      // Records what a miner receives (the answer itself is untouched).
      tamper: (a, c) => {
        challenges.push(c);
        return a;
      },
    });
  const worker = startTestIngestWorker(run.conn(), prefix, graph, { concurrency: 2, batchSize: 100 });
  run.onClose(() => worker.close());
  await run.untilLive(ids);
  const { validator, ingest } = run;
  await validator.start({ watch: false });
  return { validator, rewards, reports, challenges, ingest, metrics };
}

describe('canaries', () => {
  it('a canary looks like a real pending tx, and raises no alert, finding, pause or notification', async () => {
    const honest = ['h1', 'h2', 'h3'].map((x) => `${RUN}-a-${x}`);
    // No timer canaries here: the test sends them itself.
    const { validator, rewards, reports, challenges, ingest, metrics } = await setup({
      honest,
      epochMs: 3_600_000,
      canariesPerEpoch: 0,
      withActions: true,
    });
    const ownerBefore = await fx.vault.getFunction('owner')();
    const canaries: RoundReport[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await validator.runCanary();
      expect(r, 'a canary was made').not.toBeNull();
      canaries.push(r!);
    }
    for (const r of canaries) {
      expect(r.canary).toBe(true);
      expect(r.answers).toBe(3);
      // The honest miners found the violation: a real tx with these votes would be acted on.
      expect(r.consensus[0]).toMatchObject({ id: INV, outcome: 'violated', votes: { violated: 3 } });
      expect(r.pauses).toEqual([]);
      expect(r.findings).toEqual([]);
      expect(r.marks.violated).toBeUndefined();
      // Never on the node: not pending, not mined.
      expect(await raw(r.txHash)).toBeNull();
    }
    // What the miners received is a pending tx like any other: the node's field set, a signature
    // that recovers the sender, a hash that is the signed tx's, and a sender that can pay for it.
    const u = fx.user;
    const deposit = await (fx.vault.connect(u) as Contract).getFunction('deposit')({
      value: 1n,
      nonce: await nonceOf(u.address),
    });
    const real = await raw(deposit.hash);
    const benign = await validator.handleTx(real);
    expect(benign!.consensus[0]!.outcome).toBe('holds');
    const seen = challenges.find((c) => c.tx.hash === canaries[0]!.txHash)!.tx;
    const realSeen = challenges.find((c) => c.tx.hash === real.hash)!.tx;
    expect(Object.keys(seen)).toEqual(Object.keys(realSeen));
    expect(Object.keys(seen).sort()).toEqual(Object.keys(real).sort());
    const signed = Transaction.from({
      type: 2,
      chainId: BigInt(seen.chainId as string),
      nonce: Number(BigInt(seen.nonce)),
      gasLimit: BigInt(seen.gas),
      maxFeePerGas: BigInt(seen.maxFeePerGas as string),
      maxPriorityFeePerGas: BigInt(seen.maxPriorityFeePerGas as string),
      to: seen.to,
      value: BigInt(seen.value as string),
      data: seen.input,
      signature: {
        r: seen.r as string,
        s: seen.s as string,
        yParity: Number(BigInt(seen.yParity as string)) as 0 | 1,
      },
    });
    expect(signed.from?.toLowerCase()).toBe(seen.from);
    expect(signed.hash).toBe(seen.hash);
    expect(seen.nonce).toBe(`0x${(await nonceOf(seen.from)).toString(16)}`);
    const balance = await fx.provider.getBalance(seen.from);
    expect(balance >= BigInt(seen.gas) * BigInt(seen.maxFeePerGas as string)).toBe(true);
    // A different sender's canary carries its own address in the call.
    expect(seen.input).toContain(seen.from.slice(2));
    // Its effective gas price follows the node's rule for pending txs (the next block's base fee
    // plus the tip, capped), as the real one's does.
    const latest = (await fx.provider.getBlock('latest'))!;
    const next = nextBaseFee({
      gasLimit: latest.gasLimit,
      gasUsed: latest.gasUsed,
      baseFee: latest.baseFeePerGas!,
    });
    for (const t of [realSeen, seen]) {
      const tip = next + BigInt(t.maxPriorityFeePerGas as string);
      const cap = BigInt(t.maxFeePerGas as string);
      expect(BigInt(t.gasPrice as string)).toBe(tip < cap ? tip : cap);
    }

    // Nothing was raised: no pause in the pool, no finding queued or stored, no notification.
    await new Promise((r) => setTimeout(r, 1500));
    const pool = await fx.node.rpc<{ pending: Record<string, unknown> }>('txpool_content');
    expect(Object.keys(pool.pending).map((a) => a.toLowerCase())).not.toContain(
      fx.guardian.address.toLowerCase(),
    );
    const jobs = async () =>
      Object.values(await ingest.getJobCounts('completed', 'waiting', 'active', 'failed', 'delayed')).reduce(
        (a, b) => a + b,
        0,
      );
    expect(await jobs()).toBe(0);
    const alerts = await graph.read((tx) =>
      tx.run('MATCH (a:Alert) WHERE a.txHash IN $hashes RETURN count(a) AS n', {
        hashes: canaries.map((r) => r.txHash),
      }),
    );
    expect(Number(alerts.records[0]!.get('n'))).toBe(0);
    expect(receiver.got).toEqual([]);
    expect(await fx.vault.getFunction('paused')()).toBe(false);
    expect(await fx.vault.getFunction('owner')()).toBe(ownerBefore);
    const outcomes = (await metrics.getSingleMetric('vigil_defense_outcomes_total')!.get()).values;
    expect(outcomes.filter((v) => v.labels.outcome === 'violated')).toEqual([]);
    // But the canaries were scored, on the validator's truth.
    for (const s of rewards.current())
      expect(s).toMatchObject({ canaries: { seen: 2, agreed: 2 }, violatedRecall: { seen: 2, agreed: 2 } });

    // Control, same validator: a real take-over in the mempool is acted on (pause, finding, notifications).
    const a = new Wallet(fx.node.accounts[6]!.privateKey, fx.provider);
    const take = await (fx.vault.connect(a) as Contract).getFunction('setOwner')(a.address, {
      nonce: await nonceOf(a.address),
      maxPriorityFeePerGas: 2_000_000_000n,
      maxFeePerGas: 50_000_000_000n,
    });
    const attack = await validator.handleTx(await raw(take.hash));
    expect(attack!.canary).toBeUndefined();
    expect(attack!.pauses.map((p) => p.status)).toEqual(['sent']);
    expect(attack!.findings).toHaveLength(1);
    // The attack's one finding (the actions' outcome jobs follow it on the same queue).
    const findings = async () =>
      (await ingest.getJobs(['completed', 'waiting', 'active', 'failed', 'delayed'])).filter(
        (j) => j.data.kind === 'finding',
      ).length;
    await waitFor('the finding job', async () => (await findings()) === 1, 10_000);
    await waitFor('the notifications', async () => receiver.got.length === 2, 10_000);
    expect(reports.filter((r) => r.canary)).toHaveLength(2);
    await fx.node.mine();
    expect(await fx.vault.getFunction('paused')()).toBe(true);
    await (fx.vault.connect(fx.deployer) as Contract).getFunction('unpause')({
      nonce: await nonceOf(fx.deployer.address),
    });
    await fx.node.mine();
    expect(await fx.vault.getFunction('paused')()).toBe(false);
  });

  it('canary calls are registered through GraphQL with a write key, and never shown by the API', async () => {
    const key = 'write-key-for-canary-tests';
    const yoga = createTestApi({ graph, keys: [{ role: 'write', key }] });
    const gql = async (query: string, variables: Record<string, unknown> = {}) => {
      const res = await yoga.fetch('http://vigil.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as { data?: any; errors?: { message: string; extensions?: any }[] };
    };
    const add = 'mutation ($input: InvariantInput!) { addInvariant(input: $input) { id definition } }';
    const id = `${RUN}-gql`;
    const input = (canaries: unknown[]) => ({
      chainId: CHAIN_ID + 1,
      definition: JSON.stringify({ id, kind: 'ownerUnchanged', contract: fx.addresses.vault }),
      canaries,
    });
    const bad = await gql(add, { input: input([{ to: '0x12', data: '0x13af4035{sender}' }]) });
    expect(bad.errors?.[0]).toMatchObject({
      message: expect.stringContaining('canaries.0.to: expected a 0x-prefixed 20-byte hex address'),
      extensions: { code: 'INVALID_INVARIANT' },
    });
    const data = '0x13af4035000000000000000000000000{sender}';
    const ok = await gql(add, { input: input([{ to: fx.addresses.vault, data }]) });
    expect(ok.errors).toBeUndefined();
    expect(ok.data.addInvariant.definition).not.toContain('13af4035');
    expect((await getInvariant(graph, id))!.canaries).toEqual([
      { to: fx.addresses.vault.toLowerCase(), data, value: '0' },
    ]);
    // The API has no field that returns them.
    const asked = await gql('query ($id: ID!) { invariant(id: $id) { id canaries } }', { id });
    expect(asked.errors?.[0]?.message).toMatch(/Cannot query field "canaries"/);
  });

  it('vigil invariants add --canary registers canary calls and names a bad one', async () => {
    const id = `${RUN}-cli`;
    const env = { NEO4J_URI: neo4jUri(), REDIS_URL: redisUrl() };
    const add = (...canary: string[]) =>
      runVigil(
        [
          'invariants',
          'add',
          '--chain-id',
          String(CHAIN_ID + 2),
          '--definition',
          JSON.stringify({ id, kind: 'ownerUnchanged', contract: fx.addresses.vault }),
          ...canary.flatMap((c) => ['--canary', c]),
        ],
        env,
      );
    const data = '0x13af4035000000000000000000000000{sender}';
    const [ok, notJson, badField] = await Promise.all([
      add(JSON.stringify({ to: fx.addresses.vault, data })),
      add('{to: vault}'),
      add(JSON.stringify({ to: fx.addresses.vault, data: '0x1' })),
    ]);
    expect(ok.output).toContain(`registered invariant ${id}`);
    expect(ok.output).toContain('1 canary call(s)');
    expect(ok.code).toBe(0);
    expect(notJson.code).not.toBe(0);
    expect(notJson.output).toContain('--canary #1 is not valid JSON');
    expect(badField.code).not.toBe(0);
    expect(badField.output).toContain('canaries.0.data: expected 0x-prefixed hex bytes');
    expect((await getInvariant(graph, id))!.canaries).toEqual([
      { to: fx.addresses.vault.toLowerCase(), data, value: '0' },
    ]);
  }, 180_000);

  it('a decided violation is learned as a canary call, replayed from a canary sender', async () => {
    const rpc = createHttpRpc({ url: fx.node.rpcUrl });
    closers.push(async () => rpc.close());
    const maker = createCanaryMaker({ engine: await engine(), rpc, chainId: CHAIN_ID, keys: canaryKeys });
    const reg = validateRegistration({
      chainId: CHAIN_ID,
      definition: { id: INV, kind: 'ownerUnchanged', contract: fx.addresses.vault },
    });
    const inv = { ...reg.registration, id: INV, kind: 'ownerUnchanged' } as Parameters<
      typeof maker.make
    >[0][0];
    const head = Number(BigInt(await rpc.call<string>('eth_blockNumber')));
    expect(await maker.make([inv], head)).toMatchObject({
      skipped: expect.stringContaining('no canary call'),
    });
    // The take-over through Relay, as a real attacker sent it; the validator learns its call.
    const a = fx.attacker;
    const attack = await (fx.relay.connect(a) as Contract).getFunction('attack')(
      fx.addresses.vault,
      a.address,
      {
        nonce: await nonceOf(a.address),
        gasLimit: 300_000,
      },
    );
    maker.learn([INV], await raw(attack.hash));
    await fx.node.rpc('anvil_dropAllTransactions');
    const c = await maker.make([inv], head);
    if ('skipped' in c) throw new Error(c.skipped);
    expect(c.invariant).toBe(INV);
    expect(c.truth).toEqual([{ id: INV, outcome: 'violated' }]);
    expect(c.tx.to).toBe(fx.addresses.relay.toLowerCase());
    expect(c.tx.input).toBe(attack.data);
    expect(maker.senders).toContain(c.tx.from);
    expect(c.tx.from).not.toBe(a.address.toLowerCase());
    // A call that does not violate (a deposit) is never kept as a canary.
    const benign = createCanaryMaker({ engine: await engine(), rpc, chainId: CHAIN_ID, keys: canaryKeys });
    benign.learn([INV], {
      from: a.address,
      nonce: '0x0',
      gas: '0x0',
      to: fx.addresses.vault,
      input: fx.vault.interface.encodeFunctionData('deposit'),
      value: '0x1',
    } as RpcTransaction);
    expect(await benign.make([inv], head)).toMatchObject({
      skipped: expect.stringContaining('does not violate it (holds)'),
    });
  });

  it('an always-"holds" miner earns ≤ 1 % of an honest one over epochs with canaries and no attack', async () => {
    const honestNames = ['h1', 'h2', 'h3'].map((x) => `${RUN}-b-${x}`);
    const honest = honestNames.map(addressOf);
    const cheat = addressOf(`${RUN}-b-safe`);
    const epochMs = 15_000;
    const { validator, rewards, reports } = await setup({
      honest: honestNames,
      cheats: [`${RUN}-b-safe`],
      epochMs,
      canariesPerEpoch: 2,
    });
    // Benign traffic only (deposits), each checked from the mempool and mined; the validator's
    // own timer mixes canaries in. Three whole epochs.
    const epochs: MinerScore[][] = [];
    const u = fx.user;
    // Whole epochs from here: the set-up may have used up most of the first (a loaded machine).
    rewards.closeEpoch();
    const started = rewards.epoch;
    while (rewards.epoch < started + 3) {
      const before = rewards.epoch;
      const d = await (fx.vault.connect(u) as Contract).getFunction('deposit')({
        value: 1n,
        nonce: await nonceOf(u.address),
      });
      const r = await validator.handleTx(await raw(d.hash));
      expect(r!.consensus[0]!.outcome).toBe('holds');
      await fx.node.mine();
      await new Promise((res) => setTimeout(res, 1000));
      rewards.rollEpoch();
      if (rewards.epoch > before) epochs.push(rewards.lastEpoch());
    }
    expect(epochs).toHaveLength(3);
    expect(reports.some((r) => r.consensus.some((c) => c.outcome === 'violated') && !r.canary)).toBe(false);
    for (const scores of epochs) {
      const s = Object.fromEntries(scores.map((x) => [x.miner, x]));
      const paid = honest.map((h) => s[h]!.score);
      expect(Math.min(...paid)).toBeGreaterThan(0);
      expect(s[cheat]!.score).toBeLessThanOrEqual(0.01 * Math.min(...paid));
      for (const h of honest) {
        expect(s[h]!.canaries.seen).toBeGreaterThanOrEqual(1);
        expect(s[h]!.accuracy).toBe(1);
      }
      // The cheat answered as much as the honest miners and was sent canaries too.
      expect(s[cheat]!.txs).toBeGreaterThanOrEqual(Math.min(...honest.map((h) => s[h]!.txs)));
      expect(s[cheat]!.canaries.seen).toBeGreaterThanOrEqual(1);
    }
  });
});
