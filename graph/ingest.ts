import neo4j, { type ManagedTransaction } from 'neo4j-driver';
import { alertId } from '../protocol/ids.ts';
import type { FindingJob, SubgraphJob } from '../protocol/ingest.ts';
import { ALERT_FIELDS, type AlertRecord } from './alerts.ts';
import type { Graph } from './driver.ts';
import { type GraphEdge, RELATIONSHIP_TYPES, type RelationshipType, relationshipId } from './model.ts';
import { storedIds } from './relationships.ts';

/**
 * Writes validated ingestion jobs into Neo4j with batched `UNWIND … MERGE` statements, one
 * transaction per job. Every statement is idempotent: a job written twice, or retried after a
 * crash, leaves the graph as one write would.
 */

const MERGE_WALLETS = `
UNWIND $rows AS row
MERGE (w:Wallet {chain: $chain, address: row.address})
ON CREATE SET w.firstSeenBlock = row.first, w.lastSeenBlock = row.last, w.isHotkey = row.isHotkey
WITH w, row
CALL (w, row) {
  // Only wallets this job tells something new about are written again (a new one passes only for :Contract).
  WITH w, row WHERE (row.first IS NOT NULL AND (w.firstSeenBlock IS NULL OR row.first < w.firstSeenBlock))
     OR (row.last IS NOT NULL AND (w.lastSeenBlock IS NULL OR row.last > w.lastSeenBlock))
     OR (row.isHotkey AND NOT coalesce(w.isHotkey, false)) OR (row.isContract AND NOT w:Contract)
  SET w.firstSeenBlock = CASE WHEN row.first IS NOT NULL AND (w.firstSeenBlock IS NULL OR row.first < w.firstSeenBlock)
                              THEN row.first ELSE w.firstSeenBlock END,
      w.lastSeenBlock  = CASE WHEN row.last IS NOT NULL AND (w.lastSeenBlock IS NULL OR row.last > w.lastSeenBlock)
                              THEN row.last ELSE w.lastSeenBlock END,
      w.isHotkey = coalesce(w.isHotkey, false) OR row.isHotkey
  WITH w, row WHERE row.isContract
  SET w:Contract
}
// The relationship writes find their endpoints by element id: a record lookup, not an index seek.
RETURN row.address AS address, elementId(w) AS ref`;

/**
 * Statements per relationship type (types cannot be parameters, so they come from the fixed list).
 * New relationships are CREATEd, which costs about half a MERGE; the ones already stored only get
 * their provenance widened. storedIds finds which is which through the type's uniqueness index.
 */
const perType = (build: (type: RelationshipType) => string) =>
  Object.fromEntries(RELATIONSHIP_TYPES.map((t) => [t, build(t)])) as Record<RelationshipType, string>;

/**
 * Endpoints come by element id from this job's wallet write, checked against the address so a
 * stale id can never attach an edge to another wallet; the count returned must equal the rows
 * given, or the transaction is thrown away (see EndpointMissingError).
 *
 * The check is one list comparison on purpose: written as `a.address = e.from AND …` the planner
 * turns it into a seek of the wallet key index and compares the element id afterwards, building
 * an element id string per endpoint (a tenth of Neo4j's CPU during ingestion). The label moves to
 * the filter for the same reason. Fixed properties go in the CREATE; the evidence is added with
 * `+=`, which saves one Eager (a full materialisation of the batch) against `SET r = …, r.id = …`.
 */
const CREATE_EDGES = perType(
  (t) => `
UNWIND $rows AS e
MATCH (a) WHERE elementId(a) = e.fromRef
MATCH (b) WHERE elementId(b) = e.toRef
WITH e, a, b WHERE a:Wallet AND b:Wallet AND [a.chain, a.address, b.chain, b.address] = [$chain, e.from, $chain, e.to]
CREATE (a)-[r:${t} {id: e.id, miners: [$miner], validators: [$validator],
                    firstAcceptedAt: $acceptedAt, lastAcceptedAt: $acceptedAt}]->(b)
SET r += e.props
RETURN count(*) AS created`,
);

