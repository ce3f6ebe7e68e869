import type { Chain } from '../model.ts';

/**
 * Exact sums per token: amounts of different tokens (ETH wei and an ERC-20's units, or TAO rao)
 * are never added together. A relationship without `token` moves the chain's native asset.
 */

/** An exact amount of one token: "ETH"/"TAO" for the native asset, else the ERC-20 contract. */
export interface TokenAmount {
  token: string;
  /** Exact integer in the token's smallest unit (wei, rao, token units), decimal text. */
  amount: string;
  /** What the token contract answered (validator-read), or the native asset's; null when unknown. */
  symbol: string | null;
  decimals: number | null;
}

const NATIVE: Record<Chain, { token: string; decimals: number }> = {
  bittensor: { token: 'TAO', decimals: 9 },
  ethereum: { token: 'ETH', decimals: 18 },
};

/** What a relationship carries about its asset (tokenSymbol/tokenDecimals as stored, if any). */
export interface TokenFields {
  amount: string | null;
  token: string | null;
  tokenSymbol?: string | null;
  tokenDecimals?: number | null;
}

/** The token a relationship moves, with what is known of it (amount left as given). */
export function tokenOf(chain: Chain, e: TokenFields): Omit<TokenAmount, 'amount'> {
  if (!e.token)
    return { token: NATIVE[chain].token, symbol: NATIVE[chain].token, decimals: NATIVE[chain].decimals };
  return { token: e.token, symbol: e.tokenSymbol ?? null, decimals: e.tokenDecimals ?? null };
}

/** Running exact sums of one group of relationships (a hop, a wallet of a hop), per token. */
export class TokenSums {
  private readonly sums = new Map<string, { sum: bigint; meta: Omit<TokenAmount, 'amount'> }>();

  constructor(private readonly chain: Chain) {}

  /** Adds a relationship's amount (none: counted as 0 of its token, so the token is listed). */
  add(e: TokenFields): void {
    const meta = tokenOf(this.chain, e);
    const amount = e.amount ? BigInt(e.amount) : 0n;
    const cur = this.sums.get(meta.token);
    if (cur) {
      cur.sum += amount;
      cur.meta.symbol ??= meta.symbol;
      cur.meta.decimals ??= meta.decimals;
    } else this.sums.set(meta.token, { sum: amount, meta: { ...meta } });
  }

  /** Per token: the native asset first, then ERC-20s by contract address. */
  list(): TokenAmount[] {
    const native = NATIVE[this.chain].token;
    return [...this.sums.values()]
      .sort((x, y) =>
        x.meta.token === native ? -1 : y.meta.token === native ? 1 : x.meta.token < y.meta.token ? -1 : 1,
      )
      .map(({ sum, meta }) => ({ ...meta, amount: sum.toString() }));
  }

  /** The sum when every amount is of one token ("0" when there were none), null when mixed. */
  single(): string | null {
    if (this.sums.size > 1) return null;
    const [only] = this.sums.values();
    return (only?.sum ?? 0n).toString();
  }

  /** The sum of a single-token group, for ordering (callers never compare it across tokens). */
  total(): bigint {
    const [only] = this.sums.values();
    return this.sums.size === 1 ? only!.sum : 0n;
  }
}
