import { createHmac } from 'node:crypto';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { type Contract, Wallet, parseEther } from 'ethers';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpRpc } from '../../chains/ethereum/rpc.ts';
import type { RpcTransaction } from '../../chains/ethereum/types.ts';
import { closeMonitorProvider, createMonitorProvider } from '../../chains/ethereum/watcher.ts';
import { addressOf, hotkeyOf, membersNamed, startDefenseRun } from '../../dev/testkit/defenseRun.ts';
import { type Fixture, setupFixture } from '../../dev/testkit/engine.ts';
import type { Graph } from '../../graph/driver.ts';
import { signHeartbeat } from '../../protocol/defense.ts';
import { defenseChallengeStream, defenseDeferredKey, defenseHeartbeatKey } from '../../protocol/keys.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue } from '../../queues/ingestion.ts';
import { createTestApi } from '../../test/api.ts';
import {
  openTestGraph,
  redisUrl,
  silentLogger,
  startTestIngestWorker,
  uniquePrefix,
  waitFor,
} from '../../test/services.ts';
import { openSubscription } from '../../test/sse.ts';
import type { ApiHandler } from '../api/server.ts';
import { type Engine, type EngineOptions, createEngine } from '../engine/engine.ts';
import { SIGNATURE_HEADER, createPauseAgent, sendTelegram, sendWebhook } from './actions.ts';
import { createAlertPubSub, startAlertFeed } from './alertFeed.ts';
import { upsertInvariant } from './invariantStore.ts';
import { type DefenseMiner, createDefenseMiner } from './miner.ts';
import { validateRegistration } from './registry.ts';
import { createRewardBook } from './rewards.ts';
import {
  type DefenseParams,
  type DefenseValidator,
  type RoundReport,
  createDefenseValidator,
} from './validator.ts';

const log = silentLogger();
const WRITE_KEY = 'write-key-for-defense-tests';
const SECRET = 'webhook-secret-for-tests';
const TG_TOKEN = '123456:test-token';
// A chain id of this run's own: the registry is shared by every test in the Neo4j test database.
const CHAIN_ID = 900_000 + Math.floor(Math.random() * 90_000);
const RUN = crypto.randomUUID().slice(0, 8);

let fx: Fixture;
let graph: Graph;
beforeAll(async () => {
  await cryptoWaitReady();
  [fx, graph] = await Promise.all([
    setupFixture({ log: silentLogger(), cacheDir: join(tmpdir(), 'vigil-solc-cache'), chainId: CHAIN_ID }),
    openTestGraph(),
  ]);
});
afterAll(async () => {
  await fx?.stop();
  await graph?.close();
});

