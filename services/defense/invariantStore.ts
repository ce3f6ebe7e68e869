import neo4j from 'neo4j-driver';
import type { Graph } from '../../graph/driver.ts';
import type { Invariant } from '../engine/invariants.ts';
import {
  type DefenseAction,
  type InvariantRegistration,
  type RegisteredInvariant,
  protectedContract,
} from './registry.ts';

/**
 * The invariant registry in Neo4j:
 *   (:Invariant {id, chainId, kind, contract, description, severity, definition, registered, createdAt})
 *     -[:WATCHES]->(:Wallet:Contract {chain: 'ethereum', address})
 *   (:Invariant)-[:DEFENDED_BY]->(:DefenseAction {id, kind, config})
 * `canaries` (JSON) holds the calls known to violate it, for the validator's canary challenges.
 * Alerts link to the same Invariant node (graph/ingest.ts). Removing an invariant unregisters it
 * (and deletes its actions) but keeps the node, so past alerts still name what they violated.
 * The definition is stored as the JSON the engine parses; action configs as JSON too.
 */

const UPSERT = `
MERGE (c:Wallet {chain: 'ethereum', address: $contract})
SET c:Contract
MERGE (i:Invariant {id: $id})
SET i.chainId = $chainId, i.kind = $kind, i.contract = $contract, i.description = $description,
    i.severity = $severity, i.definition = $definition, i.canaries = $canaries, i.registered = true,
    i.createdAt = coalesce(CASE WHEN i.registered THEN i.createdAt END, datetime()), i.updatedAt = datetime()
WITH i, c
OPTIONAL MATCH (i)-[old:WATCHES]->(other) WHERE other <> c
DELETE old
WITH DISTINCT i, c
MERGE (i)-[:WATCHES]->(c)
WITH i
OPTIONAL MATCH (i)-[:DEFENDED_BY]->(a:DefenseAction)
DETACH DELETE a
WITH DISTINCT i
UNWIND $actions AS act
CREATE (i)-[:DEFENDED_BY]->(:DefenseAction {id: act.id, kind: act.kind, config: act.config, invariantId: $id})`;

const READ_FIELDS = `
OPTIONAL MATCH (i)-[:DEFENDED_BY]->(a:DefenseAction)
WITH i, a ORDER BY a.id
WITH i, collect(a {.id, .kind, .config}) AS actions
RETURN i {.id, .chainId, .kind, .contract, .description, .severity, .definition, .canaries,
          createdAt: toString(i.createdAt)} AS inv, actions`;

function toRecord(row: { get(k: string): unknown }): RegisteredInvariant {
  const inv = row.get('inv') as Record<string, unknown>;
  const actions = (row.get('actions') as { id: string; kind: string; config: string }[]).map(
    (a) => ({ ...JSON.parse(a.config), id: a.id, kind: a.kind }) as DefenseAction,
  );
  return {
    id: inv.id as string,
    chainId: inv.chainId as number,
    kind: inv.kind as Invariant['kind'],
    contract: inv.contract as string,
    description: (inv.description as string) ?? '',
    severity: inv.severity as RegisteredInvariant['severity'],
    definition: JSON.parse(inv.definition as string),
    actions,
    canaries: inv.canaries ? JSON.parse(inv.canaries as string) : [],
    createdAt: inv.createdAt as string,
  };
}

/** Registers (or replaces) an invariant with its actions. Input must come from validateRegistration. */
export async function upsertInvariant(
  graph: Graph,
  reg: InvariantRegistration,
  invariant: Invariant,
): Promise<RegisteredInvariant> {
  const contract = protectedContract(invariant);
  const actions = reg.actions.map((a, n) => {
    const { kind, ...config } = a;
    return { id: `${invariant.id}:${n}:${kind}`, kind, config: JSON.stringify(config) };
  });
  await graph.write((tx) =>
    tx.run(UPSERT, {
      id: invariant.id,
      chainId: neo4j.int(reg.chainId),
      kind: invariant.kind,
      contract,
      description: invariant.description ?? '',
      severity: reg.severity,
      definition: JSON.stringify(reg.definition),
      canaries: JSON.stringify(reg.canaries ?? []),
      actions,
    }),
  );
  const got = await getInvariant(graph, invariant.id);
  return got!;
}

export async function getInvariant(graph: Graph, id: string): Promise<RegisteredInvariant | null> {
  const res = await graph.read((tx) =>
    tx.run(`MATCH (i:Invariant {id: $id}) WHERE i.registered ${READ_FIELDS}`, { id }),
  );
  return res.records[0] ? toRecord(res.records[0]) : null;
}

/** Registered invariants, optionally of one chain and/or one contract, ordered by id. */
export async function listInvariants(
  graph: Graph,
  filter: { chainId?: number | null; contract?: string | null } = {},
): Promise<RegisteredInvariant[]> {
  const res = await graph.read((tx) =>
    tx.run(
      `MATCH (i:Invariant) WHERE i.registered
         AND ($chainId IS NULL OR i.chainId = $chainId)
         AND ($contract IS NULL OR i.contract = $contract)
       WITH i ORDER BY i.id
       ${READ_FIELDS}`,
      {
        chainId: filter.chainId == null ? null : neo4j.int(filter.chainId),
        contract: filter.contract?.toLowerCase() ?? null,
      },
    ),
  );
  return res.records.map(toRecord);
}

/** Unregisters an invariant and deletes its actions; true if it was registered. Its alerts stay. */
export async function removeInvariant(graph: Graph, id: string): Promise<boolean> {
  const res = await graph.write((tx) =>
    tx.run(
      `MATCH (i:Invariant {id: $id}) WHERE i.registered
       OPTIONAL MATCH (i)-[:DEFENDED_BY]->(a:DefenseAction)
       DETACH DELETE a
       WITH DISTINCT i
       SET i.registered = false, i.removedAt = datetime()
       RETURN count(i) AS n`,
      { id },
    ),
  );
  return (res.records[0]?.get('n') as number) > 0;
}
