import type { KeyringPair } from '@polkadot/keyring/types';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { Counter, Histogram, type Registry } from 'prom-client';
import { InvalidPayloadError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import {
  type Challenge,
  type UnsignedAnswer,
  type Vote,
  parseChallenge,
  signDefenseAnswer,
  signHeartbeat,
} from '../../protocol/defense.ts';
import { defenseAnswerStream, defenseChallengeStream, defenseHeartbeatKey } from '../../protocol/keys.ts';
import { type StreamReader, appendMessage, createStreamReader } from '../../queues/streams.ts';
import type { Engine } from '../engine/engine.ts';
import { InvalidInvariantError, type Invariant, parseInvariants } from '../engine/invariants.ts';

export interface DefenseMinerDeps {
  /**
   * The miner's sr25519 hotkey, registered on the subnet: its address names the miner's streams
   * and is the miner's id; it signs every answer and heartbeat (rewards are kept per hotkey).
   */
  hotkey: KeyringPair;
  /**
   * Its Redis connection, as its own ACL user (queues/minerAccess.ts) on a validator's Redis: reads
   * its challenge stream (on a duplicate), appends answers, sets its heartbeat.
   */
  connection: Redis;
  prefix: string;
  engine: Engine;
  log: Logger;
  registry?: Registry;
  /** Challenges simulated at once (the engine's VM pool bounds real parallelism). */
  concurrency?: number;
  /** How often the miner tells validators it is alive (its heartbeat key, with a TTL of 5 periods). */
  heartbeatMs?: number;
  /**
   * Changes the answer before it is sent: lets tests and demos run lying, lazy or slow miners
   * through the real service. Honest miners leave it out.
   */
  tamper?: (answer: UnsignedAnswer, challenge: Challenge) => UnsignedAnswer | Promise<UnsignedAnswer>;
}

export interface DefenseMiner {
  reader: StreamReader;
  close(): Promise<void>;
}

/**
 * A defense miner: takes challenges from its own stream, simulates the pending tx (after the sender's
 * earlier pending txs) on top of the challenge's block with the engine, and answers per invariant
 * holds / violated / error with before/after values and its latency. Any failure of its own
 * (bad invariant, engine or RPC fault) is answered as `error`, never as `holds`.
 */
export function createDefenseMiner(deps: DefenseMinerDeps): DefenseMiner {
  const reg = deps.registry ? [deps.registry] : [];
  const id = deps.hotkey.address;
  const answered = new Counter({
    name: 'vigil_defense_miner_answers_total',
    help: 'Challenges answered, by outcome',
    labelNames: ['outcome'],
    registers: reg,
  });
  const seconds = new Histogram({
    name: 'vigil_defense_miner_check_seconds',
    help: 'Time from taking a challenge to publishing the answer',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: reg,
  });

  // Parsed invariant sets by their JSON (validators resend the same set with every challenge).
  const parsedSets = new LRUCache<string, Invariant[] | InvalidInvariantError>({ max: 256 });
  const prefetched = new Set<string>();
  const invariantsOf = (defs: Challenge['invariants']): Invariant[] | InvalidInvariantError => {
    const key = JSON.stringify(defs);
    let p = parsedSets.get(key);
    if (!p) {
      try {
        p = parseInvariants(defs);
      } catch (e) {
        if (!(e instanceof InvalidInvariantError)) throw e;
        p = e;
      }
      parsedSets.set(key, p);
    }
    return p;
  };

  // One head at a time: challenges of one block share the engine's per-block read cache.
  let head = -1;
  let moving: Promise<void> = Promise.resolve();
  const onBlock = (n: number): Promise<void> => {
    // Never back to an older head: validators a block apart would make the engine flip-flop
    // (dropping its read cache each time), and two honest miners disagree.
    if (n <= head) return moving;
    moving = moving
      .catch(() => {})
      .then(async () => {
        if (n <= head) return;
        await deps.engine.newHead(n);
        head = n;
      });
    return moving;
  };

  const errorAnswer = (c: Challenge, reason: string, started: number): UnsignedAnswer => ({
    challengeId: c.challengeId,
    miner: id,
    validator: c.validator,
    blockNumber: c.blockNumber,
    txStatus: 'error',
    results: c.invariants.map((d, i) => ({ id: String(d.id ?? `#${i}`), status: 'error' as Vote, reason })),
    latencyMs: performance.now() - started,
  });

  const answer = async (c: Challenge, started: number): Promise<UnsignedAnswer> => {
    const invariants = invariantsOf(c.invariants);
    if (invariants instanceof InvalidInvariantError) return errorAnswer(c, invariants.message, started);
    try {
      await onBlock(c.blockNumber);
      const setKey = invariants.map((i) => i.id).join('\n');
      if (!prefetched.has(setKey)) {
        prefetched.add(setKey);
        await deps.engine.prefetch(invariants);
      }
      const r = await deps.engine.check({ tx: c.tx as never, invariants, priorTxs: c.priorTxs as never });
      return {
        challengeId: c.challengeId,
        miner: id,
        validator: c.validator,
        blockNumber: r.blockNumber,
        txStatus: r.tx.status,
        results: r.invariants.map((x) => ({
          id: x.id,
          status: x.status,
          ...(x.before !== undefined ? { before: x.before } : {}),
          ...(x.after !== undefined ? { after: x.after } : {}),
          ...(x.reason !== undefined ? { reason: x.reason } : {}),
        })),
        latencyMs: performance.now() - started,
      };
    } catch (e) {
      return errorAnswer(c, `engine: ${(e as Error).message ?? String(e)}`, started);
    }
  };

  /** One challenge as read from the stream: checked, simulated, answered on the validator's stream. */
  const onChallenge = async (raw: string | null) => {
    const started = performance.now();
    let c: Challenge;
    try {
      c = parseChallenge(JSON.parse(raw ?? 'null'));
    } catch (e) {
      answered.inc({ outcome: 'invalid' });
      const why = e instanceof InvalidPayloadError ? e.issues.join('; ') : (e as Error).message;
      deps.log.warn({ err: why.slice(0, 500) }, 'invalid challenge: not answered');
      return;
    }
    if (Date.now() > c.deadline) {
      answered.inc({ outcome: 'late' });
      deps.log.debug({ challenge: c.challengeId }, 'challenge past its deadline: not answered');
      return;
    }
    let a = await answer(c, started);
    if (deps.tamper) a = await deps.tamper(a, c);
    a.latencyMs = performance.now() - started;
    // Signed last, over everything the validator uses (latency included).
    const signed = JSON.stringify(signDefenseAnswer(deps.hotkey, a));
    await appendMessage(deps.connection, defenseAnswerStream(deps.prefix, c.validator, id), signed, 100);
    const outcome = a.results.some((r) => r.status === 'violated')
      ? 'violated'
      : a.results.some((r) => r.status === 'error')
        ? 'error'
        : 'holds';
    answered.inc({ outcome });
    seconds.observe(a.latencyMs / 1000);
    deps.log.debug({ challenge: c.challengeId, outcome, ms: Math.round(a.latencyMs * 10) / 10 }, 'answered');
  };

  const reader = createStreamReader({
    connection: deps.connection,
    onMessage: (_key, raw) => onChallenge(raw),
    log: deps.log,
    concurrency: deps.concurrency ?? 4,
    blockMs: 500,
  });
  reader.watch([defenseChallengeStream(deps.prefix, id)]);

  const heartbeatMs = deps.heartbeatMs ?? 2000;
  const heartbeat = defenseHeartbeatKey(deps.prefix, id);
  const beat = () =>
    deps.connection
      .set(heartbeat, JSON.stringify(signHeartbeat(deps.hotkey, Date.now())), 'PX', heartbeatMs * 5)
      .catch((err) => {
        deps.log.warn({ err: (err as Error).message }, 'heartbeat failed');
      });
  void beat();
  const timer = setInterval(beat, heartbeatMs);
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    reader,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await deps.connection.del(heartbeat).catch(() => {});
        await reader.close();
      })();
      return closing;
    },
  };
}
