import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { Wallet, parseEther } from 'ethers';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, setupFixture } from '../../dev/testkit/engine.ts';
import { fundedAttacker, pay, startTrailRun } from '../../dev/testkit/trailRun.ts';
import type { Graph } from '../../graph/driver.ts';
import { patrolChallengeStream, trailOffsetKey, trailStream } from '../../protocol/keys.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { appendMessage } from '../../queues/streams.ts';
import { createTestApi } from '../../test/api.ts';
import { LEVEL, captureLogger } from '../../test/log.ts';
import {
  openTestGraph,
  redisUrl,
  silentLogger,
  startTestIngestWorker,
  uniquePrefix,
  waitFor,
} from '../../test/services.ts';
import { type Trails, createTrails, followTrailRequests } from './trail.ts';

/**
 * From an alert to the attacker's money trail, on anvil, with every part real: A → B → attacker
 * (ETH and an ERC-20), the attacker deploys an exploit contract (Relay) and sends an attack; the
 * defense validator flags it pending from the mempool (two defense miners), pauses the vault and
 * requests the trail; the Patrol validator's trail loop asks a real Ethereum Patrol miner, verifies
 * and ingests; the GraphQL API answers the funding path back to A, then the cash-out hop.
 */

const CHAIN_ID = 900_000 + Math.floor(Math.random() * 90_000);
const RUN = crypto.randomUUID().slice(0, 8);

let fx: Fixture;
let graph: Graph;
let conn: ReturnType<typeof createRedisConnection>;
beforeAll(async () => {
  conn = createRedisConnection(redisUrl(), 'worker');
  await cryptoWaitReady();
  [fx, graph] = await Promise.all([
    setupFixture({ log: silentLogger(), cacheDir: join(tmpdir(), 'vigil-solc-cache'), chainId: CHAIN_ID }),
    openTestGraph(),
  ]);
}, 180_000);
afterAll(async () => {
  conn?.disconnect();
  await fx?.stop();
  await graph?.close();
});

describe('the attacker trail', () => {
  it('answers the funding path back to A within seconds of the alert, then the cash-out hop', async () => {
    const prefix = uniquePrefix();
    const trailLog = captureLogger('info');
    const token = fx.addresses.token.toLowerCase();
    const worker = startTestIngestWorker(conn, prefix, graph, { concurrency: 2, batchSize: 1000 });
    // A registered neuron that runs no miner: the trail must not wait the round timeout (20 s) for it.
    const silent = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(
      `//trail-silent-${RUN}`,
    ).address;
    const trail = await startTrailRun({
      silentNeurons: [silent],
      fx,
      graph,
      redisUrl: redisUrl(),
      prefix,
      run: RUN,
      log: silentLogger(),
      trailLog: trailLog.log,
    });
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
      // A → B → attacker in ETH and in the token, the exploit deployed; then the attack, pending:
      // flagged, paused, and the trail requested.
      const { a, b, attacker, exploitAddress, attack: send } = await fundedAttacker(fx);
      const cashOut = Wallet.createRandom();
      const seen = Date.now();
      const attack = await send();
      const [A, B, X, C] = [a, b, attacker, cashOut].map((w) => w.address.toLowerCase());
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
      const entries = await conn.xrange(trailStream(prefix, trail.defenseId), '-', '+');
      expect(entries).toHaveLength(1);
      expect(JSON.parse(entries[0]![1][1]!).targets).toEqual([
        { address: X, role: 'sender' },
        { address: exploitAddress, role: 'callee' },
      ]);
      expect(trailLog.lines.filter((l) => l.msg === 'trail opened')).toHaveLength(1);
      // The silent neuron was challenged with the trail's deadline (3 s), not the round's (20 s):
      // a stream entry's id is its arrival time in ms, after the deadline was set.
      const toSilent = await conn.xrange(patrolChallengeStream(prefix, silent), '-', '+');
      expect(toSilent.length).toBeGreaterThan(0);
      for (const [id, fields] of toSilent) {
        const { deadline } = JSON.parse(fields[1]!) as { deadline: number };
        expect(deadline - Number(id.split('-')[0])).toBeLessThanOrEqual(3_000);
      }

      // The pause lands first; the attacker moves what it holds on: the forward trail finds it.
      await fx.node.mine();
      expect(await fx.vault.getFunction('paused')()).toBe(true);
      await pay(fx, attacker, cashOut.address, parseEther('0.5'), parseEther('100'));
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
      await trail.close();
      await worker.close();
    }
  }, 240_000);
});

