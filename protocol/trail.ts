import { z } from 'zod';
import { blockNumberSchema, ethAddressSchema, hashSchema } from './model.ts';
import { formatIssues } from './parse.ts';

/**
 * From an alert to the attacker's money trail (services/defense/trail.ts writes, services/patrol/
 * trail.ts reads): on each violation the miners' consensus decided, the defense validator appends a
 * `TrailRequest` to keys.ts trailStream(prefix, its id); the Patrol validator of the same operator
 * reads it at once and asks its miners for the targets' neighbourhoods on Ethereum, backwards (who
 * funded them) and forwards from `blockNumber` (where the proceeds go). Both ends are the operator's
 * own processes, yet the reader still parses every entry with this schema and drops what fails,
 * naming the field. A stream entry's field `m` holds the JSON.
 */

/** Why an address is on the trail: the flagged tx's sender, or a contract it calls that is not the protected one. */
export const TRAIL_ROLES = ['sender', 'callee'] as const;

/** The most targets one request may name (the Patrol side asks at most PATROL_TRAIL_MAX_TARGETS of them). */
export const TRAIL_MAX_TARGETS = 16;

export const trailRequestSchema = z
  .object({
    /** The alert the trail starts from (protocol/ids.ts alertId of the first violation of the tx). */
    alertId: z.string().min(1).max(300),
    /** The EVM chain of the flagged tx: a Patrol validator on another chain drops the request. */
    chainId: z.number().int().positive(),
    /** The flagged (pending) transaction. */
    txHash: hashSchema,
    /** The protected contract (the invariant's): never a target. */
    contract: ethAddressSchema,
    /** The node's head when the violation was decided: the forward trail starts here. */
    blockNumber: blockNumberSchema,
    targets: z
      .array(z.object({ address: ethAddressSchema, role: z.enum(TRAIL_ROLES) }).strict())
      .min(1)
      .max(TRAIL_MAX_TARGETS),
    /** The defense validator that decided it (its DEFENSE_VALIDATOR_ID). */
    validator: z.string().min(1).max(200),
    /** ISO-8601: when the violation was decided (the trail stays open a bounded time from here). */
    raisedAt: z.string().datetime(),
  })
  .strict();
export type TrailRequest = z.infer<typeof trailRequestSchema>;

/** A trail request as data, or every problem by field path (the reader logs them and drops the entry). */
export function checkTrailRequest(
  data: unknown,
): { ok: true; request: TrailRequest } | { ok: false; reason: string } {
  const r = trailRequestSchema.safeParse(data);
  return r.success ? { ok: true, request: r.data } : { ok: false, reason: formatIssues(r.error).join('; ') };
}
