import net from 'node:net';
import neo4j from 'neo4j-driver';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { neo4jUri, openTestGraph } from '../test/services.ts';
import { createGraph } from './driver.ts';

describe('graph driver', () => {
  afterEach(() => vi.restoreAllMocks());

  // patches/neo4j-driver-bolt-connection: without TCP_NODELAY a Bolt write that follows an
  // unacknowledged one waits for the server's delayed ACK (~40 ms), measured in bench:graphql.
  it('opens its Bolt sockets with Nagle off (the patch in patches/ is applied)', async () => {
    const setNoDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    const graph = await openTestGraph();
    try {
      const one = await graph.read(async (tx) => (await tx.run('RETURN 1 AS one')).records[0]?.get('one'));
      expect(one).toBe(1);
      expect(setNoDelay.mock.calls.some(([noDelay]) => noDelay === true)).toBe(true);
    } finally {
      await graph.close();
    }
  });

  // patches/neo4j-driver-bolt-connection: the driver flushed a socket write per 1,400 bytes, and
  // asked every structure transformer about every string and number it packed.
  it('sends a large batch in 16 KiB socket writes and still packs temporal and spatial values', async () => {
    const graph = await openTestGraph();
    try {
      await graph.query('RETURN 1', {}); // connect first: only the batch's writes are counted
      const write = vi.spyOn(net.Socket.prototype, 'write');
      const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: `row-${i}`.padEnd(100, '.'), n: i }));
      const res = await graph.query('RETURN size($rows) AS n, $rows[9999].n AS last', { rows });
      expect(res.records[0]?.get('n')).toBe(10_000);
      expect(res.records[0]?.get('last')).toBe(9_999);
      // About 1.2 MB: 75 writes of 16 KiB; 1,400-byte writes would be about 850.
      expect(write.mock.calls.length).toBeLessThan(200);
      write.mockRestore();

      const at = new neo4j.types.DateTime(2026, 11, 23, 12, 30, 0, 0, 0);
      const where = new neo4j.types.Point(4326, 13.4, 52.5);
      const typed = await graph.query('RETURN $at.year AS year, $at.minute AS minute, $p.x AS x, $s AS s', {
        at,
        p: where,
        s: 'plain',
      });
      expect(typed.records[0]?.toObject()).toEqual({ year: 2026, minute: 30, x: 13.4, s: 'plain' });
    } finally {
      await graph.close();
    }
  });

  // patches/neo4j-driver-core: the driver formatted a stack trace for every query it ran.
  it('formats a stack only for a query that fails, and that stack still leads to the caller', async () => {
    const graph = await openTestGraph();
    const original = Error.prepareStackTrace;
    let formatted = 0;
    Error.prepareStackTrace = (err, frames) => {
      formatted++;
      return original ? original(err, frames) : `${err}\n${frames.map((f) => `    at ${f}`).join('\n')}`;
    };
    try {
      for (let i = 0; i < 5; i++) await graph.read((tx) => tx.run('RETURN $i AS i', { i }));
      expect(formatted).toBe(0);
      const err = (await graph.read((tx) => tx.run('RETURN 1 +')).catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(/Invalid input|syntax/i);
      expect(formatted).toBeGreaterThan(0);
      expect(err.stack).toMatch(/driver\.test\.ts/);
    } finally {
      Error.prepareStackTrace = original;
      await graph.close();
    }
  });

  // patches/neo4j-driver-bolt-connection: with disableLosslessIntegers the unpacker built an
  // Integer per received integer and then several more to compare it with the safe range.
  it('reads integers of every width straight into exact numbers, and beyond ±2^53 as ±Infinity', async () => {
    const graph = await openTestGraph();
    try {
      const values = [0, 127, -1, -16, -17, -128, 200, -32768, 40_000, -2_147_483_648, 2_147_483_647, 4_294_967_296,
        1_700_000_000_000, -1_700_000_000_000, 2 ** 52 + 12_345, -(2 ** 52) - 7]; // biome-ignore format: a table
      const toNumber = vi.spyOn(neo4j.Integer.prototype, 'toNumberOrInfinity');
      const res = await graph.query('RETURN $values AS values', { values: values.map((v) => neo4j.int(v)) });
      expect(res.records[0]!.get('values')).toEqual(values);
      expect(toNumber).not.toHaveBeenCalled();
      // The edges of the safe range and beyond take the driver's own path.
      const edges = await graph.query(
        'RETURN [9007199254740991, -9007199254740991, 9223372036854775807, -9223372036854775808] AS v',
        {},
      );
      expect(edges.records[0]!.get('v')).toEqual([
        2 ** 53 - 1,
        -(2 ** 53 - 1),
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
      ]);
    } finally {
      await graph.close();
    }
  });

  it('names the URI when Neo4j does not answer', async () => {
    const unused = neo4jUri().replace(/:\d+$/, ':1');
    const graph = createGraph({ uri: unused, user: 'neo4j', password: '', database: 'neo4j' });
    try {
      await expect(graph.verify()).rejects.toThrow(`Neo4j at ${unused} (NEO4J_URI) does not answer`);
    } finally {
      await graph.close();
    }
  });

  it('runs a single read in auto-commit: same records, its time-out, and a retry after a dropped connection', async () => {
    const graph = await openTestGraph();
    // Between the driver and Neo4j: the first connection is cut at once, later ones pass through.
    let connections = 0;
    const target = new URL(neo4jUri().replace('bolt://', 'http://'));
    const proxy = net.createServer((sock) => {
      if (connections++ === 0) return sock.destroy();
      const up = net.connect(Number(target.port), target.hostname);
      sock.pipe(up).pipe(sock);
      up.on('error', () => sock.destroy());
      sock.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const flaky = createGraph({
      uri: `bolt://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`,
      user: 'neo4j',
      password: '',
      database: 'neo4j',
    });
    try {
      const q = 'UNWIND range(1, 5) AS x RETURN x * $k AS y';
      const viaQuery = await graph.query(q, { k: 3 });
      const viaRead = await graph.read((tx) => tx.run(q, { k: 3 }));
      expect(viaQuery.records.map((r) => r.get('y'))).toEqual([3, 6, 9, 12, 15]);
      expect(viaQuery.records.map((r) => r.get('y'))).toEqual(viaRead.records.map((r) => r.get('y')));
      // The server-side time-out applies.
      await expect(
        graph.query(
          'UNWIND range(1, 200000000) AS x WITH x WHERE x % 7 = 0 RETURN count(x)',
          {},
          { timeoutMs: 50 },
        ),
      ).rejects.toThrow(/timeout|terminated/i);
      // A mistake is not retried: it fails once, fast.
      await expect(graph.query('RETURN $missing + ', {})).rejects.toThrow(/Invalid input|syntax/i);
      // A dropped connection is transient: the read is tried again and answers.
      const again = await flaky.query('RETURN 41 + 1 AS n', {});
      expect(again.records[0]?.get('n')).toBe(42);
      expect(connections).toBeGreaterThanOrEqual(2);
    } finally {
      await flaky.close();
      await graph.close();
      await new Promise((r) => proxy.close(r));
    }
  });
});

describe('graph driver: write retries', () => {
  it('runs a write again after Neo4j detects a deadlock, reports the retry with its cause, and rolls back the loser', async () => {
    const retries: { mode: string; code?: string }[] = [];
    const base = await openTestGraph();
    const graph = createGraph({
      uri: neo4jUri(),
      user: 'neo4j',
      password: '',
      database: 'neo4j',
      onRetry: (mode, cause) => retries.push({ mode, code: (cause as { code?: string }).code }),
    });
    const tag = `deadlock-${Date.now()}`;
    try {
      await base.write((tx) =>
        tx.run('CREATE (:DeadlockProbe {tag: $tag, k: 1}), (:DeadlockProbe {tag: $tag, k: 2})', { tag }),
      );
      // Two writers lock the two nodes in opposite order; each waits until the other holds its first.
      const held: Array<() => void> = [];
      const bothHold = Promise.all([0, 1].map((i) => new Promise<void>((r) => (held[i] = r))));
      const runs = [0, 0];
      const writer = (i: number, first: number, second: number) =>
        graph.write(async (tx) => {
          runs[i]!++;
          await tx.run('MATCH (n:DeadlockProbe {tag: $tag, k: $k}) SET n.by = coalesce(n.by, []) + $i', {
            tag,
            k: first,
            i,
          });
          held[i]!();
          await bothHold;
          await tx.run('MATCH (n:DeadlockProbe {tag: $tag, k: $k}) SET n.by = coalesce(n.by, []) + $i', {
            tag,
            k: second,
            i,
          });
        });
      await Promise.all([writer(0, 1, 2), writer(1, 2, 1)]);

      expect(retries.map((r) => r.code)).toContain('Neo.TransientError.Transaction.DeadlockDetected');
      expect(retries.every((r) => r.mode === 'write')).toBe(true);
      expect(runs[0]! + runs[1]!).toBe(2 + retries.length);
      // Each writer's two SETs landed once: the aborted attempt left nothing behind.
      const res = await base.read((tx) =>
        tx.run('MATCH (n:DeadlockProbe {tag: $tag}) RETURN n.k AS k, n.by AS by ORDER BY k', { tag }),
      );
      for (const r of res.records) expect([...(r.get('by') as number[])].sort()).toEqual([0, 1]);
    } finally {
      await base.write((tx) => tx.run('MATCH (n:DeadlockProbe {tag: $tag}) DELETE n', { tag }));
      await graph.close();
      await base.close();
    }
  });
});
