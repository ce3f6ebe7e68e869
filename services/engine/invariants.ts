import { keccak256 } from 'ethers';
import { z } from 'zod';
import { VigilError } from '../../common/errors.ts';

/**
 * Invariants over contract storage and native balances, and their pure evaluation against
 * before/after observations of one simulated transaction (or sequence).
 */

export type SlotType = 'uint' | 'int' | 'address' | 'bool';
export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** A (possibly packed) field in one storage slot. offset/size in bytes, offset from the low-order end (solc's storageLayout). */
export interface FieldRef {
  contract: string; // lowercase 0x address
  slot: bigint;
  offset: number;
  size: number;
  type: SlotType;
}

interface Base {
  id: string;
  description?: string;
}

export type Invariant =
  | (Base & { kind: 'compare'; field: FieldRef; op: CompareOp; target: bigint })
  | (Base & { kind: 'unchanged'; field: FieldRef })
  | (Base & { kind: 'maxIncrease'; field: FieldRef; bps: number })
  | (Base & { kind: 'maxDecrease'; field: FieldRef; bps: number })
  | (Base & { kind: 'balanceFloor'; account: string; min: bigint })
  | (Base & { kind: 'balanceMaxDrop'; account: string; bps?: number; maxDrop?: bigint })
  | (Base & {
      kind: 'erc20BalanceDrop';
      token: string;
      holder: string;
      mappingSlot: bigint;
      layout: 'solidity' | 'vyper';
      bps?: number;
      maxDrop?: bigint;
    })
  | (Base & { kind: 'ownerUnchanged'; field: FieldRef });

export type InvariantStatus = 'holds' | 'violated' | 'error';

export interface InvariantResult {
  id: string;
  kind: Invariant['kind'];
  status: InvariantStatus;
  before?: string;
  after?: string;
  reason?: string;
}

/** What the engine must read before and after the simulation to evaluate an invariant. */
export type Observable =
  | { kind: 'storage'; address: string; slot: bigint }
  | { kind: 'balance'; address: string };

export class InvalidInvariantError extends VigilError {
  override name = 'InvalidInvariantError';
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`invalid invariant definition: ${issues.join('; ')}`);
    this.issues = issues;
  }
}

// ---------------------------------------------------------------- schema

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x-prefixed 20-byte hex address')
  .transform((s) => s.toLowerCase());

/** Accepts a JSON number (safe integers only), a decimal string or a 0x hex string. */
const bigintLike = z.union([z.number().int().safe(), z.string(), z.bigint()]).transform((v, ctx) => {
  try {
    if (typeof v === 'string' && !/^(0x[0-9a-fA-F]+|-?[0-9]+)$/.test(v.trim())) throw new Error();
    return BigInt(typeof v === 'string' ? v.trim() : v);
  } catch {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `expected an integer (decimal or 0x hex), got ${String(v)}`,
    });
    return z.NEVER;
  }
});
const nonNegative = bigintLike.refine((v) => v >= 0n, 'must be >= 0');
const bps = z.number().int().min(0).max(1_000_000);

const fieldShape = {
  contract: address,
  slot: nonNegative.refine((v) => v < 1n << 256n, 'slot must fit in 256 bits'),
  type: z.enum(['uint', 'int', 'address', 'bool']).default('uint'),
  offset: z.number().int().min(0).max(31).default(0),
  /** Defaults by type: address 20, bool 1, uint/int the rest of the slot. */
  size: z.number().int().min(1).max(32).optional(),
};
const base = { id: z.string().min(1), description: z.string().optional() };

