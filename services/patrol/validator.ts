import type { KeyringPair } from '@polkadot/keyring/types';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../../common/logger.ts';
import type { Graph } from '../../graph/driver.ts';
import { type GraphEdge, relationshipId } from '../../graph/model.ts';
import { existingRelationshipIds } from '../../graph/relationships.ts';
import { type SubgraphJob, checkBuiltSubgraphJob } from '../../protocol/ingest.ts';
import {
  patrolAnswerStream,
  patrolChallengeStream,
  patrolScoresKey,
  patrolWakeStream,
} from '../../protocol/keys.ts';
import {
  ANSWER_LIMITS,
  type Answer,
  type BittensorChallenge,
  type Challenge,
  challengeWindow,
  checkAnswer,
  scoreEntrySchema,
} from '../../protocol/patrol.ts';
import { type IngestQueue, enqueueIngest } from '../../queues/ingestion.ts';
import { appendMessage, createStreamReader } from '../../queues/streams.ts';
import type { ChainView } from './chainView.ts';
import { type Completeness, DEFAULT_COMPLETENESS_SAMPLE, measureCompleteness } from './completeness.ts';
import {
  type ScoreParts,
  type ScoringParams,
  completenessFactor,
  movingAverage,
  normalizeWeights,
  scoreAnswer,
} from './scoring.ts';
import { type TargetCandidate, sampleTargets } from './targets.ts';
import { verifyContent } from './verify.ts';

/** An answer's fate before scoring: paid (with what it measured and the job it becomes) or not, with why. */
type Judged =
  | { accepted: true; edges: GraphEdge[]; volume: number; completeness: number; job: SubgraphJob }
  | {
      accepted: false;
      kind: 'no_answer' | 'refused' | 'unverified' | 'unstorable' | 'incomplete' | 'error';
      reason: string;
    };

/** What a miner operator reads when its answer was too incomplete to pay. */
function incompleteReason(m: Completeness, c: Challenge, p: ScoringParams): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  return (
    `incomplete: the answer holds ${m.present} of the ${m.expected} edges the chain shows for ` +
    `${m.wallets.length} sampled wallets (the target included) within depth ${c.depth} in the window ` +
    `(${pct(m.ratio)}, at or below the ${pct(p.completenessFloor)} floor); missing e.g. ${m.missing.join(', ')}`
  );
}

export interface PatrolMiner {
  hotkey: string;
  uid: number;
}

export interface ValidatorParams {
  /** Blocks either side of the target block (Patrol: 50). */
  window: number;
  depth: number;
  /** How long miners have to answer. */
  timeoutMs: number;
  probes: number;
  scoring: ScoringParams;
  /** Wallets drawn per answer for the completeness check, besides the target (default 16). */
  completenessSample?: number;
}

export interface ValidatorDeps {
  hotkey: KeyringPair;
  connection: Redis;
  prefix: string;
  log: Logger;
  graph: Graph;
  ingest: IngestQueue;
  chain: ChainView;
  /** The chain's current best block: the upper bound of challenges. */
  head: () => Promise<number>;
  miners: () => Promise<PatrolMiner[]>;
  params: ValidatorParams;
  /** Overrides target sampling (tests give every miner the same target to measure novelty). */
  pickTargets?: (miners: PatrolMiner[], head: number) => Promise<TargetCandidate[]>;
  random?: () => number;
  /** Where `vigil_patrol_answers_refused_total` is registered (the service's /metrics). */
  metrics?: Registry;
}

export interface MinerResult {
  miner: PatrolMiner;
  challengeId: string;
  target: string;
  accepted: boolean;
  reason?: string;
  edges: number;
  volume: number;
  seconds: number | null;
  score: ScoreParts | { total: 0 };
  average: number;
}

export interface RoundReport {
  round: number;
  results: MinerResult[];
  ingestedJobs: string[];
}

/**
 * A Patrol validator: each round challenges every miner through its queue, collects answers
 * until the deadline, verifies them against the chain, scores them (volume, responsiveness,
 * novelty), keeps a moving average per miner in Redis and sends accepted subgraphs to ingestion.
 */
