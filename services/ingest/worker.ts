import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { Counter, Histogram, type Registry } from 'prom-client';
import { InvalidPayloadError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { oneAtATime } from '../../common/serial.ts';
import type { Graph } from '../../graph/driver.ts';
import { writeFinding, writeSubgraph } from '../../graph/ingest.ts';
import { writeOutcome } from '../../graph/outcomes.ts';
import { type IngestJob, parseIngestJob } from '../../protocol/ingest.ts';
import { INGEST_QUEUE } from '../../protocol/keys.ts';
import { ingestBackoff } from '../../queues/ingestion.ts';
import { publishAlertEvent } from '../defense/alertFeed.ts';

export interface IngestWorkerDeps {
  connection: Redis;
  prefix: string;
  graph: Graph;
  log: Logger;
  registry: Registry;
  concurrency: number;
  batchSize: number;
  /** A dead worker's job goes back to the queue after this long without a lock renewal. */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker died. */
  stalledIntervalMs?: number;
  /** Publish each stored alert on Redis for live `alertRaised` subscriptions (default true). */
  publishAlerts?: boolean;
}

export interface IngestResult {
  kind: IngestJob['kind'];
  nodes: number;
  edges: number;
  batches: number;
  alertId?: string;
}

/**
 * Consumes the ingestion queue. A payload that fails validation fails at once with the reason
 * (UnrecoverableError, nothing written); a Neo4j fault is thrown as is, so BullMQ retries the
 * job with a capped backoff. Writes are idempotent, so a retried or re-delivered job lands once.
 */
export function createIngestWorker(deps: IngestWorkerDeps): Worker<IngestJob, IngestResult> {
  const jobs = new Counter({
    name: 'vigil_ingest_jobs_total',
    help: 'Ingestion jobs by kind and outcome',
    labelNames: ['kind', 'outcome'],
    registers: [deps.registry],
  });
  const rows = new Counter({
    name: 'vigil_ingest_rows_total',
    help: 'Nodes and relationships written',
    labelNames: ['what'],
    registers: [deps.registry],
  });
  const duration = new Histogram({
    name: 'vigil_ingest_job_seconds',
    help: 'Time to write one ingestion job',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
    registers: [deps.registry],
  });

  const process = async (job: Job<IngestJob, IngestResult>): Promise<IngestResult> => {
    let payload: IngestJob;
    try {
      payload = parseIngestJob(job.data);
    } catch (err) {
      if (err instanceof InvalidPayloadError) {
        jobs.inc({ kind: String(job.name), outcome: 'invalid' });
        deps.log.warn({ jobId: job.id, issues: err.issues }, 'rejected invalid ingestion payload');
        throw new UnrecoverableError(err.message);
      }
      throw err;
    }
    const end = duration.startTimer();
    try {
      // A job started before may have stored its alert and died before announcing it.
      return await write(payload, job.attemptsStarted > 1);
    } catch (err) {
      // Same identity, other wallets: the evidence contradicts a stored fact. Retrying cannot help.
      if ((err as { code?: string }).code === 'Neo.ClientError.Schema.ConstraintValidationFailed') {
        jobs.inc({ kind: payload.kind, outcome: 'conflict' });
        throw new UnrecoverableError(`conflicting evidence: ${(err as Error).message}`);
      }
      throw err;
    } finally {
      end();
    }
  };

  // Subgraph writes of this worker go one at a time; parsing and validation of the next jobs go
  // on meanwhile. Two subgraphs written at once deadlock in Neo4j on their shared wallets (about
  // one transaction in ten in bench:ingest), and each deadlock re-runs a whole batch. Findings
  // skip the line: an alert must not wait behind a 10,000-row batch.
  const writeSerially = oneAtATime();

  const write = async (payload: IngestJob, startedBefore: boolean): Promise<IngestResult> => {
    if (payload.kind === 'finding') {
      const { alert, created } = await writeFinding(deps.graph, payload);
      jobs.inc({ kind: 'finding', outcome: 'ok' });
      // A finding stored before by another job is not announced again; by an earlier attempt of
      // this job, it is (at least once: that attempt may have died before announcing).
      if ((created || startedBefore) && deps.publishAlerts !== false) {
        // Live feed only: the alert is stored, a lost event must not fail (and re-run) the job.
        await publishAlertEvent(deps.connection, deps.prefix, alert).catch((err) =>
          deps.log.warn({ alertId: alert.id, err: (err as Error).message }, 'alert stored but not published'),
        );
      }
      return { kind: 'finding', nodes: 0, edges: 0, batches: 1, alertId: alert.id };
    }
    if (payload.kind === 'outcome') {
      // Before its alert is stored (the finding still queued) this throws and BullMQ retries.
      const alert = await writeOutcome(deps.graph, payload);
      jobs.inc({ kind: 'outcome', outcome: 'ok' });
      // The alert is sent again on the alertRaised feed: live cards update their actions.
      if (deps.publishAlerts !== false)
        await publishAlertEvent(deps.connection, deps.prefix, alert).catch((err) =>
          deps.log.warn(
            { alertId: alert.id, err: (err as Error).message },
            'outcome stored but not published',
          ),
        );
      return { kind: 'outcome', nodes: 0, edges: 0, batches: 1, alertId: alert.id };
    }
    const stats = await writeSerially(() =>
      writeSubgraph(deps.graph, payload, { batchSize: deps.batchSize }),
    );
    jobs.inc({ kind: 'subgraph', outcome: 'ok' });
    rows.inc({ what: 'nodes' }, stats.nodes);
    rows.inc({ what: 'edges' }, stats.edges);
    return { kind: 'subgraph', ...stats };
  };

  const worker = new Worker<IngestJob, IngestResult>(INGEST_QUEUE, process, {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: deps.concurrency,
    settings: { backoffStrategy: (attemptsMade: number) => ingestBackoff(attemptsMade) },
    lockDuration: deps.lockDurationMs ?? 60_000,
    stalledInterval: deps.stalledIntervalMs ?? 30_000,
    maxStalledCount: 10,
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!(err instanceof UnrecoverableError))
      jobs.inc({ kind: job.name, outcome: final ? 'failed' : 'retry' });
    deps.log[final ? 'error' : 'warn'](
      { jobId: job.id, attempt: job.attemptsMade, err: err.message },
      final ? 'ingestion job failed for good (kept in the failed set)' : 'ingestion job failed, will retry',
    );
  });
  worker.on('error', (err) => deps.log.error({ err: err.message }, 'ingest worker error'));
  return worker;
}