describe('trail requests the Patrol validator drops', () => {
  it('drops a malformed request naming the field, and one for another chain or read too late, asking nothing', async () => {
    const { log, lines } = captureLogger('info');
    const metrics = new Registry();
    const asked: unknown[] = [];
    const trails = createTrails({
      runRound: async (...args) => {
        asked.push(args);
        throw new Error('no round expected');
      },
      reader: {
        head: async () => 0,
        range: async () => [],
      },
      chainId: 31337,
      log,
      metrics,
      params: {
        maxTargets: 4,
        lookbackBlocks: 1000,
        openMs: 60_000,
        pollMs: 100,
        timeoutMs: 3_000,
        depth: 3,
      },
    });
    const good = {
      alertId: 'ethereum:31337:0xab:inv',
      chainId: 31337,
      txHash: `0x${'ab'.repeat(32)}`,
      contract: `0x${'11'.repeat(20)}`,
      blockNumber: 7,
      targets: [{ address: `0x${'22'.repeat(20)}`, role: 'sender' }],
      validator: 'dv-1',
      raisedAt: new Date().toISOString(),
    };
    trails.take(JSON.stringify({ ...good, targets: [{ address: '0xNOTANADDRESS', role: 'sender' }] }));
    trails.take('not json');
    trails.take(JSON.stringify({ ...good, chainId: 1 }));
    trails.take(JSON.stringify({ ...good, raisedAt: new Date(Date.now() - 120_000).toISOString() }));
    await trails.close();
    const dropped = lines
      .filter((l) => l.level === LEVEL.warn)
      .map((l) => [l.msg, l.reason ?? l.chainId ?? l.raisedAt]);
    expect(dropped[0]).toEqual([
      'trail request malformed: dropped',
      expect.stringContaining('targets.0.address'),
    ]);
    expect(dropped[1]).toEqual(['trail request malformed: dropped', expect.stringContaining('(root)')]);
    expect(dropped[2]![0]).toMatch(/another chain/);
    expect(dropped[3]![0]).toMatch(/read after the trail would have closed/);
    const counts = (await metrics.getSingleMetric('vigil_patrol_trail_requests_total')!.get()).values;
    expect(Object.fromEntries(counts.map((v) => [v.labels.outcome, v.value]))).toEqual({
      malformed: 2,
      other_chain: 1,
      expired: 1,
    });
    expect(asked).toEqual([]);
  });
});

describe('a Patrol validator restarted while trails are open', () => {
  it('reopens the requests it had taken that are still open, once, then follows new ones', async () => {
    const prefix = uniquePrefix();
    const stream = trailStream(prefix, 'dv-1');
    const request = (name: string) => JSON.stringify({ name });
    // Taken before the restart: one written 2 minutes ago (its trail closed), one just now.
    const oldId = await conn.xadd(stream, `${Date.now() - 120_000}-0`, 'm', request('closed'));
    const openId = await appendMessage(conn, stream, request('open'));
    await conn.set(trailOffsetKey(prefix, 'pv-1', 'dv-1'), openId!);
    // Written while it was down.
    await appendMessage(conn, stream, request('new'));
    expect(oldId).toBeTruthy();

    const start = async () => {
      const taken: string[] = [];
      const trails: Trails = {
        take: (raw) => taken.push(JSON.parse(raw!).name),
        run: async () => {},
        close: async () => {},
        openMs: 60_000,
      };
      const following = followTrailRequests({
        connection: conn,
        prefix,
        validator: 'pv-1',
        defenseValidatorId: 'dv-1',
        trails,
        log: silentLogger(),
      });
      return { taken, following };
    };
    const first = await start();
    await waitFor('both requests taken', async () => first.taken.length >= 2, 10_000);
    await new Promise((r) => setTimeout(r, 300)); // nothing else comes
    await first.following.close();
    expect(first.taken).toEqual(['open', 'new']);
    // Restarted again: both open trails reopened, the closed one still not.
    const second = await start();
    await waitFor('both trails reopened', async () => second.taken.length >= 2, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    await second.following.close();
    expect(second.taken).toEqual(['open', 'new']);
  });
});
