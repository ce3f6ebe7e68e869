import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import pTimeout from 'p-timeout';
import { ServiceUnavailableError } from '../common/errors.ts';
import { ingestJobId } from '../protocol/ids.ts';
import { type IngestJob, checkJobSize } from '../protocol/ingest.ts';
import { INGEST_QUEUE } from '../protocol/keys.ts';

/**
 * Attempts are many and spaced by a capped backoff (see INGEST_BACKOFF) so a Neo4j outage of
 * several minutes loses nothing; failed jobs are kept for `vigil ingest retry-failed`.
 */
export const INGEST_JOB_OPTIONS: JobsOptions = {
  attempts: 40,
  backoff: { type: 'capped', delay: 500 },
  removeOnComplete: { count: 10_000 },
  removeOnFail: false,
};

/**
 * Exponential from 500 ms, capped at 30 s: 39 waits between 40 attempts, 0.5+1+2+4+8+16 s then
 * 33 × 30 s = 1,021.5 s, about 17 minutes.
 */
export function ingestBackoff(attemptsMade: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, attemptsMade - 1));
}

export type IngestQueue = Queue<IngestJob, unknown, IngestJob['kind']>;

export function createIngestQueue(connection: Redis, prefix: string): IngestQueue {
  return new Queue(INGEST_QUEUE, { connection, prefix, defaultJobOptions: INGEST_JOB_OPTIONS });
}

/**
 * Adds a job, failing within `timeoutMs` if Redis does not take it, and at once (InvalidPayloadError)
 * if it exceeds JOB_LIMITS. Safe to call again after a
 * failure: the job id is the payload's identity, so a late first add and a retry queue it once.
 */
export async function enqueueIngest(
  queue: IngestQueue,
  job: IngestJob,
  { timeoutMs = 5000 } = {},
): Promise<string> {
  // Too big to write in one transaction: refused here with the reason, before Redis holds it.
  checkJobSize(job);
  try {
    const added = await pTimeout(queue.add(job.kind, job, { jobId: ingestJobId(job).replaceAll(':', '_') }), {
      milliseconds: timeoutMs,
      message: `no answer from Redis within ${timeoutMs} ms`,
    });
    return added.id!;
  } catch (err) {
    throw new ServiceUnavailableError('could not enqueue the ingestion job: Redis did not accept it', {
      details: (err as Error).message,
      cause: err,
    });
  }
}
