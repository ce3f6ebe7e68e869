import type { Graph } from '../driver.ts';
import { WALLET_FIELDS } from './fragments.ts';
import type { ReadOptions, WalletKey, WalletRecord } from './records.ts';

export type GetWalletParameters = WalletKey & ReadOptions;
/** The wallet, or null: no such wallet. */
export type GetWalletReturnType = WalletRecord | null;

/** One wallet by its key (one auto-commit query). */
export async function getWallet(
  graph: Graph,
  { chain, address, timeoutMs }: GetWalletParameters,
): Promise<GetWalletReturnType> {
  const res = await graph.query(
    `MATCH (n:Wallet {chain: $chain, address: $address}) RETURN ${WALLET_FIELDS} AS w`,
    { chain, address },
    { timeoutMs },
  );
  return (res.records[0]?.get('w') as WalletRecord | undefined) ?? null;
}
