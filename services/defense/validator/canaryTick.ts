import type { Logger } from '../../../common/logger.ts';
import { type CanaryMaker, createCanaryPlan } from '../canaries.ts';
import type { RegisteredInvariant } from '../registry.ts';
import type { RewardBook } from '../rewards.ts';
import type { DefenseMetrics } from './metrics.ts';
import type { MinerPool } from './minerPool.ts';
import type { Rounds } from './round.ts';
import type { RoundReport } from './types.ts';

export interface CanaryRunner {
  /** Sends one canary now; resolves when its round is closed, null if none was made. */
  run(): Promise<RoundReport | null>;
  /** Starts the timer that fires the canaries due (only with a maker, a reward book and canaries per epoch). */
  start(): void;
  stop(): void;
}

export interface CanaryRunnerDeps {
  canaries?: CanaryMaker;
  rewards?: RewardBook;
  perEpoch: number;
  k: number;
  /** The round deadline: canaries are sent early enough in an epoch to close in it. */
  deadlineMs?: number;
  /** The registered invariants and the head, read now (the head is moved on by the caller). */
  current(): Promise<{ list: RegisteredInvariant[]; head: number }>;
  pool: MinerPool;
  rounds: Rounds;
  metrics: DefenseMetrics;
  log: Logger;
  track(p: Promise<unknown>): void;
  closed(): boolean;
}

/**
 * Canaries: made and checked by the validator's engine (canaries.ts), sent to the miners served
 * least this epoch. Their times are drawn per reward epoch (createCanaryPlan); a timer fires them.
 */
export function createCanaryRunner(deps: CanaryRunnerDeps): CanaryRunner {
  const plan =
    deps.canaries && deps.rewards && deps.perEpoch > 0
      ? createCanaryPlan({
          perMiner: deps.perEpoch,
          k: deps.k,
          epochMs: deps.rewards.epochMs,
          closeMs: deps.deadlineMs,
        })
      : undefined;
  let timer: NodeJS.Timeout | undefined;

  async function run(): Promise<RoundReport | null> {
    if (deps.closed() || !deps.canaries) return null;
    const seen = performance.now();
    const skip = (result: string, reason: string) => {
      deps.metrics.canaries.inc({ result });
      deps.log.warn({ reason }, 'no canary sent');
      return null;
    };
    const { list, head } = await deps.current();
    const live = await deps.pool.live();
    if (list.length === 0) return skip('no-invariant', 'no invariant registered for this chain');
    if (live.length === 0) return skip('no-miners', 'no live defense miner');
    const made = await deps.canaries.make(list, head);
    if ('skipped' in made) return skip('none-violating', made.skipped);
    const asked = plan ? plan.pick(live) : deps.pool.pick(live);
    const opened = await deps.rounds.open({
      tx: made.tx,
      list,
      asked,
      priorTxs: [],
      head,
      seen,
      canary: made,
    });
    deps.metrics.canaries.inc({ result: 'sent' });
    return deps.rounds.close(opened);
  }

  async function tick() {
    const book = deps.rewards!;
    book.rollEpoch();
    const live = await deps.pool.live();
    const due = plan!.due(Date.now(), { number: book.epoch, startedAt: book.startedAt }, live.length);
    for (let i = 0; i < due; i++)
      deps.track(
        run().catch((e) => {
          deps.metrics.canaries.inc({ result: 'failed' });
          deps.log.warn({ err: (e as Error).message }, 'canary failed');
        }),
      );
  }

  return {
    run,
    start() {
      if (!plan || timer) return;
      const every = Math.min(1000, Math.max(50, deps.rewards!.epochMs / 100));
      timer = setInterval(() => {
        tick().catch((e) => deps.log.warn({ err: (e as Error).message }, 'canary tick failed'));
      }, every);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
