import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { type Contract, Wallet } from 'ethers';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpRpc } from '../../chains/ethereum/rpc.ts';
import type { RpcTransaction } from '../../chains/ethereum/types.ts';
import { closeMonitorProvider, createMonitorProvider } from '../../chains/ethereum/watcher.ts';
import { type Fixture, setupFixture } from '../../dev/testkit/engine.ts';
import type { Graph } from '../../graph/driver.ts';
import {
  type Answer,
  type UnsignedAnswer,
  parseChallenge,
  signDefenseAnswer,
  signHeartbeat,
} from '../../protocol/defense.ts';
import {
  alertChannel,
  defenseAnswerStream,
  defenseChallengeStream,
  defenseHeartbeatKey,
  defenseWakeStream,
  patrolAnswerStream,
  patrolChallengeStream,
} from '../../protocol/keys.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue } from '../../queues/ingestion.ts';
import { appendMessage, createStreamReader } from '../../queues/streams.ts';
import { type AclRedis, startAclRedis } from '../../test/aclRedis.ts';
import { openTestGraph, silentLogger, uniquePrefix, waitFor } from '../../test/services.ts';
import { type Engine, createEngine } from '../engine/engine.ts';
import { upsertInvariant } from './invariantStore.ts';
import { createDefenseMiner } from './miner.ts';
import { validateRegistration } from './registry.ts';
import { type RewardBook, createRewardBook } from './rewards.ts';
import { type DefenseParams, type DefenseValidator, createDefenseValidator } from './validator.ts';

/**
 * Miners on a validator's Redis as their own ACL users (queues/minerAccess.ts), against a
 * redis-server of the test's own whose default user has a password: what a miner's user can and
 * cannot do, and what a copier earns when it can see nobody's answer.
 */

const log = silentLogger();
const CHAIN_ID = 800_000 + Math.floor(Math.random() * 90_000);
const RUN = crypto.randomUUID().slice(0, 8);

let fx: Fixture;
let graph: Graph;
let redis: AclRedis;
const closers: (() => Promise<unknown>)[] = [];
const conns: Redis[] = [];
const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
const hotkey = (name: string): KeyringPair => keyring.addFromUri(`//${RUN}-${name}`);

beforeAll(async () => {
  await cryptoWaitReady();
  [fx, graph, redis] = await Promise.all([
    setupFixture({ log: () => {}, cacheDir: join(tmpdir(), 'vigil-solc-cache'), chainId: CHAIN_ID }),
    openTestGraph(),
    startAclRedis(),
  ]);
});
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
  for (const c of conns) c.disconnect();
  await redis?.stop();
  await fx?.stop();
  await graph?.close();
});

const connect = (url: string, role: 'worker' | 'miner') => {
  const c = createRedisConnection(url, role);
  conns.push(c);
  return c;
};
const raw = (hash: string) => fx.node.rpc<RpcTransaction>('eth_getTransactionByHash', [hash]);
const nonceOf = (a: string) => fx.provider.getTransactionCount(a, 'pending');

async function engine(): Promise<Engine> {
  const e = await createEngine({ rpc: fx.node.rpcUrl, log: () => {}, chainId: BigInt(CHAIN_ID) });
  closers.push(async () => e.close());
  return e;
}

/**
 * A defense validator on the ACL'd Redis as its default (operator's) user, watching one invariant;
 * `members` stand for the subnet's registered hotkeys.
 */
