import { timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '../../common/config.ts';
import { userError } from './errors.ts';

export type Role = 'anonymous' | 'read' | 'write';

// HTTP statuses of refusals (yoga answers with `extensions.http` and leaves it out of the body).
const UNAUTHORIZED = { http: { status: 401, headers: { 'www-authenticate': 'Bearer' } } };

/**
 * The caller's role from `Authorization: Bearer <key>` or `x-api-key: <key>`. Keys are compared
 * in constant time and never logged. An unknown key is an error, not a silent downgrade.
 */
export function roleFromRequest(headers: Headers, keys: ApiKey[]): Role {
  const presented = presentedKey(headers);
  if (!presented) return 'anonymous';
  const given = Buffer.from(presented);
  for (const k of keys) {
    const expected = Buffer.from(k.key);
    if (expected.length === given.length && timingSafeEqual(expected, given)) return k.role;
  }
  throw userError('the API key is not valid', 'UNAUTHENTICATED', UNAUTHORIZED);
}

/** The key a request presents, if any (`x-api-key`, else `Authorization: Bearer`). */
export function presentedKey(headers: Pick<Headers, 'get'>): string | undefined {
  return headers.get('x-api-key') ?? headers.get('authorization')?.replace(/^Bearer\s+/i, '') ?? undefined;
}

export function requireRead(role: Role, readsNeedKey: boolean): void {
  if (readsNeedKey && role === 'anonymous') {
    throw userError('this API needs an API key with the read role', 'UNAUTHENTICATED', UNAUTHORIZED);
  }
}

/** A mutation: no key is 401 UNAUTHENTICATED (send one), a read key 403 FORBIDDEN (it cannot write). */
export function requireWrite(role: Role): void {
  const message = 'this operation needs an API key with the write role';
  if (role === 'anonymous') throw userError(message, 'UNAUTHENTICATED', UNAUTHORIZED);
  if (role !== 'write') throw userError(message, 'FORBIDDEN', { http: { status: 403 } });
}

/** node's request headers as presentedKey reads them (a repeated header: its first value). */
export function nodeHeaders(req: { headers: Record<string, string | string[] | undefined> }): Pick<
  Headers,
  'get'
> {
  return {
    get: (name) => {
      const v = req.headers[name.toLowerCase()];
      return (Array.isArray(v) ? v[0] : v) ?? null;
    },
  };
}
