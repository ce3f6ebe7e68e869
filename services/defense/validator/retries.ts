import type { RpcTransaction } from '../../../chains/ethereum/types.ts';

/**
 * Txs whose check could not start (no live miner, a Redis or RPC blip), tried again on a timer,
 * since no watcher delivers a tx twice; given up after `maxRetries` attempts.
 */
export interface DeferredChecks {
  /** The check of `tx` (by its lower-case hash `key`) could not start: try again shortly. */
  defer(key: string, tx: RpcTransaction, reason: string): void;
  /** The check started: stop retrying it. */
  done(key: string): void;
  has(key: string): boolean;
  readonly size: number;
  stop(): void;
}

export interface DeferredChecksDeps {
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

/** In memory: a restart forgets what was waiting. */
export function createDeferredChecks(deps: DeferredChecksDeps): DeferredChecks {
  const maxWaiting = deps.maxWaiting ?? 10_000;
  const waiting = new Map<string, { tx: RpcTransaction; attempts: number }>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function defer(key: string, tx: RpcTransaction, reason: string) {
    if (stopped) return;
    const entry = waiting.get(key) ?? { tx, attempts: 0 };
    if (entry.attempts >= deps.maxRetries) {
      waiting.delete(key);
      deps.track(deps.giveUp(entry.tx, entry.attempts, reason));
      return;
    }
    waiting.set(key, entry);
    if (waiting.size > maxWaiting) {
      const [oldKey, old] = waiting.entries().next().value as [
        string,
        { tx: RpcTransaction; attempts: number },
      ];
      waiting.delete(oldKey);
      deps.track(
        deps.giveUp(
          old.tx,
          old.attempts,
          `more than ${maxWaiting.toLocaleString('en')} txs waiting for a check`,
        ),
      );
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
    for (const [key, entry] of waiting) {
      if (deps.checked(key)) continue; // a watcher delivered it again meanwhile
      entry.attempts++;
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
    if (waiting.size > 0 && !stopped) timer ??= setTimeout(tick, deps.retryMs);
  }

  return {
    defer,
    done: (key) => void waiting.delete(key),
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
