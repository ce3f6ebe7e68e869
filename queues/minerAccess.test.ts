import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { minerAclRules, minerKeyPatterns, minerRedisUrl, newMinerCredentials } from './minerAccess.ts';

describe("a miner's ACL rules", () => {
  const hk = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';

  it('grant its own keys only, read or write as each needs', () => {
    expect(minerKeyPatterns('vigil', hk)).toEqual([
      `%R~vigil:defense:challenges:${hk}`,
      `%R~vigil:patrol:challenges:${hk}`,
      `%W~vigil:defense:answers:*:${hk}`,
      `%W~vigil:patrol:answers:*:${hk}`,
      `%W~vigil:defense:heartbeat:${hk}`,
    ]);
  });

  it('escape glob characters of the prefix, so a prefix cannot widen a pattern', () => {
    expect(minerKeyPatterns('a*b?[c]\\', hk)[0]).toBe(`%R~a\\*b\\?\\[c\\]\\\\:defense:challenges:${hk}`);
  });

  it('refuse a hotkey that could match other keys', () => {
    for (const bad of ['*', 'a:b', 'a?', '', 'x'.repeat(129), 'a b'])
      expect(() => minerKeyPatterns('vigil', bad), bad).toThrow(/must be 1-128 of/);
  });

  it('reset everything first and allow five commands', () => {
    const sha = 'ab'.repeat(32);
    expect(minerAclRules('vigil', hk, sha).slice(0, 10)).toEqual([
      'reset',
      'on',
      `#${sha}`,
      'resetchannels',
      '-@all',
      '+ping',
      '+xread',
      '+xadd',
      '+set',
      '+del',
    ]);
  });

  it('keep only the hash of the password in the command; the URL carries it encoded', () => {
    const c = newMinerCredentials('vigil', hk);
    expect(c.command).not.toContain(c.password);
    expect(c.command).toContain(`#${createHash('sha256').update(c.password).digest('hex')}`);
    expect(c.command.startsWith(`ACL SETUSER vigil-miner-${hk} reset on #`)).toBe(true);
    const url = new URL(minerRedisUrl('redis://admin:secret@redis.example:6380/2', c));
    expect([url.hostname, url.port, url.pathname]).toEqual(['redis.example', '6380', '/2']);
    expect(decodeURIComponent(url.username)).toBe(`vigil-miner-${hk}`);
    expect(decodeURIComponent(url.password)).toBe(c.password);
    expect(newMinerCredentials('vigil', hk).password).not.toBe(c.password);
  });
});