async function validatorFor(opts: {
  prefix: string;
  chainId: number;
  invariant: string;
  members: string[];
  rewards?: RewardBook;
  params: Partial<DefenseParams>;
}): Promise<DefenseValidator> {
  const reg = validateRegistration({
    chainId: opts.chainId,
    definition: { id: opts.invariant, kind: 'ownerUnchanged', contract: fx.addresses.vault },
  });
  await upsertInvariant(graph, reg.registration, reg.invariant);
  const producer = connect(redis.url, 'worker');
  const ingest = createIngestQueue(producer, opts.prefix);
  const rpc = createHttpRpc({ url: fx.node.rpcUrl });
  const provider = createMonitorProvider({ url: fx.node.rpcUrl, chainId: CHAIN_ID });
  const validator = createDefenseValidator({
    id: `${RUN}-validator`,
    chainId: opts.chainId,
    connection: producer,
    prefix: opts.prefix,
    provider,
    rpc,
    graph,
    ingest,
    log,
    members: { has: (h) => opts.members.includes(h), list: () => opts.members },
    params: { deadlineMs: 3000, registryRefreshMs: 60_000, ...opts.params },
    rewards: opts.rewards,
  });
  closers.push(
    () => ingest.obliterate({ force: true }).then(() => ingest.close()),
    async () => rpc.close(),
    () => closeMonitorProvider(provider),
  );
  await validator.start({ watch: false });
  closers.push(() => validator.close());
  return validator;
}

/** A take-over of the vault by a fresh account: the watched owner changes, so it is a violation. */
async function takeOver(account: number) {
  const a = new Wallet(fx.node.accounts[account]!.privateKey, fx.provider);
  return (fx.vault.connect(a) as Contract).getFunction('setOwner')(a.address, {
    nonce: await nonceOf(a.address),
  });
}

const noperm = async (what: string, attempt: () => Promise<unknown>) =>
  expect(attempt(), what).rejects.toThrow(/NOPERM/);

describe('a miner on its own Redis ACL user', () => {
  it('answers its own challenges through the real miner, and can reach nothing else', async () => {
    const prefix = uniquePrefix();
    const keys = [hotkey('iso-a'), hotkey('iso-b')];
    const [a, b] = keys.map((k) => k.address) as [string, string];
    const validatorId = `${RUN}-validator`;
    const e = await engine();
    const users = await Promise.all([redis.addMiner(prefix, a), redis.addMiner(prefix, b)]);
    for (const [i, k] of keys.entries()) {
      const connection = connect(users[i]!.url, 'miner');
      const m = createDefenseMiner({ hotkey: k, connection, prefix, engine: e, log });
      closers.push(() => m.close());
    }
    const validator = await validatorFor({
      prefix,
      chainId: CHAIN_ID + 1,
      invariant: `${RUN}-iso-owner`,
      members: [a, b],
      params: { minersPerTx: 2, threshold: 1 },
    });
    await waitFor('both miners live', async () => (await validator.liveMiners()).length === 2, 20_000);
    const take = await takeOver(5);
    const r = await validator.handleTx(await raw(take.hash));
    expect(r!.answers).toBe(2);
    expect(r!.consensus[0]).toMatchObject({ outcome: 'violated', votes: { violated: 2 } });
    await fx.node.rpc('anvil_dropAllTransactions');

    // Miner a, by hand, with its own credentials.
    const me = connect(users[0]!.url, 'miner');
    expect(await me.set(defenseHeartbeatKey(prefix, a), String(Date.now()), 'PX', 5000)).toBe('OK');
    expect(await appendMessage(me, defenseAnswerStream(prefix, validatorId, a), '{}')).toMatch(/^\d+-\d+$/);
    expect(await me.xread('COUNT', 1, 'STREAMS', defenseChallengeStream(prefix, a), '0-0')).not.toBeNull();
    // Another miner's challenges (defense and patrol), answers and heartbeat.
    await noperm('read b challenges', () => me.xrange(defenseChallengeStream(prefix, b), '-', '+'));
    await noperm('xread b challenges', () => me.xread('STREAMS', defenseChallengeStream(prefix, b), '0-0'));
    await noperm('read b patrol challenges', () =>
      me.xread('STREAMS', patrolChallengeStream(prefix, b), '0-0'),
    );
    await noperm('read b answers', () =>
      me.xread('STREAMS', defenseAnswerStream(prefix, validatorId, b), '0-0'),
    );
    await noperm('read own answers', () =>
      me.xread('STREAMS', defenseAnswerStream(prefix, validatorId, a), '0-0'),
    );
    await noperm('write b answers', () =>
      appendMessage(me, defenseAnswerStream(prefix, validatorId, b), '{}'),
    );
    await noperm('write b patrol answers', () =>
      appendMessage(me, patrolAnswerStream(prefix, validatorId, b), '{}'),
    );
    await noperm('write b heartbeat', () => me.set(defenseHeartbeatKey(prefix, b), String(Date.now())));
    await noperm('delete b heartbeat', () => me.del(defenseHeartbeatKey(prefix, b)));
    await noperm('forge b challenges', () => appendMessage(me, defenseChallengeStream(prefix, b), '{}'));
    await noperm('forge own challenges', () => appendMessage(me, defenseChallengeStream(prefix, a), '{}'));
    await noperm('wake the validator', () => appendMessage(me, defenseWakeStream(prefix, validatorId), '{}'));
    // Whole-server commands.
    await noperm('KEYS', () => me.keys('*'));
    await noperm('SCAN', () => me.scan('0'));
    await noperm('FLUSHALL', () => me.flushall());
    await noperm('ACL', () => me.call('ACL', 'LIST'));
    await noperm('CONFIG', () => me.config('GET', '*'));
    await noperm('EVAL', () => me.eval('return 1', 0));
    await noperm('INFO', () => me.info());
    await noperm('PUBLISH', () => me.publish(alertChannel(prefix), '{}'));
    await noperm('CLIENT LIST', () => me.client('LIST'));
    // No channel at all: neither the alerts, nor the old answer channel, nor any pattern.
    for (const channel of [alertChannel(prefix), `${prefix}:defense:answers:${validatorId}`]) {
      const sub = me.duplicate();
      conns.push(sub);
      await noperm(`SUBSCRIBE ${channel}`, () => sub.subscribe(channel));
    }
    const psub = me.duplicate();
    conns.push(psub);
    await noperm('PSUBSCRIBE *', () => psub.psubscribe('*'));
  }, 120_000);
});

