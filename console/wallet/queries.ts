import type { Chain } from '../format.ts';

/**
 * The wallet page's questions to the API (schema/vigil.graphql, schema/investigate.graphql).
 * The summary holds what is read in constant time per wallet (degrees from Neo4j's degree store,
 * first/last block on the node, capped lists), so the page and its graph show at once; the
 * activity (totals, first/last seen time) reads every relationship of the wallet (2–3 s on a
 * 150,000-relationship supernode) and is asked alongside, filled in when it lands.
 */
export const WALLET_SUMMARY = `query WalletSummary($chain: Chain!, $address: String!) {
  wallet(chain: $chain, address: $address) {
    chain address isHotkey isContract firstSeenBlock lastSeenBlock
    degreeTotal degree { type direction count }
    owner { address }
    hotkeys(first: 25) { wallet { address } netuid blockNumber }
    parents(first: 25) { wallet { address } netuid proportion blockNumber }
    children(first: 25) { wallet { address } netuid proportion blockNumber }
    tags { label source createdAt }
    alerts(first: 10) { edges { node { id severity invariantId contract txHash raisedAt } } }
  }
}`;

export const WALLET_ACTIVITY = `query WalletActivity($chain: Chain!, $address: String!) {
  wallet(chain: $chain, address: $address) {
    firstSeenAt lastSeenAt
    totals { type direction asset netuid count amount alphaAmount }
  }
}`;

export interface WalletActivity {
  firstSeenAt: string | null;
  lastSeenAt: string | null;
  totals: {
    type: string;
    direction: string;
    asset: string;
    netuid: number | null;
    count: number;
    amount: string | null;
    alphaAmount: string | null;
  }[];
}

export interface StakeLink {
  wallet: { address: string };
  netuid: number | null;
  proportion?: string | null;
  blockNumber: number;
}

export interface WalletSummary {
  chain: Chain;
  address: string;
  isHotkey: boolean;
  isContract: boolean;
  firstSeenBlock: number | null;
  lastSeenBlock: number | null;
  degreeTotal: number;
  degree: { type: string; direction: string; count: number }[];
  owner: { address: string } | null;
  hotkeys: StakeLink[];
  parents: StakeLink[];
  children: StakeLink[];
  tags: { label: string; source: string; createdAt: string }[];
  alerts: {
    edges: {
      node: {
        id: string;
        severity: string;
        invariantId: string;
        contract: string;
        txHash: string;
        raisedAt: string;
      };
    }[];
  };
}

export const NEIGHBORS = `query Neighbors($chain: Chain!, $address: String!, $direction: Direction, $types: [RelationshipType!],
  $first: Int, $after: String, $minAmount: String, $maxAmount: String, $window: Window) {
  wallet(chain: $chain, address: $address) {
    address
    neighbors(direction: $direction, types: $types, first: $first, after: $after, minAmount: $minAmount,
      maxAmount: $maxAmount, window: $window) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { address isHotkey isContract }
        relationship { id type direction from to amount alphaAmount token tokenSymbol tokenDecimals
          blockNumber timestamp netuid txHash provenance { miners validators } } }
    }
  }
}`;

export interface NeighborRow {
  cursor: string;
  node: { address: string; isHotkey: boolean; isContract: boolean };
  relationship: {
    id: string;
    type: string;
    direction: string;
    from: string;
    to: string;
    amount: string | null;
    alphaAmount: string | null;
    /** Ethereum ERC-20: the token contract, its symbol and decimals (null: native ETH or unknown). */
    token: string | null;
    tokenSymbol: string | null;
    tokenDecimals: number | null;
    blockNumber: number;
    timestamp: string | null;
    netuid: number | null;
    txHash: string | null;
    provenance: { miners: string[]; validators: string[] };
  };
}

export interface NeighborPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: NeighborRow[];
}
