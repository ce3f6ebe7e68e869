import type { JsonRpcClient } from '../../../chains/ethereum/rpc.ts';
import type { Logger } from '../../../common/logger.ts';
import { MASK, redactUrl, redactUrlsIn } from '../../../common/redact.ts';
import type { OutcomeJob } from '../../../protocol/ingest.ts';
import { type IngestQueue, enqueueIngest } from '../../../queues/ingestion.ts';

/**
 * How each defense action of an alert ended, sent to Neo4j through the ingest queue as `outcome`
 * jobs (protocol/ingest.ts): a notification delivered or failed, a pause sent and then, from the
 * receipts on the node, landed before the attack, after it, or not mined within `pauseBlocks`.
 */

type Optional = 'txHash' | 'landedFirst' | 'detail';
export type OutcomeReport = Omit<OutcomeJob, 'kind' | 'validator' | 'at' | Optional> &
  Partial<Pick<OutcomeJob, Optional>>;

export interface OutcomeRecorder {
  /** Queues one outcome (in the background; a failure is logged, never thrown). */
  record(o: OutcomeReport): void;
  /** Waits for the pause's receipt, then records how it landed against the attack's. */
  watchPause(w: { alertId: string; index: number; pauseHash: string; attackHash: string }): Promise<void>;
}

export interface OutcomeRecorderDeps {
  validatorId: string;
  ingest: IngestQueue;
  rpc: JsonRpcClient;
  log: Logger;
  track: (p: Promise<unknown>) => void;
  /** Blocks after the pause was sent before it counts as not mined. @defaultValue 5 */
  pauseBlocks?: number;
  /** How often receipts are asked for. @defaultValue 500 */
  pollMs?: number;
  /** RPC errors in a row before a pause's watch gives up. @defaultValue 20 */
  maxFailures?: number;
  /** Stops watching (the validator closes). */
  closed?: () => boolean;
}

interface Receipt {
  blockNumber: string;
  transactionIndex: string;
  status?: string;
}

/** A failure's reason as stored: no URL credentials, no secret given (a bot token, a webhook URL). */
export function outcomeReason(err: unknown, secrets: string[]): string {
  let text = redactUrlsIn(String((err as Error)?.message ?? err));
  for (const s of secrets.filter((x) => x.length >= 4).sort((a, b) => b.length - a.length))
    text = text.split(s).join(s.startsWith('http') ? redactUrl(s) : MASK);
  return text.replace(/\s+/g, ' ').trim().slice(0, 500);
}

export function createOutcomeRecorder(deps: OutcomeRecorderDeps): OutcomeRecorder {
  const pauseBlocks = deps.pauseBlocks ?? 5;
  const pollMs = deps.pollMs ?? 500;
  const maxFailures = deps.maxFailures ?? 20;

  const record = (o: OutcomeReport) => {
    const job: OutcomeJob = {
      kind: 'outcome',
      txHash: null,
      landedFirst: null,
      detail: '',
      ...o,
      validator: { hotkey: deps.validatorId },
      at: new Date().toISOString(),
    };
    deps.track(
      enqueueIngest(deps.ingest, job).catch((e) =>
        deps.log.error({ err: (e as Error).message, alertId: o.alertId }, 'action outcome not queued'),
      ),
    );
  };

  const receipt = (hash: string) => deps.rpc.call<Receipt | null>('eth_getTransactionReceipt', [hash]);
  const blockNumber = async () => Number(BigInt(await deps.rpc.call<string>('eth_blockNumber')));
  const at = (r: Receipt) => [Number(BigInt(r.blockNumber)), Number(BigInt(r.transactionIndex))] as const;

  /**
   * The pause's verdict from the two receipts: first = mined in an earlier block, or the same block
   * at a lower index (or the attack not mined yet). A pause that reverted paused nothing, wherever
   * it landed: `reverted`.
   */
  const verdict = (
    pause: Receipt,
    attack: Receipt | null,
  ): Pick<OutcomeReport, 'status' | 'landedFirst' | 'detail'> => {
    const [pb, pi] = at(pause);
    const reverted = pause.status === '0x0';
    const [ab, ai] = attack ? at(attack) : [Number.POSITIVE_INFINITY, 0];
    const detail = `pause block ${pb} index ${pi}${reverted ? ' reverted' : ''}; ${
      attack ? `attack block ${ab} index ${ai}` : 'attack not mined yet'
    }`;
    if (reverted) return { status: 'reverted', landedFirst: false, detail };
    const first = pb < ab || (pb === ab && pi < ai);
    return { status: first ? 'landed-first' : 'landed-after', landedFirst: first, detail };
  };

  /** One look at the receipts: the outcome to record once decided, else undefined (look again). */
  const look = async (
    w: Parameters<OutcomeRecorder['watchPause']>[0],
    start: number,
  ): Promise<Pick<OutcomeReport, 'status' | 'landedFirst' | 'detail'> | undefined> => {
    const mine = await receipt(w.pauseHash);
    // Read after the pause's: an attack mined in the same block is seen with it.
    if (mine) return verdict(mine, await receipt(w.attackHash));
    const head = await blockNumber();
    if (head < start + pauseBlocks) return undefined;
    const attack = await receipt(w.attackHash);
    const detail = `not mined in ${head - start} blocks after ${start}${
      attack ? `; attack mined in block ${Number(BigInt(attack.blockNumber))}` : ''
    }`;
    return { status: 'not-mined', landedFirst: false, detail };
  };

  /**
   * Looks every `pollMs` until the pause is decided. An RPC error is looked past (the node
   * blipped); after `maxFailures` in a row the watch gives up, logged, the outcome left at `sent`.
   */
  const watchPause: OutcomeRecorder['watchPause'] = async (w) => {
    const base = { alertId: w.alertId, index: w.index, action: 'pause' as const, txHash: w.pauseHash };
    let start: number | undefined;
    let failures = 0;
    while (!deps.closed?.()) {
      try {
        start ??= await blockNumber();
        const decided = await look(w, start);
        failures = 0;
        if (decided) return record({ ...base, ...decided });
      } catch (e) {
        if (++failures >= maxFailures) {
          deps.log.warn(
            { err: (e as Error).message, pause: w.pauseHash, failures },
            'pause receipt watch gave up: its outcome stays "sent"',
          );
          return;
        }
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };

  return { record, watchPause };
}