/**
 * A miner that never simulates: for each challenge it watches everything its Redis user can reach
 * (every channel by pattern, the other miners' answer streams, a SCAN for answer keys) and sends
 * the first answer it sees as its own; with nothing seen before the deadline is near, it guesses
 * `holds` (most transactions are benign).
 */
function startCopier(opts: { url: string; prefix: string; key: KeyringPair; others: string[] }) {
  const id = opts.key.address;
  const conn = connect(opts.url, 'miner');
  const sub = conn.duplicate();
  conns.push(sub);
  const stats = { copied: 0, guessed: 0, denied: new Set<string>() };
  const seen = new Map<string, Answer>();
  const deny = (what: string) => () => {
    stats.denied.add(what);
    return undefined;
  };
  sub.on('pmessage', (_p: string, _ch: string, msg: string) => {
    try {
      const a = JSON.parse(msg) as Answer;
      if (a.challengeId && !seen.has(a.challengeId)) seen.set(a.challengeId, a);
    } catch {}
  });
  void sub.psubscribe('*').catch(deny('psubscribe'));
  const look = async (validator: string) => {
    const keys = opts.others.map((o) => defenseAnswerStream(opts.prefix, validator, o));
    const scanned = await conn.scan('0', 'MATCH', '*answers*', 'COUNT', 1000).catch(deny('scan'));
    for (const k of [...keys, ...(scanned?.[1] ?? [])]) {
      const entries = await conn.xrange(k, '-', '+').catch(deny('xrange'));
      for (const [, fields] of entries ?? []) {
        const a = JSON.parse(fields[1]!) as Answer;
        if (!seen.has(a.challengeId)) seen.set(a.challengeId, a);
      }
    }
  };
  const reader = createStreamReader({
    connection: conn,
    log,
    concurrency: 8,
    blockMs: 200,
    onMessage: async (_key, message) => {
      const started = performance.now();
      const c = parseChallenge(JSON.parse(message!));
      if (Date.now() > c.deadline) return;
      let copy: Answer | undefined;
      while (!copy && Date.now() < c.deadline - 500) {
        await look(c.validator);
        copy = seen.get(c.challengeId);
        if (!copy) await new Promise((r) => setTimeout(r, 5));
      }
      const answer: UnsignedAnswer = {
        challengeId: c.challengeId,
        miner: id,
        validator: c.validator,
        blockNumber: copy?.blockNumber ?? c.blockNumber,
        txStatus: copy?.txStatus ?? 'success',
        results: copy?.results ?? c.invariants.map((d) => ({ id: String(d.id), status: 'holds' as const })),
        latencyMs: performance.now() - started,
      };
      if (copy) stats.copied++;
      else stats.guessed++;
      const signed = JSON.stringify(signDefenseAnswer(opts.key, answer));
      await appendMessage(conn, defenseAnswerStream(opts.prefix, c.validator, id), signed);
    },
  });
  reader.watch([defenseChallengeStream(opts.prefix, id)]);
  const beat = () =>
    conn.set(
      defenseHeartbeatKey(opts.prefix, id),
      JSON.stringify(signHeartbeat(opts.key, Date.now())),
      'PX',
      5000,
    );
  void beat();
  const timer = setInterval(beat, 300);
  closers.push(async () => {
    clearInterval(timer);
    await reader.close();
  });
  return stats;
}

