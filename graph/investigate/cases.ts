import neo4j from 'neo4j-driver';
import type { Graph } from '../driver.ts';
import type { Chain } from '../model.ts';

/**
 * Saved investigations: `(:Case {id, title, notes, chain, wallets, paths, createdAt, updatedAt})`,
 * apart from ingested facts (no relationship), opened by id (a link). `paths` is a JSON text of
 * address lists (Neo4j properties cannot nest lists). Sizes are checked by the API before saving.
 */
export interface CaseRecord {
  id: string;
  title: string;
  notes: string;
  chain: Chain;
  wallets: string[];
  paths: string[][];
  /** ISO-8601. */
  createdAt: string;
  updatedAt: string;
}

export type CaseInput = Omit<CaseRecord, 'id' | 'createdAt' | 'updatedAt'>;

const CASE_FIELDS = `{id: c.id, title: c.title, notes: c.notes, chain: c.chain, wallets: c.wallets,
  paths: c.paths, createdAt: toString(c.createdAt), updatedAt: toString(c.updatedAt)}`;

type Stored = Omit<CaseRecord, 'paths'> & { paths: string };
const fromStored = (c: Stored): CaseRecord => ({ ...c, paths: JSON.parse(c.paths) as string[][] });

/** A new case with a fresh id. */
export async function createCase(graph: Graph, input: CaseInput): Promise<CaseRecord> {
  const res = await graph.write((tx) =>
    tx.run(
      `CREATE (c:Case {id: $id, title: $title, notes: $notes, chain: $chain, wallets: $wallets,
         paths: $paths, createdAt: datetime(), updatedAt: datetime()})
       RETURN ${CASE_FIELDS} AS c`,
      { ...input, id: crypto.randomUUID(), paths: JSON.stringify(input.paths) },
    ),
  );
  return fromStored(res.records[0]!.get('c') as Stored);
}

/** Replaces a case's content; null when there is no case of that id. */
export async function updateCase(graph: Graph, id: string, input: CaseInput): Promise<CaseRecord | null> {
  const res = await graph.write((tx) =>
    tx.run(
      `MATCH (c:Case {id: $id})
       SET c.title = $title, c.notes = $notes, c.chain = $chain, c.wallets = $wallets,
           c.paths = $paths, c.updatedAt = datetime()
       RETURN ${CASE_FIELDS} AS c`,
      { ...input, id, paths: JSON.stringify(input.paths) },
    ),
  );
  const rec = res.records[0];
  return rec ? fromStored(rec.get('c') as Stored) : null;
}

export async function getCase(
  graph: Graph,
  id: string,
  o: { timeoutMs?: number } = {},
): Promise<CaseRecord | null> {
  const res = await graph.read(
    (tx) => tx.run(`MATCH (c:Case {id: $id}) RETURN ${CASE_FIELDS} AS c`, { id }),
    o,
  );
  const rec = res.records[0];
  return rec ? fromStored(rec.get('c') as Stored) : null;
}

/** Newest (last saved) first. */
export async function listCases(
  graph: Graph,
  first: number,
  o: { timeoutMs?: number } = {},
): Promise<CaseRecord[]> {
  const res = await graph.read(
    (tx) =>
      tx.run(`MATCH (c:Case) RETURN ${CASE_FIELDS} AS c ORDER BY c.updatedAt DESC, c.id LIMIT $first`, {
        first: neo4j.int(first),
      }),
    o,
  );
  return res.records.map((r) => fromStored(r.get('c') as Stored));
}

/** True if the case was there. */
export async function deleteCase(graph: Graph, id: string): Promise<boolean> {
  const res = await graph.write((tx) =>
    tx.run('MATCH (c:Case {id: $id}) DELETE c RETURN count(*) AS n', { id }),
  );
  return ((res.records[0]?.get('n') as number | undefined) ?? 0) > 0;
}
