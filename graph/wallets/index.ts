/**
 * Read access to wallets and their relationships, for the API and the CLI: one operation per
 * file, each with its parameter and return types. getNeighbors also takes a NeighborMemory
 * (createNeighborMemory), built once by whoever wires the reads.
 */
export * from './countNeighbors.ts';
export { DENSE_DEGREE, INDEX_SCAN_BUDGET } from './denseGroups.ts';
export * from './getActivity.ts';
export * from './getDegrees.ts';
export * from './getNeighbors.ts';
export * from './getStakeLinks.ts';
export * from './getWallet.ts';
export {
  type FirstPage,
  type NeighborMemory,
  type NeighborMemoryOptions,
  createNeighborMemory,
} from './neighborMemory.ts';
export type * from './records.ts';
