import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RpcTransaction } from '../../../chains/ethereum/types.ts';
import { defenseDeferredKey } from '../../../protocol/keys.ts';
import { createRedisConnection } from '../../../queues/connection.ts';
import { redisUrl, uniquePrefix, waitFor } from '../../../test/services.ts';
import { createDeferredChecks } from './retries.ts';

const tx = (n: number): RpcTransaction => ({
  hash: `0x${n.toString(16).padStart(64, '0')}`,
  from: '0x00000000000000000000000000000000000000aa',
  nonce: `0x${n.toString(16)}`,
  gas: '0x5208',
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deferred checks against the real Redis, including a stop and a new run on the same key. */
describe('deferred checks', () => {
  let conn: ReturnType<typeof createRedisConnection>;
  beforeAll(() => {
    conn = createRedisConnection(redisUrl(), 'worker');
  });
  afterAll(() => conn?.disconnect());

  function rig(
    key: string,
    o: { live?: string[]; maxRetries?: number; maxWaiting?: number; checked?: Set<string> } = {},
  ) {
    const retried: string[] = [];
    const gaveUp: { hash: string; attempts: number; reason: string }[] = [];
    const warnings: string[] = [];
    const pending: Promise<unknown>[] = [];
    const d = createDeferredChecks({
      connection: conn,
      key,
      retryMs: 10,
      maxRetries: o.maxRetries ?? 3,
      maxWaiting: o.maxWaiting,
      checked: (k) => o.checked?.has(k) ?? false,
      live: async () => o.live ?? [],
      retry: async (t) => void retried.push(t.hash!),
      giveUp: async (t, attempts, reason) => void gaveUp.push({ hash: t.hash!, attempts, reason }),
      track: (p) => void pending.push(p),
      log: { warn: (_o, msg) => void warnings.push(msg) },
    });
    const settled = () => Promise.allSettled(pending);
    return { d, retried, gaveUp, warnings, settled };
  }
  const newKey = () => defenseDeferredKey(uniquePrefix(), 'v1');

  it('re-runs a deferred check on the next tick while a miner is live; done forgets it in Redis too', async () => {
    const key = newKey();
    const { d, retried, settled } = rig(key, { live: ['m'] });
    d.defer('a', tx(1), 'redis blip');
    expect(d.has('a')).toBe(true);
    await sleep(40);
    expect(retried[0]).toBe(tx(1).hash);
    d.done('a');
    const n = retried.length;
    await sleep(40);
    expect(retried.length).toBe(n);
    await settled();
    expect(await conn.hlen(key)).toBe(0);
    d.stop();
  });

  it('without a live miner counts down and gives up with the reason, re-running nothing', async () => {
    const key = newKey();
    const { d, retried, gaveUp, settled } = rig(key, { maxRetries: 3 });
    d.defer('a', tx(1), 'no live defense miner');
    await sleep(150);
    expect(retried).toEqual([]);
    expect(gaveUp).toEqual([{ hash: tx(1).hash, attempts: 3, reason: 'no live defense miner' }]);
    expect(d.size).toBe(0);
    await settled();
    expect(await conn.hlen(key)).toBe(0);
    d.stop();
  });

  it('skips a tx a watcher delivered again meanwhile', async () => {
    const { d, retried } = rig(newKey(), { live: ['m'], checked: new Set(['a']) });
    d.defer('a', tx(1), 'x');
    await sleep(40);
    expect(retried).toEqual([]);
    d.stop();
  });

  it('gives up the oldest beyond its bound', async () => {
    const key = newKey();
    const { d, gaveUp, settled } = rig(key, { maxWaiting: 2 });
    for (const i of [1, 2, 3]) d.defer(`k${i}`, tx(i), 'x');
    expect(d.size).toBe(2);
    expect(gaveUp).toEqual([
      { hash: tx(1).hash, attempts: 0, reason: 'more than 2 txs waiting for a check' },
    ]);
    d.stop();
    await settled();
    expect((await conn.hkeys(key)).sort()).toEqual(['k2', 'k3']);
  });

  it('a new run on the same key retries what the stopped one left waiting', async () => {
    const key = newKey();
    const first = rig(key); // no live miner: it only waits
    first.d.defer('a', tx(7), 'no live defense miner');
    await sleep(15);
    first.d.stop();
    await first.settled();
    expect(first.retried).toEqual([]);
    const second = rig(key, { live: ['m'] });
    expect(await second.d.resume()).toBe(1);
    await waitFor('the retry after the restart', async () => second.retried.length > 0, 5000);
    expect(second.retried[0]).toBe(tx(7).hash);
    second.d.stop();
  });

  it('a new run gives up with the reason once the attempts of both runs are spent', async () => {
    const key = newKey();
    const first = rig(key, { maxRetries: 100 });
    first.d.defer('a', tx(8), 'no live defense miner');
    await sleep(60);
    first.d.stop();
    await first.settled();
    const spent = JSON.parse((await conn.hget(key, 'a'))!).attempts as number;
    expect(spent).toBeGreaterThan(0);
    const second = rig(key, { maxRetries: spent + 2 });
    await second.d.resume();
    await waitFor('the give-up after the restart', async () => second.gaveUp.length > 0, 5000);
    expect(second.gaveUp).toEqual([
      { hash: tx(8).hash, attempts: spent + 2, reason: 'no live defense miner' },
    ]);
    expect(second.retried).toEqual([]);
    await second.settled();
    expect(await conn.hlen(key)).toBe(0);
    second.d.stop();
  });

  it('an unreadable stored entry is dropped with the reason, never retried', async () => {
    const key = newKey();
    await conn.hset(key, 'bad', JSON.stringify({ tx: { hash: 'nope' }, attempts: 1, reason: 'x', since: 1 }));
    await conn.hset(key, 'junk', '{');
    const { d, retried, warnings, settled } = rig(key, { live: ['m'] });
    expect(await d.resume()).toBe(0);
    await sleep(40);
    expect(retried).toEqual([]);
    expect(warnings).toEqual([
      'deferred tx check dropped: unreadable',
      'deferred tx check dropped: unreadable',
    ]);
    await settled();
    expect(await conn.hlen(key)).toBe(0);
    d.stop();
  });
});