/** Also the fallback when a concurrent writer created one of our "new" relationships first. */
const MERGE_EDGES = perType(
  (t) => `
UNWIND $rows AS e
MATCH (a:Wallet {chain: $chain, address: e.from})
MATCH (b:Wallet {chain: $chain, address: e.to})
MERGE (a)-[r:${t} {id: e.id}]->(b)
ON CREATE SET r += e.props, r.miners = [$miner], r.validators = [$validator],
              r.firstAcceptedAt = $acceptedAt, r.lastAcceptedAt = $acceptedAt
ON MATCH SET r.miners = CASE WHEN $miner IN r.miners THEN r.miners ELSE r.miners + $miner END,
             r.validators = CASE WHEN $validator IN r.validators THEN r.validators ELSE r.validators + $validator END,
             r.lastAcceptedAt = CASE WHEN $acceptedAt > r.lastAcceptedAt THEN $acceptedAt ELSE r.lastAcceptedAt END`,
);

class EndpointMissingError extends Error {
  constructor(missing: number) {
    super(`${missing} relationship endpoints not found by element id`);
  }
}

/**
 * Which ids of a batch are stored already. A sample is looked up first: fresh data (the bulk
 * case) then skips the full lookup, about a quarter of the write's cost; a batch overlapping
 * stored facts (several miners answering one target) is looked up in full. A fresh-looking
 * batch that still hits a stored id fails on the uniqueness constraint and goes to MERGE.
 */
async function knownIds(tx: ManagedTransaction, type: RelationshipType, batch: { id: string }[]) {
  const step = Math.max(1, Math.floor(batch.length / PROBE_SIZE));
  const probe = batch.filter((_, i) => i % step === 0).map((r) => r.id);
  const found = await storedIds(tx, type, probe);
  // Small batches are probed whole; otherwise only the ids the probe did not cover are looked up.
  if (found.size === 0 || step === 1) return found;
  const rest = batch.filter((_, i) => i % step !== 0).map((r) => r.id);
  for (const id of await storedIds(tx, type, rest)) found.add(id);
  return found;
}
const PROBE_SIZE = 64;

const isConstraintViolation = (err: unknown) =>
  (err as { code?: string }).code === 'Neo.ClientError.Schema.ConstraintValidationFailed';

const MERGE_SUBMISSION = `
MERGE (s:Submission {id: $id})
ON CREATE SET s.chain = $chain, s.miner = $miner, s.validator = $validator, s.acceptedAt = $acceptedAt,
              s.nodeCount = $nodeCount, s.edgeCount = $edgeCount, s.windowFrom = $windowFrom, s.windowTo = $windowTo
WITH s
MATCH (t:Wallet {chain: $chain, address: $target})
MERGE (s)-[:TARGETS]->(t)`;

export type WriteProgress = (done: { nodes: number; edges: number; batches: number }) => void;

export interface WriteStats {
  nodes: number;
  edges: number;
  batches: number;
}

/**
 * Writes a whole subgraph job in ONE transaction: its wallets, relationships and Submission
 * commit together or not at all, so a job that fails (conflicting evidence, Neo4j lost midway)
 * leaves the graph as it was and its replay starts clean. The job size caps in
 * protocol/ingest.ts (JOB_LIMITS) keep that transaction's memory bounded.
 *
 * New relationships are CREATEd (the fast path). If one turns out stored after all (a concurrent
 * writer), or an endpoint's element id is stale, the transaction is rolled back and the job is
 * written again with MERGE for every relationship; a real conflict (same identity, other wallets)
 * then fails on the uniqueness constraint with nothing committed.
 */
export async function writeSubgraph(
  graph: Graph,
  job: SubgraphJob,
  opts: { batchSize: number; onBatch?: WriteProgress },
): Promise<WriteStats> {
  try {
    return await graph.write((tx) => writeJob(tx, job, opts, 'create-new'));
  } catch (err) {
    if (!isConstraintViolation(err) && !(err instanceof EndpointMissingError)) throw err;
    return await graph.write((tx) => writeJob(tx, job, opts, 'merge-all'));
  }
}

