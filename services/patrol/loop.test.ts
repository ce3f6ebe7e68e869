import { describe, expect, it } from 'vitest';
import { LEVEL, captureLogger } from '../../test/log.ts';
import { runRounds } from './loop.ts';

describe('Patrol round loop', () => {
  it('plays the configured rounds in order; a failing round is logged and the next goes on', async () => {
    const { log, lines } = captureLogger();
    const played: number[] = [];
    const n = await runRounds({
      play: async (r) => {
        played.push(r);
        if (r === 2) throw new Error('no activity to sample');
      },
      rounds: 3,
      intervalMs: 0,
      signal: new AbortController().signal,
      log,
    });
    expect(played).toEqual([1, 2, 3]);
    expect(n).toBe(3);
    const failed = lines.filter((l) => l.level === LEVEL.error);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ round: 2, err: 'no activity to sample' });
  });

  it('rounds 0 plays until aborted', async () => {
    const { log } = captureLogger();
    const stop = new AbortController();
    const played: number[] = [];
    await runRounds({
      play: async (r) => {
        played.push(r);
        if (r === 5) stop.abort();
      },
      rounds: 0,
      intervalMs: 0,
      signal: stop.signal,
      log,
    });
    expect(played).toEqual([1, 2, 3, 4, 5]);
  });

  it('an abort ends the wait between rounds at once, and no wait follows the last round', async () => {
    const { log } = captureLogger();
    const stop = new AbortController();
    let started = Date.now();
    await runRounds({
      play: async () => void setTimeout(() => stop.abort(), 20),
      rounds: 0,
      intervalMs: 60_000,
      signal: stop.signal,
      log,
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    started = Date.now();
    await runRounds({
      play: async () => {},
      rounds: 1,
      intervalMs: 60_000,
      signal: new AbortController().signal,
      log,
    });
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
