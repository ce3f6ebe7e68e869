import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ServiceUnavailableError } from '../common/errors.ts';
import type { FindingJob, IngestJob, SubgraphJob } from './payloads.ts';
import { alertId } from '../graph/ingest.ts';

/** The queue of validator-accepted subgraphs and consensus findings waiting to be merged into Neo4j. */
export const INGEST_QUEUE = 'ingest';

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

/** Exponential from 500 ms, capped at 30 s: about 15 minutes of retries over 40 attempts. */
export function ingestBackoff(attemptsMade: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, attemptsMade - 1));
}

export type IngestQueue = Queue<IngestJob, unknown, IngestJob['kind']>;

export function createIngestQueue(connection: Redis, prefix: string): IngestQueue {
  return new Queue(INGEST_QUEUE, { connection, prefix, defaultJobOptions: INGEST_JOB_OPTIONS });
}

/** Job ids derive from the payload's identity, so enqueueing the same answer twice queues it once. */
export function ingestJobId(job: IngestJob): string {
  return job.kind === 'subgraph' ? `subgraph:${job.submissionId}` : `finding:${alertId(job)}`;
}

export async function enqueueIngest(queue: IngestQueue, job: SubgraphJob | FindingJob): Promise<string> {
  try {
    const added = await queue.add(job.kind, job, { jobId: ingestJobId(job).replaceAll(':', '_') });
    return added.id!;
  } catch (err) {
    throw new ServiceUnavailableError('could not enqueue the ingestion job: Redis did not accept it', {
      details: (err as Error).message,
      cause: err,
    });
  }
}
