import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trailStream } from '../../protocol/keys.ts';
import { trailRequestSchema } from '../../protocol/trail.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { newEthAddress, newHash } from '../../test/fixtures.ts';
import { captureLogger } from '../../test/log.ts';
import { redisUrl, uniquePrefix } from '../../test/services.ts';
import { createTrailRequester, trailTargets } from './trail.ts';
import type { Violation } from './validator/dispatch.ts';

/** The defense validator's side of the trail: what it writes on a violation, on the real Redis stream. */
describe('trail requests', () => {
  let conn: ReturnType<typeof createRedisConnection>;
  beforeAll(() => {
    conn = createRedisConnection(redisUrl(), 'worker');
  });
  afterAll(() => conn?.disconnect());

  const vault = newEthAddress();
  const violation = (over: {
    from: string;
    to: string | null;
    hash?: string;
    id?: string;
    pauseAt?: string;
  }) =>
    ({
      invariant: {
        id: over.id ?? 'vault-owner',
        contract: vault,
        actions: over.pauseAt ? [{ kind: 'pause', contract: over.pauseAt, signature: 'pause()' }] : [],
      },
      tx: { hash: over.hash ?? newHash(), from: over.from.toUpperCase().replace('0X', '0x'), to: over.to },
      raisedAt: new Date().toISOString(),
    }) as unknown as Violation;

  it('targets the sender and the contract it calls, never the protected contract or the pause target', () => {
    const [attacker, exploit, guard] = [newEthAddress(), newEthAddress(), newEthAddress()];
    expect(trailTargets(violation({ from: attacker, to: exploit }))).toEqual([
      { address: attacker, role: 'sender' },
      { address: exploit, role: 'callee' },
    ]);
    expect(trailTargets(violation({ from: attacker, to: vault.toUpperCase().replace('0X', '0x') }))).toEqual([
      { address: attacker, role: 'sender' },
    ]);
    expect(trailTargets(violation({ from: attacker, to: guard, pauseAt: guard }))).toEqual([
      { address: attacker, role: 'sender' },
    ]);
  });

  it('writes one request per flagged tx to the stream, valid by the protocol schema', async () => {
    const prefix = uniquePrefix();
    const { log, lines } = captureLogger();
    const request = createTrailRequester({
      connection: conn,
      prefix,
      validatorId: 'dv-1',
      chainId: 31337,
      head: async () => 42,
      log,
    });
    const [attacker, exploit] = [newEthAddress(), newEthAddress()];
    const hash = newHash();
    // One attack tx violating two invariants: one trail.
    await request(violation({ from: attacker, to: exploit, hash, id: 'inv-a' }));
    await request(violation({ from: attacker, to: exploit, hash, id: 'inv-b' }));
    const entries = await conn.xrange(trailStream(prefix, 'dv-1'), '-', '+');
    expect(entries).toHaveLength(1);
    const body = trailRequestSchema.parse(JSON.parse(entries[0]![1][1]!));
    expect(body).toMatchObject({
      alertId: `ethereum:31337:${hash.toLowerCase()}:inv-a`,
      chainId: 31337,
      txHash: hash.toLowerCase(),
      contract: vault,
      blockNumber: 42,
      validator: 'dv-1',
      targets: [
        { address: attacker, role: 'sender' },
        { address: exploit, role: 'callee' },
      ],
    });
    expect(lines.filter((l) => l.msg === 'trail requested')).toHaveLength(1);
    await conn.del(trailStream(prefix, 'dv-1'));
  });

  it('a request not written (the node did not answer its head) is written at the tx’s next violation', async () => {
    const prefix = uniquePrefix();
    let headFails = true;
    const request = createTrailRequester({
      connection: conn,
      prefix,
      validatorId: 'dv-1',
      chainId: 31337,
      head: async () => {
        if (headFails) throw new Error('eth_blockNumber: connect ECONNREFUSED');
        return 7;
      },
      log: captureLogger().log,
    });
    const [attacker, exploit, hash] = [newEthAddress(), newEthAddress(), newHash()];
    await expect(request(violation({ from: attacker, to: exploit, hash, id: 'inv-a' }))).rejects.toThrow(
      /ECONNREFUSED/,
    );
    expect(await conn.xlen(trailStream(prefix, 'dv-1'))).toBe(0);
    headFails = false;
    await request(violation({ from: attacker, to: exploit, hash, id: 'inv-b' }));
    const entries = await conn.xrange(trailStream(prefix, 'dv-1'), '-', '+');
    expect(entries.map(([, f]) => JSON.parse(f[1]!).blockNumber)).toEqual([7]);
    await conn.del(trailStream(prefix, 'dv-1'));
  });
});
