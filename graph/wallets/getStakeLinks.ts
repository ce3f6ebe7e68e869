import neo4j from 'neo4j-driver';
import type { Graph } from '../driver.ts';
import { WALLET_FIELDS } from './fragments.ts';
import type { ReadOptions, WalletKey, WalletRecord } from './records.ts';

export interface GetStakeLinksParameters extends WalletKey, ReadOptions {
  /**
   * `owners` (coldkey owning this hotkey), `hotkeys` (owned by this coldkey), `parents` and
   * `children` (PARENT_OF, per subnet).
   */
  kind: 'owners' | 'hotkeys' | 'parents' | 'children';
  limit: number;
}

export interface StakeLink {
  wallet: WalletRecord;
  netuid: number | null;
  proportion: string | null;
  blockNumber: number;
  relationshipId: string;
}
export type GetStakeLinksReturnType = StakeLink[];

const PATTERNS: Record<GetStakeLinksParameters['kind'], string> = {
  owners: '(w)<-[r:OWNS_HOTKEY]-(n:Wallet)',
  hotkeys: '(w)-[r:OWNS_HOTKEY]->(n:Wallet)',
  parents: '(w)<-[r:PARENT_OF]-(n:Wallet)',
  children: '(w)-[r:PARENT_OF]->(n:Wallet)',
};

/** Ownership and parent-child links of a hotkey or coldkey, capped at `limit`, newest block first. */
export async function getStakeLinks(
  graph: Graph,
  { chain, address, kind, limit, timeoutMs }: GetStakeLinksParameters,
): Promise<GetStakeLinksReturnType> {
  const res = await graph.read(
    (tx) =>
      tx.run(
        `MATCH (w:Wallet {chain: $chain, address: $address}) MATCH ${PATTERNS[kind]}
         WITH r, n ORDER BY r.blockNumber DESC, r.id LIMIT $limit
         RETURN ${WALLET_FIELDS} AS node, r.netuid AS netuid, r.proportion AS proportion, r.blockNumber AS block, r.id AS id`,
        { chain, address, limit: neo4j.int(limit) },
      ),
    { timeoutMs },
  );
  return res.records.map((rec) => ({
    wallet: rec.get('node') as WalletRecord,
    netuid: (rec.get('netuid') as number | null) ?? null,
    proportion: (rec.get('proportion') as string | null) ?? null,
    blockNumber: rec.get('block') as number,
    relationshipId: rec.get('id') as string,
  }));
}
