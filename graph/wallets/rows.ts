import type { Chain, RelationshipType } from '../model.ts';
import type { WalletRecord } from './records.ts';

/** A neighbor row of a page, and how the page's queries return it. */
export interface Row {
  id: string;
  type: RelationshipType;
  outgoing: boolean;
  props: Record<string, unknown>;
  from: string;
  to: string;
  node: WalletRecord;
}

/** Rows of one group (or of a whole small wallet) after the cursor. */
export interface GroupPage {
  rows: Row[];
  /** Every match with an id ≤ this is in `rows`; null: every match after the cursor is. */
  completeTo: string | null;
}

/**
 * A neighbor row as a list, read back by `toRow`: lists unpack without a key string per field,
 * and the page's hot path unpacks 26 of them per request.
 */
export const rowList = (
  other: string,
) => `[r.id, type(r), startNode(r) = w, properties(r), ${other}.chain, ${other}.address,
  coalesce(${other}.isHotkey, false), ${other}:Contract, ${other}.firstSeenBlock, ${other}.lastSeenBlock]`;
export type RowList = [
  string,
  RelationshipType,
  boolean,
  Record<string, unknown>,
  Chain,
  string,
  boolean,
  boolean,
  number | null,
  number | null,
];

/** A `rowList` of wallet `self` back to a Row. */
export function toRow(self: string, l: RowList): Row {
  const [id, type, outgoing, props, chain, address, isHotkey, isContract, firstSeenBlock, lastSeenBlock] = l;
  return {
    id,
    type,
    outgoing,
    props,
    from: outgoing ? self : address,
    to: outgoing ? address : self,
    node: { chain, address, isHotkey, isContract, firstSeenBlock, lastSeenBlock },
  };
}
