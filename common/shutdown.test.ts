import { describe, expect, it } from 'vitest';
import { LEVEL, captureLogger } from '../test/log.ts';
import { createShutdown } from './shutdown.ts';

describe('createShutdown', () => {
  it('moves past a step that hangs, logging it, and still runs the others in reverse order', async () => {
    const ran: string[] = [];
    const { log, lines } = captureLogger();
    const shutdown = createShutdown(log.child({ component: 'shutdown' }), { stepTimeoutMs: 200 });
    shutdown.add('first', () => ran.push('first'));
    shutdown.add('hangs', () => new Promise(() => {}));
    shutdown.add('last', () => ran.push('last'));
    const started = Date.now();
    await shutdown.kill();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(ran).toEqual(['last', 'first']);
    expect(
      lines.map(({ level, component, step, err, msg }) => ({
        level,
        component,
        step,
        err: (err as { message?: string }).message,
        msg,
      })),
    ).toEqual([
      {
        level: LEVEL.error,
        component: 'shutdown',
        step: 'hangs',
        err: 'did not finish within 200 ms; moving on',
        msg: 'shutdown step failed',
      },
    ]);
    expect(shutdown.signal.aborted).toBe(true);
  });
});
