import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../graph/driver.ts';
import { writeSubgraph } from '../../graph/ingest.ts';
import type { SubgraphJob } from '../../protocol/ingest.ts';
import { patrolChallengeStream } from '../../protocol/keys.ts';
import { type Challenge, signAnswer } from '../../protocol/patrol.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue } from '../../queues/ingestion.ts';
import { MESSAGE_FIELD, appendMessage } from '../../queues/streams.ts';
import { sampleSubgraph } from '../../test/fixtures.ts';
import { openTestGraph, redisUrl, silentLogger, uniquePrefix } from '../../test/services.ts';
import { createAnswerIntake } from './answers.ts';
import { createScoreHistory } from './history.ts';
import { createRound } from './round.ts';
import { DEFAULT_SCORING, scoreAnswer } from './scoring.ts';
import type { PatrolVerifier } from './seam.ts';

let conn: Redis;
let graph: Graph;
let keyring: Keyring;
beforeAll(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  conn = createRedisConnection(redisUrl(), 'worker');
  graph = await openTestGraph();
});
afterAll(async () => {
  conn.disconnect();
  await graph?.close();
});

/** A miner that answers its first challenge with `subgraph` after `delayMs` (a blocking read of its stream). */
async function answerOnce(
  prefix: string,
  key: KeyringPair,
  subgraph: Parameters<typeof signAnswer>[2],
  delayMs: number,
) {
  const own = conn.duplicate();
  try {
    const res = (await own.xread(
      'BLOCK',
      30_000,
      'STREAMS',
      patrolChallengeStream(prefix, key.address),
      '0',
    )) as [string, [string, string[]][]][] | null;
    const fields = res![0]![1][0]![1];
    const c = JSON.parse(fields[fields.indexOf(MESSAGE_FIELD) + 1]!) as Challenge;
    await new Promise((r) => setTimeout(r, delayMs));
    await appendMessage(conn, c.replyTo, JSON.stringify(signAnswer(key, c.id, subgraph)));
  } finally {
    own.disconnect();
  }
}

describe('Patrol round (chain-agnostic, with a given target source and verifier)', () => {
  it('pays novelty to the first arrival only, never for stored edges; ingests what it accepts; records every score', async () => {
    const prefix = uniquePrefix();
    const ingest = createIngestQueue(conn, prefix);
    const metrics = new Registry();
    const log = silentLogger();
    const sub = sampleSubgraph();
    // One of its five edges is already in the graph: no miner earns novelty for it.
    const stored = sub.edges[0]!;
    await writeSubgraph(
      graph,
      {
        ...sub,
        submissionId: `pre:${crypto.randomUUID()}`,
        nodes: sub.nodes.filter((n) => n.address === stored.from || n.address === stored.to),
        edges: [stored],
      },
      { batchSize: 100 },
    );
    const [first, second, absent] = ['//rt-first', '//rt-second', '//rt-absent'].map((u) =>
      keyring.addFromUri(u),
    );
    const miners = [second!, first!, absent!].map((k, uid) => ({ hotkey: k.address, uid }));
    const verified: string[] = [];
    // The seam's contract: the chain's verdict on content (verify.ts/completeness.ts on Bittensor).
    const verify: PatrolVerifier = async (a) => {
      verified.push(a.miner);
      return { accepted: true, edges: a.subgraph.edges, volume: a.subgraph.edges.length, completeness: 1 };
    };
    const intake = createAnswerIntake({ connection: conn, prefix, validator: 'v', log, metrics });
    const history = createScoreHistory({
      connection: conn,
      prefix,
      validator: 'v',
      log,
      scoring: DEFAULT_SCORING,
    });
    const runRound = createRound({
      chain: 'bittensor',
      validator: 'v',
      connection: conn,
      prefix,
      log,
      graph,
      ingest,
      intake,
      history,
      miners: async () => miners,
      head: async () => sub.window!.to,
      targets: async (ms, head) => ms.map(() => ({ address: sub.target, block: head })),
      verify,
      params: { window: 50, depth: 2, timeoutMs: 4000, scoring: DEFAULT_SCORING },
      metrics,
    });
    const content = { nodes: sub.nodes, edges: sub.edges };
    try {
      const [report] = await Promise.all([
        runRound(7),
        answerOnce(prefix, first!, content, 0),
        answerOnce(prefix, second!, content, 800),
      ]);
      const [s, f, a] = report.results;
      expect(verified.sort()).toEqual([first!.address, second!.address].sort());
      const paid = (novelEdges: number, seconds: number) =>
        scoreAnswer({ volume: 5, seconds, novelEdges, completeness: 1 }, DEFAULT_SCORING);
      expect(f).toMatchObject({ accepted: true, edges: 5, volume: 5, score: paid(4, f!.seconds!) });
      expect(s).toMatchObject({ accepted: true, score: paid(0, s!.seconds!) });
      expect(s!.seconds!).toBeGreaterThan(f!.seconds!);
      expect(a).toMatchObject({
        accepted: false,
        reason: 'no answer before the deadline',
        score: { total: 0 },
      });
      expect(report.ingestedJobs).toHaveLength(2);
      const jobs = await Promise.all(report.ingestedJobs.map((id) => ingest.getJob(id)));
      expect(jobs.map((j) => (j!.data as SubgraphJob).miner.hotkey).sort()).toEqual(
        [first!.address, second!.address].sort(),
      );
      // Every score went into the history, zeros included.
      const averages = await history.averages(miners.map((m) => m.hotkey));
      expect(averages.get(first!.address)).toBeCloseTo(f!.score.total, 12);
      expect(averages.get(absent!.address)).toBe(0);
      expect(f!.average).toBeCloseTo(f!.score.total, 12);
      const rejected = (await metrics.getSingleMetric('vigil_patrol_answers_rejected_total')!.get()).values;
      expect(rejected).toEqual([{ labels: { miner: absent!.address, reason: 'no_answer' }, value: 1 }]);
    } finally {
      await intake.close();
      await ingest.obliterate({ force: true });
      await ingest.close();
    }
  });
});
