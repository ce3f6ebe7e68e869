import neo4j from 'neo4j-driver';
import type { AlertEvent } from '../protocol/defense.ts';
import type { Graph } from './driver.ts';
import type { Chain } from './model.ts';
import { WALLET_FIELDS } from './wallets/fragments.ts';
import type { WalletRecord } from './wallets/records.ts';

/** An alert as stored: the shape the alert channel carries (protocol/defense.ts AlertEvent). */
export type AlertRecord = AlertEvent;

/** The projection of an `a:Alert` every reader returns (and the writer, from its own transaction). */
export const ALERT_FIELDS = 'a {.*, raisedAt: toString(a.raisedAt)} AS alert';

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

/** A cursor these pages handed out (`<raisedAt>|<id>`), split; null for anything else. */
export function parseAlertCursor(cursor: string): [string, string] | null {
  const i = cursor.indexOf('|');
  if (i < 0) return null;
  const [time, id] = [cursor.slice(0, i), cursor.slice(i + 1)];
  return id !== '' && /^\d{4}-\d{2}-\d{2}T/.test(time) && !Number.isNaN(Date.parse(time)) ? [time, id] : null;
}

function splitCursor(cursor: string): [string, string] {
  const parts = parseAlertCursor(cursor);
  // Resolvers reject bad cursors with a user error first; this guards direct callers.
  if (!parts) throw new RangeError(`not an alerts cursor: ${JSON.stringify(cursor.slice(0, 80))}`);
  return parts;
}

export async function getAlert(graph: Graph, id: string): Promise<AlertRecord | null> {
  const res = await graph.read((tx) => tx.run(`MATCH (a:Alert {id: $id}) RETURN ${ALERT_FIELDS}`, { id }));
  return (res.records[0]?.get('alert') as AlertRecord | undefined) ?? null;
}

/** Filters of `alerts(filter:)`; every field optional, all given ones must match. Addresses lower-case. */
export interface AlertFilter {
  contract?: string | null;
  invariant?: string | null;
  severities?: string[] | null;
  chain?: Chain | null;
  chainId?: number | null;
  /** ISO-8601 bounds on raisedAt, inclusive. */
  from?: string | null;
  to?: string | null;
  txHash?: string | null;
  /** The sender of the transaction or the contract the alert was raised on. */
  wallet?: string | null;
}

/** Does an alert match a filter? The same semantics as searchAlerts, for live subscriptions. */
export function alertMatches(a: AlertRecord, f: AlertFilter): boolean {
  const t = Date.parse(a.raisedAt);
  return (
    (!f.contract || a.contract === f.contract) &&
    (!f.invariant || a.invariantId === f.invariant) &&
    (!f.severities?.length || f.severities.includes(a.severity)) &&
    (!f.chain || a.chain === f.chain) &&
    (f.chainId == null || a.chainId === f.chainId) &&
    (!f.from || t >= Date.parse(f.from)) &&
    (!f.to || t <= Date.parse(f.to)) &&
    (!f.txHash || a.txHash === f.txHash) &&
    (!f.wallet || a.sender === f.wallet || a.contract === f.wallet)
  );
}

/** Alerts matching a filter, newest first; the cursor is `<raisedAt>|<id>` as for wallet alerts. */
export async function searchAlerts(
  graph: Graph,
  filter: AlertFilter,
  opts: { first: number; after: string | null; timeoutMs?: number },
): Promise<{ alerts: { cursor: string; alert: AlertRecord }[]; hasNextPage: boolean }> {
  const [afterTime, afterId] = opts.after ? splitCursor(opts.after) : [null, null];
  // Only the conditions given are written into the query, so Neo4j can seek on the Alert
  // indexes (txHash, contract, invariantId, severity, raisedAt); `$x IS NULL OR …` would scan.
  const given: [string, string, unknown][] = [
    ['a.txHash = $txHash', 'txHash', filter.txHash],
    ['a.contract = $contract', 'contract', filter.contract],
    ['a.invariantId = $invariant', 'invariant', filter.invariant],
    ['a.severity IN $severities', 'severities', filter.severities?.length ? filter.severities : null],
    ['a.chain = $chain', 'chain', filter.chain],
    ['a.chainId = $chainId', 'chainId', filter.chainId == null ? null : neo4j.int(filter.chainId)],
    ['a.raisedAt >= datetime($from)', 'from', filter.from],
    ['a.raisedAt <= datetime($to)', 'to', filter.to],
    ['(a.sender = $wallet OR a.contract = $wallet)', 'wallet', filter.wallet],
  ];
  const conditions = given.filter(([, , v]) => v != null);
  if (afterTime !== null)
    conditions.push([
      '(a.raisedAt < datetime($afterTime) OR (a.raisedAt = datetime($afterTime) AND a.id < $afterId))',
      'afterTime',
      afterTime,
    ]);
  const where = conditions.length ? `WHERE ${conditions.map(([c]) => c).join(' AND ')}` : '';
  const params: Record<string, unknown> = { afterId, limit: neo4j.int(opts.first + 1) };
  for (const [, name, value] of conditions) params[name] = value;
  const res = await graph.read(
    (tx) =>
      tx.run(
        `MATCH (a:Alert) ${where}
         WITH a ORDER BY a.raisedAt DESC, a.id DESC LIMIT $limit
         RETURN ${ALERT_FIELDS}`,
        params,
      ),
    opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : undefined,
  );
  const rows = res.records.map((r) => r.get('alert') as AlertRecord);
  return {
    alerts: rows.slice(0, opts.first).map((alert) => ({ cursor: `${alert.raisedAt}|${alert.id}`, alert })),
    hasNextPage: rows.length > opts.first,
  };
}

/**
 * An alert's attacker contracts as wallets of the graph: those the finding named (the flagged tx's
 * `to` when not the protected contract) and those the sender deployed (DEPLOYED edges the graph
 * holds), never the protected contract; by address, at most `limit`.
 */
export async function getAttackerContracts(
  graph: Graph,
  opts: { sender: string; protectedContract: string; named: string[]; limit: number; timeoutMs?: number },
): Promise<WalletRecord[]> {
  const res = await graph.query(
    `CALL {
       MATCH (n:Wallet {chain: 'ethereum'}) WHERE n.address IN $named RETURN n
       UNION
       MATCH (:Wallet {chain: 'ethereum', address: $sender})-[:DEPLOYED]->(n:Wallet) RETURN n
     }
     WITH n WHERE n.address <> $protectedContract
     RETURN ${WALLET_FIELDS} AS w ORDER BY n.address LIMIT $limit`,
    {
      sender: opts.sender,
      protectedContract: opts.protectedContract,
      named: opts.named,
      limit: neo4j.int(opts.limit),
    },
    { timeoutMs: opts.timeoutMs },
  );
  return res.records.map((r) => r.get('w') as WalletRecord);
}
