import type { RpcTransaction } from '../../../chains/ethereum/types.ts';
import type { Logger } from '../../../common/logger.ts';
import { alertId } from '../../../protocol/ids.ts';
import { type FindingJob, attackerContractsOf } from '../../../protocol/ingest.ts';
import { type IngestQueue, enqueueIngest } from '../../../queues/ingestion.ts';
import {
  type AlertNotice,
  type PauseAgent,
  type PauseResult,
  sendTelegram,
  sendWebhook,
} from '../actions.ts';
import type { InvariantConsensus } from '../consensus.ts';
import type { RegisteredInvariant } from '../registry.ts';
import type { DefenseMetrics } from './metrics.ts';
import { type RoundReport, lower } from './types.ts';

export interface Notifiers {
  webhookSecret: string;
  telegram: { baseUrl: string; token: string };
}

/** One violation the miners' consensus decided, after its pause and finding were dispatched. */
export interface Violation {
  invariant: RegisteredInvariant;
  consensus: InvariantConsensus;
  tx: RpcTransaction;
  report: RoundReport;
  pause: PauseResult | null;
  raisedAt: string;
}

export interface DispatchDeps {
  id: string;
  chainId: number;
  ingest: IngestQueue;
  log: Logger;
  metrics: DefenseMetrics;
  pauseAgent?: PauseAgent;
  notifiers?: Notifiers;
  /**
   * Called once per decided violation after the pause and the finding (not awaited; a throw is
   * logged). The seam for what else a violation should start (an attacker's trail, ...).
   */
  onViolation?: (v: Violation) => void | Promise<void>;
  /** Holds notifications sent in the background until the validator closes. */
  track: (p: Promise<unknown>) => void;
}

/** Runs an invariant's defense actions: pause first (it races the attack), the finding in parallel, notifications after. */
export type Dispatch = (
  inv: RegisteredInvariant,
  c: InvariantConsensus,
  tx: RpcTransaction,
  report: RoundReport,
) => Promise<void>;

export function createDispatch(deps: DispatchDeps): Dispatch {
  const { actions, toPause } = deps.metrics;

  async function pause(inv: RegisteredInvariant, tx: RpcTransaction, report: RoundReport) {
    const action = inv.actions.find((a) => a.kind === 'pause');
    if (!action || action.kind !== 'pause') return null;
    if (!deps.pauseAgent) {
      deps.log.warn({ invariant: inv.id }, 'pause action configured but no guardian key: not paused');
      actions.inc({ kind: 'pause', result: 'no-guardian' });
      return null;
    }
    const contract = action.contract ?? inv.contract;
    try {
      const r = await deps.pauseAgent.pause({
        contract,
        signature: action.signature,
        attack: tx,
        incident: lower(tx.from)!,
      });
      report.pauses.push(r);
      report.marks.paused ??= performance.now();
      if (r.status === 'sent' || r.status === 'replaced')
        toPause.observe((performance.now() - report.marks.seen) / 1000);
      actions.inc({ kind: 'pause', result: r.status });
      deps.log.warn({ contract, tx: tx.hash, status: r.status, pauseTx: r.hash }, 'pause');
      return r;
    } catch (e) {
      actions.inc({ kind: 'pause', result: 'failed' });
      deps.log.error({ err: (e as Error).message, contract: inv.contract }, 'pause failed');
      return null;
    }
  }

  function finding(inv: RegisteredInvariant, c: InvariantConsensus, tx: RpcTransaction, raisedAt: string) {
    const job: FindingJob = {
      kind: 'finding',
      chain: 'ethereum',
      chainId: deps.chainId,
      severity: inv.severity,
      invariant: { id: inv.id, contract: inv.contract, kind: inv.kind, description: inv.description },
      tx: {
        hash: lower(tx.hash)!,
        from: lower(tx.from)!,
        to: lower(tx.to),
        nonce: Number(BigInt(tx.nonce)),
        blockNumber: null,
      },
      observed: { before: c.before, after: c.after },
      attackerContracts: attackerContractsOf(tx, [
        inv.contract,
        ...inv.actions.flatMap((a) => (a.kind === 'pause' && a.contract ? [a.contract] : [])),
      ]),
      consensus: { violated: c.votes.violated, total: c.asked, miners: c.agreeing },
      validator: { hotkey: deps.id },
      raisedAt,
    };
    return job;
  }

  function notice(v: Violation): AlertNotice {
    const { invariant: inv, consensus: c, tx } = v;
    return {
      alertId: alertId({
        chainId: deps.chainId,
        tx: { hash: lower(tx.hash)! } as FindingJob['tx'],
        invariant: { id: inv.id } as FindingJob['invariant'],
      }),
      chainId: deps.chainId,
      severity: inv.severity,
      contract: inv.contract,
      invariant: { id: inv.id, kind: inv.kind, description: inv.description },
      tx: { hash: lower(tx.hash)!, from: lower(tx.from)!, to: lower(tx.to) },
      before: c.before,
      after: c.after,
      votes: { violated: c.votes.violated, total: c.asked },
      raisedAt: v.raisedAt,
      pause: v.pause?.hash ? { hash: v.pause.hash } : null,
    };
  }

  /** Each notification in the background: counted and logged, never awaited by the round. */
  function notify(v: Violation) {
    const sent = (kind: string, p: Promise<unknown>) =>
      deps.track(
        p.then(
          () => actions.inc({ kind, result: 'sent' }),
          (e) => {
            actions.inc({ kind, result: 'failed' });
            deps.log.error({ err: (e as Error).message }, `${kind} failed`);
          },
        ),
      );
    let body: AlertNotice | undefined;
    for (const a of v.invariant.actions) {
      if (a.kind === 'webhook') {
        if (!deps.notifiers?.webhookSecret) {
          deps.log.warn(
            { invariant: v.invariant.id },
            'webhook action but DEFENSE_WEBHOOK_SECRET is not set: not sent',
          );
          continue;
        }
        body ??= notice(v);
        sent('webhook', sendWebhook({ url: a.url, secret: deps.notifiers.webhookSecret, notice: body }));
      } else if (a.kind === 'telegram') {
        const t = deps.notifiers?.telegram;
        if (!t?.token) {
          deps.log.warn(
            { invariant: v.invariant.id },
            'telegram action but DEFENSE_TELEGRAM_BOT_TOKEN is not set: not sent',
          );
          continue;
        }
        body ??= notice(v);
        sent(
          'telegram',
          sendTelegram({ baseUrl: t.baseUrl, token: t.token, chatId: a.chatId, notice: body }),
        );
      }
    }
  }

  return async (inv, c, tx, report) => {
    const raisedAt = new Date().toISOString();
    const queueing = enqueueIngest(deps.ingest, finding(inv, c, tx, raisedAt)).then(
      (jobId) => {
        report.findings.push(jobId);
        report.marks.queued ??= performance.now();
      },
      (e) => deps.log.error({ err: (e as Error).message, tx: tx.hash }, 'finding not queued'),
    );
    const [paused] = await Promise.all([pause(inv, tx, report), queueing]);
    const v: Violation = { invariant: inv, consensus: c, tx, report, pause: paused, raisedAt };
    notify(v);
    if (deps.onViolation)
      deps.track(
        Promise.resolve()
          .then(() => deps.onViolation!(v))
          .catch((e) => deps.log.warn({ err: (e as Error).message, tx: tx.hash }, 'onViolation failed')),
      );
  };
}
