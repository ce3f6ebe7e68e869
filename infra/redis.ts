import { spawn } from 'node:child_process';
import { mkdir, readFile, readlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ServiceUnavailableError, VigilError } from '../common/errors.ts';
import type { Log } from '../common/logger.ts';
import { isAlive } from '../common/processes.ts';
import { redactUrl } from '../common/redact.ts';
import { probeRedis } from '../queues/connection.ts';

/** True when a Redis server answers PING at `url` within `timeoutMs`. */
export async function isRedisReachable(url: string, timeoutMs = 1500): Promise<boolean> {
  return (await probeRedis(url, timeoutMs)) === 'ok';
}

export interface RedisServerOptions {
  url: string;
  /** Directory for the append-only file and the log; jobs survive a Redis restart. */
  dataDir: string;
  log: Log;
  /** Where redis-server is; defaults to the one on PATH (Debian's package). */
  binary?: string;
}

/**
 * Makes sure Redis answers at `url`: reuses a running server, otherwise starts Debian's
 * redis-server on loopback, daemonized, with AOF on so queued jobs survive a restart.
 */
export async function ensureRedis(opts: RedisServerOptions): Promise<{ url: string; started: boolean }> {
  if (await isRedisReachable(opts.url)) return { url: opts.url, started: false };
  const { hostname, port } = new URL(opts.url);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname)) {
    throw new ServiceUnavailableError(`Redis at ${redactUrl(opts.url)} does not answer`, {
      details:
        'It is not a local address, so Vigil will not start one: check REDIS_URL and that the server is up.',
    });
  }
  await mkdir(opts.dataDir, { recursive: true });
  const args = [
    '--daemonize', 'yes',
    '--bind', '127.0.0.1',
    '--port', port || '6379',
    '--dir', path.resolve(opts.dataDir),
    '--appendonly', 'yes',
    '--save', '',
    '--logfile', path.resolve(opts.dataDir, 'redis.log'),
    '--pidfile', redisPidFile(opts.dataDir),
  ]; // biome-ignore format: pairs read better
  opts.log.info({ port: Number(port || 6379), dataDir: opts.dataDir }, 'starting redis-server on 127.0.0.1');
  await runToExit(opts.binary ?? 'redis-server', args);
  for (let i = 0; i < 50; i++) {
    if (await isRedisReachable(opts.url, 500)) return { url: opts.url, started: true };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new ServiceUnavailableError(`started redis-server but nothing answers at ${redactUrl(opts.url)}`, {
    details: `See ${path.resolve(opts.dataDir, 'redis.log')}`,
  });
}

function runToExit(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(
          new VigilError('redis-server is not installed', {
            details:
              'Install it with: apt-get install -y redis-server (or point REDIS_URL at a running Redis)',
          }),
        );
      } else reject(err);
    });
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new VigilError(`redis-server exited with code ${code}`, { details: stderr.trim() }));
    });
  });
}

/** Where a redis-server started by ensureRedis records its pid (Redis writes and removes it). */
export function redisPidFile(dataDir: string): string {
  return path.resolve(dataDir, 'redis.pid');
}

/**
 * The pid in <dataDir>/redis.pid if that process is alive and is a redis-server working in
 * `dataDir` (ensureRedis passes --dir, so its cwd is there); else undefined. A stale pid file whose
 * number now belongs to another process is never trusted.
 */
export async function readLiveRedisPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(redisPidFile(dataDir), 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  const [comm, cwd] = await Promise.all([
    readFile(`/proc/${pid}/comm`, 'utf8').catch(() => undefined),
    readlink(`/proc/${pid}/cwd`).catch(() => undefined),
  ]);
  if (comm === undefined) return pid; // no /proc: trust the pid file
  return comm.trim() === 'redis-server' && cwd === path.resolve(dataDir) ? pid : undefined;
}

/**
 * Stops the redis-server that ensureRedis started for `dataDir` (SIGTERM: Redis flushes its
 * append-only file and exits; SIGKILL after `timeoutMs`). Returns its pid, or undefined when none ran.
 */
export async function stopRedisByPidFile(dataDir: string, timeoutMs = 30_000): Promise<number | undefined> {
  const pid = await readLiveRedisPid(dataDir);
  if (!pid) {
    await unlink(redisPidFile(dataDir)).catch(() => {});
    return undefined;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 100));
  await unlink(redisPidFile(dataDir)).catch(() => {});
  return pid;
}
