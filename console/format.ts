/** Display helpers: chains, exact base-unit amounts, addresses, times. */
export type Chain = 'BITTENSOR' | 'ETHEREUM';

/** 0x + 40 hex digits is an Ethereum address; anything else is taken as an ss58 (Bittensor) one. */
export const chainOf = (address: string): Chain =>
  /^0x[0-9a-fA-F]{40}$/.test(address.trim()) ? 'ETHEREUM' : 'BITTENSOR';

const DECIMALS: Record<Chain, number> = { BITTENSOR: 9, ETHEREUM: 18 };
const UNIT: Record<Chain, string> = { BITTENSOR: 'TAO', ETHEREUM: 'ETH' };

/** An exact amount of one token as the API sends it (schema TokenAmount). */
export interface TokenAmount {
  token: string;
  amount: string;
  symbol: string | null;
  decimals: number | null;
}

/** One relationship's amount as a TokenAmount: its ERC-20 token, else the chain's native asset. */
export function relationshipAmount(
  r: {
    amount?: string | null;
    token?: string | null;
    tokenSymbol?: string | null;
    tokenDecimals?: number | null;
  },
  chain: Chain,
): TokenAmount | null {
  if (r.amount == null || r.amount === '') return null;
  return r.token
    ? { token: r.token, amount: r.amount, symbol: r.tokenSymbol ?? null, decimals: r.tokenDecimals ?? null }
    : { token: UNIT[chain], amount: r.amount, symbol: UNIT[chain], decimals: DECIMALS[chain] };
}

/** Base units shown with `decimals` places, exactly. */
function scaled(value: string, decimals: number): string {
  const digits = value.padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = decimals ? digits.slice(-decimals).replace(/0+$/, '') : '';
  return `${whole}${frac ? `.${frac}` : ''}`;
}

/**
 * Per-token sums, each in its own unit ("1,000 ETH + 7 units of 0xabc…"), never added together; an
 * ERC-20 whose decimals are unknown is shown in raw units with its contract.
 */
export function tokenAmounts(amounts: readonly TokenAmount[] | null | undefined): string {
  if (!amounts?.length) return '—';
  return amounts.map(tokenAmount).join(' + ');
}

/** One token's amount in its unit; '—' for none. */
export function tokenAmount(t: TokenAmount | null): string {
  if (!t) return '—';
  const unit = t.symbol ?? `units of ${t.token.slice(0, 8)}…`;
  return `${scaled(t.amount, t.decimals ?? 0)} ${unit}`;
}

/** A decimal TAO/ETH amount typed by a person as base units (for minAmount filters). */
export function toBaseUnits(typed: string, chain: Chain): string | undefined {
  const t = typed.trim().replace(/,/g, '');
  if (!t) return undefined;
  const m = /^(\d+)(?:\.(\d*))?$/.exec(t);
  if (!m) throw new Error(`"${typed}" is not an amount: use digits and one decimal point, e.g. 1.5`);
  const frac = (m[2] ?? '').padEnd(DECIMALS[chain], '0');
  if (frac.length > DECIMALS[chain]) throw new Error(`"${typed}" has more than ${DECIMALS[chain]} decimals`);
  return (m[1]! + frac).replace(/^0+(?=\d)/, '');
}

export const unitOf = (chain: Chain) => UNIT[chain];

export const short = (address: string, n = 6) =>
  address.length > 2 * n + 1 ? `${address.slice(0, n)}…${address.slice(-n + 2)}` : address;

export const when = (iso: string | null | undefined) =>
  iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '—';
