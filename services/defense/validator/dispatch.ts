import type { RpcTransaction } from '../../../chains/ethereum/types.ts';
import type { Logger } from '../../../common/logger.ts';
import { alertId } from '../../../protocol/ids.ts';
import { type FindingJob, attackerContractsOf } from '../../../protocol/ingest.ts';
import { type IngestQueue, enqueueIngest } from '../../../queues/ingestion.ts';
import {
  type AlertNotice,
  type DefenseActionError,
  type Delivery,
  type PauseAgent,
  type PauseResult,
  sendTelegram,
  sendWebhook,
} from '../actions.ts';
import type { InvariantConsensus } from '../consensus.ts';
import { type RegisteredInvariant, protectedContracts } from '../registry.ts';
import type { DefenseMetrics } from './metrics.ts';
import { type OutcomeRecorder, outcomeReason } from './outcomes.ts';
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
  /** Where each action's outcome goes (validator/outcomes.ts); none recorded without it. */
  outcomes?: OutcomeRecorder;
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

  const alertOf = (inv: RegisteredInvariant, tx: RpcTransaction) =>
    alertId({ chainId: deps.chainId, tx: { hash: lower(tx.hash)! }, invariant: { id: inv.id } });

  async function pause(inv: RegisteredInvariant, tx: RpcTransaction, report: RoundReport) {
    const index = inv.actions.findIndex((a) => a.kind === 'pause');
    const action = inv.actions[index];
    if (!action || action.kind !== 'pause') return null;
    const outcome = { alertId: alertOf(inv, tx), index, action: 'pause' as const };
    if (!deps.pauseAgent) {
      deps.log.warn({ invariant: inv.id }, 'pause action configured but no guardian key: not paused');
      actions.inc({ kind: 'pause', result: 'no-guardian' });
      deps.outcomes?.record({ ...outcome, status: 'failed', detail: 'no guardian key configured: not sent' });
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
      if (r.hash && deps.outcomes) {
        // deduped/covered: a pause already sent for this incident, watched against this attack.
        const detail = r.status === 'sent' ? `nonce ${r.nonce}` : `${r.status} (nonce ${r.nonce ?? '?'})`;
        deps.outcomes.record({ ...outcome, status: 'sent', txHash: r.hash, detail });
        const w = { ...outcome, pauseHash: r.hash, attackHash: lower(tx.hash)! };
        deps.track(deps.outcomes.watchPause(w));
      }
      return r;
    } catch (e) {
      actions.inc({ kind: 'pause', result: 'failed' });
      deps.outcomes?.record({ ...outcome, status: 'failed', detail: outcomeReason(e, []) });
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
      attackerContracts: attackerContractsOf(tx, protectedContracts(inv)),
      consensus: { violated: c.votes.violated, total: c.asked, miners: c.agreeing },
      validator: { hotkey: deps.id },
      raisedAt,
    };
    return job;
  }

  function notice(v: Violation): AlertNotice {
    const { invariant: inv, consensus: c, tx } = v;
    return {
      alertId: alertOf(inv, tx),
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
    const id = alertOf(v.invariant, v.tx);
    const sent = (kind: 'webhook' | 'telegram', index: number, p: Promise<Delivery>, secrets: string[]) =>
      deps.track(
        p.then(
          (d) => {
            actions.inc({ kind, result: 'sent' });
            const detail = `HTTP ${d.status} after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`;
            deps.outcomes?.record({ alertId: id, index, action: kind, status: 'delivered', detail });
          },
          (e) => {
            actions.inc({ kind, result: 'failed' });
            deps.log.error({ err: (e as Error).message }, `${kind} failed`);
            const n = (e as DefenseActionError).attempts;
            const detail = `${outcomeReason(e, secrets)}${n ? ` (${n} attempt${n === 1 ? '' : 's'})` : ''}`;
            deps.outcomes?.record({ alertId: id, index, action: kind, status: 'failed', detail });
          },
        ),
      );
    let body: AlertNotice | undefined;
    for (const [index, a] of v.invariant.actions.entries()) {
      if (a.kind === 'webhook') {
        if (!deps.notifiers?.webhookSecret) {
          deps.log.warn(
            { invariant: v.invariant.id },
            'webhook action but DEFENSE_WEBHOOK_SECRET is not set: not sent',
          );
          continue;
        }
        body ??= notice(v);
        const { webhookSecret } = deps.notifiers;
        sent('webhook', index, sendWebhook({ url: a.url, secret: webhookSecret, notice: body }), [
          a.url,
          webhookSecret,
        ]);
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
          index,
          sendTelegram({ baseUrl: t.baseUrl, token: t.token, chatId: a.chatId, notice: body }),
          [t.token],
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
