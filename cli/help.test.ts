import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STACK_LINE, runVigil } from '../test/cli.ts';

describe('vigil <command> --help', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-help-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('describes the command and starts nothing (infra up --help once started Redis and Neo4j)', async () => {
    // Non-local addresses (TEST-NET): had the command run, it would have failed on them, not started servers.
    const env = {
      VIGIL_DATA_DIR: dataDir,
      REDIS_URL: 'redis://192.0.2.1:6379',
      NEO4J_URI: 'bolt://192.0.2.1:7687',
    };
    for (const flag of ['--help', '-h']) {
      const run = await runVigil(['infra', 'up', flag], env, { killAfterMs: 120_000 });
      expect(run.code, run.output).toBe(0);
      expect(run.output).toContain('usage: vigil infra');
      expect(run.output).toContain('infra up|down');
      expect(run.output).not.toMatch(/starting|does not answer|schema ready/);
      expect(run.output).not.toMatch(STACK_LINE);
    }
  }, 300_000);
});