export function createPatrolValidator(deps: ValidatorDeps) {
  const me = deps.hotkey.address;
  /** Answer stream → the one miner whose Redis user can write it. */
  const streamMiner = new Map<string, string>();
  /** Open challenges by id: the miner it was sent to, and where its answer goes. */
  const pending = new Map<
    string,
    {
      miner: string;
      deliver: (a: { answer: Answer; arrivedAt: number }) => void;
      /** Why the last answer refused for it was refused: the round's reason if no valid one comes. */
      refused?: string;
    }
  >();
  const random = deps.random ?? Math.random;
  const historyKey = (hotkey: string) => patrolScoresKey(deps.prefix, me, hotkey);

  const refused = new Counter({
    name: 'vigil_patrol_answers_refused_total',
    help: 'Patrol answers dropped on arrival, by reason and challenged miner (unknown: no open challenge of that id, miner left empty: the claimed one is unproven)',
    labelNames: ['reason', 'miner'],
    registers: deps.metrics ? [deps.metrics] : [],
  });

  const rejected = new Counter({
    name: 'vigil_patrol_answers_rejected_total',
    help: 'Patrol answers scored 0 at the end of a round, by miner and reason (no_answer, refused, unverified, unstorable, incomplete, error)',
    labelNames: ['miner', 'reason'],
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
    let data: unknown;
    try {
      data = JSON.parse(raw ?? 'null');
    } catch {
      data = raw;
    }
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
    const checked = checkAnswer(data, {
      challengeId: claimed!.challengeId as string,
      miner: open.miner,
    });
    if (!checked.ok) {
      refused.inc({ reason: checked.kind, miner: open.miner });
      open.refused = checked.reason;
      deps.log.warn(
        {
          challenge: claimed!.challengeId,
          miner: claimed!.miner,
          expected: open.miner,
          reason: checked.reason,
        },
        'answer refused: dropped',
      );
      return;
    }
    pending.delete(checked.answer.challengeId);
    open.deliver({ answer: checked.answer, arrivedAt });
  };
  const answers = createStreamReader({
    connection: deps.connection,
    onMessage: onAnswer,
    log: deps.log,
    wakeKey: patrolWakeStream(deps.prefix, me),
    consume: true,
  });

  /** A score history as read from Redis; an entry that is not a score is left out and logged. */
  const scoresOf = (hotkey: string, entries: string[]): number[] =>
    entries.flatMap((entry, i) => {
      const score = scoreEntrySchema.safeParse(entry);
      if (score.success) return [score.data];
      deps.log.warn({ miner: hotkey, entry, index: i }, 'score history entry is not a score: left out');
      return [];
    });

  /** Appends a round score, keeps the last N, returns them: one round trip. */
  const recordScore = async (hotkey: string, total: number): Promise<number[]> => {
    const key = historyKey(hotkey);
    const res = await deps.connection
      .multi()
      .rpush(key, String(total))
      .ltrim(key, -deps.params.scoring.historySize, -1)
      .lrange(key, 0, -1)
      .exec();
    const [err, history] = res?.[2] ?? [new Error('no reply from Redis')];
    if (err) throw err;
    return scoresOf(hotkey, history as string[]);
  };

  const replyTo = (hotkey: string) => {
    const key = patrolAnswerStream(deps.prefix, me, hotkey);
    streamMiner.set(key, hotkey);
    return key;
  };

  async function runRound(round: number): Promise<RoundReport> {
    const miners = await deps.miners();
    const head = await deps.head();
    const { window, depth, timeoutMs } = deps.params;
    const targets = deps.pickTargets
      ? await deps.pickTargets(miners, head)
      : await sampleTargets(deps.chain, {
          count: miners.length,
          fromBlock: 1,
          toBlock: head,
          probes: deps.params.probes,
          random,
        });
    const deadline = Date.now() + timeoutMs;
    const sentAt = Date.now();
    const challenges = miners.map(
      (miner, i): BittensorChallenge => ({
        chain: 'bittensor',
        id: `r${round}-${me.slice(0, 8)}-${miner.uid}-${crypto.randomUUID().slice(0, 8)}`,
        round,
        validator: me,
        miner: miner.hotkey,
        target: targets[i]!.address,
        targetBlock: targets[i]!.block,
        window,
        maxBlock: head,
        depth,
        deadline,
        replyTo: replyTo(miner.hotkey),
      }),
    );
    answers.watch(challenges.map((c) => c.replyTo));
    const arrivals = challenges.map(
      (c) =>
        new Promise<{ answer: Answer; arrivedAt: number } | null>((resolve) => {
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
    await Promise.all(
      challenges.map((c) =>
        appendMessage(deps.connection, patrolChallengeStream(deps.prefix, c.miner), JSON.stringify(c)),
      ),
    );
    deps.log.info(
      { round, miners: miners.length, deadline: new Date(deadline).toISOString() },
      'round started',
    );
    const received = await Promise.all(arrivals);
    const refusedWhy = challenges.map((c) => pending.get(c.id)?.refused);
    for (const c of challenges) pending.delete(c.id);

    // Verify every answer, then judge novelty in order of arrival: the first to bring an edge gets it.
    const verdicts = await Promise.all(
      challenges.map(async (c, i) => ({
        c,
        got: received[i],
        verdict: await judge(c, miners[i]!, received[i] ?? null, refusedWhy[i]),
      })),
    );
    const acceptedEdges = verdicts.flatMap((v) => (v.verdict.accepted ? v.verdict.edges : []));
    const inGraph = acceptedEdges.length
      ? await existingRelationshipIds(deps.graph, 'bittensor', acceptedEdges)
      : new Set<string>();
    const claimed = new Set<string>();
    const order = [...verdicts.keys()].sort(
      (a, b) =>
        (verdicts[a]!.got?.arrivedAt ?? Number.POSITIVE_INFINITY) -
        (verdicts[b]!.got?.arrivedAt ?? Number.POSITIVE_INFINITY),
    );

    const results: MinerResult[] = new Array(verdicts.length);
    const ingestedJobs: string[] = [];
    for (const i of order) {
      const { c, got, verdict } = verdicts[i]!;
      const miner = miners[i]!;
      const seconds = got ? Math.max(0, got.arrivedAt - sentAt) / 1000 : null;
      let score: MinerResult['score'] = { total: 0 };
      if (verdict.accepted) {
        const ids = verdict.edges.map((e) => relationshipId('bittensor', e));
        const novel = ids.filter((id) => !inGraph.has(id) && !claimed.has(id)).length;
        for (const id of ids) claimed.add(id);
        score = scoreAnswer(
          {
            volume: verdict.volume,
            seconds: seconds!,
            novelEdges: novel,
            completeness: verdict.completeness,
          },
          deps.params.scoring,
        );
        ingestedJobs.push(await enqueueIngest(deps.ingest, verdict.job));
      } else {
        rejected.inc({ miner: miner.hotkey, reason: verdict.kind });
        deps.log.warn({ round, miner: miner.hotkey, reason: verdict.reason }, 'answer rejected');
      }
      const history = await recordScore(miner.hotkey, score.total);
      results[i] = {
        miner,
        challengeId: c.id,
        target: c.target,
        accepted: verdict.accepted,
        ...(verdict.accepted ? {} : { reason: verdict.reason }),
        edges: verdict.accepted ? verdict.edges.length : 0,
        volume: verdict.accepted ? verdict.volume : 0,
        seconds,
        score,
        average: movingAverage(history, deps.params.scoring),
      };
    }
    return { round, results, ingestedJobs };
  }

  /**
   * Everything that decides whether an answer is paid, in order of cost: it arrived (else why the
   * answers that came were refused), it is the ingest job the worker will store (the worker's own
   * checks), its evidence holds on the chain (verify.ts), and it is complete enough (completeness.ts).
   */
  async function judge(
    c: Challenge,
    miner: PatrolMiner,
    got: { answer: Answer; arrivedAt: number } | null,
    refusedWhy: string | undefined,
  ): Promise<Judged> {
    if (!got) {
      const reason = refusedWhy
        ? `no valid answer before the deadline (refused on arrival: ${refusedWhy})`
        : 'no answer before the deadline';
      return { accepted: false, kind: refusedWhy ? 'refused' : 'no_answer', reason };
    }
    // The job the answer becomes, checked as the ingest worker will (cheap, before chain work;
    // its nodes and edges were parsed on arrival by the job's own schema): what the validator
    // accepts always ingests.
    const job: SubgraphJob = {
      kind: 'subgraph',
      chain: 'bittensor',
      submissionId: `${c.id}:${miner.hotkey}`,
      target: c.target,
      window: challengeWindow(c),
      miner: { hotkey: miner.hotkey, uid: miner.uid },
      validator: { hotkey: me },
      acceptedAt: new Date().toISOString(),
      nodes: got.answer.subgraph.nodes,
      edges: got.answer.subgraph.edges,
    };
    try {
      checkBuiltSubgraphJob(job);
    } catch (err) {
      return { accepted: false, kind: 'unstorable', reason: `not storable: ${(err as Error).message}` };
    }
    try {
      const verdict = await verifyContent(got.answer, c, deps.chain);
      if (!verdict.accepted) return { accepted: false, kind: 'unverified', reason: verdict.reason };
      const scoring = deps.params.scoring;
      const measured = await measureCompleteness(verdict.edges, c, deps.chain, {
        sample: deps.params.completenessSample ?? DEFAULT_COMPLETENESS_SAMPLE,
        random,
      });
      if (completenessFactor(measured.ratio, scoring) === 0)
        return { accepted: false, kind: 'incomplete', reason: incompleteReason(measured, c, scoring) };
      return { ...verdict, completeness: measured.ratio, job };
    } catch (err) {
      return { accepted: false, kind: 'error', reason: `verification failed: ${(err as Error).message}` };
    }
  }

  /** Normalised weights from the moving averages, per miner hotkey. */
  async function weights(miners: PatrolMiner[]): Promise<Map<string, number>> {
    const averages = new Map<string, number>();
    for (const m of miners) {
      const history = scoresOf(m.hotkey, await deps.connection.lrange(historyKey(m.hotkey), 0, -1));
      averages.set(m.hotkey, movingAverage(history, deps.params.scoring));
    }
    return normalizeWeights(averages);
  }

  return {
    runRound,
    weights,
    async close() {
      await answers.close();
    },
  };
}
