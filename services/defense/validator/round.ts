import type { Redis } from 'ioredis';
import type { RpcTransaction } from '../../../chains/ethereum/types.ts';
import type { Logger } from '../../../common/logger.ts';
import {
  type Answer,
  type Challenge,
  type OpenChallenges,
  checkDefenseAnswer,
} from '../../../protocol/defense.ts';
import { defenseAnswerStream, defenseWakeStream } from '../../../protocol/keys.ts';
import { sendChallenge } from '../../../queues/defense.ts';
import { type StreamReader, createStreamReader } from '../../../queues/streams.ts';
import type { Canary } from '../canaries.ts';
import { decide } from '../consensus.ts';
import type { RegisteredInvariant } from '../registry.ts';
import type { RewardBook } from '../rewards.ts';
import type { Dispatch } from './dispatch.ts';
import type { DefenseMetrics } from './metrics.ts';
import type { Members } from './minerPool.ts';
import { type RoundReport, lower } from './types.ts';

interface Round {
  challenge: Challenge;
  asked: string[];
  sentAt: number;
  answers: Answer[];
  arrival: Map<string, number>;
  onAnswer: () => void;
  /** Ends the wait for answers early (all asked miners answered). */
  wake?: () => void;
}

/** A round whose challenges sit in the miners' queues. */
export interface OpenRound {
  tx: RpcTransaction;
  round: Round;
  report: RoundReport;
  ids: string[];
  acting: Promise<void>[];
  canary?: Canary;
}

export interface RoundsDeps {
  id: string;
  chainId: number;
  connection: Redis;
  prefix: string;
  threshold: number;
  deadlineMs: number;
  log: Logger;
  metrics: DefenseMetrics;
  members: Members;
  /** Runs a violation's actions the moment it has its majority (never for a canary). */
  dispatch: Dispatch;
  rewards?: RewardBook;
  /** Learns the call of each decided violation as a future canary. */
  learn?: (violated: string[], tx: RpcTransaction) => void;
  onRound?: (report: RoundReport) => void;
}

/**
 * Rounds: open (a challenge queued for the asked miners), intake (each answer checked on arrival),
 * consensus (acting on a violation as soon as it has its qualified majority) and close (at every
 * answer or the deadline: rewards booked, report made).
 */
export interface Rounds {
  open(opts: {
    tx: RpcTransaction;
    list: RegisteredInvariant[];
    asked: string[];
    priorTxs: RpcTransaction[];
    head: number;
    seen: number;
    canary?: Canary;
  }): Promise<OpenRound>;
  close(open: OpenRound): Promise<RoundReport>;
  /** Reads the answer streams of these miners from now on (before any challenge goes to them). */
  watchAnswers(ids: readonly string[]): void;
  /** Starts reading answers. */
  listen(): void;
  /** Rounds still open. */
  readonly size: number;
  stop(): Promise<void>;
}

