import type { Session } from 'neo4j-driver';
import pRetry from 'p-retry';
import { type Log, silentLogger } from '../common/logger.ts';
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
  // graph/outcomes.ts: one node per (alert, action), MERGEd by id.
  'CREATE CONSTRAINT action_outcome_id IF NOT EXISTS FOR (o:ActionOutcome) REQUIRE o.id IS UNIQUE',
  'CREATE CONSTRAINT invariant_id IF NOT EXISTS FOR (i:Invariant) REQUIRE i.id IS UNIQUE',
  'CREATE CONSTRAINT transaction_key IF NOT EXISTS FOR (t:Transaction) REQUIRE (t.chain, t.hash) IS UNIQUE',
  'CREATE INDEX alert_raised_at IF NOT EXISTS FOR (a:Alert) ON (a.raisedAt)',
  'CREATE INDEX alert_severity IF NOT EXISTS FOR (a:Alert) ON (a.severity)',
  // One uniqueness constraint per relationship type: the identity derived from evidence.
  ...RELATIONSHIP_TYPES.map(
    (t) =>
      `CREATE CONSTRAINT rel_${t.toLowerCase()}_id IF NOT EXISTS FOR ()-[r:${t}]-() REQUIRE r.id IS UNIQUE`,
  ),
  ...RELATIONSHIP_TYPES.map(
    (t) => `CREATE INDEX rel_${t.toLowerCase()}_block IF NOT EXISTS FOR ()-[r:${t}]-() ON (r.blockNumber)`,
  ),
  // Investigation (graph/investigate): amount ranges, time windows, investigator tags.
  ...RELATIONSHIP_TYPES.map(
    (t) => `CREATE INDEX rel_${t.toLowerCase()}_amount IF NOT EXISTS FOR ()-[r:${t}]-() ON (r.amountValue)`,
  ),
  ...RELATIONSHIP_TYPES.map(
    (t) => `CREATE INDEX rel_${t.toLowerCase()}_time IF NOT EXISTS FOR ()-[r:${t}]-() ON (r.timestamp)`,
  ),
  'CREATE CONSTRAINT tag_key IF NOT EXISTS FOR (t:Tag) REQUIRE (t.chain, t.address, t.label, t.source) IS UNIQUE',
  'CREATE INDEX tag_wallet IF NOT EXISTS FOR (t:Tag) ON (t.chain, t.address)',
  'CREATE INDEX tag_label IF NOT EXISTS FOR (t:Tag) ON (t.label)',
  // Saved investigations (graph/investigate/cases.ts): opened by id, listed newest first.
  'CREATE CONSTRAINT case_id IF NOT EXISTS FOR (c:Case) REQUIRE c.id IS UNIQUE',
  'CREATE INDEX case_updated_at IF NOT EXISTS FOR (c:Case) ON (c.updatedAt)',
  // Defense (services/defense/invariantStore.ts, graph/alerts.ts searchAlerts): registry and alert filters.
  'CREATE CONSTRAINT defense_action_id IF NOT EXISTS FOR (d:DefenseAction) REQUIRE d.id IS UNIQUE',
  'CREATE INDEX invariant_chain IF NOT EXISTS FOR (i:Invariant) ON (i.chainId)',
  'CREATE INDEX alert_contract IF NOT EXISTS FOR (a:Alert) ON (a.contract)',
  'CREATE INDEX alert_tx IF NOT EXISTS FOR (a:Alert) ON (a.txHash)',
  'CREATE INDEX alert_sender IF NOT EXISTS FOR (a:Alert) ON (a.sender)',
  'CREATE INDEX alert_invariant IF NOT EXISTS FOR (a:Alert) ON (a.invariantId)',
];

const ALREADY_EXISTS = new Set([
  'Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists',
  'Neo.ClientError.Schema.IndexAlreadyExists',
  'Neo.ClientError.Schema.ConstraintAlreadyExists',
]);

/**
 * Services starting together race on the same schema: the loser of an IF NOT EXISTS is told the
 * rule already exists (fine), or the schema locks deadlock (transient: try again, 8 attempts).
 */
export async function applyOne(session: Session, statement: string, attempts = 8): Promise<void> {
  const codeOf = (err: unknown) => (err as { code?: string }).code ?? '';
  await pRetry(
    async () => {
      try {
        await session.run(statement);
      } catch (err) {
        if (!ALREADY_EXISTS.has(codeOf(err))) throw err;
      }
    },
    {
      retries: attempts - 1,
      minTimeout: 50,
      maxTimeout: 1000,
      randomize: true,
      shouldRetry: ({ error }) => codeOf(error).startsWith('Neo.TransientError.'),
    },
  );
}

export async function applyMigrations(graph: Graph, log: Log = silentLogger): Promise<void> {
  const session = graph.driver.session({ database: graph.database });
  try {
    for (const statement of SCHEMA_STATEMENTS) await applyOne(session, statement);
    await session.run('CALL db.awaitIndexes(120)');
    log.info({ constraintsAndIndexes: SCHEMA_STATEMENTS.length }, 'schema ready');
  } finally {
    await session.close();
  }
}