describe('exploit: the copier', () => {
  it('a miner that copies the first answer it can see earns at most 1 % of an honest miner', async () => {
    const prefix = uniquePrefix();
    const honestKeys = ['h1', 'h2', 'h3'].map(hotkey);
    const honest = honestKeys.map((k) => k.address);
    const copierKey = hotkey('copier');
    const copier = copierKey.address;
    const e = await engine();
    for (const k of honestKeys) {
      const { url } = await redis.addMiner(prefix, k.address);
      const m = createDefenseMiner({ hotkey: k, connection: connect(url, 'miner'), prefix, engine: e, log });
      closers.push(() => m.close());
    }
    const { url } = await redis.addMiner(prefix, copier);
    const stats = startCopier({ url, prefix, key: copierKey, others: honest });
    const rewards = createRewardBook({ epochMs: 3_600_000 });
    const validator = await validatorFor({
      prefix,
      chainId: CHAIN_ID + 2,
      invariant: `${RUN}-copy-owner`,
      members: [...honest, copier],
      rewards,
      params: { minersPerTx: 4, threshold: 2 / 3 },
    });
    await waitFor('four miners live', async () => (await validator.liveMiners()).length === 4, 20_000);

    // Benign deposits and one take-over, each asked of all four.
    const u = fx.user;
    let n = await nonceOf(u.address);
    const hashes: string[] = [];
    for (let i = 0; i < 3; i++)
      hashes.push(
        (await (fx.vault.connect(u) as Contract).getFunction('deposit')({ value: 1n, nonce: n++ })).hash,
      );
    hashes.push((await takeOver(6)).hash);
    const reports = [];
    for (const h of hashes) reports.push(await validator.handleTx(await raw(h)));
    expect(reports.map((r) => r!.consensus[0]!.outcome)).toEqual(['holds', 'holds', 'holds', 'violated']);
    expect(reports.every((r) => r!.answers === 4)).toBe(true);
    await fx.node.rpc('anvil_dropAllTransactions');

    const scores = new Map(rewards.current().map((s) => [s.miner, s.score]));
    const best = Math.min(...honest.map((h) => scores.get(h) ?? 0));
    expect(best).toBeGreaterThan(0);
    // It saw nothing to copy: every way in was refused by Redis, so it could only guess.
    expect(stats).toMatchObject({ copied: 0, guessed: 4 });
    expect([...stats.denied].sort()).toEqual(['psubscribe', 'scan', 'xrange']);
    expect(scores.get(copier) ?? 0).toBeLessThanOrEqual(0.01 * best);
  }, 180_000);
});
