import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RpcTransaction } from '../../../chains/ethereum/types.ts';
import type { Graph } from '../../../graph/driver.ts';
import { type Vote, parseChallenge, signDefenseAnswer } from '../../../protocol/defense.ts';
import { defenseAnswerStream, defenseChallengeStream } from '../../../protocol/keys.ts';
import { createRedisConnection } from '../../../queues/connection.ts';
import { appendMessage, messageData } from '../../../queues/streams.ts';
import { newEthAddress, newHash } from '../../../test/fixtures.ts';
import { captureLogger } from '../../../test/log.ts';
import { openTestGraph, redisUrl, uniquePrefix, waitFor } from '../../../test/services.ts';
import type { InvariantConsensus } from '../consensus.ts';
import { upsertInvariant } from '../invariantStore.ts';
import { type RegisteredInvariant, validateRegistration } from '../registry.ts';
import { createRewardBook } from '../rewards.ts';
import { countOf, createDefenseMetrics } from './metrics.ts';
import { createRounds } from './round.ts';

/** Rounds against the real Redis: challenges read from the miners' streams, signed answers written to theirs. */
describe('rounds', () => {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  let conn: ReturnType<typeof createRedisConnection>;
  let graph: Graph;
  let inv: RegisteredInvariant;
  let miners: KeyringPair[];
  beforeAll(async () => {
    await cryptoWaitReady();
    conn = createRedisConnection(redisUrl(), 'worker');
    graph = await openTestGraph();
    const chainId = 800_000 + Math.floor(Math.random() * 90_000);
    const reg = validateRegistration({
      chainId,
      definition: { id: `round-${chainId}`, kind: 'ownerUnchanged', contract: newEthAddress() },
    });
    inv = await upsertInvariant(graph, reg.registration, reg.invariant);
    miners = [0, 1, 2].map((i) => keyring.addFromUri(`//round-${i}-${crypto.randomUUID()}`));
  });
  afterAll(async () => {
    conn?.disconnect();
    await graph?.close();
  });

  function rig(deadlineMs: number) {
    const prefix = uniquePrefix();
    const id = `v-${crypto.randomUUID().slice(0, 8)}`;
    const metrics = createDefenseMetrics();
    const { log, lines } = captureLogger();
    const dispatched: { id: string; c: InvariantConsensus; at: number }[] = [];
    const learned: string[][] = [];
    const rewards = createRewardBook({ epochMs: 3_600_000 });
    const members = new Set(miners.map((m) => m.address));
    const rounds = createRounds({
      id,
      chainId: inv.chainId,
      connection: conn,
      prefix,
      threshold: 2 / 3,
      deadlineMs,
      log,
      metrics,
      members: { has: (h) => members.has(h) },
      dispatch: async (i, c) => void dispatched.push({ id: i.id, c, at: Date.now() }),
      rewards,
      learn: (ids) => void learned.push(ids),
    });
    rounds.listen();
    rounds.watchAnswers(miners.map((m) => m.address));
    const answer = async (challengeId: string, m: KeyringPair, vote: Vote, stream = m.address) => {
      const a = signDefenseAnswer(m, {
        challengeId,
        miner: m.address,
        validator: id,
        blockNumber: 7,
        txStatus: 'success',
        results: [{ id: inv.id, status: vote, before: '0x1', after: vote === 'violated' ? '0x2' : '0x1' }],
        latencyMs: 1,
      });
      await appendMessage(conn, defenseAnswerStream(prefix, id, stream), JSON.stringify(a));
    };
    return { prefix, id, metrics, lines, dispatched, learned, rewards, rounds, answer };
  }

  const tx = (): RpcTransaction => ({
    hash: newHash(),
    from: newEthAddress(),
    to: inv.contract,
    nonce: '0x0',
    gas: '0x5208',
    gasPrice: '0x1',
  });

  it('acts on a violation at its majority, drops a wrong-stream answer, closes when all answered', async () => {
    const r = rig(20_000);
    const t = tx();
    const open = await r.rounds.open({
      tx: t,
      list: [inv],
      asked: miners.map((m) => m.address),
      priorTxs: [],
      head: 7,
      seen: performance.now(),
    });
    expect(r.rounds.size).toBe(1);
    // Each asked miner's stream holds the challenge.
    for (const m of miners) {
      const entries = (await conn.xrange(defenseChallengeStream(r.prefix, m.address), '-', '+')) as [
        string,
        string[],
      ][];
      expect(entries.length).toBe(1);
      const fields = entries[0]![1];
      const c = parseChallenge(messageData(fields[1]!));
      expect(c).toMatchObject({ challengeId: open.report.challengeId, blockNumber: 7, validator: r.id });
      expect(c.tx.hash).toBe(t.hash);
    }
    const cid = open.report.challengeId;
    await r.answer(cid, miners[0]!, 'violated');
    // Miner 2's own answer on miner 1's stream: not counted.
    await r.answer(cid, miners[2]!, 'holds', miners[1]!.address);
    await waitFor(
      'the wrong-stream refusal',
      async () =>
        (await countOf(r.metrics.answersRefused, { reason: 'wrong_stream', miner: miners[1]!.address })) ===
        1,
    );
    expect(r.dispatched).toEqual([]);
    await r.answer(cid, miners[1]!, 'violated');
    await waitFor('the dispatch at 2 of 3', async () => r.dispatched.length === 1);
    expect(r.dispatched[0]!.c).toMatchObject({ id: inv.id, outcome: 'violated', votes: { violated: 2 } });
    const closing = r.rounds.close(open);
    await r.answer(cid, miners[2]!, 'holds');
    const report = await closing;
    expect(report.answers).toBe(3);
    expect(report.consensus[0]).toMatchObject({ outcome: 'violated', votes: { violated: 2, holds: 1 } });
    expect(r.dispatched.length).toBe(1); // once, however many votes follow
    expect(r.learned).toEqual([[inv.id]]);
    expect(await countOf(r.metrics.outcomes, { outcome: 'violated' })).toBe(1);
    expect(r.rounds.size).toBe(0);
    await r.rounds.stop();
  });

  it('closes at the deadline with the missing counted as nothing; a late answer is dropped', async () => {
    const r = rig(1500);
    const open = await r.rounds.open({
      tx: tx(),
      list: [inv],
      asked: miners.map((m) => m.address),
      priorTxs: [],
      head: 7,
      seen: performance.now(),
    });
    const cid = open.report.challengeId;
    await r.answer(cid, miners[0]!, 'violated');
    const t0 = Date.now();
    const report = await r.rounds.close(open);
    expect(Date.now() - t0).toBeGreaterThan(500);
    expect(report.answers).toBe(1);
    expect(report.consensus[0]).toMatchObject({ outcome: 'undecided', votes: { violated: 1, missing: 2 } });
    expect(r.dispatched).toEqual([]);
    expect(r.lines.some((l) => l.msg === 'no consensus')).toBe(true);
    await r.answer(cid, miners[1]!, 'violated');
    await waitFor(
      'the late refusal',
      async () =>
        (await countOf(r.metrics.answersRefused, {
          reason: 'unknown_challenge',
          miner: miners[1]!.address,
        })) === 1,
    );
    await r.rounds.stop();
  });

  it('never acts on a canary', async () => {
    const r = rig(20_000);
    const t = tx();
    const open = await r.rounds.open({
      tx: t,
      list: [inv],
      asked: miners.map((m) => m.address),
      priorTxs: [],
      head: 7,
      seen: performance.now(),
      canary: { tx: t, invariant: inv.id, truth: [{ id: inv.id, outcome: 'violated' }] },
    });
    for (const m of miners) await r.answer(open.report.challengeId, m, 'violated');
    const report = await r.rounds.close(open);
    expect(report.canary).toBe(true);
    expect(report.consensus[0]!.outcome).toBe('violated');
    expect(r.dispatched).toEqual([]);
    expect(r.learned).toEqual([]);
    expect(await countOf(r.metrics.outcomes, { outcome: 'violated' })).toBe(0);
    await r.rounds.stop();
  });
});
