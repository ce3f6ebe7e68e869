import { setTimeout as sleep } from 'node:timers/promises';
import PQueue from 'p-queue';

/**
 * The expensive lane's queue with a duty cycle: `slots` tasks run at once (p-queue), and after a
 * task ran t ms its slot rests `restFactor`·t ms before the next task starts in it. The task's
 * answer goes to its caller at once; only the next start waits. So however the heavy requests
 * arrive (one caller's burst up to its budget, or several callers back to back), each slot does
 * heavy work at most 1/(1 + restFactor) of the time, and the other requests have Neo4j's cores
 * and the API's event loop to themselves the rest of it.
 * Why: the budget and the lane bounded how much heavy work a caller buys and how much runs at
 * once, but the lane ran it back to back: one caller's 31 heavy requests took Neo4j from ~45 % to
 * ~65 % of a core and investigators' p99 to 2.4–3.2× (docs/benchmarks.md, bench:abuse).
 * Measured on wall time, not CPU: a heavy request slowed by the others rests longer, which is
 * the point (the machine is busy).
 */
export interface Lane {
  /** Runs `task` in a slot; `signal` gives up waiting (p-queue's abort: rejects with its reason). */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Slots running a task or resting after one. */
  readonly busy: number;
  /** Tasks waiting for a slot. */
  readonly waiting: number;
}

export function createLane(settings: { slots: number; restFactor: number }): Lane {
  const queue = new PQueue({ concurrency: settings.slots });
  return {
    run: <T>(task: () => Promise<T>, signal?: AbortSignal) =>
      new Promise<T>((resolve, reject) => {
        queue
          .add(
            async () => {
              const start = performance.now();
              try {
                resolve(await task());
              } catch (err) {
                reject(err);
              }
              const rest = settings.restFactor * (performance.now() - start);
              if (rest > 0) await sleep(rest);
            },
            { signal },
          )
          // A task given up on before it started (its signal): nothing else rejects it.
          .catch(reject);
      }),
    get busy() {
      return queue.pending;
    },
    get waiting() {
      return queue.size;
    },
  };
}
