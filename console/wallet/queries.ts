import type { Chain } from '../format.ts';

/** The wallet page's questions to the API (schema/vigil.graphql, schema/investigate.graphql). */
export const WALLET_SUMMARY = `query WalletSummary($chain: Chain!, $address: String!) {
  wallet(chain: $chain, address: $address) {
    chain address isHotkey isContract firstSeenBlock lastSeenBlock firstSeenAt lastSeenAt
    degreeTotal degree { type direction count }
    totals { type direction asset netuid count amount alphaAmount }
    owner { address }
    hotkeys(first: 25) { wallet { address } netuid blockNumber }
    parents(first: 25) { wallet { address } netuid proportion blockNumber }
    children(first: 25) { wallet { address } netuid proportion blockNumber }
    tags { label source createdAt }
  }
}`;

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
  firstSeenAt: string | null;
  lastSeenAt: string | null;
  degreeTotal: number;
  degree: { type: string; direction: string; count: number }[];
  totals: {
    type: string;
    direction: string;
    asset: string;
    netuid: number | null;
    count: number;
    amount: string | null;
    alphaAmount: string | null;
  }[];
  owner: { address: string } | null;
  hotkeys: StakeLink[];
  parents: StakeLink[];
  children: StakeLink[];
  tags: { label: string; source: string; createdAt: string }[];
}
