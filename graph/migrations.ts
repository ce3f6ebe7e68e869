import type { Graph } from './driver.ts';
import { RELATIONSHIP_TYPES } from './model.ts';

/**
 * Constraints and indexes, applied at every start. Each statement is idempotent (IF NOT EXISTS),
 * so running them again changes nothing. Names are stable so they can be dropped by name.
 */
export const SCHEMA_STATEMENTS: string[] = [
  'CREATE CONSTRAINT wallet_key IF NOT EXISTS FOR (w:Wallet) REQUIRE (w.chain, w.address) IS UNIQUE',
  'CREATE CONSTRAINT submission_id IF NOT EXISTS FOR (s:Submission) REQUIRE s.id IS UNIQUE',
  'CREATE CONSTRAINT alert_id IF NOT EXISTS FOR (a:Alert) REQUIRE a.id IS UNIQUE',
  'CREATE CONSTRAINT invariant_id IF NOT EXISTS FOR (i:Invariant) REQUIRE i.id IS UNIQUE',
  'CREATE CONSTRAINT transaction_key IF NOT EXISTS FOR (t:Transaction) REQUIRE (t.chain, t.hash) IS UNIQUE',
  'CREATE INDEX alert_raised_at IF NOT EXISTS FOR (a:Alert) ON (a.raisedAt)',
  'CREATE INDEX alert_severity IF NOT EXISTS FOR (a:Alert) ON (a.severity)',
  // One uniqueness constraint per relationship type: the identity derived from evidence.
  ...RELATIONSHIP_TYPES.map(
    (t) => `CREATE CONSTRAINT rel_${t.toLowerCase()}_id IF NOT EXISTS FOR ()-[r:${t}]-() REQUIRE r.id IS UNIQUE`,
  ),
  ...RELATIONSHIP_TYPES.map(
    (t) => `CREATE INDEX rel_${t.toLowerCase()}_block IF NOT EXISTS FOR ()-[r:${t}]-() ON (r.blockNumber)`,
  ),
];

export async function applyMigrations(graph: Graph, log: (msg: string) => void = () => {}): Promise<void> {
  const session = graph.driver.session({ database: graph.database });
  try {
    for (const statement of SCHEMA_STATEMENTS) await session.run(statement);
    await session.run('CALL db.awaitIndexes(120)');
    log(`schema ready: ${SCHEMA_STATEMENTS.length} constraints and indexes`);
  } finally {
    await session.close();
  }
}