/** Local receiver for webhooks and the Telegram Bot API. */
async function startReceiver() {
  const got: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      // A receiver that is down: the action's outcome must say it failed, and why.
      if (req.url === '/fail') {
        res.writeHead(500).end('receiver down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, result: { message_id: got.length } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    got,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const raw = (hash: string) => fx.node.rpc<RpcTransaction>('eth_getTransactionByHash', [hash]);
const nonceOf = (a: string) => fx.provider.getTransactionCount(a, 'pending');
const gwei = (n: number) => BigInt(Math.round(n * 1e9));

// The scenarios share one vault: a test that fails with the vault paused must not fail the rest.
afterEach(async () => {
  if (!fx || !(await fx.vault.getFunction('paused')())) return;
  await (fx.vault.connect(fx.deployer) as Contract).getFunction('unpause')({
    nonce: await nonceOf(fx.deployer.address),
  });
  await fx.node.mine();
});

describe('defense end to end: mempool → miners → consensus → pause, alert, notifications', () => {
  const prefix = uniquePrefix();
  const reports: RoundReport[] = [];
  const conns: ReturnType<typeof createRedisConnection>[] = [];
  const conn = () => {
    const c = createRedisConnection(redisUrl(), 'worker');
    conns.push(c);
    return c;
  };
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let validator: DefenseValidator;
  const miners: DefenseMiner[] = [];
  const engines: Engine[] = [];
  let closers: (() => Promise<unknown>)[] = [];
  let yoga: ApiHandler;

  const gql = async (query: string, variables: Record<string, unknown> = {}, key?: string) => {
    const res = await yoga.fetch('http://vigil.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data?: any; errors?: { message: string; extensions?: any }[] };
  };

  const reportFor = (hash: string) =>
    waitFor(`the round of ${hash}`, async () => reports.find((r) => r.txHash === hash.toLowerCase()), 20_000);

  beforeAll(async () => {
    receiver = await startReceiver();
    const pubsub = createAlertPubSub();
    const feed = await startAlertFeed({ subscriber: conn(), prefix, pubsub });
    yoga = createTestApi({ graph, keys: [{ role: 'write', key: WRITE_KEY }], pubsub });

    // Three honest miners, each with its own engine, as separate processes would have.
    for (let i = 0; i < 3; i++) {
      const engine = await createEngine({
        rpc: fx.node.rpcUrl,
        log: silentLogger(),
        chainId: BigInt(CHAIN_ID),
      });
      engines.push(engine);
      miners.push(
        createDefenseMiner({
          hotkey: hotkeyOf(`${RUN}-m${i}`),
          connection: conn(),
          prefix,
          engine,
          log,
          heartbeatMs: 500,
        }),
      );
    }
    const ingestWorker = startTestIngestWorker(conn(), prefix, graph, { concurrency: 2, batchSize: 100 });
    const rpc = createHttpRpc({ url: fx.node.rpcUrl });
    const provider = createMonitorProvider({ url: fx.node.wsUrl, chainId: CHAIN_ID });
    const producer = conn();
    const ingest = createIngestQueue(producer, prefix);
    validator = createDefenseValidator({
      id: `${RUN}-validator`,
      chainId: CHAIN_ID,
      connection: producer,
      prefix,
      provider,
      rpc,
      graph,
      ingest,
      log,
      members: membersNamed([0, 1, 2].map((i) => `${RUN}-m${i}`)),
      params: { minersPerTx: 3, threshold: 2 / 3, deadlineMs: 3000, registryRefreshMs: 60_000 },
      pauseAgent: createPauseAgent({
        rpc,
        privateKey: fx.guardian.privateKey,
        chainId: CHAIN_ID,
        log: silentLogger(),
        redis: producer,
        prefix,
      }),
      notifiers: { webhookSecret: SECRET, telegram: { baseUrl: receiver.url, token: TG_TOKEN } },
      rewards: createRewardBook({ epochMs: 3_600_000 }),
      onRound: (r) => reports.push(r),
    });
    closers = [
      () => validator.close(),
      ...miners.map((m) => () => m.close()),
      () => ingestWorker.close(),
      () => feed.close(),
      () => ingest.obliterate({ force: true }).then(() => ingest.close()),
      () => closeMonitorProvider(provider),
      async () => rpc.close(),
      async () => engines.forEach((e) => e.close()),
      () => receiver.close(),
    ];
  });

  afterAll(async () => {
    for (const c of closers) await c().catch(() => {});
    for (const c of conns) c.disconnect();
  });

  it('registers invariants through GraphQL with a write key, with clear errors', async () => {
    const { vault, token } = fx.addresses;
    const add = `mutation ($input: InvariantInput!) { addInvariant(input: $input) {
      id chainId kind contract severity definition actions { kind url chatId contract signature } } }`;
    const actions = [
      { kind: 'PAUSE' },
      { kind: 'WEBHOOK', url: `${receiver.url}/hook` },
      { kind: 'TELEGRAM', chatId: '-10042' },
    ];
    const denied = await gql(add, { input: { chainId: CHAIN_ID, definition: '{}' } });
    expect(denied.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const invalid = await gql(
      add,
      {
        input: {
          chainId: CHAIN_ID,
          definition: JSON.stringify({ id: 'x', kind: 'compare', contract: vault, slot: 4 }),
        },
      },
      WRITE_KEY,
    );
    expect(invalid.errors?.[0]).toMatchObject({
      message: expect.stringContaining('definition.op: Required'),
      extensions: { code: 'INVALID_INVARIANT' },
    });

    const owner = await gql(
      add,
      {
        input: {
          chainId: CHAIN_ID,
          severity: 'CRITICAL',
          definition: JSON.stringify({
            id: `${RUN}-owner`,
            kind: 'ownerUnchanged',
            contract: vault,
            description: 'vault owner must not change',
          }),
          actions,
        },
      },
      WRITE_KEY,
    );
    expect(owner.errors).toBeUndefined();
    expect(owner.data.addInvariant).toMatchObject({
      id: `${RUN}-owner`,
      chainId: CHAIN_ID,
      kind: 'ownerUnchanged',
      contract: vault.toLowerCase(),
      severity: 'CRITICAL',
      actions: [
        { kind: 'PAUSE', url: null, chatId: null, contract: null, signature: 'pause()' },
        { kind: 'WEBHOOK', url: `${receiver.url}/hook` },
        { kind: 'TELEGRAM', chatId: '-10042' },
      ],
    });
    for (const def of [
      { id: `${RUN}-eth`, kind: 'balanceMaxDrop', account: vault, bps: 1000 },
      { id: `${RUN}-tokens`, kind: 'erc20BalanceDrop', token, holder: vault, mappingSlot: 0, bps: 1000 },
    ]) {
      const r = await gql(
        add,
        {
          input: {
            chainId: CHAIN_ID,
            severity: 'HIGH',
            definition: JSON.stringify(def),
            // The eth invariant also notifies a receiver that answers 500.
            actions:
              def.id === `${RUN}-eth`
                ? [{ kind: 'PAUSE' }, { kind: 'WEBHOOK', url: `${receiver.url}/fail` }]
                : [{ kind: 'PAUSE' }],
          },
        },
        WRITE_KEY,
      );
      expect(r.errors).toBeUndefined();
    }
    // A throwaway one, removed again: remove needs a key and answers whether it was there.
    const tmp = validateRegistration({
      chainId: CHAIN_ID,
      definition: { id: `${RUN}-tmp`, kind: 'unchanged', contract: vault, slot: 4 },
    });
    await upsertInvariant(graph, tmp.registration, tmp.invariant);
    const rm = 'mutation ($id: ID!) { removeInvariant(id: $id) }';
    expect((await gql(rm, { id: `${RUN}-tmp` }, WRITE_KEY)).data.removeInvariant).toBe(true);
    expect((await gql(rm, { id: `${RUN}-tmp` }, WRITE_KEY)).data.removeInvariant).toBe(false);

    const list = await gql('query ($c: Int) { invariants(chainId: $c) { id } }', { c: CHAIN_ID });
    expect(list.data.invariants.map((i: { id: string }) => i.id)).toEqual([
      `${RUN}-eth`,
      `${RUN}-owner`,
      `${RUN}-tokens`,
    ]);

    await validator.start();
    await waitFor('three live miners', async () => (await validator.liveMiners()).length === 3);
  });

  it('benign txs raise nothing', async () => {
    const u = fx.user;
    const d = await (fx.vault.connect(u) as Contract).getFunction('deposit')({
      value: parseEther('1'),
      nonce: await nonceOf(u.address),
    });
    const t = await (fx.token.connect(fx.deployer) as Contract).getFunction('transfer')(u.address, 1000n, {
      nonce: await nonceOf(fx.deployer.address),
    });
    const plain = await fx.deployer.sendTransaction({
      to: fx.node.accounts[7]!.address,
      value: 1n,
      nonce: await nonceOf(fx.deployer.address),
    });
    const [rd, rt] = await Promise.all([reportFor(d.hash), reportFor(t.hash)]);
    for (const r of [rd, rt]) {
      expect(r.answers).toBe(3);
      expect(r.consensus.map((c) => c.outcome)).toEqual(['holds', 'holds', 'holds']);
      expect(r.pauses).toEqual([]);
      expect(r.findings).toEqual([]);
    }
    await new Promise((r) => setTimeout(r, 200));
    // A plain transfer between accounts touches no contract: never challenged.
    expect(reports.find((r) => r.txHash === plain.hash.toLowerCase())).toBeUndefined();
    await fx.node.mine();
    expect(receiver.got).toEqual([]);
  });

  it('an attack through Relay is detected in the mempool, the pause lands first, the attack reverts', async () => {
    // Live subscription opened before the attack (SSE, as a browser would).
    const sub = await openSubscription(
      yoga.fetch,
      'subscription ($f: AlertFilter) { alertRaised(filter: $f) { id invariantId severity txHash contract sender after } }',
      { f: { contract: fx.addresses.vault, severity: ['CRITICAL'] } },
    );

    const a = fx.attacker;
    const vaultEthBefore = await fx.provider.getBalance(fx.addresses.vault);
    const attack = await (fx.relay.connect(a) as Contract).getFunction('attack')(
      fx.addresses.vault,
      a.address,
      {
        nonce: await nonceOf(a.address),
        maxPriorityFeePerGas: gwei(3),
        maxFeePerGas: gwei(60),
        gasLimit: 300_000,
      },
    );
    const r = await reportFor(attack.hash);
    expect(r.consensus.map((c) => [c.id, c.outcome])).toEqual([
      [`${RUN}-eth`, 'violated'],
      [`${RUN}-owner`, 'violated'],
      [`${RUN}-tokens`, 'violated'],
    ]);
    // One pause for the incident, though three invariants asked for one.
    const sent = r.pauses.filter((p) => p.status === 'sent');
    expect(sent).toHaveLength(1);
    expect(r.pauses.filter((p) => p.status === 'deduped')).toHaveLength(2);
    expect(sent[0]!.maxPriorityFeePerGas! > gwei(3)).toBe(true);
    // Detected before mined: the attack is still pending when the pause is out.
    expect((await raw(attack.hash)).blockNumber).toBeNull();

    await fx.node.mine();
    const [pauseRc, attackRc] = await Promise.all([
      fx.provider.getTransactionReceipt(sent[0]!.hash!),
      fx.provider.getTransactionReceipt(attack.hash),
    ]);
    expect(pauseRc!.blockNumber).toBe(attackRc!.blockNumber);
    expect(pauseRc!.index).toBeLessThan(attackRc!.index);
    expect(pauseRc!.status).toBe(1);
    expect(attackRc!.status).toBe(0);
    expect(await fx.vault.getFunction('paused')()).toBe(true);
    expect((await fx.vault.getFunction('owner')()).toLowerCase()).toBe(fx.deployer.address.toLowerCase());
    expect(await fx.provider.getBalance(fx.addresses.vault)).toBe(vaultEthBefore);
    expect(await fx.token.getFunction('balanceOf')(fx.addresses.vault)).toBe(parseEther('5000'));

    // Alert stored and queryable by filters.
    const q = `query ($f: AlertFilter) { alerts(filter: $f, first: 10) { edges { node {
      id invariantId severity txHash contract sender before after votesViolated votesTotal miners validator } } pageInfo { hasNextPage } } }`;
    const found = await waitFor(
      'alerts in GraphQL',
      async () => {
        const res = await gql(q, { f: { txHash: attack.hash } });
        return res.data?.alerts.edges.length === 3
          ? res.data.alerts.edges.map((e: any) => e.node)
          : undefined;
      },
      15_000,
    );
    const owner = found.find((n: any) => n.invariantId === `${RUN}-owner`);
    expect(owner).toMatchObject({
      severity: 'CRITICAL',
      contract: fx.addresses.vault.toLowerCase(),
      sender: a.address.toLowerCase(),
      before: fx.deployer.address.toLowerCase(),
      after: fx.addresses.relay.toLowerCase(),
      votesTotal: 3,
      validator: `${RUN}-validator`,
    });
    // The validator acts the moment 2 of 3 agree: the alert records the votes it acted on.
    expect(owner.votesViolated).toBeGreaterThanOrEqual(2);
    expect(owner.miners).toHaveLength(owner.votesViolated);
    const eth = found.find((n: any) => n.invariantId === `${RUN}-eth`);
    expect(eth).toMatchObject({ before: vaultEthBefore.toString(), after: '0' });
    const filtered = await gql(q, {
      f: {
        wallet: a.address,
        severity: ['HIGH'],
        chainId: CHAIN_ID,
        from: new Date(Date.now() - 60_000).toISOString(),
      },
    });
    expect(filtered.data.alerts.edges.map((e: any) => e.node.invariantId).sort()).toEqual([
      `${RUN}-eth`,
      `${RUN}-tokens`,
    ]);
    const none = await gql(q, {
      f: { txHash: attack.hash, to: new Date(Date.now() - 3_600_000).toISOString() },
    });
    expect(none.data.alerts.edges).toEqual([]);

    // The live subscription got the critical one.
    const live = (await sub.next()).data.alertRaised;
    await sub.close();
    expect(live.invariantId).toBe(`${RUN}-owner`);
    expect(live.severity).toBe('CRITICAL');

    // Webhook (HMAC verified) and Telegram received the owner alert.
    const hook = await waitFor(
      'the webhook',
      async () => receiver.got.find((g) => g.path === '/hook'),
      10_000,
    );
    const expected = `sha256=${createHmac('sha256', SECRET).update(hook.body).digest('hex')}`;
    expect(hook.headers[SIGNATURE_HEADER]).toBe(expected);
    expect(JSON.parse(hook.body)).toMatchObject({
      event: 'alert',
      alertId: `ethereum:${CHAIN_ID}:${attack.hash.toLowerCase()}:${RUN}-owner`,
      contract: fx.addresses.vault.toLowerCase(),
      tx: { hash: attack.hash.toLowerCase(), from: a.address.toLowerCase() },
      votes: { violated: owner.votesViolated, total: 3 },
      pause: { hash: expect.stringMatching(/^0x/) },
    });
    const tg = await waitFor(
      'the telegram message',
      async () => receiver.got.find((g) => g.path === `/bot${TG_TOKEN}/sendMessage`),
      10_000,
    );
    const msg = JSON.parse(tg.body);
    expect(msg.chat_id).toBe('-10042');
    expect(msg.text).toContain(fx.addresses.vault.toLowerCase());
    expect(msg.text).toContain(`chain ${CHAIN_ID}`);
    expect(msg.text).toContain(`${RUN}-owner (ownerUnchanged)`);

    // What each alert's actions did, in GraphQL once the pause's receipt decided how it landed.
    const ACTIONS = `query ($f: AlertFilter) { alerts(filter: $f, first: 10) { edges { node {
      invariantId actions { kind status txHash landedFirst detail at } } } } }`;
    const outcomes = await waitFor(
      'the action outcomes',
      async () => {
        const res = await gql(ACTIONS, { f: { txHash: attack.hash } });
        const nodes: any[] = res.data?.alerts.edges.map((e: any) => e.node) ?? [];
        const of = (id: string) => nodes.find((n) => n.invariantId === `${RUN}-${id}`)?.actions ?? [];
        const [o, e] = [of('owner'), of('eth')];
        const settled = (l: any[], n: number) => l.length === n && l[0].status !== 'sent';
        return settled(o, 3) && settled(e, 2) ? { owner: o, eth: e } : undefined;
      },
      30_000,
    );
    // Checked against the receipts read above from anvil (same block, pause at the lower index).
    const pauseOutcome = {
      kind: 'PAUSE',
      status: 'landed-first',
      txHash: sent[0]!.hash!.toLowerCase(),
      landedFirst: true,
      detail: `pause block ${pauseRc!.blockNumber} index ${pauseRc!.index}; attack block ${attackRc!.blockNumber} index ${attackRc!.index}`,
      at: expect.any(String),
    };
    const delivered = {
      txHash: null,
      landedFirst: null,
      detail: 'HTTP 200 after 1 attempt',
      at: expect.any(String),
    };
    expect(outcomes.owner).toEqual([
      pauseOutcome,
      { kind: 'WEBHOOK', status: 'delivered', ...delivered },
      { kind: 'TELEGRAM', status: 'delivered', ...delivered },
    ]);
    expect(outcomes.eth).toEqual([
      pauseOutcome,
      {
        kind: 'WEBHOOK',
        status: 'failed',
        txHash: null,
        landedFirst: null,
        detail: `webhook ${receiver.url} answered HTTP 500 receiver down (3 attempts)`,
        at: expect.any(String),
      },
    ]);
    expect(receiver.got.filter((g) => g.path === '/fail')).toHaveLength(3);

    // The owner unpauses for the next scenario.
    await (fx.vault.connect(fx.deployer) as Contract).getFunction('unpause')({
      nonce: await nonceOf(fx.deployer.address),
    });
    await fx.node.mine();
    expect(await fx.vault.getFunction('paused')()).toBe(false);
  });

  it('a two-tx attack from one sender is detected, one pause lands first, both txs revert', async () => {
    const a = new Wallet(fx.node.accounts[5]!.privateKey, fx.provider);
    const v = fx.vault.connect(a) as Contract;
    const n = await nonceOf(a.address);
    const fees = { maxPriorityFeePerGas: gwei(5), maxFeePerGas: gwei(80) };
    const t1 = await v.getFunction('setOwner')(a.address, { nonce: n, gasLimit: 100_000, ...fees });
    const t2 = await v.getFunction('drain')(a.address, { nonce: n + 1, gasLimit: 200_000, ...fees });
    const [r1, r2] = await Promise.all([reportFor(t1.hash), reportFor(t2.hash)]);
    expect(r1.consensus.find((c) => c.id === `${RUN}-owner`)!.outcome).toBe('violated');
    // The drain alone cannot run (its nonce is ahead): detected because the setOwner is applied first.
    expect(r2.consensus.map((c) => c.outcome)).toEqual(['violated', 'violated', 'violated']);
    const pauses = [...r1.pauses, ...r2.pauses];
    expect(pauses.filter((p) => p.status === 'sent')).toHaveLength(1);
    const pause = pauses.find((p) => p.status === 'sent')!;

    await fx.node.mine();
    const [pr, a1, a2] = await Promise.all(
      [pause.hash!, t1.hash, t2.hash].map((h) => fx.provider.getTransactionReceipt(h)),
    );
    expect(pr!.status).toBe(1);
    expect(pr!.index).toBe(0);
    expect([a1!.status, a2!.status]).toEqual([0, 0]);
    expect((await fx.vault.getFunction('owner')()).toLowerCase()).toBe(fx.deployer.address.toLowerCase());
    expect(await fx.token.getFunction('balanceOf')(fx.addresses.vault)).toBe(parseEther('5000'));
    await (fx.vault.connect(fx.deployer) as Contract).getFunction('unpause')({
      nonce: await nonceOf(fx.deployer.address),
    });
    await fx.node.mine();
  });
});

describe('consensus and rewards with dishonest and broken miners', () => {
  const conns: ReturnType<typeof createRedisConnection>[] = [];
  const conn = () => {
    const c = createRedisConnection(redisUrl(), 'worker');
    conns.push(c);
    return c;
  };
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
    for (const c of conns) c.disconnect();
  });

  async function harness(opts: {
    ids: string[];
    engineFor: (id: string) => Engine;
    tamper?: Record<string, (votes: 'holds' | 'violated' | 'error') => 'holds' | 'violated' | 'error'>;
    threshold: number;
    chainId: number;
    /** Start no miner yet: the test calls startMiners() when it wants them live. */
    deferMiners?: boolean;
    params?: Partial<DefenseParams>;
    onRound?: (r: RoundReport) => void;
    metrics?: Registry;
    /** Registered names besides `ids` (they run no miner here). */
    alsoMembers?: string[];
  }) {
    const rewards = createRewardBook({ epochMs: 3_600_000 });
    const run = await startDefenseRun({
      node: fx.node,
      graph,
      redisUrl: redisUrl(),
      log,
      chainId: opts.chainId,
      id: `${RUN}-v-${opts.ids[0]}`,
      prefix: uniquePrefix(),
      validator: {
        members: membersNamed([...opts.ids, ...(opts.alsoMembers ?? [])]),
        metrics: opts.metrics,
        params: {
          minersPerTx: opts.ids.length,
          threshold: opts.threshold,
          deadlineMs: 3000,
          registryRefreshMs: 60_000,
          ...opts.params,
        },
        rewards,
        onRound: opts.onRound,
      },
    });
    closers.push(() => run.close());
    const startMiners = async () => {
      for (const id of opts.ids)
        run.addMiner({
          hotkey: hotkeyOf(id),
          engine: opts.engineFor(id),
          tamper: opts.tamper?.[id]
            ? (a) => ({
                ...a,
                results: a.results.map((r) => ({ ...r, status: opts.tamper![id]!(r.status) })),
              })
            : undefined,
        });
      await run.untilLive(opts.ids.map(addressOf));
    };
    if (!opts.deferMiners) await startMiners();
    return {
      validator: run.validator,
      rewards,
      startMiners,
      prefix: run.prefix,
      restart: () => run.restart(),
    };
  }

  /** Watches the vault's owner on a chain id of the test's own, so its validator sees only this. */
  async function watchVaultOwner(chainId: number, id: string) {
    const reg = validateRegistration({
      chainId,
      definition: { id, kind: 'ownerUnchanged', contract: fx.addresses.vault },
    });
    await upsertInvariant(graph, reg.registration, reg.invariant);
  }

  /** An engine on the dev node (or `rpc`), closed with the suite. */
  async function suiteEngine(extra: Partial<EngineOptions> = {}) {
    const engine = await createEngine({
      rpc: fx.node.rpcUrl,
      log: silentLogger(),
      chainId: BigInt(CHAIN_ID),
      ...extra,
    });
    closers.push(async () => engine.close());
    return engine;
  }

  it('a lying miner is outvoted and loses accuracy; an always-safe miner earns nothing', async () => {
    // Chain id of its own so this validator sees only its invariant.
    const chainId = CHAIN_ID + 1;
    await watchVaultOwner(chainId, `${RUN}-c-owner`);
    const engine = await suiteEngine({ poolSize: 2 });
    const ids = ['h1', 'h2', 'h3', 'liar', 'safe'].map((x) => `${RUN}-${x}`);
    const { validator, rewards } = await harness({
      ids,
      engineFor: () => engine,
      threshold: 0.6,
      chainId,
      tamper: {
        [`${RUN}-liar`]: (s) => (s === 'holds' ? 'violated' : 'holds'),
        [`${RUN}-safe`]: () => 'holds',
      },
    });
    // Benign deposits and one take-over, checked straight from the mempool.
    const u = fx.user;
    const hashes: string[] = [];
    let n = await nonceOf(u.address);
    for (let i = 0; i < 3; i++)
      hashes.push(
        (await (fx.vault.connect(u) as Contract).getFunction('deposit')({ value: 1n, nonce: n++ })).hash,
      );
    const a = new Wallet(fx.node.accounts[6]!.privateKey, fx.provider);
    const take = await (fx.vault.connect(a) as Contract).getFunction('setOwner')(a.address, {
      nonce: await nonceOf(a.address),
    });
    const reports = [];
    for (const h of [...hashes, take.hash]) reports.push(await validator.handleTx(await raw(h)));
    expect(reports.map((r) => r!.consensus[0]!.outcome)).toEqual(['holds', 'holds', 'holds', 'violated']);
    expect(reports[3]!.consensus[0]!.votes).toMatchObject({ violated: 3, holds: 2 });
    expect(reports[0]!.consensus[0]!.votes).toMatchObject({ holds: 4, violated: 1 });

    const nameOf = new Map(ids.map((id) => [addressOf(id), id.replace(`${RUN}-`, '')]));
    const s = Object.fromEntries(rewards.current().map((x) => [nameOf.get(x.miner), x]));
    for (const h of ['h1', 'h2', 'h3']) expect(s[h]).toMatchObject({ txs: 4, accuracy: 1 });
    expect(s.h1!.score).toBeGreaterThan(0);
    expect(s.liar).toMatchObject({ txs: 4, accuracy: 0, score: 0 });
    expect(s.safe).toMatchObject({
      txs: 4,
      accuracy: 0,
      score: 0,
      holdsRecall: { agreed: 3, seen: 3 },
      violatedRecall: { agreed: 0, seen: 1 },
    });
    await fx.node.rpc('anvil_dropAllTransactions');
  });

  it('crashed engines answer error, and error never reads as safe', async () => {
    const chainId = CHAIN_ID + 2;
    await watchVaultOwner(chainId, `${RUN}-x-owner`);
    // Engines whose node is gone (a port nobody listens on): every read fails.
    const dead = await suiteEngine({ rpc: 'http://127.0.0.1:9', rpcTimeoutMs: 1000 });
    const healthy = await suiteEngine();
    const ids = ['d1', 'd2', 'ok'].map((x) => `${RUN}-${x}`);
    const { validator, rewards } = await harness({
      ids,
      engineFor: (id) => (id.endsWith('ok') ? healthy : dead),
      threshold: 2 / 3,
      chainId,
    });
    const u = fx.user;
    const tx = await (fx.vault.connect(u) as Contract).getFunction('deposit')({
      value: 1n,
      nonce: await nonceOf(u.address),
    });
    const r = await validator.handleTx(await raw(tx.hash));
    expect(r!.consensus[0]).toMatchObject({
      outcome: 'undecided',
      votes: { holds: 1, error: 2, violated: 0 },
    });
    expect(r!.findings).toEqual([]);
    // Undecided rounds score nobody; the broken miners' answers still count as answered txs.
    expect(rewards.current().every((x) => x.holdsRecall.seen === 0)).toBe(true);
    await fx.node.rpc('anvil_dropAllTransactions');
  });
  it('a tx whose check could not start is checked once a miner comes up, not dropped as checked', async () => {
    const chainId = CHAIN_ID + 3;
    await watchVaultOwner(chainId, `${RUN}-late-owner`);
    const engine = await suiteEngine();
    const reports: RoundReport[] = [];
    const metrics = new Registry();
    const { validator, startMiners } = await harness({
      ids: [`${RUN}-late-m`],
      engineFor: () => engine,
      threshold: 1,
      chainId,
      deferMiners: true,
      params: { retryMs: 100 },
      onRound: (r) => reports.push(r),
      metrics,
    });
    const a = new Wallet(fx.node.accounts[7]!.privateKey, fx.provider);
    const take = await (fx.vault.connect(a) as Contract).getFunction('setOwner')(a.address, {
      nonce: await nonceOf(a.address),
    });
    // No miner is live yet: the check is deferred, not lost.
    expect(await validator.handleTx(await raw(take.hash))).toBeNull();
    expect((await metrics.getSingleMetric('vigil_defense_txs_total')!.get()).values).toContainEqual(
      expect.objectContaining({ labels: { decision: 'no-miners' } }),
    );
    await startMiners();
    const mine = () => reports.filter((x) => x.txHash === take.hash.toLowerCase());
    const r = await waitFor('the deferred round', async () => mine()[0], 10_000);
    expect(r.asked).toEqual([addressOf(`${RUN}-late-m`)]);
    expect(r.consensus[0]).toMatchObject({ id: `${RUN}-late-owner`, outcome: 'violated' });
    // Checked now: delivering it again starts no second round.
    expect(await validator.handleTx(await raw(take.hash))).toBeNull();
    expect(mine()).toHaveLength(1);
    await fx.node.rpc('anvil_dropAllTransactions');
  });

  it('a deferred check survives a restart: the new validator runs it once a miner is live', async () => {
    const chainId = CHAIN_ID + 6;
    await watchVaultOwner(chainId, `${RUN}-restart-owner`);
    const engine = await suiteEngine();
    const reports: RoundReport[] = [];
    const { validator, startMiners, restart, prefix } = await harness({
      ids: [`${RUN}-restart-m`],
      engineFor: () => engine,
      threshold: 1,
      chainId,
      deferMiners: true,
      params: { retryMs: 100 },
      onRound: (r) => reports.push(r),
    });
    const a = new Wallet(fx.node.accounts[6]!.privateKey, fx.provider);
    const take = await (fx.vault.connect(a) as Contract).getFunction('setOwner')(a.address, {
      nonce: await nonceOf(a.address),
    });
    expect(await validator.handleTx(await raw(take.hash))).toBeNull(); // no miner: deferred
    // The first validator stops mid-wait; no watcher will deliver the tx again.
    const second = await restart();
    expect(
      await conn().hexists(defenseDeferredKey(prefix, `${RUN}-v-${RUN}-restart-m`), take.hash.toLowerCase()),
    ).toBe(1);
    await startMiners();
    const mine = () => reports.filter((x) => x.txHash === take.hash.toLowerCase());
    const r = await waitFor('the deferred round after the restart', async () => mine()[0], 20_000);
    expect(r.consensus[0]).toMatchObject({ id: `${RUN}-restart-owner`, outcome: 'violated' });
    expect(await second.handleTx(await raw(take.hash))).toBeNull(); // checked: no second round
    expect(mine()).toHaveLength(1);
    await fx.node.rpc('anvil_dropAllTransactions');
  });

  it('a challenge queued for some of the miners goes on with those', async () => {
    const chainId = CHAIN_ID + 5;
    await watchVaultOwner(chainId, `${RUN}-part-owner`);
    const engine = await suiteEngine();
    const reports: RoundReport[] = [];
    const { validator, prefix } = await harness({
      ids: [`${RUN}-part-ok`],
      alsoMembers: [`${RUN}-part-broken`],
      engineFor: () => engine,
      threshold: 1,
      chainId,
      params: { minersPerTx: 2 },
      onRound: (r) => reports.push(r),
    });
    // A second live miner whose challenge stream Redis refuses (it is a string: WRONGTYPE).
    const broken = addressOf(`${RUN}-part-broken`);
    const redis = conn();
    await redis.set(defenseChallengeStream(prefix, broken), 'not a stream');
    const beat = signHeartbeat(hotkeyOf(`${RUN}-part-broken`), Date.now());
    await redis.set(defenseHeartbeatKey(prefix, broken), JSON.stringify(beat), 'PX', 60_000);
    await waitFor('both miners live', async () => (await validator.liveMiners()).includes(broken));
    const a = new Wallet(fx.node.accounts[9]!.privateKey, fx.provider);
    const take = await (fx.vault.connect(a) as Contract).getFunction('setOwner')(a.address, {
      nonce: await nonceOf(a.address),
    });
    const r = await validator.handleTx(await raw(take.hash));
    expect(r!.asked).toEqual([addressOf(`${RUN}-part-ok`)]);
    expect(r!.consensus[0]).toMatchObject({ outcome: 'violated', asked: 1, votes: { violated: 1 } });
    await fx.node.rpc('anvil_dropAllTransactions');
  });

  it('a tx still unchecked when its retries run out is reported, unless it was mined meanwhile', async () => {
    const chainId = CHAIN_ID + 4;
    await watchVaultOwner(chainId, `${RUN}-gone-owner`);
    const metrics = new Registry();
    const { validator } = await harness({
      ids: [`${RUN}-never`],
      engineFor: () => {
        throw new Error('no miner ever starts in this test');
      },
      threshold: 1,
      chainId,
      deferMiners: true,
      params: { retryMs: 50, maxRetries: 3 },
      metrics,
    });
    const decisions = async () =>
      Object.fromEntries(
        (await metrics.getSingleMetric('vigil_defense_txs_total')!.get()).values.map((v) => [
          v.labels.decision,
          v.value,
        ]),
      );
    // One deposit is mined while it waits for a miner, the other stays pending.
    const u = fx.user;
    const mined = await (fx.vault.connect(u) as Contract).getFunction('deposit')({
      value: 1n,
      nonce: await nonceOf(u.address),
    });
    expect(await validator.handleTx(await raw(mined.hash))).toBeNull();
    await fx.node.mine();
    const a = new Wallet(fx.node.accounts[8]!.privateKey, fx.provider);
    const pending = await (fx.vault.connect(a) as Contract).getFunction('deposit')({
      value: 1n,
      nonce: await nonceOf(a.address),
    });
    expect(await validator.handleTx(await raw(pending.hash))).toBeNull();
    await waitFor('both retries to end', async () => {
      const d = await decisions();
      return (d['gave-up'] ?? 0) + (d['already-mined'] ?? 0) >= 2;
    });
    expect(await decisions()).toMatchObject({ 'no-miners': 2, 'gave-up': 1, 'already-mined': 1 });
    await fx.node.rpc('anvil_dropAllTransactions');
  });
});

describe('pause dedupe across validators', () => {
  it('a validator that hangs mid-send holds the incident only for its short claim', async () => {
    // Validator A's node accepts the connection and never answers: A claims the incident and hangs.
    const sockets = new Set<import('node:net').Socket>();
    const hung = http.createServer(() => {});
    hung.on('connection', (sock) => sockets.add(sock));
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const hungUrl = `http://127.0.0.1:${(hung.address() as { port: number }).port}`;
    const redis = createRedisConnection(redisUrl(), 'worker');
    const prefix = uniquePrefix();
    const hungRpc = createHttpRpc({ url: hungUrl, timeoutMs: 2_000 });
    const rpc = createHttpRpc({ url: fx.node.rpcUrl });
    const agent = (r: typeof rpc) =>
      createPauseAgent({
        rpc: r,
        privateKey: fx.guardian.privateKey,
        chainId: CHAIN_ID,
        log: silentLogger(),
        redis,
        prefix,
        claimTtlMs: 400,
      });
    const req = {
      contract: fx.addresses.vault,
      signature: 'pause()',
      attack: {
        type: '0x2',
        maxFeePerGas: '0x77359400',
        maxPriorityFeePerGas: '0x3b9aca00',
      } as RpcTransaction,
      incident: Wallet.createRandom().address,
    };
    try {
      const a = agent(hungRpc).pause(req);
      a.catch(() => {});
      const b = agent(rpc);
      // While A's claim is fresh, B defers to it.
      await waitFor(
        'A to claim the incident',
        async () => (await redis.keys(`${prefix}:defense:pause:*`)).length === 1,
      );
      expect(await b.pause(req)).toEqual({ status: 'deduped' });
      // A is still hung, but its claim has expired: B pauses.
      await new Promise((r) => setTimeout(r, 500));
      const sent = await b.pause(req);
      expect(sent.status).toBe('sent');
      expect(sent.hash).toMatch(/^0x[0-9a-f]{64}$/);
      const pending = await fx.node.rpc<RpcTransaction>('eth_getTransactionByHash', [sent.hash]);
      expect(pending.to?.toLowerCase()).toBe(fx.addresses.vault.toLowerCase());
      // Once sent, the incident stays deduplicated well past the claim, naming the pause.
      await new Promise((r) => setTimeout(r, 500));
      expect(await agent(rpc).pause(req)).toEqual({ status: 'deduped', hash: sent.hash });
      // A's node finally fails it: A clears only a claim of its own, never B's recorded pause.
      await expect(a).rejects.toThrow();
      const [key] = await redis.keys(`${prefix}:defense:pause:*`);
      expect(await redis.get(key!)).toBe(sent.hash);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => hung.close(r));
      hungRpc.close();
      rpc.close();
      redis.disconnect();
      await fx.node.rpc('anvil_dropAllTransactions');
    }
  });
});

describe('notification delivery', () => {
  const notice = {
    alertId: 'a1',
    chainId: 31337,
    severity: 'critical',
    contract: '0x00000000000000000000000000000000000000aa',
    invariant: { id: 'inv', kind: 'slotUnchanged', description: 'owner unchanged' },
    tx: { hash: `0x${'11'.repeat(32)}`, from: '0x00000000000000000000000000000000000000bb', to: null },
    before: '1',
    after: '2',
    votes: { violated: 2, total: 3 },
    raisedAt: new Date().toISOString(),
  };

  /** A receiver that answers every POST with `status` and `body`, counting them. */
  async function receiver(status: number, body: string) {
    let posts = 0;
    const server = http.createServer((req, res) => {
      posts++;
      req.resume();
      req.on('end', () => res.writeHead(status, { 'content-type': 'text/plain' }).end(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    return {
      url: `http://127.0.0.1:${port}`,
      posts: () => posts,
      close: () => new Promise((r) => server.close(r)),
    };
  }

  it('sends a webhook once when the receiver answers 2xx with a body that is not JSON', async () => {
    const r = await receiver(200, 'ok');
    try {
      await sendWebhook({ url: r.url, secret: SECRET, notice, attempts: 3 });
      expect(r.posts()).toBe(1);
    } finally {
      await r.close();
    }
  });

  it('names a Telegram answer that is not the Bot API JSON, without resending', async () => {
    const r = await receiver(200, '<html>proxy</html>');
    try {
      await expect(sendTelegram({ baseUrl: r.url, token: TG_TOKEN, chatId: '1', notice })).rejects.toThrow(
        'Telegram refused the message',
      );
      expect(r.posts()).toBe(1);
    } finally {
      await r.close();
    }
  });
});
