import { RELATIONSHIP_TYPES } from '../model.ts';

/** Cypher fragments shared by the wallet reads (one definition, so their answers agree). */

/** A WalletRecord map of node `n`. */
export const walletFields = (
  n: string,
) => `{chain: ${n}.chain, address: ${n}.address, isHotkey: coalesce(${n}.isHotkey, false),
  isContract: ${n}:Contract, firstSeenBlock: ${n}.firstSeenBlock, lastSeenBlock: ${n}.lastSeenBlock}`;
export const WALLET_FIELDS = walletFields('n');

/** Every (type, direction) group of a wallet, in one fixed order shared by the degree reads. */
export const GROUPS = RELATIONSHIP_TYPES.flatMap((type) =>
  (['OUT', 'IN'] as const).map((direction) => ({ type, direction })),
);
/** Each group's degree of wallet `w` (degree store), in GROUPS order. */
export const GROUP_DEGREES = GROUPS.map(({ type, direction }) =>
  direction === 'OUT' ? `COUNT { (w)-[:${type}]->() }` : `COUNT { (w)<-[:${type}]-() }`,
).join(', ');
/** Each type's relationships in the whole graph (count store), in RELATIONSHIP_TYPES order. */
export const TYPE_TOTALS = RELATIONSHIP_TYPES.map((t) => `COUNT { ()-[:${t}]->() }`).join(', ');

/** The relationships of wallet `w` (and its neighbor `n`, if named) in a direction, of some types. */
export const neighborPattern = (direction: 'OUT' | 'IN' | 'BOTH', types: string, n = '') =>
  direction === 'OUT'
    ? `(w)-[r${types}]->(${n})`
    : direction === 'IN'
      ? `(w)<-[r${types}]-(${n})`
      : `(w)-[r${types}]-(${n})`;
