import type { Redis } from 'ioredis';
import type { Logger } from '../common/logger.ts';
import { entryMessage } from './streams.ts';

/**
 * One reader following one stream with a blocking XREAD, its offset kept in Redis: each entry is
 * handed over in order, and its id stored once the handler returned, so a restarted reader resumes
 * after the last entry it took (entries written while it was down included) and never takes one
 * twice. Unlike streams.ts's reader (validators reading miners' answers) it deletes nothing: the
 * stream's writer bounds it (MAXLEN), and other readers may follow it too.
 */

export interface FollowerOptions {
  /** Duplicated: the follower blocks on a connection of its own. */
  connection: Redis;
  stream: string;
  /** Redis string holding the id of the last entry taken ('0-0' when absent: from the first). */
  offsetKey: string;
  /** Called per entry with its id and message (null when the entry has no `m` field). */
  onMessage: (id: string, payload: string | null) => void | Promise<void>;
  log: Logger;
  blockMs?: number;
}

export interface Follower {
  /** Stops reading; waits for the handler in flight. */
  close(): Promise<void>;
}

export function followStream(opts: FollowerOptions): Follower {
  const conn = opts.connection.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
  conn.on('error', () => {});
  let closed = false;
  let lastError = '';

  const readOnce = async (after: string) => {
    const reply = (await conn.xread(
      'COUNT',
      16,
      'BLOCK',
      opts.blockMs ?? 1000,
      'STREAMS',
      opts.stream,
      after,
    )) as [string, [string, string[]][]][] | null;
    lastError = '';
    let last = after;
    for (const [id, fields] of reply?.[0]?.[1] ?? []) {
      try {
        await opts.onMessage(id, entryMessage(fields));
      } catch (e) {
        opts.log.error(
          { err: (e as Error).message, stream: opts.stream, entry: id },
          'stream entry handler failed',
        );
      }
      last = id;
      await conn.set(opts.offsetKey, id);
    }
    return last;
  };

  const loop = (async () => {
    let after = '';
    while (!closed) {
      try {
        after ||= (await conn.get(opts.offsetKey)) ?? '0-0';
        after = await readOnce(after);
      } catch (e) {
        if (closed) break;
        const msg = (e as Error).message;
        if (msg !== lastError) {
          lastError = msg;
          opts.log.error(
            { err: msg, stream: opts.stream },
            'stream read failed (check REDIS_URL): retrying every second',
          );
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();

  return {
    async close() {
      if (closed) return;
      closed = true;
      conn.disconnect(); // ends a blocked XREAD at once
      await loop;
    },
  };
}
