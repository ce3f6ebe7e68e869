import { timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '../../common/config.ts';
import { userError } from './errors.ts';

export type Role = 'anonymous' | 'read' | 'write';

/**
 * The caller's role from `Authorization: Bearer <key>` or `x-api-key: <key>`. Keys are compared
 * in constant time and never logged. An unknown key is an error, not a silent downgrade.
 */
export function roleFromRequest(headers: Headers, keys: ApiKey[]): Role {
  const presented =
    headers.get('x-api-key') ?? headers.get('authorization')?.replace(/^Bearer\s+/i, '') ?? null;
  if (!presented) return 'anonymous';
  const given = Buffer.from(presented);
  for (const k of keys) {
    const expected = Buffer.from(k.key);
    if (expected.length === given.length && timingSafeEqual(expected, given)) return k.role;
  }
  throw userError('the API key is not valid', 'UNAUTHENTICATED');
}

export function requireRead(role: Role, readsNeedKey: boolean): void {
  if (readsNeedKey && role === 'anonymous') {
    throw userError('this API needs an API key with the read role', 'UNAUTHENTICATED');
  }
}

export function requireWrite(role: Role): void {
  if (role !== 'write') throw userError('this operation needs an API key with the write role', 'FORBIDDEN');
}
