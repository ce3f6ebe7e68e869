import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../common/config.ts';
import { ConfigError } from '../../common/errors.ts';
import { requireRead, requireWrite, roleFromRequest } from './auth.ts';

const keys = [
  { role: 'read' as const, key: 'r'.repeat(20) },
  { role: 'write' as const, key: 'w'.repeat(20) },
];

describe('API keys', () => {
  it('maps a key to its role, from either header', () => {
    expect(roleFromRequest(new Headers(), keys)).toBe('anonymous');
    expect(roleFromRequest(new Headers({ 'x-api-key': 'r'.repeat(20) }), keys)).toBe('read');
    expect(roleFromRequest(new Headers({ authorization: `Bearer ${'w'.repeat(20)}` }), keys)).toBe('write');
  });

  it('rejects an unknown key instead of treating it as anonymous', () => {
    expect(() => roleFromRequest(new Headers({ 'x-api-key': 'nope' }), keys)).toThrow(
      'the API key is not valid',
    );
  });

  it('enforces the roles', () => {
    expect(() => requireWrite('read')).toThrow('this operation needs an API key with the write role');
    expect(() => requireWrite('write')).not.toThrow();
    expect(() => requireRead('anonymous', true)).toThrow('this API needs an API key with the read role');
    expect(() => requireRead('anonymous', false)).not.toThrow();
  });

  it('parses keys from the environment once, naming a malformed variable', () => {
    const cfg = loadConfig({ VIGIL_API_KEYS: `read:${'a'.repeat(16)}, write:${'b'.repeat(16)}` });
    expect(cfg.api.keys).toEqual([
      { role: 'read', key: 'a'.repeat(16) },
      { role: 'write', key: 'b'.repeat(16) },
    ]);
    const err = (() => {
      try {
        loadConfig({ VIGIL_API_KEYS: 'admin:short' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.message).toMatch(
      /^VIGIL_API_KEYS=\(value hidden\) is invalid: expected comma-separated role:key pairs, role read or write, keys of 16\+ characters/,
    );
    expect(() => loadConfig({ API_PORT: 'http' })).toThrow(
      /API_PORT="http" is invalid: expected a whole number/,
    );
  });
});
