import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue } from '../../queues/ingestion.ts';
import type { Runtime } from '../runtime.ts';

/** `vigil ingest stats|retry-failed`: see the queue, and re-queue jobs that failed for good. */
export async function ingestAdminCommand(rt: Runtime, args: string[]): Promise<void> {
  const connection = createRedisConnection(rt.config.redisUrl, 'producer');
  const queue = createIngestQueue(connection, rt.config.queuePrefix);
  try {
    const sub = args[0] ?? 'stats';
    if (sub === 'stats') {
      console.log(JSON.stringify(await queue.getJobCounts(), null, 2));
    } else if (sub === 'retry-failed') {
      const failed = await queue.getFailed(0, -1);
      for (const job of failed) await job.retry('failed');
      console.log(`re-queued ${failed.length} failed ingestion job(s)`);
    } else {
      throw new Error(`unknown ingest command "${sub}": use "stats" or "retry-failed"`);
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
