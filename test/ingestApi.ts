import { QueueEvents } from 'bullmq';
import type { Graph } from '../graph/driver.ts';
import { createRedisConnection } from '../queues/connection.ts';
import { createIngestQueue, enqueueIngest } from '../queues/ingestion.ts';
import type { ApiHandler } from '../services/api/server.ts';
import { createTestApi } from './api.ts';
import { openTestGraph, redisUrl, startTestIngestWorker, uniquePrefix } from './services.ts';

/** The test API over a real ingest queue and worker: `ingest` resolves once the worker stored the job. */
export interface IngestApi {
  graph: Graph;
  yoga: ApiHandler;
  ingest(job: Parameters<typeof enqueueIngest>[1]): Promise<void>;
  /** POSTs a GraphQL request to the API; the answer's body as sent. */
  ask(query: string, variables?: Record<string, unknown>): Promise<GraphqlBody>;
  close(): Promise<void>;
}

export interface GraphqlBody {
  data?: Record<string, any>;
  errors?: { message: string; extensions?: any }[];
}

export async function startIngestApi(): Promise<IngestApi> {
  const prefix = uniquePrefix();
  const [producer, workerConn, eventsConn] = [1, 2, 3].map(() => createRedisConnection(redisUrl(), 'worker'));
  const graph = await openTestGraph();
  const queue = createIngestQueue(producer!, prefix);
  const events = new QueueEvents('ingest', { connection: eventsConn!, prefix });
  await events.waitUntilReady();
  const worker = startTestIngestWorker(workerConn!, prefix, graph, { concurrency: 1, batchSize: 10 });
  const yoga = createTestApi({ graph });
  return {
    graph,
    yoga,
    ask: async (query, variables = {}) => {
      const res = await yoga.fetch('http://vigil.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GraphqlBody;
    },
    ingest: async (job) => {
      const j = await queue.getJob(await enqueueIngest(queue, job));
      await j!.waitUntilFinished(events, 60_000);
    },
    close: async () => {
      await worker.close();
      await events.close();
      await queue.close();
      await Promise.all([producer!.quit(), workerConn!.quit(), eventsConn!.quit()]);
      await graph.close();
    },
  };
}