/** The job's statements in the caller's transaction; state is rebuilt on each (re)try. */
async function writeJob(
  tx: ManagedTransaction,
  job: SubgraphJob,
  opts: { batchSize: number; onBatch?: WriteProgress },
  mode: 'create-new' | 'merge-all',
): Promise<WriteStats> {
  const { chain } = job;
  const stats: WriteStats = { nodes: 0, edges: 0, batches: 0 };
  const seen = blockRangePerAddress(job.edges);
  const walletRows = job.nodes.map((n) => ({
    address: n.address,
    first: intOrNull(seen.get(n.address)?.first),
    last: intOrNull(seen.get(n.address)?.last),
    isHotkey: n.type === 'hotkey',
    isContract: n.type === 'contract',
  }));
  const refs = new Map<string, string>();
  for (const rows of chunks(walletRows, opts.batchSize)) {
    const res = await tx.run(MERGE_WALLETS, { chain, rows });
    for (const r of res.records) refs.set(r.get('address') as string, r.get('ref') as string);
    stats.nodes += rows.length;
    stats.batches++;
    opts.onBatch?.(stats);
  }

  const common = {
    chain,
    miner: job.miner.hotkey,
    validator: job.validator.hotkey,
    acceptedAt: job.acceptedAt,
  };
  for (const [type, edges] of groupByType(job.edges)) {
    const rows = edges.map((e) => ({
      id: relationshipId(chain, e),
      from: e.from,
      to: e.to,
      fromRef: refs.get(e.from) ?? null,
      toRef: refs.get(e.to) ?? null,
      props: edgeProps(e),
    }));
    for (const batch of chunks(rows, opts.batchSize)) {
      if (mode === 'merge-all') await tx.run(MERGE_EDGES[type], { ...common, rows: batch });
      else await createOrWiden(tx, type, batch, common);
      stats.edges += batch.length;
      stats.batches++;
      opts.onBatch?.(stats);
    }
  }

  // Its presence says the whole submission landed (it commits with the rest).
  await tx.run(MERGE_SUBMISSION, {
    ...common,
    id: job.submissionId,
    target: job.target,
    nodeCount: neo4j.int(job.nodes.length),
    edgeCount: neo4j.int(job.edges.length),
    windowFrom: intOrNull(job.window?.from),
    windowTo: intOrNull(job.window?.to),
  });
  return stats;
}

/** CREATE the batch's new relationships, widen the provenance of the stored ones. */
async function createOrWiden(
  tx: ManagedTransaction,
  type: RelationshipType,
  batch: { id: string }[],
  common: Record<string, unknown>,
): Promise<void> {
  const existing = await knownIds(tx, type, batch);
  const fresh = batch.filter((r) => !existing.has(r.id));
  const known = batch.filter((r) => existing.has(r.id));
  if (fresh.length) {
    const res = await tx.run(CREATE_EDGES[type], { ...common, rows: fresh });
    const created = res.records[0]?.get('created') as number;
    if (created !== fresh.length) throw new EndpointMissingError(fresh.length - created);
  }
  if (known.length) await tx.run(MERGE_EDGES[type], { ...common, rows: known });
}

