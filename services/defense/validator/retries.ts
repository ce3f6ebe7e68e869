import type { Redis } from 'ioredis';
import type { RpcTransaction } from '../../../chains/ethereum/types.ts';
import { type DeferredCheck, deferredCheckSchema } from '../../../protocol/defense.ts';
import { formatIssues } from '../../../protocol/parse.ts';

/**
 * Txs whose check could not start (no live miner, a Redis or RPC blip), tried again on a timer,
 * since no watcher delivers a tx twice; given up after `maxRetries` attempts. Each is also kept in
 * the validator's Redis hash (defenseDeferredKey), so a validator stopped mid-wait and started
 * again on the same prefix and id resumes them (`resume`): it retries them or gives up with the
 * reason, none is silently lost.
 */
export interface DeferredChecks {
  /** Loads the checks a previous run left waiting and starts retrying them. */
  resume(): Promise<number>;
  /** The check of `tx` (by its lower-case hash `key`) could not start: try again shortly. */
  defer(key: string, tx: RpcTransaction, reason: string): void;
  /** The check started: stop retrying it. */
  done(key: string): void;
  has(key: string): boolean;
  readonly size: number;
  /** Stops the timer; what is waiting stays in Redis for the next run. */
  stop(): void;
}

export interface DeferredChecksDeps {
  connection: Redis;
  /** The Redis hash (protocol/keys.ts defenseDeferredKey). */
  key: string;
  retryMs: number;
  maxRetries: number;
  /** At most this many waiting; the oldest is given up beyond (default 10,000). */
  maxWaiting?: number;
  /** Whether a watcher delivered the tx again meanwhile (no retry needed). */
  checked(key: string): boolean;
  /** The live miners now; with none, nothing is re-run and attempts just count down. */
  live(): Promise<string[]>;
  /** Runs the check again. */
  retry(tx: RpcTransaction): Promise<unknown>;
  /** Stops retrying: the caller tells mined from never checked. */
  giveUp(tx: RpcTransaction, attempts: number, reason: string): Promise<void>;
  track(p: Promise<unknown>): void;
  log: { warn(o: object, msg: string): void };
}

export function createDeferredChecks(deps: DeferredChecksDeps): DeferredChecks {
  const maxWaiting = deps.maxWaiting ?? 10_000;
  // The working set; Redis is written through (a Redis blip still retries in this run).
  const waiting = new Map<string, DeferredCheck>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const stored = (what: string, p: Promise<unknown>) =>
    deps.track(
      p.catch((e) =>
        deps.log.warn(
          { err: (e as Error).message },
          `deferred tx checks not ${what} in Redis: kept in memory`,
        ),
      ),
    );
  const save = (entries: [string, DeferredCheck][]) => {
    if (entries.length === 0) return;
    const fields = entries.flatMap(([k, e]) => [k, JSON.stringify(e)]);
    stored('saved', deps.connection.hset(deps.key, ...fields));
  };
  const forget = (key: string) => stored('removed', deps.connection.hdel(deps.key, key));

  function drop(key: string, entry: DeferredCheck, reason: string) {
    waiting.delete(key);
    forget(key);
    deps.track(deps.giveUp(entry.tx, entry.attempts, reason));
  }

  function defer(key: string, tx: RpcTransaction, reason: string) {
    if (stopped) return;
    const entry = waiting.get(key) ?? { tx, attempts: 0, reason, since: Date.now() };
    if (entry.attempts >= deps.maxRetries) return drop(key, entry, reason);
    entry.reason = reason.slice(0, 2000);
    waiting.set(key, entry);
    save([[key, entry]]);
    if (waiting.size > maxWaiting) {
      const [oldKey, old] = waiting.entries().next().value as [string, DeferredCheck];
      drop(oldKey, old, `more than ${maxWaiting.toLocaleString('en')} txs waiting for a check`);
    }
    timer ??= setTimeout(tick, deps.retryMs);
  }

  /**
   * One retry tick. Without a live miner nothing is re-run (a degraded system must not add an RPC
   * storm per waiting tx): the attempts just count down.
   */
  async function tick() {
    timer = undefined;
    if (stopped) return;
    const live = await deps.live().catch(() => [] as string[]);
    const counted: [string, DeferredCheck][] = [];
    for (const [key, entry] of waiting) {
      if (deps.checked(key)) continue; // a watcher delivered it again meanwhile
      entry.attempts++;
      counted.push([key, entry]);
      if (live.length === 0) {
        if (entry.attempts >= deps.maxRetries) defer(key, entry.tx, 'no live defense miner');
        continue;
      }
      deps.track(
        deps
          .retry(entry.tx)
          .catch((e) =>
            deps.log.warn({ tx: entry.tx.hash, err: (e as Error).message }, 'tx check retry failed'),
          ),
      );
    }
    save(counted.filter(([k]) => waiting.has(k)));
    if (waiting.size > 0 && !stopped) timer ??= setTimeout(tick, deps.retryMs);
  }

  /** A stored entry, checked like any message read from Redis; a bad one is dropped with the reason. */
  function parse(key: string, raw: string): DeferredCheck | undefined {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    const r = deferredCheckSchema.safeParse(json);
    if (r.success) return r.data as DeferredCheck;
    const why = json === undefined ? 'not JSON' : formatIssues(r.error).join('; ');
    deps.log.warn(
      { tx: key.slice(0, 100), reason: why.slice(0, 500) },
      'deferred tx check dropped: unreadable',
    );
    forget(key);
    return undefined;
  }

  return {
    async resume() {
      const all = await deps.connection.hgetall(deps.key);
      const loaded = Object.entries(all)
        .map(([k, raw]) => [k, parse(k, raw)] as const)
        .filter((e): e is [string, DeferredCheck] => e[1] !== undefined)
        .sort((a, b) => a[1].since - b[1].since);
      for (const [k, e] of loaded) if (!waiting.has(k)) waiting.set(k, e);
      if (waiting.size > 0 && !stopped) timer ??= setTimeout(tick, deps.retryMs);
      return loaded.length;
    },
    defer,
    done(key) {
      // Only a tx that was waiting costs a Redis write (the usual tx was never deferred).
      if (waiting.delete(key)) forget(key);
    },
    has: (key) => waiting.has(key),
    get size() {
      return waiting.size;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      waiting.clear();
    },
  };
}
