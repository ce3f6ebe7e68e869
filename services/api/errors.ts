// Yoga's own constructor: a GraphQLError from another copy of graphql (ESM vs CJS) would be masked.
import { createGraphQLError } from 'graphql-yoga';
import { parseAlertCursor } from '../../graph/alerts.ts';

/** A user-facing GraphQL error with a machine-readable `extensions.code`. */
export function userError(message: string, code: string, extra: Record<string, unknown> = {}) {
  return createGraphQLError(message, { extensions: { code, ...extra } });
}

/** `after` of an alerts page: a cursor from a previous page, or a clear BAD_USER_INPUT. */
export function alertsAfter(after: string | null | undefined): string | null {
  if (after == null) return null;
  if (!parseAlertCursor(after))
    throw userError(
      'after is not a cursor of an alerts page (expected `<raisedAt>|<alert id>`)',
      'BAD_USER_INPUT',
    );
  return after;
}

export const MAX_PAGE_SIZE = 100;

export function pageSize(first: number, max = MAX_PAGE_SIZE): number {
  if (!Number.isInteger(first) || first < 1 || first > max) {
    throw userError(`first must be between 1 and ${max}, got ${first}`, 'PAGE_SIZE_LIMIT', { max });
  }
  return first;
}