export function createRounds(deps: RoundsDeps): Rounds {
  const rounds = new Map<string, Round>();
  /** Answer stream → the one miner whose Redis user can write it. */
  const streamMiner = new Map<string, string>();
  let reader: StreamReader | undefined;
  let watchedIds: readonly string[] = [];

  const openChallenges: OpenChallenges = {
    validator: deps.id,
    round: (challengeId) => {
      const r = rounds.get(challengeId);
      return r && { asked: r.asked, answered: (m: string) => r.arrival.has(m) };
    },
  };

  /**
   * An entry of a miner's answer stream, which only that miner's Redis user can write. Every
   * answer is checked (shape, open challenge, asked miner, signature, first) before it counts, and
   * counts only for the miner whose stream carried it.
   */
  function onMessage(stream: string, message: string | null) {
    const at = performance.now();
    const writer = streamMiner.get(stream) ?? 'unregistered';
    const checked: ReturnType<typeof checkDefenseAnswer> =
      message === null
        ? { ok: false, kind: 'malformed', reason: 'stream entry without its `m` field', miner: writer }
        : checkDefenseAnswer(message, openChallenges);
    if (checked.ok && checked.answer.miner !== writer) {
      const reason = `answer of ${checked.answer.miner} arrived on the stream of ${writer}`;
      deps.metrics.answersRefused.inc({ reason: 'wrong_stream', miner: writer });
      deps.log.warn({ miner: writer, reason: 'wrong_stream' }, `answer dropped: ${reason}`);
      return;
    }
    if (!checked.ok) {
      const miner = checked.miner && deps.members.has(checked.miner) ? checked.miner : 'unregistered';
      deps.metrics.answersRefused.inc({ reason: checked.kind, miner });
      // A late answer is ordinary (the round closed at its deadline): not worth a warning.
      const level = checked.kind === 'unknown_challenge' ? 'debug' : 'warn';
      deps.log[level]({ miner, reason: checked.kind }, `answer dropped: ${checked.reason.slice(0, 500)}`);
      return;
    }
    const a = checked.answer;
    const round = rounds.get(a.challengeId)!;
    round.arrival.set(a.miner, at);
    round.answers.push(a);
    round.onAnswer();
  }

  function watchAnswers(ids: readonly string[]) {
    watchedIds = ids;
    const keys = ids.map((m) => {
      const key = defenseAnswerStream(deps.prefix, deps.id, m);
      streamMiner.set(key, m);
      return key;
    });
    reader?.watch(keys);
  }

  /** Queues one challenge for `asked` (a canary's exactly like a real tx's). Throws when no miner's queue took it. */
  async function open({
    tx,
    list,
    asked,
    priorTxs,
    head,
    seen,
    canary,
  }: Parameters<Rounds['open']>[0]): Promise<OpenRound> {
    const now = Date.now();
    const challenge: Challenge = {
      challengeId: `${deps.id}:${lower(tx.hash)}:${head}`,
      chainId: deps.chainId,
      blockNumber: head,
      tx: tx as Challenge['tx'],
      invariants: list.map((i) => i.definition),
      priorTxs: priorTxs as Challenge['priorTxs'],
      validator: deps.id,
      deadline: now + deps.deadlineMs,
      sentAt: now,
    };
    const byId = new Map(list.map((i) => [i.id, i]));
    const ids = list.map((i) => i.id);
    const report: RoundReport = {
      challengeId: challenge.challengeId,
      txHash: lower(tx.hash)!,
      from: lower(tx.from)!,
      asked,
      answers: 0,
      consensus: [],
      latencies: [],
      pauses: [],
      findings: [],
      marks: { seen, sent: 0, closed: 0 },
    };
    const acted = new Set<string>();
    const acting: Promise<void>[] = [];
    const round: Round = {
      challenge,
      asked,
      sentAt: 0,
      answers: [],
      arrival: new Map(),
      onAnswer: () => {
        // Act on each violation the moment it has its majority; later votes cannot overturn it.
        // Never on a canary: it is not on the mempool and must raise nothing.
        for (const c of canary ? [] : decide(ids, round.asked, round.answers, deps.threshold)) {
          if (c.outcome !== 'violated' || acted.has(c.id)) continue;
          acted.add(c.id);
          report.marks.violated ??= performance.now();
          acting.push(deps.dispatch(byId.get(c.id)!, c, tx, report));
        }
        if (round.answers.length >= round.asked.length) round.wake?.();
      },
    };
    rounds.set(challenge.challengeId, round);
    round.sentAt = performance.now();
    const queued = await Promise.allSettled(
      asked.map((m) => sendChallenge(deps.connection, deps.prefix, m, challenge)),
    );
    const reached = asked.filter((_, i) => queued[i]!.status === 'fulfilled');
    if (reached.length === 0) {
      rounds.delete(challenge.challengeId);
      throw (queued[0] as PromiseRejectedResult).reason;
    }
    if (reached.length < asked.length) {
      // Those reached are working on it: the round goes on with them (consensus over who was asked).
      deps.log.warn(
        { tx: tx.hash, reached: reached.length, asked: asked.length },
        'challenge not queued for every miner',
      );
      round.asked = reached;
      report.asked = reached;
    }
    report.marks.sent = performance.now();
    if (canary) report.canary = true;
    return { tx, round, report, ids, acting, canary };
  }

  /** Waits for every answer or the deadline, then takes the consensus, books rewards and reports. */
  async function close({ tx, round, report, ids, acting, canary }: OpenRound): Promise<RoundReport> {
    const { challenge, asked } = round;
    try {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, challenge.deadline - Date.now()));
        round.wake = () => {
          clearTimeout(t);
          resolve();
        };
        if (round.answers.length >= asked.length) round.wake();
      });
    } finally {
      rounds.delete(challenge.challengeId);
    }
    const consensus = decide(ids, asked, round.answers, deps.threshold);
    if (!canary) for (const c of consensus) deps.metrics.outcomes.inc({ outcome: c.outcome });
    await Promise.all(acting);
    report.consensus = consensus;
    report.answers = round.answers.length;
    const arrivalMs = (miner: string) => round.arrival.get(miner)! - round.sentAt;
    report.latencies = round.answers.map((a) => ({
      miner: a.miner,
      minerMs: a.latencyMs,
      arrivalMs: arrivalMs(a.miner),
    }));
    report.marks.closed = performance.now();
    deps.rewards?.record({
      txHash: report.txHash,
      answers: new Map(
        round.answers.map((a) => [
          a.miner,
          { votes: new Map(a.results.map((r) => [r.id, r.status])), latencyMs: arrivalMs(a.miner) },
        ]),
      ),
      // A canary is scored on the validator's own simulation, never on the miners' votes.
      consensus: canary ? canary.truth : consensus,
      canary: canary !== undefined,
    });
    const violated = consensus.filter((c) => c.outcome === 'violated').map((c) => c.id);
    if (!canary && violated.length > 0) deps.learn?.(violated, tx);
    warnUndecided(tx, round, consensus);
    deps.onRound?.(report);
    return report;
  }

  function warnUndecided(tx: RpcTransaction, round: Round, consensus: ReturnType<typeof decide>) {
    const undecided = consensus.filter((c) => c.outcome === 'undecided');
    if (undecided.length === 0) return;
    const reasons = [
      ...new Set(
        round.answers.flatMap((a) =>
          a.results.filter((x) => x.status === 'error').map((x) => x.reason ?? ''),
        ),
      ),
    ];
    deps.log.warn(
      {
        tx: tx.hash,
        invariants: undecided.map((c) => ({ id: c.id, ...c.votes })),
        errors: reasons.slice(0, 3),
      },
      'no consensus',
    );
  }

  return {
    open,
    close,
    watchAnswers,
    listen() {
      reader ??= createStreamReader({
        connection: deps.connection,
        onMessage,
        log: deps.log,
        wakeKey: defenseWakeStream(deps.prefix, deps.id),
        consume: true,
        blockMs: 1000,
      });
      watchAnswers(watchedIds);
    },
    get size() {
      return rounds.size;
    },
    async stop() {
      await reader?.close();
    },
  };
}
