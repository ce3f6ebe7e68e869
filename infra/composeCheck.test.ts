/**
 * docker-compose.yml loads with Compose's own loader (infra/compose-check, on compose-go) with
 * every profile, and every service has a health check; broken copies are rejected by name.
 * No Docker engine needed; Go is (see infra/compose-check/go.mod; .ci/run installs it).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const COMPOSE = path.join(ROOT, 'docker-compose.yml');
const BIN = path.join(ROOT, '.vigil', 'compose-check', 'compose-check');

function goBinary(): string {
  const onPath = spawnSync('sh', ['-c', 'command -v go'], { encoding: 'utf8' }).stdout.trim();
  const go = process.env.GO || onPath || '/usr/local/go/bin/go';
  if (!existsSync(go)) {
    throw new Error('Go not found (GO, PATH, /usr/local/go/bin/go): infra/compose-check needs Go >= 1.24');
  }
  return go;
}

function check(file: string): { code: number | null; out: string } {
  const r = spawnSync(BIN, [file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('docker-compose.yml, checked by Compose’s loader (compose-go)', () => {
  let dir: string;
  /** A copy of the compose file with one edit; the edit must apply, or the test proves nothing. */
  const brokenCopy = (name: string, from: string | RegExp, to: string): string => {
    const text = readFileSync(COMPOSE, 'utf8');
    const broken = text.replace(from, to);
    expect(broken, `edit ${name} applies`).not.toBe(text);
    const file = path.join(dir, `${name}.yml`);
    writeFileSync(file, broken);
    return file;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-compose-'));
    // Go caches the build: seconds after the first (which fetches compose-go through the proxy).
    // Asynchronous: a synchronous child would block the test worker for the whole build.
    await promisify(execFile)(goBinary(), ['build', '-o', BIN, '.'], {
      cwd: path.join(ROOT, 'infra', 'compose-check'),
    });
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads the file with every profile, each service with a health check', () => {
    const { code, out } = check(COMPOSE);
    expect(out).toMatch(/project "vigil"/);
    for (const svc of ['api', 'ingest-worker', 'neo4j', 'redis', 'patrol-miner', 'defense-validator']) {
      expect(out).toContain(svc);
    }
    expect(code).toBe(0);
  });

  it('rejects a bad port', () => {
    const { code, out } = check(brokenCopy('port', '127.0.0.1:4000:4000', '127.0.0.1:99999:4000'));
    expect(code).toBe(1);
    expect(out).toContain('Invalid hostPort: 99999');
  });

  it('rejects a bad duration, naming the field', () => {
    const { code, out } = check(brokenCopy('duration', 'interval: 2s', 'interval: 2 fortnights'));
    expect(code).toBe(1);
    expect(out).toMatch(/services\[redis\]\.healthcheck\.interval.*unknown unit/);
  });

  it('rejects a service without a health check', () => {
    const { code, out } = check(
      brokenCopy('nohealth', /\n {4}healthcheck:\n {6}test: \["CMD", "redis-cli", "ping"\]\n.*\n.*\n/, '\n'),
    );
    expect(code).toBe(1);
    expect(out).toContain('service "redis" has no health check');
  });
});
