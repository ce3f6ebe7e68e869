/**
 * The example question the README and `npm start` print: one wallet, its transfers and stakes
 * with their evidence, and its alerts. The API's warm-up asks it too, so it answers on the first
 * try after a Neo4j start (services/api/warmup.ts).
 */
export const EXAMPLE_TYPES = ['TRANSFER', 'STAKE_ADD'] as const;

export function exampleQuery(address: string): string {
  return `{ wallet(chain: BITTENSOR, address: "${address}") {
    firstSeenBlock lastSeenBlock
    neighbors(direction: BOTH, types: [${EXAMPLE_TYPES.join(', ')}], first: 25) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { address isHotkey }
              relationship { type direction amount blockNumber eventIndex provenance { miners validators } } } }
    alerts { edges { node { severity txHash description } } } } }`;
}
