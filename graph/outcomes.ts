import neo4j, { type ManagedTransaction } from 'neo4j-driver';
import type { OutcomeJob } from '../protocol/ingest.ts';
import { ALERT_FIELDS, type AlertRecord } from './alerts.ts';
import type { Graph } from './driver.ts';

/**
 * The outcomes of an alert's defense actions: `(a:Alert)-[:TOOK]->(o:ActionOutcome)`, one node
 * per (alert, action index), holding the latest state the validator reported (a pause: sent, then
 * how it landed). See docs/architecture.md "Action outcomes".
 */

export interface ActionOutcomeRecord {
  action: string;
  index: number;
  status: string;
  txHash: string | null;
  landedFirst: boolean | null;
  detail: string;
  at: string;
}

/** The alert the outcome belongs to is not stored (yet): its finding may still be on the queue. */
export class AlertNotStoredError extends Error {
  override name = 'AlertNotStoredError';
}

// A state never goes back in time: a replayed "sent" after "landed-first" changes nothing.
const MERGE_OUTCOME = `
MATCH (a:Alert {id: $alertId})
MERGE (o:ActionOutcome {id: $id})
ON CREATE SET o.alertId = $alertId, o.index = $index, o.action = $action
MERGE (a)-[:TOOK]->(o)
WITH a, o, o.at IS NULL OR (datetime($at) > o.at) OR (datetime($at) = o.at AND $rank >= o.rank) AS newer
CALL (o, newer) {
  WITH o WHERE newer
  SET o.status = $status, o.txHash = $txHash, o.landedFirst = $landedFirst, o.detail = $detail,
      o.at = datetime($at), o.rank = $rank, o.validator = $validator
}
RETURN ${ALERT_FIELDS}`;

/** Later states of one action rank higher, so two reports at the same instant settle the same way. */
const RANK: Record<string, number> = {
  sent: 0,
  failed: 1,
  delivered: 1,
  'not-mined': 1,
  'landed-after': 2,
  'landed-first': 2,
  reverted: 2,
};

/**
 * Stores one outcome in one transaction and returns its alert as stored (for the live feed).
 * Throws AlertNotStoredError (the worker retries) when the alert is not there yet.
 */
export async function writeOutcome(graph: Graph, o: OutcomeJob): Promise<AlertRecord> {
  const res = await graph.write((tx: ManagedTransaction) =>
    tx.run(MERGE_OUTCOME, {
      alertId: o.alertId,
      id: `${o.alertId}#${o.index}`,
      index: neo4j.int(o.index),
      action: o.action,
      status: o.status,
      txHash: o.txHash,
      landedFirst: o.landedFirst,
      detail: o.detail,
      at: o.at,
      rank: neo4j.int(RANK[o.status] ?? 0),
      validator: o.validator.hotkey,
    }),
  );
  const alert = res.records[0]?.get('alert') as AlertRecord | undefined;
  if (!alert) throw new AlertNotStoredError(`alert ${o.alertId} is not stored yet: outcome kept for a retry`);
  return alert;
}

/**
 * The action outcomes of several alerts in one query (a page of alerts asks them together), each
 * alert's in the order of its invariant's actions; an alert without any maps to [].
 */
export async function getAlertOutcomes(
  graph: Graph,
  alertIds: readonly string[],
  opts?: { timeoutMs?: number },
): Promise<Map<string, ActionOutcomeRecord[]>> {
  const res = await graph.query(
    `UNWIND $alertIds AS alertId
     MATCH (:Alert {id: alertId})-[:TOOK]->(o:ActionOutcome)
     WITH alertId, o ORDER BY o.index
     RETURN alertId, collect({action: o.action, index: toInteger(o.index), status: o.status, txHash: o.txHash,
                              landedFirst: o.landedFirst, detail: o.detail, at: toString(o.at)}) AS outcomes`,
    { alertIds: [...alertIds] },
    { timeoutMs: opts?.timeoutMs },
  );
  const byAlert = new Map<string, ActionOutcomeRecord[]>(alertIds.map((id) => [id, []]));
  for (const r of res.records)
    byAlert.set(
      r.get('alertId') as string,
      (r.get('outcomes') as Record<string, unknown>[]).map((o) => ({
        action: o.action as string,
        index: Number(o.index),
        status: o.status as string,
        txHash: (o.txHash as string | null) ?? null,
        landedFirst: (o.landedFirst as boolean | null) ?? null,
        detail: (o.detail as string | null) ?? '',
        at: new Date(o.at as string).toISOString(),
      })),
    );
  return byAlert;
}
