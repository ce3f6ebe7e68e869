import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../common/config.ts';
import { findFreePort, freePorts } from '../../common/ports.ts';
import { isAlive } from '../../common/processes.ts';
import { startAnvil } from '../../dev/ethereum/localNode.ts';
import type { Graph } from '../../graph/driver.ts';
import { startNeo4jServer } from '../../infra/neo4j.ts';
import { ensureRedis } from '../../infra/redis.ts';
import { LAUNCHER_DIR } from '../../infra/up.ts';
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

  it('vigil api and vigil ingest-worker started while Neo4j is down listen, say degraded naming neo4j, and recover by themselves once it comes up', async () => {
    // A Neo4j of this test's own on free ports: not started until both services report it missing.
    const [boltPort, httpPort] = (await freePorts(2)) as [number, number];
    const neo4jHome = await mkdtemp(path.join(tmpdir(), 'vigil-health-neo4j-'));
    cleanup.push(() => rm(neo4jHome, { recursive: true, force: true }));
    const bolt = `bolt://127.0.0.1:${boltPort}`;
    const [apiPort, workerPort] = [await findFreePort(), await findFreePort()];
    const prefix = uniquePrefix();
    const env = { REDIS_URL: redisUrl(), NEO4J_URI: bolt, VIGIL_QUEUE_PREFIX: prefix };
    const api = startVigil('api', { ...env, API_PORT: String(apiPort), METRICS_PORT: '0' });
    const worker = startVigil('ingest-worker', { ...env, METRICS_PORT: String(workerPort) });
    const apiHealth = `http://127.0.0.1:${apiPort}/health`;
    const workerHealth = `http://127.0.0.1:${workerPort}/health`;
    for (const [url, p] of [
      [apiHealth, api],
      [workerHealth, worker],
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
    // The API's questions fail meanwhile, and it keeps serving.
    const early = await fetch(`http://127.0.0.1:${apiPort}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ health { ok neo4j } }' }),
    });
    expect(((await early.json()) as { data: unknown }).data).toEqual({ health: { ok: false, neo4j: false } });

    const neo4j = await startNeo4jServer({
      homeDir: neo4jHome,
      boltPort,
      httpPort,
      pagecache: '64m',
      heap: '512m',
      cds: loadConfig().neo4j.cds,
      launcherDir: LAUNCHER_DIR,
      detached: false,
      log: () => {},
    });
    cleanup.push(() => neo4j.stop());
    // Both turn ready by themselves (the API after its warm-up against the new server).
    for (const url of [apiHealth, workerHealth]) {
      const ready = await waitFor(
        `${url} to turn ok`,
        async () => {
          const h = await health(url);
          return h?.code === 200 && h;
        },
        180_000,
      );
      expect(ready.body).toEqual({ status: 'ok', checks: { redis: { ok: true }, neo4j: { ok: true } } });
    }
    expect(api.output()).toContain('neo4j answers again');
    expect(worker.output()).toContain('neo4j answers again');

    // The worker, never restarted, applied the migrations and writes a job; the API reads it.
    const producer = createRedisConnection(redisUrl(), 'producer');
    cleanup.push(() => producer.disconnect());
    const queue = createIngestQueue(producer, prefix);
    cleanup.push(() => queue.close());
    const job = sampleSubgraph();
    await enqueueIngest(queue, job);
    const graph = await openTestGraph(bolt);
    cleanup.push(() => graph.close());
    await waitFor(
      'the job to land',
      async () => (await landedSubgraphs(graph, [job])).submissions === 1,
      120_000,
    );
    const answer = await fetch(`http://127.0.0.1:${apiPort}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `{ health { ok } wallet(chain: BITTENSOR, address: "${job.target}") { address } }`,
      }),
    });
    expect(await answer.json()).toEqual({ data: { health: { ok: true }, wallet: { address: job.target } } });
  }, 420_000);

  it('vigil defense-miner (a neuron) answers /health/live and /health naming Redis and the Ethereum RPC, degraded while either is down, ready by itself', async () => {
    const redis = await ownRedis();
    const node = await startAnvil({ log: () => {} });
    let nodeUp = true;
    cleanup.push(() => nodeUp && node.stop());
    const port = await findFreePort();
    const miner = startVigil('defense-miner', {
      REDIS_URL: redis.url,
      ETH_RPC_URL: node.rpcUrl,
      METRICS_PORT: String(port),
      DEFENSE_MINER_HOTKEY_URI: `//Health${uniquePrefix()}`,
    });
    const url = `http://127.0.0.1:${port}/health`;
    const first = await waitFor(`${url} to answer`, () => health(url), 60_000);
    expect(first.code).toBe(503);
    expect(first.body.status).toBe('degraded');
    expect(first.body.checks.redis).toMatchObject({ ok: false, error: expect.stringMatching(/\S/) });
    expect(first.body.checks.rpc).toEqual({ ok: true });
    expect((await fetch(`${url}/live`)).status).toBe(200);
    await waitFor(
      'the log to name REDIS_URL',
      async () => miner.output().includes('check REDIS_URL'),
      15_000,
    );

    await redis.start();
    const ready = await waitFor(`${url} to turn ok`, async () => {
      const h = await health(url);
      return h?.code === 200 && h;
    });
    expect(ready.body).toEqual({ status: 'ok', checks: { redis: { ok: true }, rpc: { ok: true } } });

    // The node lost: degraded naming the RPC, still live, and the log names ETH_RPC_URL.
    await node.stop();
    nodeUp = false;
    const down = await waitFor(`${url} to say the RPC is down`, async () => {
      const h = await health(url);
      return h?.code === 503 && h;
    });
    expect(down.body.checks.rpc).toMatchObject({ ok: false, error: expect.stringMatching(/\S/) });
    expect(down.body.checks.redis).toEqual({ ok: true });
    expect((await fetch(`${url}/live`)).status).toBe(200);
    await waitFor(
      'the log to name ETH_RPC_URL',
      async () => miner.output().includes('check ETH_RPC_URL'),
      15_000,
    );
    await stop(miner.child);
    expect([miner.child.exitCode, miner.child.signalCode]).toEqual([0, null]);
  }, 240_000);
});