const inputSchema = z.discriminatedUnion('kind', [
  z.object({
    ...base,
    kind: z.literal('compare'),
    ...fieldShape,
    op: z.enum(['==', '!=', '<', '<=', '>', '>=']),
    /** A number, or for address fields a 0x address, or for bool fields true/false. */
    target: z.union([bigintLike, z.boolean()]),
  }),
  z.object({ ...base, kind: z.literal('unchanged'), ...fieldShape }),
  z.object({ ...base, kind: z.literal('maxIncrease'), ...fieldShape, bps }),
  z.object({ ...base, kind: z.literal('maxDecrease'), ...fieldShape, bps }),
  z.object({ ...base, kind: z.literal('balanceFloor'), account: address, min: nonNegative }),
  z.object({
    ...base,
    kind: z.literal('balanceMaxDrop'),
    account: address,
    bps: bps.optional(),
    maxDrop: nonNegative.optional(),
  }),
  z.object({
    ...base,
    kind: z.literal('erc20BalanceDrop'),
    token: address,
    holder: address,
    mappingSlot: nonNegative,
    layout: z.enum(['solidity', 'vyper']).default('solidity'),
    bps: bps.optional(),
    maxDrop: nonNegative.optional(),
  }),
  z.object({
    ...base,
    kind: z.literal('ownerUnchanged'),
    contract: address,
    slot: nonNegative.default(0n),
    offset: z.number().int().min(0).max(12).default(0),
  }),
]);

function defaultSize(type: SlotType, offset: number): number {
  if (type === 'address') return 20;
  if (type === 'bool') return 1;
  return 32 - offset;
}

type ParsedInput = z.infer<typeof inputSchema>;

function toField(
  p: { contract: string; slot: bigint; type: SlotType; offset: number; size?: number },
  path: string,
): FieldRef {
  const size = p.size ?? defaultSize(p.type, p.offset);
  if (p.offset + size > 32)
    throw new InvalidInvariantError([`${path}: offset ${p.offset} + size ${size} exceeds 32 bytes`]);
  if (p.type === 'address' && size !== 20)
    throw new InvalidInvariantError([`${path}: an address field is 20 bytes`]);
  return { contract: p.contract, slot: p.slot, type: p.type, offset: p.offset, size };
}

function finish(p: ParsedInput, path: string): Invariant {
  const b = { id: p.id, ...(p.description ? { description: p.description } : {}) };
  switch (p.kind) {
    case 'compare': {
      const field = toField(p, path);
      if ((field.type === 'address' || field.type === 'bool') && p.op !== '==' && p.op !== '!=') {
        throw new InvalidInvariantError([`${path}.op: only == and != apply to ${field.type} fields`]);
      }
      const target = typeof p.target === 'boolean' ? (p.target ? 1n : 0n) : p.target;
      const bits = BigInt(field.size * 8);
      const ok =
        field.type === 'int'
          ? target >= -(1n << (bits - 1n)) && target < 1n << (bits - 1n)
          : target >= 0n && target < 1n << bits;
      if (!ok)
        throw new InvalidInvariantError([
          `${path}.target: ${target} does not fit a ${field.size}-byte ${field.type}`,
        ]);
      return { ...b, kind: 'compare', field, op: p.op, target };
    }
    case 'unchanged':
      return { ...b, kind: 'unchanged', field: toField(p, path) };
    case 'maxIncrease':
    case 'maxDecrease':
      return { ...b, kind: p.kind, field: toField(p, path), bps: p.bps };
    case 'balanceFloor':
      return { ...b, kind: 'balanceFloor', account: p.account, min: p.min };
    case 'balanceMaxDrop':
    case 'erc20BalanceDrop': {
      if (p.bps === undefined && p.maxDrop === undefined) {
        throw new InvalidInvariantError([`${path}: give bps (relative) or maxDrop (absolute), or both`]);
      }
      const limits = {
        ...(p.bps !== undefined ? { bps: p.bps } : {}),
        ...(p.maxDrop !== undefined ? { maxDrop: p.maxDrop } : {}),
      };
      if (p.kind === 'balanceMaxDrop') return { ...b, kind: 'balanceMaxDrop', account: p.account, ...limits };
      return {
        ...b,
        kind: 'erc20BalanceDrop',
        token: p.token,
        holder: p.holder,
        mappingSlot: p.mappingSlot,
        layout: p.layout,
        ...limits,
      };
    }
    case 'ownerUnchanged':
      return { ...b, kind: 'ownerUnchanged', field: toField({ ...p, type: 'address' }, path) };
  }
}

