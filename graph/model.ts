/**
 * The graph model shared by writers and readers. See docs/architecture.md for the picture.
 *
 * Nodes: (:Wallet {chain, address}) unique per (chain, address); contracts carry :Contract too.
 * Relationships between wallets carry their on-chain evidence and an `id` derived from that
 * evidence (never taken from a miner), so writing the same fact twice changes nothing.
 * The vocabulary (chains, types, evidence) and the ids are the wire contract's (protocol/).
 */
export {
  CHAINS,
  type Chain,
  type Evidence,
  type GraphEdge,
  NODE_TYPES,
  type NodeType,
  RELATIONSHIP_TYPES,
  type RelationshipType,
  VALUE_TYPES,
  normalizeAddress,
} from '../protocol/model.ts';
export { relationshipId } from '../protocol/ids.ts';
