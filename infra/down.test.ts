import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePorts } from '../common/ports.ts';
import { isAlive } from '../common/processes.ts';
import { probeRedis } from '../queues/connection.ts';
import { runVigil } from '../test/cli.ts';
import { probeBolt, readLivePid, stopNeo4jByPidFile } from './neo4j.ts';
import { readLiveRedisPid, stopRedisByPidFile } from './redis.ts';

/**
 * `vigil infra down` stops what `vigil infra up` started (its Redis and its Neo4j, found by the pid
 * files in VIGIL_DATA_DIR), leaves alone servers that were already running, and says which.
 * Everything on free ports and in temporary data dirs: never the shared Redis or the dev ports.
 */
describe('vigil infra down', () => {
  const dirs: string[] = [];
  const ownRedis: ChildProcess[] = [];
  const tempDir = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'vigil-infra-'));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    // Whatever a failed assertion left running: only servers this file started.
    for (const d of dirs) {
      await stopRedisByPidFile(path.join(d, 'redis')).catch(() => {});
      await stopNeo4jByPidFile(path.join(d, 'neo4j')).catch(() => {});
      rmSync(d, { recursive: true, force: true });
    }
    for (const r of ownRedis) r.kill('SIGTERM');
  });

  it('stops the Redis and the Neo4j that up started, and says so', { timeout: 600_000 }, async () => {
    const dataDir = tempDir();
    const [redisPort, boltPort, httpPort] = await freePorts(3);
    const env = {
      VIGIL_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      NEO4J_URI: `bolt://127.0.0.1:${boltPort}`,
      NEO4J_HTTP_PORT: String(httpPort),
      NEO4J_HEAP: '512m',
      NEO4J_PAGECACHE: '64m',
    };
    const up = await runVigil(['infra', 'up'], env, { killAfterMs: 480_000 });
    expect(up.code, up.output).toBe(0);
    const redisPid = await readLiveRedisPid(path.join(dataDir, 'redis'));
    const neo4jPid = await readLivePid(path.join(dataDir, 'neo4j'));
    expect(redisPid).toBeDefined();
    expect(neo4jPid).toBeDefined();
    expect(up.output).toMatch(
      new RegExp(`Redis .*started now \\(pid ${redisPid}\\); vigil infra down stops it`),
    );
    expect(up.output).toMatch(
      new RegExp(`Neo4j \\(Bolt\\) .*started now \\(pid ${neo4jPid}\\); vigil infra down stops it`),
    );

    // A second up reuses both and still knows they are Vigil's.
    const again = await runVigil(['infra', 'up'], env, { killAfterMs: 240_000 });
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain(`started by an earlier vigil infra up (pid ${redisPid})`);
    expect(again.output).toContain(`started by an earlier vigil infra up (pid ${neo4jPid})`);

    const down = await runVigil(['infra', 'down'], env, { killAfterMs: 240_000 });
    expect(down.code, down.output).toBe(0);
    expect(down.output).toContain(`Redis stopped (pid ${redisPid}, started by vigil infra up)`);
    expect(down.output).toContain('Neo4j stopped (started by vigil infra up)');
    expect(isAlive(redisPid!)).toBe(false);
    expect(isAlive(neo4jPid!)).toBe(false);
    expect(await probeRedis(env.REDIS_URL)).toBe('unreachable');
    expect(await probeBolt(env.NEO4J_URI)).toBe('unreachable');

    // Nothing left to stop: down says so and succeeds.
    const twice = await runVigil(['infra', 'down'], env);
    expect(twice.code, twice.output).toBe(0);
    expect(twice.output).toContain('no Redis started by vigil infra up is running');
    expect(twice.output).toContain('no Neo4j started by vigil infra up is running');
  });

  it('leaves alone a Redis and a Neo4j that were running before up', { timeout: 300_000 }, async () => {
    const dataDir = tempDir();
    const [redisPort] = await freePorts(1);
    // A Redis of this test's own, started before `up`, and the suite's Neo4j.
    const redisDir = tempDir();
    const redis = spawn(
      'redis-server',
      [
        '--port',
        String(redisPort),
        '--bind',
        '127.0.0.1',
        '--dir',
        redisDir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    ownRedis.push(redis);
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    for (let i = 0; i < 100 && (await probeRedis(redisUrl, 500)) !== 'ok'; i++)
      await new Promise((r) => setTimeout(r, 100));
    const env = {
      VIGIL_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      REDIS_URL: redisUrl,
      NEO4J_URI: inject('neo4jUri'),
    };

    const up = await runVigil(['infra', 'up'], env, { killAfterMs: 240_000 });
    expect(up.code, up.output).toBe(0);
    expect(up.output).toMatch(
      /Redis .*already running, not started by Vigil; vigil infra down leaves it alone/,
    );
    expect(up.output).toMatch(
      /Neo4j \(Bolt\) .*already running, not started by Vigil; vigil infra down leaves it alone/,
    );
    expect(up.output).toContain('started now:   nothing (all were running)');

    const down = await runVigil(['infra', 'down'], env, { killAfterMs: 240_000 });
    expect(down.code, down.output).toBe(0);
    expect(down.output).toContain(`Redis at ${redisUrl} was not started by vigil infra up: left alone`);
    expect(down.output).toContain(`Neo4j at ${env.NEO4J_URI} was not started by vigil infra up: left alone`);
    expect(isAlive(redis.pid!)).toBe(true);
    expect(await probeRedis(redisUrl)).toBe('ok');
    expect(await probeBolt(env.NEO4J_URI)).toBe('ok');
  });
});