/** Validates invariant definitions (e.g. from JSON); throws InvalidInvariantError listing every issue by path. */
export function parseInvariants(input: unknown): Invariant[] {
  const parsed = z.array(inputSchema).safeParse(input);
  if (!parsed.success) {
    throw new InvalidInvariantError(
      parsed.error.issues.map(
        (i) =>
          `invariants${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}: ${i.message}`,
      ),
    );
  }
  const issues: string[] = [];
  const out: Invariant[] = [];
  const ids = new Set<string>();
  parsed.data.forEach((p, i) => {
    try {
      if (ids.has(p.id)) throw new InvalidInvariantError([`invariants[${i}].id: duplicate id '${p.id}'`]);
      ids.add(p.id);
      out.push(finish(p, `invariants[${i}]`));
    } catch (e) {
      if (e instanceof InvalidInvariantError) issues.push(...e.issues);
      else throw e;
    }
  });
  if (issues.length > 0) throw new InvalidInvariantError(issues);
  return out;
}

export function parseInvariant(input: unknown): Invariant {
  return parseInvariants([input])[0]!;
}

// ---------------------------------------------------------------- slots and fields

const pad32 = (v: bigint) => v.toString(16).padStart(64, '0');

/** Storage slot of `mapping(address => ...)[key]`: keccak(pad(key) . pad(slot)) for Solidity, reversed for Vyper. */
export function mappingSlot(key: string, slot: bigint, layout: 'solidity' | 'vyper' = 'solidity'): bigint {
  const k = pad32(BigInt(key));
  const s = pad32(slot);
  return BigInt(keccak256(layout === 'solidity' ? `0x${k}${s}` : `0x${s}${k}`));
}

/** Extracts a packed field from a full 32-byte slot word. */
export function extractField(word: bigint, f: Pick<FieldRef, 'offset' | 'size' | 'type'>): bigint {
  const bits = BigInt(f.size * 8);
  const raw = (word >> BigInt(f.offset * 8)) & ((1n << bits) - 1n);
  if (f.type === 'int' && raw >> (bits - 1n) === 1n) return raw - (1n << bits);
  return raw;
}

export function formatValue(v: bigint, type: SlotType | 'wei'): string {
  if (type === 'address') return `0x${v.toString(16).padStart(40, '0')}`;
  if (type === 'bool') return v === 0n ? 'false' : v === 1n ? 'true' : `0x${v.toString(16)}`;
  return v.toString();
}

// Invariants are immutable once parsed; the erc20 slot costs a keccak, so remember it per object.
const observableMemo = new WeakMap<Invariant, Observable[]>();

export function observablesOf(inv: Invariant): Observable[] {
  let o = observableMemo.get(inv);
  if (!o) {
    o = computeObservables(inv);
    observableMemo.set(inv, o);
  }
  return o;
}

function computeObservables(inv: Invariant): Observable[] {
  switch (inv.kind) {
    case 'balanceFloor':
    case 'balanceMaxDrop':
      return [{ kind: 'balance', address: inv.account }];
    case 'erc20BalanceDrop':
      return [
        { kind: 'storage', address: inv.token, slot: mappingSlot(inv.holder, inv.mappingSlot, inv.layout) },
      ];
    default:
      return [{ kind: 'storage', address: inv.field.contract, slot: inv.field.slot }];
  }
}

export function observableKey(o: Observable): string {
  return o.kind === 'balance' ? `b:${o.address}` : `s:${o.address}:${o.slot.toString(16)}`;
}

/** before/after raw values (full slot words or wei) keyed by observableKey. */
export interface Observations {
  before: Map<string, bigint>;
  after: Map<string, bigint>;
}

