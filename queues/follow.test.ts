import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl, silentLogger, uniquePrefix, waitFor } from '../test/services.ts';
import { createRedisConnection } from './connection.ts';
import { followStream } from './follow.ts';
import { appendMessage } from './streams.ts';

/** A stream followed with its offset in Redis, on the real Redis: a restart resumes where it stopped. */
describe('followStream', () => {
  let conn: ReturnType<typeof createRedisConnection>;
  beforeAll(() => {
    conn = createRedisConnection(redisUrl(), 'worker');
  });
  afterAll(() => conn?.disconnect());

  it('hands every entry over once, in order, and a new follower resumes after the last one taken', async () => {
    const prefix = uniquePrefix();
    const stream = `${prefix}:s`;
    const offsetKey = `${prefix}:offset`;
    const got: (string | null)[] = [];
    const start = () =>
      followStream({
        connection: conn,
        stream,
        offsetKey,
        onMessage: (_id, m) => void got.push(m),
        log: silentLogger(),
        blockMs: 200,
      });
    await appendMessage(conn, stream, 'one');
    const first = start();
    await appendMessage(conn, stream, 'two');
    await waitFor('two entries', async () => got.length === 2, 10_000);
    await first.close();
    // Written while nobody follows: the next follower takes it, and only it.
    await appendMessage(conn, stream, 'three');
    await conn.xadd(stream, '*', 'other', 'x');
    const second = start();
    await waitFor('four entries', async () => got.length === 4, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    await second.close();
    expect(got).toEqual(['one', 'two', 'three', null]);
    // Nothing deleted: the writer bounds the stream, other readers may follow it.
    expect(await conn.xlen(stream)).toBe(4);
    await conn.del(stream, offsetKey);
  });
});
