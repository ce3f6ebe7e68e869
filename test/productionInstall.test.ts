/**
 * The production install runs: what the Dockerfile builds (the build context, i.e. git's files less
 * .dockerignore's entries, plus scripts/install-production.sh: npm ci --omit=dev and the patches)
 * in a temporary folder, then `vigil help`, `vigil api` and `vigil ingest-worker` from it against
 * the suite's Redis and Neo4j, each answering /health. Fails if a production command imports a
 * devDependency (ERR_MODULE_NOT_FOUND) or the lockfile is incomplete (npm ci refuses it).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../common/ports.ts';
import { neo4jUri, redisUrl, uniquePrefix, waitFor } from './services.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
// Asynchronous: a synchronous child would block the test worker, which then misses vitest's calls.
const run = promisify(execFile);

/** .dockerignore's entries: plain paths (no globs), so this copy and Docker's context agree. */
function dockerIgnored(): string[] {
  const lines = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const glob = lines.find((l) => /[*?[!]/.test(l));
  if (glob) throw new Error(`.dockerignore: "${glob}" is a pattern; this test handles plain paths only`);
  return lines.map((l) => l.replace(/\/$/, ''));
}

/** The files `docker build .` would send: git's tracked and untracked (not ignored) files. */
function buildContext(): string[] {
  const ignored = dockerIgnored();
  return execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && !ignored.some((i) => f === i || f.startsWith(`${i}/`)));
}

interface Service {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startVigil(dir: string, command: string, env: Record<string, string>): Service {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', command], {
    cwd: dir,
    // Only what a container would have: nothing of this checkout's environment leaks in.
    env: { PATH: process.env.PATH ?? '', HOME: dir, NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Waits for /health to answer 200; fails at once, with the service's output, if it exits. */
async function healthy(svc: Service, url: string, timeoutMs: number): Promise<unknown> {
  let exitCode: number | null | undefined;
  svc.exited.then((c) => {
    exitCode = c;
  });
  try {
    return await waitFor(
      url,
      async () => {
        if (exitCode !== undefined) throw new Error(`exited with code ${exitCode} before answering`);
        const res = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
        return res?.status === 200 ? await res.json() : undefined;
      },
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- output ---\n${svc.output()}`);
  }
}

async function stop(svc: Service): Promise<number | null> {
  if (svc.child.exitCode === null && svc.child.signalCode === null) svc.child.kill('SIGTERM');
  return svc.exited;
}

describe('production install (npm ci --omit=dev, as the Dockerfile)', () => {
  let dir: string;
  const services: Service[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-prod-'));
    for (const f of buildContext()) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      cpSync(path.join(ROOT, f), path.join(dir, f));
    }
    // The npm cache is warm on a machine that ran `npm ci` here: no network round trip per package.
    await run('sh', ['scripts/install-production.sh', '--prefer-offline'], { cwd: dir });
  }, 600_000);

  afterAll(async () => {
    await Promise.all(services.map(stop));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds no dev-only package and has the neo4j-driver patches applied', () => {
    const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
    const devOnly = Object.entries(lock.packages as Record<string, { dev?: boolean }>)
      .filter(([, p]) => p.dev)
      .map(([at]) => at);
    expect(devOnly).toContain('node_modules/@acala-network/chopsticks');
    expect(devOnly.filter((at) => existsSync(path.join(dir, at)))).toEqual([]);
    expect(existsSync(path.join(dir, 'node_modules/graphql-yoga'))).toBe(true);
    const channel = readFileSync(
      path.join(dir, 'node_modules/neo4j-driver-bolt-connection/lib/channel/node/node-channel.js'),
      'utf8',
    );
    expect(channel).toContain('socket.setNoDelay(true)');
  });

  it('runs vigil help', async () => {
    const { stdout: out } = await run(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', 'help'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir },
    });
    expect(out).toMatch(/^usage: vigil <command>/);
    expect(out).toContain('ingest-worker');
  });

  it('says what vigil demo needs instead of a missing-module stack', async () => {
    const err = await run(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', 'demo', '--exit'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(err.code).toBe(1);
    expect(err.stderr).toContain('vigil demo: demo needs the development install');
  });

  it('serves vigil api (with its web console) and vigil ingest-worker, each answering /health', async () => {
    const common = { REDIS_URL: redisUrl(), NEO4J_URI: neo4jUri(), VIGIL_QUEUE_PREFIX: uniquePrefix() };
    const apiPort = await findFreePort();
    const api = startVigil(dir, 'api', {
      ...common,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      METRICS_PORT: String(await findFreePort()),
    });
    services.push(api);
    const workerPort = await findFreePort();
    const worker = startVigil(dir, 'ingest-worker', { ...common, METRICS_PORT: String(workerPort) });
    services.push(worker);

    const [apiHealth, workerHealth] = await Promise.all([
      healthy(api, `http://127.0.0.1:${apiPort}/health`, 180_000),
      healthy(worker, `http://127.0.0.1:${workerPort}/health`, 180_000),
    ]);
    expect(apiHealth).toMatchObject({ status: 'ok' });
    expect(workerHealth).toMatchObject({ status: 'ok' });
    // The console is bundled by the production install's own esbuild, in memory (the image's files
    // belong to root): the page and its script answer.
    const page = await fetch(`http://127.0.0.1:${apiPort}/console/`);
    expect(page.status, await page.clone().text()).toBe(200);
    expect(await page.text()).toContain('/console/app.js');
    const js = await fetch(`http://127.0.0.1:${apiPort}/console/app.js`);
    expect(js.status).toBe(200);
    expect((await js.text()).length).toBeGreaterThan(10_000);
    // Both stop cleanly on SIGTERM, as a container runtime stops them.
    expect(await stop(api)).toBe(0);
    expect(await stop(worker)).toBe(0);
  }, 240_000);
});
