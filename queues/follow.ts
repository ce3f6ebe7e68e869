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
  /**
   * At start, first hand over again the entries up to the stored offset written in the last
   * `replayMs` (work a stopped reader had taken and may not have finished), then resume after it.
   */
  replayMs?: number;
  now?: () => number;
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

  /** Hands one entry to the handler; a handler that throws is logged, the entry counts as taken. */
  const handOver = async (id: string, fields: string[]) => {
    try {
      await opts.onMessage(id, entryMessage(fields));
    } catch (e) {
      opts.log.error(
        { err: (e as Error).message, stream: opts.stream, entry: id },
        'stream entry handler failed',
      );
    }
  };

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
      await handOver(id, fields);
      last = id;
      await conn.set(opts.offsetKey, id);
    }
    return last;
  };

  /** The entries up to `offset` written in the last `replayMs`, handed over again (once per start). */
  const replay = async (offset: string) => {
    const since = Math.max(0, (opts.now ?? Date.now)() - (opts.replayMs ?? 0));
    // XRANGE bounds are inclusive: from `since` to the last entry taken.
    const entries = await conn.xrange(opts.stream, `${since}-0`, offset);
    if (entries.length > 0)
      opts.log.info(
        { stream: opts.stream, entries: entries.length, upTo: offset },
        'handing over recent entries again after a restart',
      );
    for (const [id, fields] of entries) await handOver(id, fields);
  };

  const loop = (async () => {
    let after = '';
    let replayed = !opts.replayMs;
    while (!closed) {
      try {
        if (!after) {
          const stored = await conn.get(opts.offsetKey);
          if (stored && !replayed) await replay(stored);
          replayed = true;
          after = stored ?? '0-0';
        }
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
