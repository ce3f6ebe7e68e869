import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import neo4j from 'neo4j-driver';
import { afterAll, describe, expect, it } from 'vitest';
import { cliDestination, createLogger } from '../common/logger.ts';
import { freePorts } from '../common/ports.ts';
import {
  type Neo4jProcess,
  isBoltReachable,
  javaMajor,
  javaVersionLine,
  readLivePid,
  startNeo4jServer,
  stopNeo4jByPidFile,
} from './neo4j.ts';

/**
 * A real Neo4j 5.26 from Maven Central, on free ports of its own (not the dev 7687/7474 nor the test
 * suite's 7688/7475), in a temp directory: write, read, Browser, clean stop, restart, read back.
 */
const LAUNCHER_DIR = path.resolve(import.meta.dirname, '..', 'neo4j-server');
// Free ports, not fixed ones: another checkout's run of this file may be on the machine too.
const [BOLT_PORT, HTTP_PORT, P1, P2, P3, P4, P5] = (await freePorts(7)) as number[] as [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];
const BOLT_URI = `bolt://127.0.0.1:${BOLT_PORT}`;
const log = createLogger({
  level: 'info',
  name: 'test',
  base: {},
  destination: cliDestination('[neo4j.test] '),
});

describe('Java version check', () => {
  it('reads the version past the lines JAVA_TOOL_OPTIONS makes the JVM print first', async () => {
    const output = await new Promise<string>((resolve, reject) =>
      execFile(
        'java',
        ['-version'],
        { env: { ...process.env, JAVA_TOOL_OPTIONS: '-Xlog:gc' } },
        (err, out, errOut) => (err ? reject(err) : resolve(out + errOut)),
      ),
    );
    expect(output).toContain('Picked up JAVA_TOOL_OPTIONS');
    // The old check read the first line: no version there.
    expect(javaMajor(output.split('\n')[0]!)).toBe(0);
    const line = javaVersionLine(output);
    expect(line).toMatch(/version "/);
    expect(javaMajor(line)).toBeGreaterThanOrEqual(17);
    expect(javaMajor('java version "1.8.0_401"')).toBe(8);
  });
});

describe('Neo4j server launcher', () => {
  let home = '';
  let server: Neo4jProcess | undefined;

  afterAll(async () => {
    await server?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  }, 120_000);

  async function cypher<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const driver = neo4j.driver(BOLT_URI, undefined, { disableLosslessIntegers: true });
    try {
      const { records } = await driver.executeQuery(query, params);
      return records.map((r) => r.toObject() as T);
    } finally {
      await driver.close();
    }
  }

  it('starts, writes and reads over Bolt, serves Neo4j Browser', { timeout: 900_000 }, async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'vigil-neo4j-test-'));
    // The first call builds the launcher with Maven (and its class-data sharing archive).
    server = await startNeo4jServer({
      homeDir: home,
      boltPort: BOLT_PORT,
      httpPort: HTTP_PORT,
      pagecache: '128m',
      heap: '512m',
      launcherDir: LAUNCHER_DIR,
      detached: false,
      log,
    });
    expect(server.boltUri).toBe(BOLT_URI);
    expect(await isBoltReachable(BOLT_URI)).toBe(true);
    expect(await readLivePid(home)).toBe(server.pid);

    await cypher(
      'CREATE CONSTRAINT wallet_key IF NOT EXISTS FOR (w:Wallet) REQUIRE (w.chain, w.address) IS UNIQUE',
    );
    await cypher(
      `MERGE (a:Wallet {chain: 'test', address: $a})
       MERGE (b:Wallet {chain: 'test', address: $b})
       MERGE (a)-[t:TRANSFER {id: $id}]->(b) ON CREATE SET t.amount = $amount`,
      { a: '0xaaa', b: '0xbbb', id: 'tx-1', amount: 42 },
    );
    const rows = await cypher<{ from: string; to: string; amount: number }>(
      `MATCH (a:Wallet {chain: 'test'})-[t:TRANSFER]->(b:Wallet) RETURN a.address AS from, b.address AS to, t.amount AS amount`,
    );
    expect(rows).toEqual([{ from: '0xaaa', to: '0xbbb', amount: 42 }]);

    for (const url of [`${server.httpUrl}/browser/`, server.browserUrl]) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(await res.text()).toContain('<title>Neo4j Browser</title>');
    }
    expect(server.browserUrl).toBe(
      `http://127.0.0.1:${HTTP_PORT}/browser/?dbms=neo4j://127.0.0.1:${BOLT_PORT}&preselectAuthMethod=NO_AUTH`,
    );
    const discovery = (await (await fetch(`${server.httpUrl}/`)).json()) as Record<string, string>;
    expect(discovery.neo4j_version).toMatch(/^5\.26\./);
    expect(discovery.neo4j_edition).toBe('community');
  });

  it(
    'refuses a second server for the same home, and a port that is taken',
    { timeout: 120_000 },
    async () => {
      await expect(
        startNeo4jServer({
          homeDir: home,
          boltPort: P1,
          httpPort: P2,
          launcherDir: LAUNCHER_DIR,
          log,
        }),
      ).rejects.toThrow(/already runs/);

      const other = await mkdtemp(path.join(os.tmpdir(), 'vigil-neo4j-test-port-'));
      try {
        // Bolt port of the running server: DevServer checks ports before loading Neo4j, so this is quick.
        await expect(
          startNeo4jServer({
            homeDir: other,
            boltPort: BOLT_PORT,
            httpPort: P3,
            launcherDir: LAUNCHER_DIR,
            log,
          }),
        ).rejects.toThrow(new RegExp(`port in use: bolt 127\\.0\\.0\\.1:${BOLT_PORT}`));
        const blocker = net.createServer();
        await new Promise<void>((r) => blocker.listen(P5, '127.0.0.1', () => r()));
        try {
          await expect(
            startNeo4jServer({
              homeDir: other,
              boltPort: P4,
              httpPort: P5,
              launcherDir: LAUNCHER_DIR,
              log,
            }),
          ).rejects.toThrow(/port in use: http/);
        } finally {
          blocker.close();
        }
        expect(await readLivePid(other)).toBeUndefined();
      } finally {
        await rm(other, { recursive: true, force: true });
      }
    },
  );

  it('stops cleanly on SIGTERM and keeps the data across a restart', { timeout: 300_000 }, async () => {
    const first = server!;
    await first.stop();
    expect(await first.exited).toBe(143); // SIGTERM: java exits 128 + 15 after the shutdown hook
    expect(await isBoltReachable(BOLT_URI)).toBe(false);
    expect(await stat(path.join(home, 'neo4j.pid')).catch(() => null)).toBeNull();
    const jvmLog = await readFile(first.logFile, 'utf8');
    expect(jvmLog).toMatch(/VIGIL_NEO4J_STOPPED/);

    const debugLog = path.join(home, 'logs', 'debug.log');
    const before = (await stat(debugLog)).size;
    server = await startNeo4jServer({
      homeDir: home,
      boltPort: BOLT_PORT,
      httpPort: HTTP_PORT,
      pagecache: '128m',
      heap: '512m',
      launcherDir: LAUNCHER_DIR,
      detached: false,
      log,
    });
    const rows = await cypher<{ amount: number }>(
      `MATCH (:Wallet {chain: 'test', address: '0xaaa'})-[t:TRANSFER {id: 'tx-1'}]->(:Wallet {address: '0xbbb'})
       RETURN t.amount AS amount`,
    );
    expect(rows).toEqual([{ amount: 42 }]);
    // A clean shutdown leaves nothing to recover (after a SIGKILL Neo4j logs "Recovery in 'full' mode completed").
    const restartLog = (await readFile(debugLog, 'utf8')).slice(before);
    expect(restartLog).toContain('is ready');
    expect(restartLog).not.toMatch(/Recovery in '\w+' mode completed|\[o\.n\.k\.r\.Recovery\]/);

    // The pid file is what `vigil infra down` uses.
    expect(await stopNeo4jByPidFile(home)).toBe(true);
    expect(await server.exited).toBe(143); // stopped by SIGTERM, not killed
    expect(await isBoltReachable(BOLT_URI)).toBe(false);
    expect(await stopNeo4jByPidFile(home)).toBe(false);
    server = undefined;
  });
});
