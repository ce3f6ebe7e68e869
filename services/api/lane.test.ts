import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLane } from './lane.ts';

// The expensive lane's duty cycle (services/api/lane.ts): real timers, real tasks. The timed
// assertions are lower bounds only (a loaded machine makes gaps longer, never shorter), with 2 ms
// for timers that fire on the millisecond before.
const EARLY_MS = 2;

/** Runs `n` tasks of ~`ms` each in `lane` at once; each task's start and end, and when its caller got the answer. */
async function runTasks(lane: ReturnType<typeof createLane>, n: number, ms: number) {
  const log: string[] = [];
  const spans: { start: number; end: number; answered: number }[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const span = { start: 0, end: 0, answered: 0 };
      spans[i] = span;
      const got = await lane.run(async () => {
        span.start = performance.now();
        log.push(`start ${i}`);
        await sleep(ms);
        span.end = performance.now();
        log.push(`end ${i}`);
        // A macrotask queued as the task ends: a rest (any timer) comes after it.
        setImmediate(() => log.push(`immediate after ${i}`));
        return i;
      });
      span.answered = performance.now();
      log.push(`answered ${i}`);
      expect(got).toBe(i);
    }),
  );
  return { log, spans };
}

describe('the expensive lane (duty cycle)', () => {
  it('starts the next task only after the slot rested restFactor × the last task’s run time', async () => {
    const lane = createLane({ slots: 1, restFactor: 2 });
    const { log, spans } = await runTasks(lane, 3, 40);
    // (The last task's immediate comes after runTasks returned.)
    expect(log).toEqual([
      ...['start 0', 'end 0', 'answered 0', 'immediate after 0'],
      ...['start 1', 'end 1', 'answered 1', 'immediate after 1'],
      ...['start 2', 'end 2', 'answered 2'],
    ]);
    for (let i = 1; i < 3; i++) {
      const ran = spans[i - 1]!.end - spans[i - 1]!.start;
      expect(ran).toBeGreaterThanOrEqual(40 - EARLY_MS);
      expect(spans[i]!.start - spans[i - 1]!.end).toBeGreaterThanOrEqual(2 * ran - EARLY_MS);
    }
  });

  it('gives each caller its answer when its task ends, not after the rest', async () => {
    const lane = createLane({ slots: 1, restFactor: 5 });
    const { spans } = await runTasks(lane, 2, 30);
    // The first answer came before the slot's rest (≥ 150 ms) was over: before the next start.
    expect(spans[0]!.answered).toBeLessThan(spans[1]!.start);
    // Against the run time measured, not the 30 asked: sleep(30) itself may fire a little early.
    const ran = spans[0]!.end - spans[0]!.start;
    expect(ran).toBeGreaterThanOrEqual(30 - EARLY_MS);
    expect(spans[1]!.start - spans[0]!.end).toBeGreaterThanOrEqual(5 * ran - EARLY_MS);
  });

  it('rests each slot on its own: with 2 slots two tasks run at once, the third waits for a rested slot', async () => {
    const lane = createLane({ slots: 2, restFactor: 1 });
    const { log, spans } = await runTasks(lane, 3, 40);
    expect(log.slice(0, 2).sort()).toEqual(['start 0', 'start 1']);
    const firstEnd = Math.min(spans[0]!.end, spans[1]!.end);
    const ranFirst = Math.min(spans[0]!.end - spans[0]!.start, spans[1]!.end - spans[1]!.start);
    expect(spans[2]!.start - firstEnd).toBeGreaterThanOrEqual(ranFirst - EARLY_MS);
  });

  it('with restFactor 0 starts the next task as soon as the last one ends (no timer between)', async () => {
    const lane = createLane({ slots: 1, restFactor: 0 });
    const { log } = await runTasks(lane, 2, 10);
    // No rest: the next task starts in the same turn as the first ends (before a macrotask).
    expect(log.indexOf('start 1')).toBeLessThan(log.indexOf('immediate after 0'));
    expect(log.indexOf('start 1')).toBeGreaterThan(log.indexOf('end 0'));
  });

  it('rejects a waiting task whose signal aborts (never run) and a task that throws; the slot still rests after a failure', async () => {
    const lane = createLane({ slots: 1, restFactor: 2 });
    const times: Record<string, number> = {};
    const failing = lane.run(async () => {
      times.failStart = performance.now();
      await sleep(30);
      times.failEnd = performance.now();
      throw new Error('boom');
    });
    const giveUp = new AbortController();
    let ranAborted = false;
    const aborted = lane.run(async () => {
      ranAborted = true;
    }, giveUp.signal);
    const next = lane.run(async () => {
      times.nextStart = performance.now();
    });
    giveUp.abort(new Error('lane wait'));
    await expect(aborted).rejects.toThrow('lane wait');
    await expect(failing).rejects.toThrow('boom');
    await next;
    expect(ranAborted).toBe(false);
    expect(lane.waiting).toBe(0);
    expect(times.nextStart! - times.failEnd!).toBeGreaterThanOrEqual(
      2 * (times.failEnd! - times.failStart!) - EARLY_MS,
    );
  });
});
