import { UsageError } from '../../common/errors.ts';
import { createRedisConnection, requireRedis } from '../../queues/connection.ts';
import { createIngestQueue } from '../../queues/ingestion.ts';
import { DEPENDENCY_WAIT_MS, type Runtime } from '../runtime.ts';

/** `vigil ingest stats|retry-failed`: see the queue, and re-queue jobs that failed for good. */
export async function ingestAdminCommand(rt: Runtime, args: string[]): Promise<void> {
  const sub = args[0] ?? 'stats';
  if (sub !== 'stats' && sub !== 'retry-failed')
    throw new UsageError(`unknown ingest command "${sub}": use "stats" or "retry-failed"`);
  // BullMQ waits for Redis without limit: ask once, bounded, so a wrong REDIS_URL fails at once.
  await requireRedis(rt.config.redisUrl, DEPENDENCY_WAIT_MS);
  const connection = createRedisConnection(rt.config.redisUrl, 'producer');
  const queue = createIngestQueue(connection, rt.config.queuePrefix);
  try {
    if (sub === 'stats') {
      console.log(JSON.stringify(await queue.getJobCounts(), null, 2));
    } else {
      const failed = await queue.getFailed(0, -1);
      for (const job of failed) await job.retry('failed');
      console.log(`re-queued ${failed.length} failed ingestion job(s)`);
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
