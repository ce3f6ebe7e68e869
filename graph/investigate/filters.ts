import { RELATIONSHIP_TYPES, type RelationshipType } from '../model.ts';

/**
 * Filters on a relationship's evidence, shared by neighbors, paths and flow. Everything user-given
 * goes in as a parameter; only relationship types (checked against the fixed list) are spliced
 * into patterns, because Cypher cannot take them as parameters.
 */
export interface EdgeFilter {
  /** Relationship types to follow; null or empty means every wallet-to-wallet type. */
  types?: readonly RelationshipType[] | null;
  /** Exact decimal strings of base units, inclusive. */
  minAmount?: string | null;
  maxAmount?: string | null;
  /** Block range, inclusive. */
  fromBlock?: number | null;
  toBlock?: number | null;
  /** Time range in ms since the epoch, inclusive; relationships without a timestamp are left out. */
  fromTime?: number | null;
  toTime?: number | null;
  /**
   * Ethereum: only this asset, so amounts compare within one token. NATIVE_TOKEN = native ETH
   * (relationships without `token`), else an ERC-20 contract (lower-case 0x).
   */
  token?: string | null;
}

/** The token filter's value for native ETH (an ERC-20 is named by its contract address). */
export const NATIVE_TOKEN = 'ETH';

/** `:A|B|C` for a pattern, from checked types only. */
export function typePattern(types: readonly RelationshipType[] | null | undefined): string {
  const list = types?.length ? types : RELATIONSHIP_TYPES;
  for (const t of list) {
    // An invariant, not user input: the GraphQL enum has already refused unknown types.
    if (!(RELATIONSHIP_TYPES as readonly string[]).includes(t))
      throw new Error(`unknown relationship type ${t}`);
  }
  return `:${[...new Set(list)].join('|')}`;
}

/**
 * A WHERE clause on relationship variable `r` and its parameters (prefixed `f_`). The float copy
 * `amountValue` narrows first (Number() is monotonic, so it never drops a match); the exact string
 * comparison decides (decimal strings without leading zeros compare by length, then lexically).
 */
export function filterClause(f: EdgeFilter, r = 'r'): { where: string; params: Record<string, unknown> } {
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  if (f.minAmount != null) {
    params.f_min = f.minAmount;
    params.f_minF = Number(f.minAmount);
    parts.push(
      `${r}.amountValue >= $f_minF AND (size(${r}.amount) > size($f_min) OR (size(${r}.amount) = size($f_min) AND ${r}.amount >= $f_min))`,
    );
  }
  if (f.maxAmount != null) {
    params.f_max = f.maxAmount;
    params.f_maxF = Number(f.maxAmount);
    parts.push(
      `${r}.amountValue <= $f_maxF AND (size(${r}.amount) < size($f_max) OR (size(${r}.amount) = size($f_max) AND ${r}.amount <= $f_max))`,
    );
  }
  if (f.fromBlock != null) {
    params.f_fromBlock = f.fromBlock;
    parts.push(`${r}.blockNumber >= $f_fromBlock`);
  }
  if (f.toBlock != null) {
    params.f_toBlock = f.toBlock;
    parts.push(`${r}.blockNumber <= $f_toBlock`);
  }
  if (f.fromTime != null) {
    params.f_fromTime = f.fromTime;
    parts.push(`${r}.timestamp >= $f_fromTime`);
  }
  if (f.toTime != null) {
    params.f_toTime = f.toTime;
    parts.push(`${r}.timestamp <= $f_toTime`);
  }
  if (f.token === NATIVE_TOKEN) parts.push(`${r}.token IS NULL`);
  else if (f.token != null) {
    params.f_token = f.token;
    parts.push(`${r}.token = $f_token`);
  }
  return { where: parts.length ? parts.join(' AND ') : 'true', params };
}
