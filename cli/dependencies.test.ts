import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { STACK_LINE, type SilentServer, refusedPort, runVigil, silentServer } from '../test/cli.ts';

/**
 * One-shot commands fail within 10 s, naming the variable, when Redis or Neo4j does not answer.
 * Two ways of not answering: a refused port, and a server that accepts and stays silent (the one
 * connect timeouts alone miss). For the silent server the 10 s are counted from the command's
 * first contact with it; for the refused port from the spawn, less the time this machine takes to
 * start `vigil help` in the same run (loading the modules is not waiting on a dependency, and
 * under load it alone can take longer than 10 s here).
 */
const PROMISE_MS = 10_000;

describe('one-shot commands when a dependency does not answer', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-deps-'));
  let startupMs = 0;
  let silent: SilentServer;
  let refused: number;
  const base = () => ({
    VIGIL_DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    VIGIL_QUEUE_PREFIX: `deps-${process.pid}`,
  });

  beforeAll(async () => {
    const help = await runVigil(['help'], base());
    expect(help.code).toBe(0);
    startupMs = help.ms;
    silent = await silentServer();
    refused = await refusedPort();
  });
  afterAll(async () => {
    await silent?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const expectClearFailure = (run: { code: number | null; output: string }, variable: string) => {
    expect(run.code, run.output).toBe(3);
    expect(run.output).toContain(variable);
    expect(run.output).toMatch(/does not answer/);
    expect(run.output).not.toMatch(STACK_LINE);
  };

  const cases: [string[], 'REDIS_URL' | 'NEO4J_URI'][] = [
    [['ingest', 'stats'], 'REDIS_URL'],
    [['ingest', 'retry-failed'], 'REDIS_URL'],
    [['invariants', 'list'], 'NEO4J_URI'],
    [['invariants', 'remove', 'no-such-invariant'], 'NEO4J_URI'],
    [
      [
        'invariants',
        'add',
        '--chain-id',
        '31337',
        '--definition',
        '{"kind":"ethBalanceFloor","contract":"0x0000000000000000000000000000000000000001","minWei":"1"}',
      ],
      'NEO4J_URI',
    ],
  ];
  const urlFor = (variable: string, port: number) =>
    variable === 'REDIS_URL' ? `redis://127.0.0.1:${port}` : `bolt://127.0.0.1:${port}`;

  it.each(cases)('vigil %s: refused %s', async (args, variable) => {
    const run = await runVigil(args, { ...base(), [variable]: urlFor(variable, refused) });
    expectClearFailure(run, variable);
    expect(run.ms - startupMs).toBeLessThan(PROMISE_MS);
  });

  it.each(cases)('vigil %s: silent %s', async (args, variable) => {
    const server = await silentServer();
    try {
      const run = await runVigil(args, { ...base(), [variable]: urlFor(variable, server.port) });
      expectClearFailure(run, variable);
      const contact = server.firstContact();
      expect(contact, 'the command never contacted the server').toBeDefined();
      expect(run.exitedAt - contact!).toBeLessThan(PROMISE_MS);
    } finally {
      await server.close();
    }
  });

  // 127.0.0.2 is loopback but not one of the addresses `infra up` starts servers on: it must not
  // start anything, and must name the variable that points at the silent server. For the Neo4j
  // case Redis must answer (it is checked first): the suite's Redis, only pinged.
  it.each(['REDIS_URL', 'NEO4J_URI'] as const)(
    'vigil infra up: a non-local %s that is silent',
    async (variable) => {
      const server = await silentServer('127.0.0.2');
      try {
        const env = {
          ...base(),
          REDIS_URL: variable === 'REDIS_URL' ? `redis://127.0.0.2:${server.port}` : inject('redisUrl'),
          NEO4J_URI:
            variable === 'NEO4J_URI' ? `bolt://127.0.0.2:${server.port}` : `bolt://127.0.0.2:${refused}`,
        };
        const run = await runVigil(['infra', 'up'], env);
        expectClearFailure(run, variable);
        const contact = server.firstContact();
        expect(contact, 'the command never contacted the server').toBeDefined();
        expect(run.exitedAt - contact!).toBeLessThan(PROMISE_MS);
        expect(run.output).not.toMatch(/starting redis-server|starting Neo4j/);
      } finally {
        await server.close();
      }
    },
  );
});
