import pTimeout from 'p-timeout';
import { type Log, silentLogger } from '../common/logger.ts';
/**
 * A shutdown registry: services register their cleanup; `kill()` runs every step in reverse order,
 * each one even if an earlier one throws or hangs (bounded by `stepTimeoutMs`), and is safe to
 * call twice.
 */
export interface Shutdown {
  add(name: string, fn: () => Promise<unknown> | unknown): void;
  kill(): Promise<void>;
  readonly signal: AbortSignal;
}

export function createShutdown(log: Log = silentLogger, { stepTimeoutMs = 5000 } = {}): Shutdown {
  const steps: { name: string; fn: () => Promise<unknown> | unknown }[] = [];
  const controller = new AbortController();
  let done: Promise<void> | undefined;
  return {
    signal: controller.signal,
    add(name, fn) {
      steps.push({ name, fn });
    },
    kill() {
      done ??= (async () => {
        controller.abort();
        for (const step of steps.reverse()) {
          try {
            // A step waiting on a dependency that is down (Redis, Neo4j) must not hold the exit.
            await pTimeout(Promise.resolve().then(step.fn), {
              milliseconds: stepTimeoutMs,
              message: `did not finish within ${stepTimeoutMs} ms; moving on`,
            });
          } catch (err) {
            log.error({ step: step.name, err }, 'shutdown step failed');
          }
        }
      })();
      return done;
    },
  };
}

/** SIGINT/SIGTERM → orderly shutdown, then exit. */
export function exitOnSignals(shutdown: Shutdown): void {
  const onSignal = () => {
    shutdown.kill().finally(() => process.exit(0));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
