import { describe, expect, it } from 'vitest';
import type { RpcTransaction } from '../../../chains/ethereum/types.ts';
import { createDeferredChecks } from './retries.ts';

const tx = (n: number): RpcTransaction => ({
  hash: `0x${n.toString(16).padStart(64, '0')}`,
  from: '0x00000000000000000000000000000000000000aa',
  nonce: `0x${n.toString(16)}`,
  gas: '0x5208',
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rig(o: { live?: string[]; maxRetries?: number; maxWaiting?: number; checked?: Set<string> } = {}) {
  const retried: string[] = [];
  const gaveUp: { hash: string; attempts: number; reason: string }[] = [];
  const pending: Promise<unknown>[] = [];
  const d = createDeferredChecks({
    retryMs: 10,
    maxRetries: o.maxRetries ?? 3,
    maxWaiting: o.maxWaiting,
    checked: (k) => o.checked?.has(k) ?? false,
    live: async () => o.live ?? [],
    retry: async (t) => void retried.push(t.hash!),
    giveUp: async (t, attempts, reason) => void gaveUp.push({ hash: t.hash!, attempts, reason }),
    track: (p) => void pending.push(p),
    log: { warn: () => {} },
  });
  return { d, retried, gaveUp };
}

describe('deferred checks (in memory)', () => {
  it('re-runs a deferred check on the next tick while a miner is live', async () => {
    const { d, retried } = rig({ live: ['m'] });
    d.defer('a', tx(1), 'redis blip');
    expect(d.has('a')).toBe(true);
    await sleep(40);
    expect(retried.length).toBeGreaterThanOrEqual(1);
    expect(retried[0]).toBe(tx(1).hash);
    d.done('a');
    const n = retried.length;
    await sleep(40);
    expect(retried.length).toBe(n);
    d.stop();
  });

  it('without a live miner counts down and gives up with the reason, re-running nothing', async () => {
    const { d, retried, gaveUp } = rig({ maxRetries: 3 });
    d.defer('a', tx(1), 'no live defense miner');
    await sleep(150);
    expect(retried).toEqual([]);
    expect(gaveUp).toEqual([{ hash: tx(1).hash, attempts: 3, reason: 'no live defense miner' }]);
    expect(d.size).toBe(0);
    d.stop();
  });

  it('skips a tx a watcher delivered again meanwhile', async () => {
    const { d, retried } = rig({ live: ['m'], checked: new Set(['a']) });
    d.defer('a', tx(1), 'x');
    await sleep(40);
    expect(retried).toEqual([]);
    d.stop();
  });

  it('gives up the oldest beyond its bound', () => {
    const { d, gaveUp } = rig({ maxWaiting: 2 });
    for (const i of [1, 2, 3]) d.defer(`k${i}`, tx(i), 'x');
    expect(d.size).toBe(2);
    expect(gaveUp).toEqual([
      { hash: tx(1).hash, attempts: 0, reason: 'more than 2 txs waiting for a check' },
    ]);
    d.stop();
  });
});