// ---------------------------------------------------------------- evaluation

function compare(a: bigint, op: CompareOp, b: bigint): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

const abs = (v: bigint) => (v < 0n ? -v : v);

/** Drop allowed by a relative (bps of the before value) and/or absolute limit: the stricter one wins. */
function allowedDrop(before: bigint, limits: { bps?: number; maxDrop?: bigint }): bigint {
  let allowed: bigint | undefined;
  if (limits.bps !== undefined) allowed = (abs(before) * BigInt(limits.bps)) / 10_000n;
  if (limits.maxDrop !== undefined)
    allowed = allowed === undefined || limits.maxDrop < allowed ? limits.maxDrop : allowed;
  return allowed ?? 0n;
}

/**
 * Evaluates one invariant. Field-based invariants judge what the transaction did: a field it left
 * unchanged holds even if it already violated the condition before (reported in `reason`), so a
 * pre-existing state does not make every transaction look like an attack.
 */
export function evaluateInvariant(inv: Invariant, obs: Observations): InvariantResult {
  const res = (status: InvariantStatus, extra: Partial<InvariantResult> = {}): InvariantResult => ({
    id: inv.id,
    kind: inv.kind,
    status,
    ...extra,
  });
  const [o] = observablesOf(inv);
  const key = observableKey(o!);
  const rawBefore = obs.before.get(key);
  const rawAfter = obs.after.get(key);
  if (rawBefore === undefined || rawAfter === undefined) {
    return res('error', { reason: `no observation for ${key}` });
  }

  switch (inv.kind) {
    case 'balanceFloor': {
      const v = { before: formatValue(rawBefore, 'wei'), after: formatValue(rawAfter, 'wei') };
      if (rawAfter >= inv.min) return res('holds', v);
      if (rawAfter >= rawBefore)
        return res('holds', { ...v, reason: `already below floor ${inv.min} before the tx; not lowered` });
      return res('violated', { ...v, reason: `balance ${rawAfter} below floor ${inv.min}` });
    }
    case 'balanceMaxDrop':
    case 'erc20BalanceDrop': {
      const v = { before: rawBefore.toString(), after: rawAfter.toString() };
      const drop = rawBefore - rawAfter;
      const allowed = allowedDrop(rawBefore, inv);
      if (drop <= allowed) return res('holds', v);
      return res('violated', { ...v, reason: `dropped by ${drop}, allowed ${allowed}` });
    }
    default:
      break;
  }

  const f = inv.field;
  const before = extractField(rawBefore, f);
  const after = extractField(rawAfter, f);
  const v = { before: formatValue(before, f.type), after: formatValue(after, f.type) };
  switch (inv.kind) {
    case 'compare': {
      const ok = compare(after, inv.op, inv.target);
      if (before === after) {
        return ok
          ? res('holds', v)
          : res('holds', {
              ...v,
              reason: `unchanged by the tx; already failed ${inv.op} ${formatValue(inv.target, f.type)}`,
            });
      }
      return ok
        ? res('holds', v)
        : res('violated', { ...v, reason: `new value fails ${inv.op} ${formatValue(inv.target, f.type)}` });
    }
    case 'unchanged':
    case 'ownerUnchanged':
      return before === after ? res('holds', v) : res('violated', { ...v, reason: 'value changed' });
    case 'maxIncrease': {
      const allowed = (abs(before) * BigInt(inv.bps)) / 10_000n;
      const inc = after - before;
      return inc <= allowed
        ? res('holds', v)
        : res('violated', { ...v, reason: `increased by ${inc}, allowed ${allowed}` });
    }
    case 'maxDecrease': {
      const allowed = (abs(before) * BigInt(inv.bps)) / 10_000n;
      const dec = before - after;
      return dec <= allowed
        ? res('holds', v)
        : res('violated', { ...v, reason: `decreased by ${dec}, allowed ${allowed}` });
    }
  }
}
