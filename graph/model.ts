/**
 * The graph model shared by writers and readers. See docs/architecture.md for the picture.
 *
 * Nodes: (:Wallet {chain, address}) unique per (chain, address); contracts carry :Contract too.
 * Relationships between wallets carry their on-chain evidence and an `id` derived from that
 * evidence (never taken from a miner), so writing the same fact twice changes nothing.
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
 * The first six move value (VALUE_TYPES: the default for paths and flow); the rest are facts of
 * ownership and delegation.
 */
export const VALUE_TYPES = [
  'TRANSFER',
  'STAKE_ADD',
  'STAKE_REMOVE',
  'STAKE_MOVE',
  'STAKE_TRANSFER',
  'STAKE_SWAP',
] as const;
export const RELATIONSHIP_TYPES = [...VALUE_TYPES, 'OWNS_HOTKEY', 'PARENT_OF', 'COLDKEY_SWAP'] as const;
export type RelationshipType = (typeof RELATIONSHIP_TYPES)[number];

export const NODE_TYPES = ['wallet', 'hotkey', 'contract'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** What an edge's evidence may hold. Amounts are decimal strings of base units (rao, wei). */
export interface Evidence {
  blockNumber: number;
  blockHash?: string;
  /** Index of the event in the block (Bittensor) — part of the identity. */
  eventIndex?: number;
  extrinsicIndex?: number | null;
  /** For events yielding several edges (SetChildren): which one. */
  subIndex?: number;
  /** Ethereum identity: transaction hash and log index. */
  txHash?: string;
  logIndex?: number;
  amount?: string;
  alphaAmount?: string;
  netuid?: number;
  sourceNetuid?: number;
  destinationNetuid?: number;
  /** The coldkey on whose behalf a hotkey-to-hotkey move happened, or the hotkey of a coldkey transfer. */
  coldkey?: string;
  hotkey?: string;
  /** PARENT_OF: share of stake, as a u64 fraction string. */
  proportion?: string;
  /** Block timestamp in ms, when known. */
  timestamp?: number;
}

export interface GraphEdge {
  type: RelationshipType;
  from: string;
  to: string;
  evidence: Evidence;
}

/**
 * The identity of a relationship, derived from the evidence that proves it.
 * OWNS_HOTKEY is a state fact rather than an event: one per (coldkey, hotkey) pair.
 */
export function relationshipId(chain: Chain, edge: GraphEdge): string {
  const ev = edge.evidence;
  if (edge.type === 'OWNS_HOTKEY') return `${chain}:OWNS_HOTKEY:${edge.from}:${edge.to}`;
  if (chain === 'ethereum')
    return `${chain}:${edge.type}:${ev.txHash}:${ev.logIndex ?? 0}:${ev.subIndex ?? 0}`;
  return `${chain}:${edge.type}:${ev.blockNumber}:${ev.eventIndex}:${ev.subIndex ?? 0}`;
}

/** Addresses are compared as stored: ss58 as given, Ethereum lower-cased. */
export function normalizeAddress(chain: Chain, address: string): string {
  return chain === 'ethereum' ? address.toLowerCase() : address;
}
