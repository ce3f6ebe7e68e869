import net from 'node:net';
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

  it('names the URI when Neo4j does not answer', async () => {
    const unused = neo4jUri().replace(/:\d+$/, ':1');
    const graph = createGraph({ uri: unused, user: 'neo4j', password: '', database: 'neo4j' });
    try {
      await expect(graph.verify()).rejects.toThrow(`Neo4j at ${unused} does not answer`);
    } finally {
      await graph.close();
    }
  });
});
