/** A transaction as a node returns it over JSON-RPC (eth_getTransactionByHash / txpool_content), `from` included. */
export interface RpcTransaction {
  hash?: string;
  from: string;
  to?: string | null;
  nonce: string;
  gas: string;
  input?: string;
  value?: string;
  type?: string;
  gasPrice?: string;
  maxFeePerGas?: string;
  maxPriorityFeePerGas?: string;
  chainId?: string;
  [k: string]: unknown;
}
