import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHeartbeat } from '../../../protocol/defense.ts';
import { defenseHeartbeatKey } from '../../../protocol/keys.ts';
import { createRedisConnection } from '../../../queues/connection.ts';
import { captureLogger } from '../../../test/log.ts';
import { redisUrl, uniquePrefix } from '../../../test/services.ts';
import { countOf, createDefenseMetrics } from './metrics.ts';
import { createMinerPool } from './minerPool.ts';

/** The miner pool against the real Redis: heartbeats written as miners write them. */
describe('miner pool', () => {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  let conn: ReturnType<typeof createRedisConnection>;
  beforeAll(async () => {
    await cryptoWaitReady();
    conn = createRedisConnection(redisUrl(), 'worker');
  });
  afterAll(() => conn?.disconnect());

  const pair = (name: string) => keyring.addFromUri(`//pool-${name}-${crypto.randomUUID()}`);

  function poolFor(prefix: string, registered: string[], now = () => Date.now()) {
    const metrics = createDefenseMetrics();
    const { log, lines } = captureLogger();
    const members = new Set(registered);
    const seen: string[][] = [];
    const pool = createMinerPool({
      connection: conn,
      prefix,
      members: { has: (h) => members.has(h), list: () => [...members] },
      ttlMs: 5000,
      k: 2,
      log,
      refused: metrics.heartbeatsRefused,
      onLive: (ids) => seen.push(ids),
      now,
    });
    return { pool, metrics, lines, seen };
  }

  it('is live: registered, signed, fresh; refuses the rest with a reason, logged once', async () => {
    const prefix = uniquePrefix();
    const [good, stale, forged, stranger] = ['good', 'stale', 'forged', 'stranger'].map(pair);
    const t = Date.now();
    await conn.set(defenseHeartbeatKey(prefix, good!.address), JSON.stringify(signHeartbeat(good!, t)));
    await conn.set(
      defenseHeartbeatKey(prefix, stale!.address),
      JSON.stringify(signHeartbeat(stale!, t - 60_000)),
    );
    // Signed by someone else: the signature does not verify for the hotkey it names.
    const beat = signHeartbeat(stranger!, t);
    await conn.set(
      defenseHeartbeatKey(prefix, forged!.address),
      JSON.stringify({ ...beat, miner: forged!.address }),
    );
    let clock = t;
    const { pool, metrics, lines, seen } = poolFor(
      prefix,
      [good!.address, stale!.address, forged!.address],
      () => clock,
    );
    expect(await pool.live()).toEqual([good!.address]);
    expect(seen).toEqual([[good!.address]]);
    expect(await countOf(metrics.heartbeatsRefused, { reason: 'stale' })).toBe(1);
    expect(await countOf(metrics.heartbeatsRefused, { reason: 'bad_signature' })).toBe(1);
    // Within a second the set is served from memory (no second read, no second count).
    clock += 500;
    await pool.live();
    expect(seen.length).toBe(1);
    clock += 1000;
    await pool.live();
    expect(seen.length).toBe(2);
    expect(await countOf(metrics.heartbeatsRefused, { reason: 'bad_signature' })).toBe(2);
    const warned = lines.filter((l) => l.msg.startsWith('heartbeat refused'));
    expect(warned.map((l) => l.reason)).toEqual(['bad_signature']); // once, and never for stale
    await conn.del(...[good, stale, forged].map((p) => defenseHeartbeatKey(prefix, p!.address)));
  });

  it("an unregistered miner's heartbeat marks nobody live", async () => {
    const prefix = uniquePrefix();
    const outsider = pair('outsider');
    await conn.set(
      defenseHeartbeatKey(prefix, outsider.address),
      JSON.stringify(signHeartbeat(outsider, Date.now())),
    );
    // Listed (its key is read) but not a member.
    const metrics = createDefenseMetrics();
    const pool = createMinerPool({
      connection: conn,
      prefix,
      members: { has: () => false, list: () => [outsider.address] },
      ttlMs: 5000,
      k: 2,
      log: captureLogger().log,
      refused: metrics.heartbeatsRefused,
    });
    expect(await pool.live()).toEqual([]);
    expect(await countOf(metrics.heartbeatsRefused, { reason: 'unregistered' })).toBe(1);
    await conn.del(defenseHeartbeatKey(prefix, outsider.address));
  });

  it('picks k distinct miners of those given, every one in turn', async () => {
    const { pool } = poolFor(uniquePrefix(), []);
    const ids = ['a', 'b', 'c', 'd'];
    const picked = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = pool.pick(ids);
      expect(p.length).toBe(2);
      expect(new Set(p).size).toBe(2);
      for (const m of p) {
        expect(ids).toContain(m);
        picked.add(m);
      }
    }
    expect(picked.size).toBe(4);
    expect(pool.pick(['only'])).toEqual(['only']);
  });
});
