import { z } from 'zod';
import { VigilError } from '../../common/errors.ts';
import { InvalidInvariantError, type Invariant, parseInvariant } from '../engine/invariants.ts';

/**
 * What a registered invariant is: the engine's definition (validated with its zod schema), the
 * chain it watches, a severity for its alerts, and the defense actions its violation triggers.
 */

import { SEVERITIES, type Severity } from '../../protocol/model.ts';

export { SEVERITIES, type Severity };

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x-prefixed 20-byte hex address')
  .transform((a) => a.toLowerCase());

export const defenseActionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('webhook'), url: z.string().url('expected an http(s) URL') }).strict(),
  z
    .object({ kind: z.literal('telegram'), chatId: z.string().min(1, 'a Telegram chat id is required') })
    .strict(),
  z
    .object({
      kind: z.literal('pause'),
      /** Contract to pause; defaults to the invariant's contract. */
      contract: address.optional(),
      /** Solidity signature of the pause function, no arguments. */
      signature: z
        .string()
        .regex(
          /^[A-Za-z_][A-Za-z0-9_]*\(\)$/,
          'expected a function signature without arguments, e.g. pause()',
        )
        .default('pause()'),
    })
    .strict(),
]);
export type DefenseActionSpec = z.infer<typeof defenseActionSchema>;

/**
 * A call the protocol team knows violates the invariant, for canary challenges
 * (services/defense/canaries.ts). `{sender}` in the data stands for the canary sender's address
 * (40 hex digits, no 0x), e.g. `0x13af4035000000000000000000000000{sender}` for setOwner(sender).
 * Kept by the validator only: it is never sent to miners nor shown by the API.
 */
export const canaryCallSchema = z
  .object({
    to: address,
    data: z
      .string()
      .regex(/^0x(?:[0-9a-fA-F]{2}|\{sender\})*$/, 'expected 0x-prefixed hex bytes, {sender} allowed'),
    /** Wei sent with the call, as a decimal string. */
    value: z.string().regex(/^\d+$/, 'expected a decimal number of wei').default('0'),
  })
  .strict();
export type CanaryCall = z.infer<typeof canaryCallSchema>;
export type DefenseAction = DefenseActionSpec & { id: string };

export interface InvariantRegistration {
  chainId: number;
  severity: Severity;
  /** The engine input definition as given (JSON-safe), with its `id`. */
  definition: Record<string, unknown>;
  actions: DefenseActionSpec[];
  /** Calls known to violate it (canaries); never sent to miners. */
  canaries?: CanaryCall[];
}

export interface RegisteredInvariant extends InvariantRegistration {
  id: string;
  kind: Invariant['kind'];
  /** The contract (or account) the invariant protects: its alerts are raised on it. */
  contract: string;
  description: string;
  actions: DefenseAction[];
  createdAt: string;
}

/** The contracts an invariant guards: its own, and those its pause actions pause. */
export const protectedContracts = (inv: Pick<RegisteredInvariant, 'contract' | 'actions'>): string[] => [
  inv.contract,
  ...inv.actions.flatMap((a) => (a.kind === 'pause' && a.contract ? [a.contract] : [])),
];

export class InvalidRegistrationError extends VigilError {
  override name = 'InvalidRegistrationError';
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`invalid invariant registration: ${issues.join('; ')}`);
    this.issues = issues;
  }
}

const registrationSchema = z
  .object({
    chainId: z.number().int().positive(),
    severity: z.enum(SEVERITIES).default('high'),
    definition: z.record(z.unknown()),
    actions: z.array(defenseActionSchema).default([]),
    canaries: z.array(canaryCallSchema).max(32).default([]),
  })
  .strict();

/** The account an invariant protects: alerts are raised on it and a pause targets it by default. */
export function protectedContract(inv: Invariant): string {
  switch (inv.kind) {
    case 'balanceFloor':
    case 'balanceMaxDrop':
      return inv.account;
    case 'erc20BalanceDrop':
      return inv.holder;
    default:
      return inv.field.contract;
  }
}

/** JSON-safe copy: bigints (allowed by the engine schema) become decimal strings. */
function jsonSafe(v: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));
}

/**
 * Validates a registration: the definition through the engine's own schema (so a miner can never
 * receive one it cannot parse), the actions, and that a pause has a contract to target.
 * Throws InvalidRegistrationError listing every problem with its path.
 */
export function validateRegistration(input: unknown): {
  registration: InvariantRegistration;
  invariant: Invariant;
} {
  const parsed = registrationSchema.safeParse(input);
  if (!parsed.success) {
    throw new InvalidRegistrationError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const r = parsed.data;
  let invariant: Invariant;
  try {
    invariant = parseInvariant(r.definition);
  } catch (e) {
    if (e instanceof InvalidInvariantError) {
      throw new InvalidRegistrationError(e.issues.map((i) => i.replace(/^invariants\[0\]/, 'definition')));
    }
    throw e;
  }
  if (r.actions.filter((a) => a.kind === 'pause').length > 1) {
    throw new InvalidRegistrationError(['actions: at most one pause action per invariant']);
  }
  return { registration: { ...r, definition: jsonSafe(r.definition) }, invariant };
}
