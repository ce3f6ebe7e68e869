import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../../common/logger.ts';
import { patrolAnswerStream, patrolWakeStream } from '../../protocol/keys.ts';
import { ANSWER_LIMITS, type Answer, type Challenge, checkAnswer } from '../../protocol/patrol.ts';
import { createStreamReader, messageData } from '../../queues/streams.ts';

/** An answer that passed every arrival check, timed by its arrival here. */
export interface Arrival {
  answer: Answer;
  arrivedAt: number;
}

/** What a challenge got by its deadline: a checked answer, or none (and why the last one was refused). */
export interface Collected {
  got: Arrival | null;
  refused?: string;
}

export interface AnswerIntakeDeps {
  connection: Redis;
  prefix: string;
  /** The validator's hotkey: its answer streams and wake stream are named after it. */
  validator: string;
  log: Logger;
  /** Where `vigil_patrol_answers_refused_total` is registered (the service's /metrics). */
  metrics?: Registry;
}

export interface AnswerIntake {
  /** The stream a miner answers this validator on (the challenge's `replyTo`). */
  replyTo(miner: string): string;
  /**
   * Opens the challenges at once (call it before sending them, so no answer can beat its entry)
   * and resolves, in their order, with what each got by `deadline`.
   */
  collect(challenges: Challenge[], deadline: number): Promise<Collected[]>;
  close(): Promise<void>;
}

/**
 * The arrival side of a Patrol validator: reads every miner's answer stream, checks each entry
 * on arrival (size before parse, then protocol/patrol.ts checkAnswer against the one challenge
 * open for that stream's miner), drops bad ones with a reason (log + metric, per miner) and
 * hands the first valid answer of each open challenge to its round.
 */
export function createAnswerIntake(deps: AnswerIntakeDeps): AnswerIntake {
  /** Answer stream → the one miner whose Redis user can write it. */
  const streamMiner = new Map<string, string>();
  /** Open challenges by id: the miner it was sent to, and where its answer goes. */
  const pending = new Map<
    string,
    {
      miner: string;
      deliver: (a: Arrival) => void;
      /** Why the last answer refused for it was refused: the round's reason if no valid one comes. */
      refused?: string;
    }
  >();

  const refused = new Counter({
    name: 'vigil_patrol_answers_refused_total',
    help: 'Patrol answers dropped on arrival, by reason and challenged miner (unknown: no open challenge of that id, miner left empty: the claimed one is unproven)',
    labelNames: ['reason', 'miner'],
    registers: deps.metrics ? [deps.metrics] : [],
  });

  /**
   * An entry of a miner's answer stream, timed by its arrival here (never by the writer's id or
   * fields). Only that miner's Redis user can write the stream, and only its own open challenge
   * is looked up, so nobody else's answer can spend it.
   */
  const onAnswer = (stream: string, raw: string | null, arrivedAt: number) => {
    const writer = streamMiner.get(stream) ?? '';
    // Before any parse: a JSON text more than twice the answer cap (escapes included) is not read.
    if (raw && raw.length > 2 * ANSWER_LIMITS.bytes) {
      refused.inc({ reason: 'oversize', miner: writer });
      deps.log.warn({ miner: writer, chars: raw.length }, 'answer refused unread: over twice the size cap');
      return;
    }
    const data = messageData(raw);
    const claimed = data as { challengeId?: unknown; miner?: unknown } | null;
    // A miner's stream can only close that miner's own challenges.
    const found = typeof claimed?.challengeId === 'string' ? pending.get(claimed.challengeId) : undefined;
    const open = found && found.miner === writer ? found : undefined;
    if (!open) {
      refused.inc({ reason: 'unknown', miner: writer });
      deps.log.warn(
        { challenge: claimed?.challengeId, miner: writer, claimed: claimed?.miner },
        'answer for no open challenge of this miner (late or unknown): dropped',
      );
      return;
    }
    // Only the challenged miner's well-formed, signed answer closes the challenge.
    const challengeId = claimed!.challengeId as string;
    const checked = checkAnswer(data, { challengeId, miner: open.miner });
    if (!checked.ok) {
      refused.inc({ reason: checked.kind, miner: open.miner });
      open.refused = checked.reason;
      deps.log.warn(
        { challenge: challengeId, miner: claimed!.miner, expected: open.miner, reason: checked.reason },
        'answer refused: dropped',
      );
      return;
    }
    pending.delete(checked.answer.challengeId);
    open.deliver({ answer: checked.answer, arrivedAt });
  };
  const reader = createStreamReader({
    connection: deps.connection,
    onMessage: onAnswer,
    log: deps.log,
    wakeKey: patrolWakeStream(deps.prefix, deps.validator),
    consume: true,
  });

  return {
    replyTo(miner) {
      const key = patrolAnswerStream(deps.prefix, deps.validator, miner);
      streamMiner.set(key, miner);
      return key;
    },
    collect(challenges, deadline) {
      reader.watch(challenges.map((c) => c.replyTo));
      const arrivals = challenges.map(
        (c) =>
          new Promise<Arrival | null>((resolve) => {
            const timer = setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()));
            pending.set(c.id, {
              miner: c.miner,
              deliver: (a) => {
                clearTimeout(timer);
                resolve(a);
              },
            });
          }),
      );
      return Promise.all(arrivals).then((received) => {
        const out = challenges.map((c, i): Collected => {
          const why = pending.get(c.id)?.refused;
          return { got: received[i] ?? null, ...(why ? { refused: why } : {}) };
        });
        for (const c of challenges) pending.delete(c.id);
        return out;
      });
    },
    close: () => reader.close(),
  };
}
