import type { Redis } from 'ioredis';
import { createHealth } from '../../common/health.ts';
import type { Graph } from '../../graph/driver.ts';
import { applyMigrations } from '../../graph/migrations.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { startApiServer } from '../../services/api/server.ts';
import { createAlertPubSub, startAlertFeed } from '../../services/defense/alertFeed.ts';
import { createIngestWorker } from '../../services/ingest/worker.ts';
import { type Runtime, neo4jDependency, openGraph, redisDependency, serveHealth } from '../runtime.ts';
import { VERSION } from '../version.ts';

/**
 * The GraphQL API with its live alert feed: alerts raised in any process reach this API's
 * `alertRaised` subscribers through Redis pub/sub. Shared by `vigil api` and the demo. It listens
 * whether or not Redis and Neo4j answer yet: /health says which is missing (logged too), the feed
 * subscribes once Redis answers, and questions are answered once Neo4j does.
 */
export async function startApi(
  rt: Runtime,
  graph: Graph,
): Promise<{ url: string; consoleUrl: string; ready: Promise<unknown> }> {
  const pubsub = createAlertPubSub();
  const subscriber = createRedisConnection(rt.config.redisUrl, 'worker');
  rt.shutdown.add('alert feed connection', () => closeRedis(subscriber));
  const health = createHealth(
    { redis: redisDependency(rt, subscriber), neo4j: neo4jDependency(rt, graph) },
    { log: rt.log },
  );
  rt.shutdown.add('health monitor', () => health.stop());
  let feed: { close(): Promise<void> } | undefined;
  rt.shutdown.add('alert feed', () => feed?.close());
  void startAlertFeed({
    subscriber,
    prefix: rt.config.queuePrefix,
    pubsub,
    metrics: rt.registry,
    onRefused: (err) => rt.log.warn({ reason: (err as Error).message }, 'alert message refused: dropped'),
  }).then(
    (f) => {
      feed = f;
      rt.log.info('live alert feed subscribed');
    },
    (err) => rt.log.warn({ err: (err as Error).message }, 'live alert feed not subscribed'),
  );
  // A connection of its own: the feed's is in subscriber mode and cannot GET.
  const reader = createRedisConnection(rt.config.redisUrl, 'producer');
  rt.shutdown.add('operator state connection', () => closeRedis(reader));
  const server = await startApiServer({
    graph,
    pubsub,
    operators: { redis: reader, prefix: rt.config.queuePrefix },
    log: rt.log,
    version: VERSION,
    keys: rt.config.api.keys,
    readsNeedKey: rt.config.api.readsNeedKey,
    limits: { introspection: rt.config.api.introspection },
    admission: rt.config.api.admission,
    host: rt.config.api.host,
    port: rt.config.api.port,
    registry: rt.registry,
    health: health.report,
  });
  rt.shutdown.add('api server', () => server.close());
  return server;
}

/** `vigil api`: the GraphQL API for investigators. */
export async function apiCommand(rt: Runtime): Promise<void> {
  const graph = openGraph(rt);
  const server = await startApi(rt, graph);
  rt.log.info(
    { url: server.url, console: server.consoleUrl },
    'GraphQL API listening (GraphiQL in a browser at this URL, the web console at /console/); ready once the common questions answer',
  );
}

/** The ingestion worker on `given` or its own Redis connection, closed with the runtime. Shared with the demo. */
export function startIngestWorker(rt: Runtime, graph: Graph, given?: Redis) {
  const connection = given ?? createRedisConnection(rt.config.redisUrl, 'worker');
  if (!given) rt.shutdown.add('ingest worker redis', () => closeRedis(connection));
  const worker = createIngestWorker({
    connection,
    prefix: rt.config.queuePrefix,
    graph,
    log: rt.log,
    registry: rt.registry,
    concurrency: rt.config.ingest.concurrency,
    batchSize: rt.config.ingest.batchSize,
  });
  rt.shutdown.add('ingest worker', () => worker.close());
  return { worker, connection };
}

/**
 * `vigil ingest-worker`: merges accepted subgraphs and findings into Neo4j. /health answers from the
 * start; while Neo4j does not answer, the migrations are tried again (and logged) before the worker
 * takes jobs; a Redis that is down or lost is waited for by the worker's connection.
 */
export async function ingestWorkerCommand(rt: Runtime): Promise<void> {
  const graph = openGraph(rt);
  const connection = createRedisConnection(rt.config.redisUrl, 'worker');
  rt.shutdown.add('ingest worker redis', () => closeRedis(connection));
  await serveHealth(rt, { redis: redisDependency(rt, connection), neo4j: neo4jDependency(rt, graph) });
  await untilMigrated(rt, graph);
  if (rt.shutdown.signal.aborted) return;
  startIngestWorker(rt, graph, connection);
  rt.log.info('ingest worker running');
}

/** Applies the migrations, trying again every few seconds while Neo4j does not answer. */
async function untilMigrated(rt: Runtime, graph: Graph): Promise<void> {
  for (let wait = 1000; !rt.shutdown.signal.aborted; wait = Math.min(wait * 2, 15_000)) {
    try {
      await applyMigrations(graph, rt.log.child({ component: 'migrations' }));
      return;
    } catch (err) {
      rt.log.warn(
        { err: (err as Error).message.split('\n')[0], retryInMs: wait },
        'migrations not applied: Neo4j does not answer (check NEO4J_URI); trying again',
      );
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** quit() waits for Redis to answer; a connection that is not up is dropped at once. */
const closeRedis = async (conn: Redis) => {
  if (conn.status === 'ready') await conn.quit().catch(() => conn.disconnect());
  else conn.disconnect();
};
