import neo4j from 'neo4j-driver';
import type { Graph } from './driver.ts';
import type { Chain } from './model.ts';

export interface AlertRecord {
  id: string;
  chain: Chain;
  chainId: number;
  severity: string;
  txHash: string;
  contract: string;
  sender: string;
  invariantId: string;
  invariantKind: string;
  description: string;
  before: string | null;
  after: string | null;
  votesViolated: number;
  votesTotal: number;
  miners: string[];
  validator: string;
  raisedAt: string;
}

const ALERT_FIELDS = `a {.*, raisedAt: toString(a.raisedAt)} AS alert`;

/** Alerts touching a wallet, newest first; the cursor is `<raisedAt>|<id>`. */
export async function getWalletAlerts(
  graph: Graph,
  chain: Chain,
  address: string,
  opts: { first: number; after: string | null },
): Promise<{ alerts: { cursor: string; alert: AlertRecord }[]; hasNextPage: boolean }> {
  const [afterTime, afterId] = opts.after ? splitCursor(opts.after) : [null, null];
  const res = await graph.read((tx) =>
    tx.run(
      `MATCH (w:Wallet {chain: $chain, address: $address})<-[:INVOLVES|RAISED_ON]-(a:Alert)
       WITH DISTINCT a
       WHERE $afterTime IS NULL OR a.raisedAt < datetime($afterTime)
          OR (a.raisedAt = datetime($afterTime) AND a.id < $afterId)
       WITH a ORDER BY a.raisedAt DESC, a.id DESC LIMIT $limit
       RETURN ${ALERT_FIELDS}`,
      { chain, address, afterTime, afterId, limit: neo4j.int(opts.first + 1) },
    ),
  );
  const rows = res.records.map((r) => r.get('alert') as AlertRecord);
  return {
    alerts: rows.slice(0, opts.first).map((alert) => ({ cursor: `${alert.raisedAt}|${alert.id}`, alert })),
    hasNextPage: rows.length > opts.first,
  };
}

function splitCursor(cursor: string): [string, string] {
  const i = cursor.indexOf('|');
  return i < 0 ? [cursor, ''] : [cursor.slice(0, i), cursor.slice(i + 1)];
}
