import { AbiCoder } from 'ethers';
import { LRUCache } from 'lru-cache';
import { type JsonRpcClient, RpcError } from './rpc.ts';

/** An ERC-20's own description of itself, where the contract answers (both are optional in ERC-20). */
export interface TokenMetadata {
  symbol?: string;
  decimals?: number;
}

const SYMBOL = '0x95d89b41'; // symbol()
const DECIMALS = '0x313ce567'; // decimals()
const abi = AbiCoder.defaultAbiCoder();

/** symbol() as ABI `string` or, for early tokens (MKR), `bytes32`; printable, ≤ 64 characters, else absent. */
export function decodeSymbol(data: string | null): string | undefined {
  if (!data || data === '0x') return undefined;
  let text: string | undefined;
  try {
    text = abi.decode(['string'], data)[0] as string;
  } catch {
    if (/^0x[0-9a-fA-F]{64}$/.test(data))
      text = Buffer.from(data.slice(2), 'hex').toString('utf8').replace(/\0+$/, '');
  }
  return text && text.length <= 64 && /^[\x20-\x7e]+$/.test(text) ? text : undefined;
}

/** decimals() as a uint8 (0..255), else absent. */
export function decodeDecimals(data: string | null): number | undefined {
  if (!data || !/^0x[0-9a-fA-F]{64}$/.test(data)) return undefined;
  const v = BigInt(data);
  return v <= 255n ? Number(v) : undefined;
}

/**
 * Token metadata read by the validator from the token contract (never from a miner), at the
 * latest block, once per token (a contract that does not answer is remembered as such).
 */
export function createTokenMetadata(rpc: JsonRpcClient, { max = 10_000 } = {}) {
  // A revert (the contract has no such function) is an answer; a node that cannot be reached is not.
  const call = (to: string, data: string) =>
    rpc.call<string>('eth_call', [{ to, data }, 'latest']).catch((e: unknown) => {
      if (e instanceof RpcError) return null;
      throw e;
    });
  const cache = new LRUCache<string, TokenMetadata>({
    max,
    fetchMethod: async (token) => {
      const [symbol, decimals] = await Promise.all([call(token, SYMBOL), call(token, DECIMALS)]);
      const meta: TokenMetadata = {};
      const s = decodeSymbol(symbol);
      const d = decodeDecimals(decimals);
      if (s !== undefined) meta.symbol = s;
      if (d !== undefined) meta.decimals = d;
      return meta;
    },
    ignoreFetchAbort: true,
  });
  return {
    async of(token: string): Promise<TokenMetadata> {
      return (await cache.fetch(token.toLowerCase()))!;
    },
  };
}
export type TokenMetadataReader = ReturnType<typeof createTokenMetadata>;