const MERGE_FINDING = `
OPTIONAL MATCH (known:Alert {id: $alertId})
WITH known IS NULL AS created
MERGE (c:Wallet {chain: 'ethereum', address: $contract})
SET c:Contract
MERGE (i:Invariant {id: $invariant.id})
ON CREATE SET i.kind = $invariant.kind, i.description = $invariant.description, i.contract = $contract
MERGE (i)-[:WATCHES]->(c)
MERGE (sender:Wallet {chain: 'ethereum', address: $tx.from})
MERGE (t:Transaction {chain: 'ethereum', hash: $tx.hash})
ON CREATE SET t.from = $tx.from, t.to = $tx.to, t.nonce = $tx.nonce, t.chainId = $chainId, t.blockNumber = $tx.blockNumber
MERGE (sender)-[:SENT]->(t)
MERGE (a:Alert {id: $alertId})
ON CREATE SET a.chain = 'ethereum', a.chainId = $chainId, a.severity = $severity, a.txHash = $tx.hash,
              a.contract = $contract, a.invariantId = $invariant.id, a.invariantKind = $invariant.kind,
              a.description = $invariant.description, a.before = $observed.before, a.after = $observed.after,
              a.votesViolated = $consensus.violated, a.votesTotal = $consensus.total, a.miners = $consensus.miners,
              a.validator = $validator, a.raisedAt = datetime($raisedAt), a.sender = $tx.from,
              a.attackerContracts = $attackerContracts
MERGE (a)-[:VIOLATES]->(i)
MERGE (a)-[:IN_TX]->(t)
MERGE (a)-[:INVOLVES]->(sender)
MERGE (a)-[:RAISED_ON]->(c)
// The contracts it calls become wallets of the graph, so Alert.attackerContracts can follow them.
FOREACH (x IN $attackerContracts | MERGE (:Wallet {chain: 'ethereum', address: x}))
RETURN ${ALERT_FIELDS}, created`;

/**
 * Stores a finding as an alert; returns the alert as stored (what readers will see) and whether
 * this write created it (false for a retried or repeated finding).
 */
export async function writeFinding(
  graph: Graph,
  f: FindingJob,
): Promise<{ alert: AlertRecord; created: boolean }> {
  const id = alertId(f);
  const res = await graph.write((tx) =>
    tx.run(MERGE_FINDING, {
      contract: f.invariant.contract,
      invariant: f.invariant,
      tx: { ...f.tx, nonce: neo4j.int(f.tx.nonce), blockNumber: intOrNull(f.tx.blockNumber) },
      chainId: neo4j.int(f.chainId),
      alertId: id,
      severity: f.severity,
      observed: f.observed,
      attackerContracts: f.attackerContracts ?? [],
      consensus: {
        ...f.consensus,
        violated: neo4j.int(f.consensus.violated),
        total: neo4j.int(f.consensus.total),
      },
      validator: f.validator.hotkey,
      raisedAt: f.raisedAt,
    }),
  );
  const rec = res.records[0]!;
  return { alert: rec.get('alert') as AlertRecord, created: rec.get('created') as boolean };
}

/**
 * Evidence as relationship properties: no nulls (Neo4j drops them anyway), amounts kept exact,
 * whole numbers sent as Neo4j integers (the driver sends JS numbers as floats).
 */
function edgeProps(e: GraphEdge): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.evidence)) {
    if (v === undefined || v === null) continue;
    props[k] = typeof v === 'number' ? neo4j.int(v) : v;
  }
  // A float copy of the amount for range filters and sorting; the string stays the exact value.
  if (e.evidence.amount !== undefined) props.amountValue = Number(e.evidence.amount);
  return props;
}

const intOrNull = (v: number | null | undefined) => (v === null || v === undefined ? null : neo4j.int(v));

function blockRangePerAddress(edges: GraphEdge[]): Map<string, { first: number; last: number }> {
  const seen = new Map<string, { first: number; last: number }>();
  for (const e of edges) {
    for (const a of [e.from, e.to]) {
      const b = e.evidence.blockNumber;
      const cur = seen.get(a);
      if (!cur) seen.set(a, { first: b, last: b });
      else {
        if (b < cur.first) cur.first = b;
        if (b > cur.last) cur.last = b;
      }
    }
  }
  return seen;
}

function groupByType(edges: GraphEdge[]): Map<RelationshipType, GraphEdge[]> {
  const groups = new Map<RelationshipType, GraphEdge[]>();
  for (const e of edges) {
    const list = groups.get(e.type);
    if (list) list.push(e);
    else groups.set(e.type, [e]);
  }
  return groups;
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
