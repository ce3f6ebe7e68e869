import { z } from 'zod';

/**
 * The vocabulary every message shares: chains, node and relationship types, severities, and the
 * evidence an edge carries. Defined once here; graph/model.ts re-exports what Neo4j code needs.
 */
export const CHAINS = ['bittensor', 'ethereum'] as const;
export type Chain = (typeof CHAINS)[number];

/**
 * Relationship types, in the direction value moves (or authority points):
 * TRANSFER         sender → receiver
 * STAKE_ADD        coldkey → hotkey it staked to
 * STAKE_REMOVE     hotkey → coldkey that unstaked
 * STAKE_MOVE       origin hotkey → destination hotkey (coldkey in `coldkey`)
 * STAKE_TRANSFER   origin coldkey → destination coldkey (hotkey in `hotkey`)
 * STAKE_SWAP       coldkey → hotkey, stake moved between subnets (netuids in evidence)
 * OWNS_HOTKEY      coldkey → hotkey it owns (state fact, seen at a block)
 * PARENT_OF        parent hotkey → child hotkey on a subnet, with a proportion
 * COLDKEY_SWAP     old coldkey → new coldkey
 * DEPLOYED         deployer → contract it created (Ethereum; top-level or internal creation)
 * The first six move value (VALUE_TYPES: the default for paths and flow); the rest are facts of
 * ownership, delegation and creation. On Ethereum a TRANSFER is native ETH (the tx's value, or an
 * internal call's) or an ERC-20 `Transfer` log of any token contract (evidence `token`).
 */
export const VALUE_TYPES = [
  'TRANSFER',
  'STAKE_ADD',
  'STAKE_REMOVE',
  'STAKE_MOVE',
  'STAKE_TRANSFER',
  'STAKE_SWAP',
] as const;
export const RELATIONSHIP_TYPES = [
  ...VALUE_TYPES,
  'OWNS_HOTKEY',
  'PARENT_OF',
  'COLDKEY_SWAP',
  'DEPLOYED',
] as const;
export type RelationshipType = (typeof RELATIONSHIP_TYPES)[number];

export const NODE_TYPES = ['wallet', 'hotkey', 'contract'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** How bad a violated invariant is: set at registration, carried by findings and alerts. */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

const decimal = z.string().regex(/^\d+$/, 'must be a non-negative integer in a decimal string');
const index = z.number().int().nonnegative();
export const blockNumberSchema = z.number().int().nonnegative();
export const hashSchema = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex hash');
/** An Ethereum address as the wire carries it: lower-case, so one account has one spelling. */
export const ethAddressSchema = z
  .string()
  .regex(/^0x[0-9a-f]{40}$/, 'must be a lower-case 0x-prefixed 20-byte hex address');
/**
 * Where in a transaction's call tree native ETH moved (callTracer): `""` is the transaction's own
 * value, `"0.2"` the third call made by the first call the transaction made.
 */
export const callPathSchema = z
  .string()
  .regex(/^(\d+(\.\d+)*)?$/, 'must be "" (the tx itself) or call indices joined by dots, e.g. "0.2"');

/** What proves an edge. Amounts are decimal strings of base units (rao, wei); no other keys. */
export const evidenceSchema = z
  .object({
    /** Block of the event (Bittensor) or transaction (Ethereum). */
    blockNumber: blockNumberSchema,
    /** Checked against the chain when given. */
    blockHash: hashSchema.optional(),
    /** Index of the event in the block (Bittensor): part of the edge's identity. */
    eventIndex: index.optional(),
    extrinsicIndex: index.nullable().optional(),
    /** For events yielding several edges (SetChildren): which one. */
    subIndex: index.optional(),
    /** Ethereum: the transaction's hash; with logIndex (ERC-20) or callPath (native ETH) the edge's identity. */
    txHash: hashSchema.optional(),
    /** Ethereum ERC-20: the `Transfer` log's index in its block. */
    logIndex: index.optional(),
    /** Ethereum native ETH: where in the call tree the value moved (callPathSchema). */
    callPath: callPathSchema.optional(),
    /** Ethereum ERC-20: the token contract; absent for native ETH. */
    token: ethAddressSchema.optional(),
    /**
     * Ethereum ERC-20: the token's symbol and decimals, read from the token contract by the
     * VALIDATOR when it answers; a miner's answer carrying them is refused (never trusted).
     */
    tokenSymbol: z.string().max(64).optional(),
    tokenDecimals: z.number().int().min(0).max(255).optional(),
    amount: decimal.optional(),
    alphaAmount: decimal.optional(),
    netuid: index.optional(),
    sourceNetuid: index.optional(),
    destinationNetuid: index.optional(),
    /** The coldkey on whose behalf a hotkey-to-hotkey move happened. */
    coldkey: z.string().optional(),
    /** The hotkey of a coldkey-to-coldkey stake transfer. */
    hotkey: z.string().optional(),
    /** PARENT_OF: share of stake, as a u64 fraction string. */
    proportion: decimal.optional(),
    /** Block timestamp in ms, when known. */
    timestamp: index.optional(),
  })
  .strict();
export type Evidence = z.infer<typeof evidenceSchema>;

/** An edge between two addresses of the same answer or job. */
export const edgeSchema = z
  .object({
    type: z.enum(RELATIONSHIP_TYPES),
    from: z.string().min(1),
    to: z.string().min(1),
    evidence: evidenceSchema,
  })
  .strict();
export type GraphEdge = z.infer<typeof edgeSchema>;

export const nodeSchema = z.object({ address: z.string().min(1), type: z.enum(NODE_TYPES) }).strict();
export type GraphNode = z.infer<typeof nodeSchema>;

/** Addresses are compared as stored: ss58 as given, Ethereum lower-cased. */
export function normalizeAddress(chain: Chain, address: string): string {
  return chain === 'ethereum' ? address.toLowerCase() : address;
}
