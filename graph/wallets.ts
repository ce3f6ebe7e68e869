import neo4j from 'neo4j-driver';
import type { Graph } from './driver.ts';
import type { Chain, RelationshipType } from './model.ts';

/** Read access to wallets and their relationships, for the API and the CLI. */

export interface WalletRecord {
  chain: Chain;
  address: string;
  isHotkey: boolean;
  isContract: boolean;
  firstSeenBlock: number | null;
  lastSeenBlock: number | null;
}

export type Direction = 'OUT' | 'IN' | 'BOTH';

export interface RelationshipRecord {
  id: string;
  type: RelationshipType;
  direction: Exclude<Direction, 'BOTH'>;
  from: string;
  to: string;
  props: Record<string, unknown>;
}

export interface NeighborPage {
  edges: { cursor: string; node: WalletRecord; relationship: RelationshipRecord }[];
  hasNextPage: boolean;
  totalCount: number;
}

const WALLET_FIELDS = `{chain: n.chain, address: n.address, isHotkey: coalesce(n.isHotkey, false),
  isContract: n:Contract, firstSeenBlock: n.firstSeenBlock, lastSeenBlock: n.lastSeenBlock}`;

export async function getWallet(graph: Graph, chain: Chain, address: string): Promise<WalletRecord | null> {
  const res = await graph.read((tx) =>
    tx.run(`MATCH (n:Wallet {chain: $chain, address: $address}) RETURN ${WALLET_FIELDS} AS w`, { chain, address }),
  );
  return (res.records[0]?.get('w') as WalletRecord | undefined) ?? null;
}

// Directions cannot be parameters: one fixed pattern each.
const PATTERNS: Record<Direction, string> = {
  OUT: '(w)-[r]->(n:Wallet)',
  IN: '(w)<-[r]-(n:Wallet)',
  BOTH: '(w)-[r]-(n:Wallet)',
};

/**
 * One page of a wallet's relationships, ordered by relationship id (a stable keyset: the cursor
 * is the last id, so paging never skips or repeats under concurrent writes elsewhere).
 */
export async function getNeighbors(
  graph: Graph,
  chain: Chain,
  address: string,
  opts: { direction: Direction; types: RelationshipType[] | null; first: number; after: string | null },
): Promise<NeighborPage> {
  const pattern = PATTERNS[opts.direction];
  const params = { chain, address, types: opts.types, after: opts.after, limit: neo4j.int(opts.first + 1) };
  const [page, count] = await graph.read(async (tx) => {
    const rows = await tx.run(
      `MATCH (w:Wallet {chain: $chain, address: $address})
       MATCH ${pattern}
       WHERE ($types IS NULL OR type(r) IN $types) AND ($after IS NULL OR r.id > $after)
       WITH w, r, n ORDER BY r.id LIMIT $limit
       RETURN r.id AS id, type(r) AS type, startNode(r) = w AS outgoing, properties(r) AS props,
              startNode(r).address AS from, endNode(r).address AS to, ${WALLET_FIELDS} AS node`,
      params,
    );
    const total = await tx.run(
      `MATCH (w:Wallet {chain: $chain, address: $address})
       RETURN COUNT { MATCH ${pattern} WHERE $types IS NULL OR type(r) IN $types } AS total`,
      params,
    );
    return [rows.records, (total.records[0]?.get('total') as number | undefined) ?? 0] as const;
  });
  const edges = page.slice(0, opts.first).map((r) => ({
    cursor: r.get('id') as string,
    node: r.get('node') as WalletRecord,
    relationship: {
      id: r.get('id') as string,
      type: r.get('type') as RelationshipType,
      direction: (r.get('outgoing') ? 'OUT' : 'IN') as 'OUT' | 'IN',
      from: r.get('from') as string,
      to: r.get('to') as string,
      props: r.get('props') as Record<string, unknown>,
    },
  }));
  return { edges, hasNextPage: page.length > opts.first, totalCount: count };
}
