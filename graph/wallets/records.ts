import type { Chain, RelationshipType } from '../model.ts';

/** The records the wallet reads return, shared by their operations. */

export interface WalletRecord {
  chain: Chain;
  address: string;
  isHotkey: boolean;
  isContract: boolean;
  firstSeenBlock: number | null;
  lastSeenBlock: number | null;
}

export type Direction = 'OUT' | 'IN' | 'BOTH';

export interface RelationshipRecord {
  id: string;
  type: RelationshipType;
  direction: Exclude<Direction, 'BOTH'>;
  from: string;
  to: string;
  props: Record<string, unknown>;
}

/** The wallet a read is about. */
export interface WalletKey {
  chain: Chain;
  address: string;
}

/** Reads take these options; `timeoutMs` bounds the Neo4j transaction. */
export interface ReadOptions {
  timeoutMs?: number;
}
