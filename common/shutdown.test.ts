import { describe, expect, it } from 'vitest';
import { createShutdown } from './shutdown.ts';

describe('createShutdown', () => {
  it('moves past a step that hangs, logging it, and still runs the others in reverse order', async () => {
    const ran: string[] = [];
    const logged: string[] = [];
    const shutdown = createShutdown((msg, err) => logged.push(`${msg}: ${(err as Error).message}`), {
      stepTimeoutMs: 200,
    });
    shutdown.add('first', () => ran.push('first'));
    shutdown.add('hangs', () => new Promise(() => {}));
    shutdown.add('last', () => ran.push('last'));
    const started = Date.now();
    await shutdown.kill();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(ran).toEqual(['last', 'first']);
    expect(logged).toEqual(['shutdown step hangs failed: did not finish within 200 ms; moving on']);
    expect(shutdown.signal.aborted).toBe(true);
  });
});
