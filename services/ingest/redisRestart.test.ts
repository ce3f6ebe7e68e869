import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.ts';
import { findFreePort } from '../../common/ports.ts';
import { isAlive } from '../../common/processes.ts';
import type { Graph } from '../../graph/driver.ts';
import { ensureRedis } from '../../infra/redis.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue, enqueueIngest } from '../../queues/ingestion.ts';
import { createTestApi } from '../../test/api.ts';
import { sampleFinding, sampleSubgraph } from '../../test/fixtures.ts';
import {
  landedSubgraphs,
  openTestGraph,
  startTestIngestWorker,
  uniquePrefix,
  waitFor,
} from '../../test/services.ts';
import { openSubscription } from '../../test/sse.ts';
import { createAlertPubSub, startAlertFeed } from '../defense/alertFeed.ts';

// A Redis of this test's own, started as `vigil infra up` starts one (AOF on), so it can be killed
// and started again without touching the other tests' queues.

let dataDir: string | undefined;
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => {});
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function redisPid(dir: string): Promise<number> {
  return Number((await readFile(path.join(dir, 'redis.pid'), 'utf8')).trim());
}

describe('Redis dies during ingestion', () => {
  it('lands every job exactly once after Redis is killed and started again; live alerts resume', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'vigil-redis-restart-'));
    const dir = dataDir;
    const url = `redis://127.0.0.1:${await findFreePort()}`;
    const start = () => ensureRedis({ url, dataDir: dir, log: silentLogger });
    expect((await start()).started).toBe(true);
    cleanup.push(async () => {
      const pid = await redisPid(dir).catch(() => 0);
      if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
    });

    const graph: Graph = await openTestGraph();
    cleanup.push(() => graph.close());
    const prefix = uniquePrefix();
    const conn = createRedisConnection(url, 'worker');
    const subscriber = createRedisConnection(url, 'worker');
    cleanup.push(
      () => conn.disconnect(),
      () => subscriber.disconnect(),
    );
    const queue = createIngestQueue(conn, prefix);
    cleanup.push(() => queue.close());
    const worker = startTestIngestWorker(conn, prefix, graph, {
      concurrency: 1,
      batchSize: 2,
      // A job whose worker lost Redis mid-job is taken again soon after Redis is back.
      lockDurationMs: 3000,
      stalledIntervalMs: 1000,
    });
    cleanup.push(() => worker.close());

    // The API's live alert feed on the same Redis, and an investigator subscribed over SSE.
    const pubsub = createAlertPubSub();
    const feed = await startAlertFeed({ subscriber, prefix, pubsub });
    cleanup.push(() => feed.close());
    const yoga = createTestApi({ graph, pubsub });
    const before = sampleFinding();
    const after = sampleFinding({ invariant: { ...before.invariant } });
    const sub = await openSubscription(
      yoga.fetch,
      'subscription ($f: AlertFilter) { alertRaised(filter: $f) { txHash } }',
      { f: { contract: before.invariant.contract } },
    );
    cleanup.push(() => sub.close());
    const received = (hash: string) =>
      waitFor(
        `the alert of tx ${hash.slice(0, 10)}… on the live subscription`,
        async () => sub.events.some((e) => e.data?.alertRaised?.txHash === hash),
        60_000,
      );

    const jobs = Array.from({ length: 40 }, () => sampleSubgraph());
    await enqueueIngest(queue, before);
    for (const j of jobs) await enqueueIngest(queue, j);
    await received(before.tx.hash);
    await waitFor(
      'some jobs to land',
      async () => ((await queue.getJobCounts('completed')).completed ?? 0) >= 5,
      60_000,
    );

    // Kill -9: no clean shutdown; what Redis acknowledged is in its append-only file.
    const pid = await redisPid(dir);
    process.kill(pid, 'SIGKILL');
    await waitFor('redis-server to exit', async () => !isAlive(pid), 10_000);
    const landedBeforeKill = (await landedSubgraphs(graph, jobs)).submissions;
    expect(landedBeforeKill).toBeLessThan(jobs.length);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await start()).started).toBe(true);

    await waitFor(
      'every job to land',
      async () => ((await queue.getJobCounts('completed')).completed ?? 0) === jobs.length + 1,
      180_000,
    );
    expect(await queue.getJobCounts('failed', 'waiting', 'active', 'delayed')).toMatchObject({
      failed: 0,
      waiting: 0,
      active: 0,
      delayed: 0,
    });
    expect(await landedSubgraphs(graph, jobs)).toEqual({
      nodes: jobs.length * 6,
      rels: jobs.length * 5,
      submissions: jobs.length,
    });

    // The feed re-subscribed on its own: an alert stored after the restart reaches the investigator.
    await enqueueIngest(queue, after);
    await received(after.tx.hash);
  }, 300_000);
});
