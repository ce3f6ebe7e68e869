import type { Graph } from '../driver.ts';
import { typePattern } from '../investigate/filters.ts';
import type { RelationshipType } from '../model.ts';
import type { ReadOptions, WalletKey } from './records.ts';

export type GetActivityParameters = WalletKey & ReadOptions;

export interface WalletTotal {
  type: RelationshipType;
  direction: 'OUT' | 'IN';
  netuid: number | null;
  count: number;
  /** Ethereum ERC-20: the token contract; null for the native asset. Groups are per token: never summed across. */
  token: string | null;
  /** Exact sum of `amount` (rao, wei or token units); null when no relationship of the group carries one. */
  amount: string | null;
  /** Exact sum of `alphaAmount` (alpha on `netuid`). */
  alphaAmount: string | null;
}

export interface WalletActivity {
  totals: WalletTotal[];
  firstSeenAt: number | null;
  lastSeenAt: number | null;
}
export type GetActivityReturnType = WalletActivity;

/**
 * Cypher cannot add numbers beyond 64 bits, so each amount is cut into 12-digit limbs summed
 * separately (exact while a group has fewer than 9 million relationships), recombined with BigInt.
 */
const LIMB = 12;
const LIMBS = 7; // 84 digits: a uint256 has 78.
const WIDTH = LIMB * LIMBS;
const ZEROS = '0'.repeat(WIDTH);
/** `p` is the amount left-padded to WIDTH digits; limb i counts from the right. */
function limbSums(p: string, name: string): string {
  return Array.from(
    { length: LIMBS },
    (_, i) => `toString(sum(toInteger(substring(${p}, ${WIDTH - LIMB * (i + 1)}, ${LIMB})))) AS ${name}${i}`,
  ).join(', ');
}
function joinLimbs(rec: { get(k: string): unknown }, name: string, present: number): string | null {
  if (present === 0) return null;
  let total = 0n;
  for (let i = 0; i < LIMBS; i++)
    total += BigInt((rec.get(`${name}${i}`) as string | null) ?? '0') * 10n ** BigInt(LIMB * i);
  return total.toString();
}

const TYPES = typePattern(null);
const ACTIVITY = `MATCH (w:Wallet {chain: $chain, address: $address})
         CALL (w) {
           MATCH (w)-[r${TYPES}]->() RETURN r, 'OUT' AS direction
           UNION ALL
           MATCH (w)<-[r${TYPES}]-() RETURN r, 'IN' AS direction
         }
         WITH type(r) AS type, direction, r.netuid AS netuid, r.token AS token, r.timestamp AS ts,
              right($zeros + r.amount, ${WIDTH}) AS a, right($zeros + r.alphaAmount, ${WIDTH}) AS al
         RETURN type, direction, netuid, token, count(*) AS n, count(a) AS na, count(al) AS nal, min(ts) AS t0, max(ts) AS t1,
                ${limbSums('a', 'a')}, ${limbSums('al', 'al')}
         ORDER BY type, direction, netuid, token IS NOT NULL, token`;

/** Totals in and out by relationship type and subnet, and the time span of the wallet's activity. */
export async function getActivity(
  graph: Graph,
  { chain, address, timeoutMs }: GetActivityParameters,
): Promise<GetActivityReturnType> {
  const res = await graph.read((tx) => tx.run(ACTIVITY, { chain, address, zeros: ZEROS }), { timeoutMs });
  let firstSeenAt: number | null = null;
  let lastSeenAt: number | null = null;
  const totals = res.records.map((rec) => {
    const t0 = rec.get('t0') as number | null;
    const t1 = rec.get('t1') as number | null;
    if (t0 != null && (firstSeenAt == null || t0 < firstSeenAt)) firstSeenAt = t0;
    if (t1 != null && (lastSeenAt == null || t1 > lastSeenAt)) lastSeenAt = t1;
    return {
      type: rec.get('type') as RelationshipType,
      direction: rec.get('direction') as 'OUT' | 'IN',
      netuid: (rec.get('netuid') as number | null) ?? null,
      token: (rec.get('token') as string | null) ?? null,
      count: rec.get('n') as number,
      amount: joinLimbs(rec, 'a', rec.get('na') as number),
      alphaAmount: joinLimbs(rec, 'al', rec.get('nal') as number),
    };
  });
  return { totals, firstSeenAt, lastSeenAt };
}
