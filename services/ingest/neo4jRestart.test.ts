import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QueueEvents } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { createGraph } from '../../graph/driver.ts';
import { applyMigrations } from '../../graph/migrations.ts';
import { type Neo4jProcess, startNeo4jServer } from '../../infra/neo4j.ts';
import { LAUNCHER_DIR } from '../../infra/up.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue, enqueueIngest } from '../../queues/ingestion.ts';
import { sampleSubgraph } from '../../test/fixtures.ts';
import {
  landedSubgraphs,
  redisUrl,
  silentLogger,
  startTestIngestWorker,
  uniquePrefix,
  waitFor,
} from '../../test/services.ts';

// A Neo4j of this test's own, so it can be killed and started again without touching the others.
const BOLT = 7692;
const HTTP = 7479;
let home: string;
let server: Neo4jProcess | undefined;
const start = () =>
  startNeo4jServer({
    homeDir: home,
    boltPort: BOLT,
    httpPort: HTTP,
    pagecache: '128m',
    heap: '512m',
    launcherDir: LAUNCHER_DIR,
    detached: false,
    log: silentLogger(),
  });

afterAll(async () => {
  await server?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('Neo4j dies during ingestion', () => {
  it('lands every job exactly once after Neo4j is killed mid-ingestion and started again', async () => {
    home = await mkdtemp(path.join(tmpdir(), 'vigil-neo4j-restart-'));
    server = await start();
    const graph = createGraph({
      uri: `bolt://127.0.0.1:${BOLT}`,
      user: 'neo4j',
      password: '',
      database: 'neo4j',
      maxTransactionRetryTimeMs: 2000,
    });
    // A fresh database and services starting together: every copy must succeed (none may lose the
    // IF NOT EXISTS race with an "already exists" error).
    const copies = await Promise.allSettled([
      applyMigrations(graph),
      applyMigrations(graph),
      applyMigrations(graph),
    ]);
    expect(copies.map((c) => (c.status === 'rejected' ? String(c.reason) : c.status))).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    const prefix = uniquePrefix();
    const conn = createRedisConnection(redisUrl(), 'worker');
    const queue = createIngestQueue(conn, prefix);
    const events = new QueueEvents('ingest', { connection: conn.duplicate(), prefix });
    const worker = startTestIngestWorker(conn, prefix, graph, { concurrency: 1, batchSize: 2 });
    try {
      const jobs = Array.from({ length: 60 }, () => sampleSubgraph());
      for (const j of jobs) await enqueueIngest(queue, j);
      await waitFor(
        'some jobs to land',
        async () => ((await queue.getJobCounts('completed')).completed ?? 0) >= 5,
        60_000,
      );

      // Kill -9: no clean shutdown, the store must recover on the next start.
      process.kill(server.pid, 'SIGKILL');
      await server.exited;
      const landedBeforeKill = (await queue.getJobCounts('completed')).completed ?? 0;
      expect(landedBeforeKill).toBeLessThan(jobs.length);
      await new Promise((r) => setTimeout(r, 3000));
      server = await start();

      await waitFor(
        'every job to land',
        async () => ((await queue.getJobCounts('completed')).completed ?? 0) === jobs.length,
        240_000,
      );
      expect((await queue.getJobCounts('failed')).failed).toBe(0);
      expect(await landedSubgraphs(graph, jobs)).toEqual({
        nodes: jobs.length * 6,
        rels: jobs.length * 5,
        submissions: jobs.length,
      });
    } finally {
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      conn.disconnect();
      await graph.close();
    }
  }, 420_000);
});
