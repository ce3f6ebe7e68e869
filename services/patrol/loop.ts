import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../common/logger.ts';

/**
 * Plays rounds 1, 2, … until `rounds` are done (0: until aborted), `intervalMs` apart. One bad
 * round (no activity to sample, a rate-limited set_weights, an RPC blip) must not stop the
 * validator: it is logged and the next round goes on. Resolves with the rounds played.
 */
export async function runRounds({
  play,
  rounds,
  intervalMs,
  signal,
  log,
}: {
  play: (round: number) => Promise<void>;
  rounds: number;
  intervalMs: number;
  signal: AbortSignal;
  log: Logger;
}): Promise<number> {
  let round = 1;
  for (; !signal.aborted && (rounds === 0 || round <= rounds); round++) {
    try {
      await play(round);
    } catch (err) {
      log.error({ round, err: (err as Error).message }, 'patrol round failed; next round continues');
    }
    // Aborted while waiting: stop at once instead of sleeping out the interval.
    if (intervalMs > 0 && (rounds === 0 || round < rounds))
      await sleep(intervalMs, undefined, { signal }).catch(() => {});
  }
  return round - 1;
}
