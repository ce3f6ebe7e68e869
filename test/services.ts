import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { inject } from 'vitest';
import { createLogger } from '../common/logger.ts';
import { type Graph, createGraph } from '../graph/driver.ts';
import { applyMigrations } from '../graph/migrations.ts';
import type { SubgraphJob } from '../protocol/ingest.ts';
import { createIngestWorker } from '../services/ingest/worker.ts';

/** Handles on the real services started by test/globalSetup.ts. */
export const redisUrl = (): string => inject('redisUrl');
export const neo4jUri = (): string => inject('neo4jUri');

export async function openTestGraph(uri = neo4jUri()): Promise<Graph> {
  const graph = createGraph({
    uri,
    user: 'neo4j',
    password: '',
    database: 'neo4j',
    maxTransactionRetryTimeMs: 5000,
  });
  await applyMigrations(graph);
  return graph;
}

/** A queue prefix of its own per test, so jobs of parallel tests never meet. */
export const uniquePrefix = (): string => `vigiltest-${crypto.randomUUID().slice(0, 8)}`;

export const silentLogger = () => createLogger({ level: 'silent', name: 'test' });

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A real ingest worker on its own Redis connection (a duplicate of `conn`), silent, own metrics. */
export function startTestIngestWorker(
  conn: Redis,
  prefix: string,
  graph: Graph,
  opts: { concurrency: number; batchSize: number; lockDurationMs?: number; stalledIntervalMs?: number },
) {
  return createIngestWorker({
    connection: conn.duplicate(),
    prefix,
    graph,
    log: silentLogger(),
    registry: new Registry(),
    ...opts,
  });
}

/** What landed in Neo4j of `jobs`: wallets, relationships between them, submissions. */
export async function landedSubgraphs(graph: Graph, jobs: SubgraphJob[]) {
  const res = await graph.read((tx) =>
    tx.run(
      `MATCH (w:Wallet) WHERE w.address IN $addresses
       OPTIONAL MATCH (w)-[r]->(:Wallet)
       RETURN count(DISTINCT w) AS nodes, count(DISTINCT r) AS rels,
              COUNT { (s:Submission) WHERE s.id IN $ids } AS submissions`,
      { addresses: jobs.flatMap((j) => j.nodes.map((n) => n.address)), ids: jobs.map((j) => j.submissionId) },
    ),
  );
  // No row when no wallet matched (COUNT {} makes the projection grouped): nothing landed yet.
  const row = res.records[0];
  if (!row) return { nodes: 0, rels: 0, submissions: 0 };
  return { nodes: row.get('nodes'), rels: row.get('rels'), submissions: row.get('submissions') };
}
