import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../common/config.ts';
import { createShutdown } from '../../common/shutdown.ts';
import type { Graph } from '../../graph/driver.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue } from '../../queues/ingestion.ts';
import {
  openTestGraph,
  redisUrl,
  silentLogger,
  startTestIngestWorker,
  uniquePrefix,
} from '../../test/services.ts';
import { type DefenseScenarioResult, runDefenseScenario } from './demoScenario.ts';

// The demo's BitDefense step against the test services, with the ingest worker the demo runs.
describe('the demo defense scenario', () => {
  const prefix = uniquePrefix();
  const chainId = 800_000 + Math.floor(Math.random() * 90_000);
  const idPrefix = `demo-${crypto.randomUUID().slice(0, 8)}`;
  const shutdown = createShutdown();
  const lines: string[] = [];
  let graph: Graph;
  let result: DefenseScenarioResult;

  beforeAll(async () => {
    graph = await openTestGraph();
    shutdown.add('graph', () => graph.close());
    const conn = createRedisConnection(redisUrl(), 'worker');
    shutdown.add('redis', () => conn.disconnect());
    const worker = startTestIngestWorker(conn, prefix, graph, { concurrency: 2, batchSize: 100 });
    shutdown.add('ingest worker', () => worker.close());
    const ingestQueue = createIngestQueue(conn, prefix);
    shutdown.add('ingest queue', () =>
      ingestQueue.obliterate({ force: true }).then(() => ingestQueue.close()),
    );
    result = await runDefenseScenario({
      graph,
      redisUrl: redisUrl(),
      prefix,
      ingestQueue,
      log: (l) => lines.push(l),
      shutdown,
      chainId,
      idPrefix,
      logger: silentLogger(),
      // The miners' hotkeys are registered on a subnet of a local chopsticks chain.
      subnet: { specPath: loadConfig().subtensor.specPath },
    });
  }, 420_000);

  afterAll(async () => {
    await shutdown.kill();
  }, 30_000);

  it('the pause lands first in the next block and the attack reverts, the vault intact', () => {
    expect(result.pauseFirst).toBe(true);
    expect(result.attackReverted).toBe(true);
    expect(result.vaultIntact).toBe(true);
    expect(result.attackTx).toMatch(/^0x[0-9a-f]{64}$/);
    expect(result.pauseTx).toMatch(/^0x[0-9a-f]{64}$/);
    expect(result.pauseTx).not.toBe(result.attackTx);
  });

  it('the alerts are in Neo4j with the attack tx hash', async () => {
    expect(result.invariantIds).toEqual([`${idPrefix}-owner`, `${idPrefix}-eth`, `${idPrefix}-tokens`]);
    expect(result.alertIds).toHaveLength(3);
    const res = await graph.read((tx) =>
      tx.run(
        `MATCH (a:Alert)-[:VIOLATES]->(i:Invariant), (a)-[:RAISED_ON]->(c:Wallet)
         WHERE a.id IN $ids RETURN a.txHash AS txHash, i.id AS invariant, c.address AS contract,
                a.sender AS sender, a.severity AS severity`,
        { ids: result.alertIds },
      ),
    );
    const rows = res.records.map((r) => r.toObject());
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.txHash).toBe(result.attackTx);
      expect(row.contract).toBe(result.contract);
      expect(row.sender).toBe(result.attacker);
    }
    expect(rows.find((r) => r.invariant === `${idPrefix}-owner`)?.severity).toBe('critical');
  });

  it('the signed webhook was received with a valid HMAC', () => {
    expect(result.webhookReceived).toBe(true);
    expect(result.webhooks.length).toBeGreaterThanOrEqual(1);
    expect(result.webhooks.every((w) => w.valid)).toBe(true);
    expect(result.webhooks.map((w) => w.alertId)).toContain(result.alertIds[0]);
  });

  it('tells what happened, with the tx hashes', () => {
    const text = lines.join('\n');
    expect(text).toContain(`ATTACK ${result.attackTx}`);
    expect(text).toContain(`PAUSE ${result.pauseTx}`);
    expect(text).toMatch(/pause landed first: yes/);
    expect(text).toMatch(/owner violated [23]\/3/);
  });
});
