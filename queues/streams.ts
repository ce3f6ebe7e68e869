import type { Redis } from 'ioredis';
import type { Logger } from '../common/logger.ts';

/**
 * Messages between validators and untrusted miners travel on Redis streams, one per writer and
 * reader (protocol/keys.ts): a miner can be given exactly its own keys by an ACL key pattern, and
 * nothing it does to its own stream (a huge explicit id, MAXLEN 0, DEL) touches anyone else's.
 * Each entry holds one field, `m`, with the message's JSON; it is parsed by the receiver.
 */

/** The one field of a stream entry. */
export const MESSAGE_FIELD = 'm';

/** An entry's message: the value of its MESSAGE_FIELD (null when it has none). */
export function entryMessage(fields: string[]): string | null {
  const i = fields.indexOf(MESSAGE_FIELD);
  return i >= 0 && i % 2 === 0 ? (fields[i + 1] ?? null) : null;
}

/** Appends one message to a stream, keeping about `maxLen` entries (its writer's memory bound). */
export function appendMessage(
  conn: Redis,
  key: string,
  payload: string,
  maxLen = 1000,
): Promise<string | null> {
  return conn.xadd(key, 'MAXLEN', '~', String(maxLen), '*', MESSAGE_FIELD, payload);
}

/**
 * A stream entry's message as data: its JSON, or the raw text (or null) when it is not JSON, so
 * the receiver's schema check names what is wrong instead of a parse error ending the handler.
 */
export function messageData(raw: string | null): unknown {
  try {
    return JSON.parse(raw ?? 'null');
  } catch {
    return raw;
  }
}

export interface StreamReader {
  /** Adds streams to read (from their first entry); wakes a blocked read so they count at once. */
  watch(keys: string[]): void;
  readonly watching: ReadonlySet<string>;
  /** Stops reading and closes its connection; waits for handlers in flight. */
  close(): Promise<void>;
}

export interface StreamReaderOptions {
  /** Duplicated: the reader blocks on a connection of its own (same URL and user). */
  connection: Redis;
  /**
   * Called per entry with its stream, the message (null when the entry has no `m` field) and the
   * time it was read (epoch ms, this process's clock: never the writer's id or fields).
   */
  onMessage: (key: string, payload: string | null, receivedAt: number) => void | Promise<void>;
  log: Logger;
  /**
   * A stream of the reader's owner that no miner may write: watch() appends to it to end a blocked
   * XREAD, so new streams are read at once. Without it, new streams wait for `blockMs`.
   */
  wakeKey?: string;
  /** Delete entries once read (the owner is the only reader of the stream: validators). */
  consume?: boolean;
  /** Handlers in flight at most (a slow handler holds the next read back). */
  concurrency?: number;
  blockMs?: number;
  /** Entries read per stream per call: one writer cannot crowd out the others. */
  count?: number;
}

/**
 * Reads a changing set of streams with one blocking XREAD, fair across streams (COUNT per stream),
 * from their first entry so nothing written before the read started is missed. A failed read
 * (Redis down, no permission) is logged once per kind and retried every second.
 */
export function createStreamReader(opts: StreamReaderOptions): StreamReader {
  const conn = opts.connection.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
  conn.on('error', () => {});
  const last = new Map<string, string>();
  if (opts.wakeKey) last.set(opts.wakeKey, '0-0');
  const watching = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  const limit = opts.concurrency ?? 64;
  let closed = false;
  let lastError = '';

  const wake = () => {
    if (!opts.wakeKey || closed) return;
    opts.connection.xadd(opts.wakeKey, 'MAXLEN', '1', '*', 'w', '1').catch(() => {});
  };

  const handle = (key: string, payload: string | null, at: number) => {
    let p: void | Promise<void>;
    try {
      p = opts.onMessage(key, payload, at);
    } catch (e) {
      opts.log.error({ err: (e as Error).message, stream: key }, 'stream message handler failed');
      return;
    }
    if (!p) return;
    const tracked = p
      .catch((e) =>
        opts.log.error({ err: (e as Error).message, stream: key }, 'stream message handler failed'),
      )
      .finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  const readOnce = async () => {
    while (inFlight.size >= limit) await Promise.race(inFlight);
    const keys = [...last.keys()];
    if (keys.length === 0) {
      await new Promise((r) => setTimeout(r, opts.blockMs ?? 1000));
      return;
    }
    const ids = keys.map((k) => last.get(k)!);
    const reply = (await conn.xread(
      'COUNT',
      opts.count ?? 16,
      'BLOCK',
      opts.blockMs ?? 1000,
      'STREAMS',
      ...keys,
      ...ids,
    )) as [string, [string, string[]][]][] | null;
    const at = Date.now();
    lastError = '';
    for (const [key, entries] of reply ?? []) {
      if (entries.length === 0) continue;
      last.set(key, entries.at(-1)![0]);
      if (key === opts.wakeKey) continue;
      for (const [, fields] of entries) {
        handle(key, entryMessage(fields), at);
      }
      // Pipelined before the next read on the same connection: no extra wait.
      if (opts.consume) conn.xdel(key, ...entries.map(([id]) => id)).catch(() => {});
    }
  };

  const loop = (async () => {
    while (!closed) {
      try {
        await readOnce();
      } catch (e) {
        if (closed) break;
        const msg = (e as Error).message;
        if (msg !== lastError) {
          lastError = msg;
          const hint = /NOPERM/.test(msg)
            ? 'the Redis user may not read these streams: check REDIS_URL (see README "Onboarding a miner")'
            : 'Redis read failed: retrying every second';
          opts.log.error({ err: msg, streams: [...watching].slice(0, 5) }, hint);
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();

  return {
    watch(keys) {
      let added = false;
      for (const k of keys) {
        if (watching.has(k)) continue;
        watching.add(k);
        last.set(k, '0-0');
        added = true;
      }
      if (added) wake();
    },
    watching,
    async close() {
      if (closed) return;
      closed = true;
      // Ends a blocked XREAD at once (its promise rejects; the loop sees `closed`).
      conn.disconnect();
      await loop;
      await Promise.allSettled([...inFlight]);
    },
  };
}
