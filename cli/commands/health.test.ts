import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../common/ports.ts';
import { isAlive } from '../../common/processes.ts';
import type { Graph } from '../../graph/driver.ts';
import { ensureRedis } from '../../infra/redis.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue, enqueueIngest } from '../../queues/ingestion.ts';
import { sampleSubgraph } from '../../test/fixtures.ts';
import {
  landedSubgraphs,
  neo4jUri,
  openTestGraph,
  redisUrl,
  uniquePrefix,
  waitFor,
} from '../../test/services.ts';

// `vigil api` and `vigil ingest-worker` spawned as a user starts them, with Redis or Neo4j down:
// they listen, /health says degraded naming the missing dependency (and the log names its
// variable), and they turn ready by themselves once it answers. The Redis is this file's own, on a
// free port, started and killed here; never the shared one.

const VIGIL = path.resolve(import.meta.dirname, '../../bin/vigil.ts');
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => {});
});

function startVigil(command: string, env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', VIGIL, command], {
    env: { ...process.env, LOG_LEVEL: 'info', VIGIL_QUEUE_PREFIX: uniquePrefix(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  cleanup.push(() => stop(child));
  return { child, output: () => out };
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

interface Health {
  code: number;
  body: { status: string; checks: Record<string, { ok: boolean; error?: string }> };
}

async function health(url: string): Promise<Health | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { code: res.status, body: (await res.json()) as Health['body'] };
  } catch {
    return undefined; // not listening yet
  }
}

/** A Redis of this test's own on a free port: not started yet; start() and kill() it. */
async function ownRedis() {
  const dir = await mkdtemp(path.join(tmpdir(), 'vigil-health-redis-'));
  const url = `redis://127.0.0.1:${await findFreePort()}`;
  const kill = async () => {
    const pid = Number((await readFile(path.join(dir, 'redis.pid'), 'utf8').catch(() => '0')).trim());
    if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
    await waitFor('the test Redis to exit', async () => !isAlive(pid), 10_000);
  };
  cleanup.push(async () => {
    await kill();
    await rm(dir, { recursive: true, force: true });
  });
  return { url, start: () => ensureRedis({ url, dataDir: dir, log: () => {} }), kill };
}

describe('services with a dependency down', () => {
  it('vigil api and vigil ingest-worker started while Redis is down listen, say degraded naming redis, and recover by themselves', async () => {
    const redis = await ownRedis();
    const [apiPort, workerPort] = [await findFreePort(), await findFreePort()];
    const prefix = uniquePrefix();
    const env = { REDIS_URL: redis.url, NEO4J_URI: neo4jUri(), VIGIL_QUEUE_PREFIX: prefix };
    const api = startVigil('api', { ...env, API_PORT: String(apiPort), METRICS_PORT: '0' });
    const worker = startVigil('ingest-worker', { ...env, METRICS_PORT: String(workerPort) });
    const apiHealth = `http://127.0.0.1:${apiPort}/health`;
    const workerHealth = `http://127.0.0.1:${workerPort}/health`;

    for (const [url, p] of [
      [apiHealth, api],
      [workerHealth, worker],
    ] as const) {
      // Generous for a tsx start on a loaded machine; the answer itself must be the degraded one.
      const first = await waitFor(`${url} to answer`, () => health(url), 60_000);
      expect(first.code).toBe(503);
      expect(first.body.status).toBe('degraded');
      expect(first.body.checks.redis).toMatchObject({ ok: false, error: expect.stringMatching(/\S/) });
      expect(first.body.checks.neo4j).toEqual({ ok: true });
      expect((await fetch(`${url}/live`)).status).toBe(200);
      await waitFor('the log to name REDIS_URL', async () => p.output().includes('REDIS_URL'), 15_000);
      expect(p.output()).toContain('redis does not answer (check REDIS_URL)');
    }

    await redis.start();
    for (const url of [apiHealth, workerHealth]) {
      const ready = await waitFor(`${url} to turn ok`, async () => {
        const h = await health(url);
        return h?.code === 200 && h;
      });
      expect(ready.body).toEqual({ status: 'ok', checks: { redis: { ok: true }, neo4j: { ok: true } } });
    }
    expect(api.output()).toContain('redis answers again');
    expect(api.output()).toContain('live alert feed subscribed');

    // The worker, never restarted, takes jobs from the Redis that came up.
    const graph: Graph = await openTestGraph();
    cleanup.push(() => graph.close());
    const producer = createRedisConnection(redis.url, 'producer');
    cleanup.push(() => producer.disconnect());
    const queue = createIngestQueue(producer, prefix);
    cleanup.push(() => queue.close());
    const job = sampleSubgraph();
    await enqueueIngest(queue, job);
    await waitFor('the job to land', async () => (await landedSubgraphs(graph, [job])).submissions === 1);

    // Redis lost while running: both keep answering, degraded, and say why.
    producer.disconnect();
    await redis.kill();
    for (const url of [apiHealth, workerHealth]) {
      const down = await waitFor(`${url} to say degraded`, async () => {
        const h = await health(url);
        return h?.code === 503 && h;
      });
      expect(down.body.checks.redis!.ok).toBe(false);
    }
    expect(api.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();
    // And they stop on SIGTERM by themselves (not killed after stop()'s 15 s) with Redis still down.
    await Promise.all([stop(api.child), stop(worker.child)]);
    expect([api.child.exitCode, api.child.signalCode]).toEqual([0, null]);
    expect([worker.child.exitCode, worker.child.signalCode]).toEqual([0, null]);
  }, 240_000);

  it('vigil api and vigil ingest-worker started while Neo4j is down listen and say degraded naming neo4j', async () => {
    const deadBolt = `bolt://127.0.0.1:${await findFreePort()}`;
    const [apiPort, workerPort] = [await findFreePort(), await findFreePort()];
    const env = { REDIS_URL: redisUrl(), NEO4J_URI: deadBolt };
    const api = startVigil('api', { ...env, API_PORT: String(apiPort), METRICS_PORT: '0' });
    const worker = startVigil('ingest-worker', { ...env, METRICS_PORT: String(workerPort) });
    for (const [url, p] of [
      [`http://127.0.0.1:${apiPort}/health`, api],
      [`http://127.0.0.1:${workerPort}/health`, worker],
    ] as const) {
      // The first answers may come while the Redis connection is still being made.
      const first = await waitFor(
        `${url} to answer with Redis connected`,
        async () => (await health(url))?.body.checks.redis?.ok && (await health(url)),
        60_000,
      );
      expect(first.code).toBe(503);
      expect(first.body.checks.neo4j).toMatchObject({ ok: false, error: expect.stringMatching(/\S/) });
      expect(first.body.checks.redis).toEqual({ ok: true });
      await waitFor('the log to name NEO4J_URI', async () => p.output().includes('NEO4J_URI'), 15_000);
      expect(p.child.exitCode).toBeNull();
    }
  }, 180_000);
});
