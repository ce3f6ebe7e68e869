// Yoga's own constructor: a GraphQLError from another copy of graphql (ESM vs CJS) would be masked.
import { createGraphQLError } from 'graphql-yoga';
import { parseAlertCursor } from '../../graph/alerts.ts';
import { type Chain, normalizeAddress } from '../../graph/model.ts';
import { isValidAddress } from '../../queues/payloads.ts';

/** A user-facing GraphQL error with a machine-readable `extensions.code`. */
export function userError(message: string, code: string, extra: Record<string, unknown> = {}) {
  return createGraphQLError(message, { extensions: { code, ...extra } });
}

const QUOTED_MAX = 40;

/** A value quoted in an error message, cut to its first characters: errors never echo large inputs. */
export function quote(value: string): string {
  if (value.length <= QUOTED_MAX) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, QUOTED_MAX))}… (${value.length} characters)`;
}

/** A wallet address argument: valid for its chain (ss58 / 0x hex), as stored, else BAD_USER_INPUT naming it. */
export function addressArg(chain: Chain, name: string, value: string): string {
  if (!isValidAddress(chain, value))
    throw userError(`${name} is not a valid ${chain} address: ${quote(value)}`, 'BAD_USER_INPUT', {
      argument: name,
    });
  return normalizeAddress(chain, value);
}

// A relationship id: `<chain>:<TYPE>:…` as ingestion makes them (graph/model.ts relationshipId);
// hand-made graphs use other prefixes, so only the `<prefix>:<rest>` shape is required.
const NEIGHBORS_CURSOR = /^[^\p{Cc}:]{1,40}:[^\p{Cc}]{1,200}$/u;

/** `after` of a neighbors page: a relationship id from a previous page's cursor, or BAD_USER_INPUT. */
export function neighborsAfter(after: string | null | undefined): string | null {
  if (after == null) return null;
  if (!NEIGHBORS_CURSOR.test(after))
    throw userError(
      `after is not a cursor of a neighbors page (expected an endCursor, like "bittensor:TRANSFER:…"), got ${quote(after)}`,
      'BAD_USER_INPUT',
      { argument: 'after' },
    );
  return after;
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
