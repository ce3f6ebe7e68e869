/**
 * The shape of the synthetic investigation graph (bench:graphql loads it, bench:reads asks it):
 * wallet i is `0x<i, 64 digits>`, wallets 0..supernodes-1 are the supernodes, and every other endpoint is drawn
 * with power-law degrees. The draw exists twice, once in TypeScript for the questions and once in
 * Cypher for generating relationships inside Neo4j; both are written here so they stay one.
 */

/**
 * Wallet i's address: a 32-byte public key in hex (i in decimal digits, zero-padded), which the API
 * accepts as a Bittensor address (queues/payloads.ts isValidAddress) and Cypher can build.
 */
export const walletAddress = (i: number) => `0x${String(i).padStart(64, '0')}`;

/** walletAddress as a Cypher expression over the integer expression `i`. */
export const walletAddressCypher = (i: string) => `'0x' + right('${'0'.repeat(64)}' + toString(${i}), 64)`;

/** A wallet index with power-law degrees: low ranks drawn far more often, scattered over the ids. */
export function powerLawWallet(wallets: number, supernodes: number): number {
  const rank = Math.floor(wallets * Math.random() ** 1.8);
  return supernodes + ((rank * 7_919 + 13) % (wallets - supernodes));
}

/** The same draw as a Cypher expression over the parameters `$wallets` and `$supernodes`. */
export const POWER_LAW_WALLET_CYPHER =
  'toInteger($supernodes + ((toInteger($wallets * rand() ^ 1.8) * 7919 + 13) % ($wallets - $supernodes)))';
