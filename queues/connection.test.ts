import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AclRedis, startAclRedis } from '../test/aclRedis.ts';
import { probeRedis, requireRedis } from './connection.ts';

// A Redis that refuses the credentials was reported as not answering ("unreachable"): ioredis
// delivers a refused AUTH as an 'error' event and the call fails with "Connection is closed".
describe('probing a Redis with ACLs', () => {
  let redis: AclRedis;
  beforeAll(async () => {
    redis = await startAclRedis();
  });
  afterAll(() => redis?.stop());

  it('tells refused credentials from a Redis that does not answer', async () => {
    const wrong = new URL(redis.url);
    wrong.password = 'not-the-password';
    const stranger = new URL(redis.url);
    stranger.username = 'nobody';
    expect(await probeRedis(redis.url)).toBe('ok');
    expect(await probeRedis(wrong.toString())).toBe('unauthorized');
    expect(await probeRedis(stranger.toString())).toBe('unauthorized');
    await expect(requireRedis(stranger.toString(), 2000)).rejects.toThrow(/refused the credentials/);
  });
});
