import type { Graph } from '../../graph/driver.ts';
import { applyMigrations } from '../../graph/migrations.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { startApiServer } from '../../services/api/server.ts';
import { createAlertPubSub, startAlertFeed } from '../../services/defense/alertFeed.ts';
import { createIngestWorker } from '../../services/ingest/worker.ts';
import { type Runtime, openGraph, serveHealth } from '../runtime.ts';
import { VERSION } from '../version.ts';

/**
 * The GraphQL API with its live alert feed: alerts raised in any process reach this API's
 * `alertRaised` subscribers through Redis pub/sub. Shared by `vigil api` and the demo.
 */
export async function startApi(rt: Runtime, graph: Graph): Promise<{ url: string }> {
  const pubsub = createAlertPubSub();
  const subscriber = createRedisConnection(rt.config.redisUrl, 'worker');
  rt.shutdown.add('alert feed connection', () => subscriber.quit());
  const feed = await startAlertFeed({
    subscriber,
    prefix: rt.config.queuePrefix,
    pubsub,
    onError: (err) => rt.log.warn({ err }, 'bad alert message'),
  });
  rt.shutdown.add('alert feed', () => feed.close());
  const server = await startApiServer({
    graph,
    pubsub,
    log: rt.log,
    version: VERSION,
    keys: rt.config.api.keys,
    readsNeedKey: rt.config.api.readsNeedKey,
    limits: { introspection: rt.config.api.introspection },
    host: rt.config.api.host,
    port: rt.config.api.port,
    registry: rt.registry,
  });
  rt.shutdown.add('api server', () => server.close());
  return server;
}

/** `vigil api`: the GraphQL API for investigators. */
export async function apiCommand(rt: Runtime): Promise<void> {
  const graph = openGraph(rt);
  await graph.verify();
  const server = await startApi(rt, graph);
  rt.log.info({ url: server.url }, 'GraphQL API listening (GraphiQL in a browser at this URL)');
}

/** The ingestion worker on its own Redis connection, closed with the runtime. Shared with the demo. */
export function startIngestWorker(rt: Runtime, graph: Graph) {
  const connection = createRedisConnection(rt.config.redisUrl, 'worker');
  const worker = createIngestWorker({
    connection,
    prefix: rt.config.queuePrefix,
    graph,
    log: rt.log,
    registry: rt.registry,
    concurrency: rt.config.ingest.concurrency,
    batchSize: rt.config.ingest.batchSize,
  });
  rt.shutdown.add('ingest worker redis', () => connection.quit());
  rt.shutdown.add('ingest worker', () => worker.close());
  return { worker, connection };
}

/** `vigil ingest-worker`: merges accepted subgraphs and findings into Neo4j. */
export async function ingestWorkerCommand(rt: Runtime): Promise<void> {
  const graph = openGraph(rt);
  await graph.verify();
  await applyMigrations(graph, (m) => rt.log.info(m));
  const { connection } = startIngestWorker(rt, graph);
  await serveHealth(rt, async () => ({
    redis: (await connection.ping().catch(() => '')) === 'PONG',
    neo4j: await graph.verify().then(
      () => true,
      () => false,
    ),
  }));
  rt.log.info('ingest worker running');
}
