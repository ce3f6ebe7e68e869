import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../../common/logger.ts';
import type { Graph } from '../../graph/driver.ts';
import { relationshipId } from '../../graph/model.ts';
import { existingRelationshipIds } from '../../graph/relationships.ts';
import { patrolChallengeStream } from '../../protocol/keys.ts';
import type { Chain } from '../../protocol/model.ts';
import { type Challenge, ETHEREUM_MAX_WINDOW } from '../../protocol/patrol.ts';
import { type IngestQueue, enqueueIngest } from '../../queues/ingestion.ts';
import { appendMessage } from '../../queues/streams.ts';
import type { AnswerIntake, Arrival } from './answers.ts';
import type { ScoreHistory } from './history.ts';
import { type Judged, judgeAnswer } from './judge.ts';
import { type ScoreParts, type ScoringParams, scoreAnswer } from './scoring.ts';
import type { HeadSource, PatrolMiner, PatrolVerifier, TargetCandidate, TargetSource } from './seam.ts';

export interface RoundParams {
  /** Blocks either side of the target block (Patrol: 50). */
  window: number;
  depth: number;
  /** How long miners have to answer. */
  timeoutMs: number;
  scoring: ScoringParams;
}

export interface RoundDeps {
  /** The chain the round's edges belong to (their ids, the graph they are checked against, the job). */
  chain: Chain;
  /** The validator's hotkey. */
  validator: string;
  connection: Redis;
  prefix: string;
  log: Logger;
  graph: Graph;
  ingest: IngestQueue;
  intake: AnswerIntake;
  history: ScoreHistory;
  miners: () => Promise<PatrolMiner[]>;
  head: HeadSource;
  /** Chain-specific (seam.ts): one target per miner. */
  targets: TargetSource;
  /** Chain-specific (seam.ts): the content checks of an answer. */
  verify: PatrolVerifier;
  params: RoundParams;
  /** Where `vigil_patrol_answers_rejected_total` is registered (the service's /metrics). */
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

/** What a miner operator (and the demo) reads of each miner's round. */
const logResult = (round: number, chain: Chain, r: MinerResult, log: Logger) =>
  log.info(
    {
      round,
      chain,
      miner: r.miner.hotkey,
      uid: r.miner.uid,
      accepted: r.accepted,
      reason: r.reason,
      edges: r.edges,
      ...r.score,
      score: r.score.total,
      average: r.average,
    },
    'miner scored',
  );

/**
 * Where a challenge looks, as its chain's message says it (protocol/patrol.ts): `window` blocks
 * either side of the target's block (or the target's own span), never past `head`; on Ethereum at
 * most ETHEREUM_MAX_WINDOW, in the target's direction when it names one.
 */
function blocksAround(chain: Chain, t: TargetCandidate, window: number, head: number) {
  if (chain === 'bittensor')
    return { chain, target: t.address, targetBlock: t.block, window, maxBlock: head } as const;
  const toBlock = Math.min(t.span?.toBlock ?? t.block + window, head);
  const from = t.span?.fromBlock ?? t.block - window;
  const fromBlock = Math.min(toBlock, Math.max(0, from, toBlock - ETHEREUM_MAX_WINDOW + 1));
  const direction = t.direction ? { direction: t.direction } : {};
  return { chain, target: t.address, fromBlock, toBlock, ...direction } as const;
}

/**
 * One Patrol round, chain-agnostic: pick a target per miner, send each its challenge, collect the
 * answers until the deadline (answers.ts), judge them (judge.ts with the chain's verifier), then
 * score them in order of arrival (the first to bring an edge gets its novelty), record each score
 * (history.ts) and send accepted subgraphs to ingestion.
 */
const REJECTED_METRIC = 'vigil_patrol_answers_rejected_total';

/**
 * Plays round `round`; `given` replaces the round's target source and `timeoutMs` its deadline for
 * this round alone (an attacker's trail names its targets and cannot wait: services/patrol/trail.ts),
 * everything else unchanged.
 */
export type RunRound = (round: number, given?: TargetSource, timeoutMs?: number) => Promise<RoundReport>;

export function createRound(deps: RoundDeps): RunRound {
  // One counter per registry, shared by the rounds of each chain a validator runs.
  const rejected =
    (deps.metrics?.getSingleMetric(REJECTED_METRIC) as Counter<'miner' | 'reason'> | undefined) ??
    new Counter({
      name: REJECTED_METRIC,
      help: 'Patrol answers scored 0 at the end of a round, by miner and reason (no_answer, refused, unverified, unstorable, incomplete, error)',
      labelNames: ['miner', 'reason'],
      registers: deps.metrics ? [deps.metrics] : [],
    });
  const me = deps.validator;

  /** Every miner's challenge on its target, all with one deadline. */
  const challengesFor = async (
    round: number,
    miners: PatrolMiner[],
    given?: TargetSource,
    timeoutMs = deps.params.timeoutMs,
  ) => {
    const head = await deps.head();
    const targets = await (given ?? deps.targets)(miners, head);
    const { window, depth } = deps.params;
    const deadline = Date.now() + timeoutMs;
    const challenges = miners.map(
      (miner, i): Challenge => ({
        id: `r${round}-${me.slice(0, 8)}-${miner.uid}-${crypto.randomUUID().slice(0, 8)}`,
        round,
        validator: me,
        miner: miner.hotkey,
        ...blocksAround(deps.chain, targets[i]!, window, head),
        depth,
        deadline,
        replyTo: deps.intake.replyTo(miner.hotkey),
      }),
    );
    return { challenges, deadline };
  };

  /** Scores one judged answer given the edges already claimed this round or stored before. */
  const scoreOf = (
    v: Judged,
    seconds: number | null,
    known: (id: string) => boolean,
    claim: (id: string) => void,
  ) => {
    if (!v.accepted) return { total: 0 } as const;
    const ids = v.edges.map((e) => relationshipId(deps.chain, e));
    const novel = ids.filter((id) => !known(id)).length;
    for (const id of ids) claim(id);
    const measured = { volume: v.volume, seconds: seconds!, novelEdges: novel, completeness: v.completeness };
    return scoreAnswer(measured, deps.params.scoring);
  };

  return async function runRound(round, given, timeoutMs) {
    const miners = await deps.miners();
    const { challenges, deadline } = await challengesFor(round, miners, given, timeoutMs);
    const sentAt = Date.now();
    const collecting = deps.intake.collect(challenges, deadline); // open before sending
    await Promise.all(
      challenges.map((c) =>
        appendMessage(deps.connection, patrolChallengeStream(deps.prefix, c.miner), JSON.stringify(c)),
      ),
    );
    deps.log.info(
      { round, miners: miners.length, deadline: new Date(deadline).toISOString() },
      'round started',
    );
    const collected = await collecting;
    const ctx = { chain: deps.chain, validator: me, verify: deps.verify };
    const verdicts = await Promise.all(
      challenges.map((c, i) => judgeAnswer(c, miners[i]!, collected[i]!, ctx)),
    );

    const accepted = verdicts.flatMap((v) => (v.accepted ? v.edges : []));
    const inGraph = accepted.length
      ? await existingRelationshipIds(deps.graph, deps.chain, accepted)
      : new Set<string>();
    const claimed = new Set<string>();
    const known = (id: string) => inGraph.has(id) || claimed.has(id);
    const claim = (id: string) => void claimed.add(id);
    const arrival = (i: number) => collected[i]!.got?.arrivedAt ?? Number.POSITIVE_INFINITY;
    const order = [...verdicts.keys()].sort((a, b) => arrival(a) - arrival(b));

    const results: MinerResult[] = new Array(verdicts.length);
    const ingestedJobs: string[] = [];
    for (const i of order) {
      const [c, v, miner] = [challenges[i]!, verdicts[i]!, miners[i]!];
      const got: Arrival | null = collected[i]!.got;
      const seconds = got ? Math.max(0, got.arrivedAt - sentAt) / 1000 : null;
      const score = scoreOf(v, seconds, known, claim);
      if (v.accepted) ingestedJobs.push(await enqueueIngest(deps.ingest, v.job));
      else {
        rejected.inc({ miner: miner.hotkey, reason: v.kind });
        deps.log.warn({ round, miner: miner.hotkey, reason: v.reason }, 'answer rejected');
      }
      results[i] = {
        miner,
        challengeId: c.id,
        target: c.target,
        accepted: v.accepted,
        ...(v.accepted ? {} : { reason: v.reason }),
        edges: v.accepted ? v.edges.length : 0,
        volume: v.accepted ? v.volume : 0,
        seconds,
        score,
        average: await deps.history.record(miner.hotkey, score.total),
      };
      logResult(round, deps.chain, results[i]!, deps.log);
    }
    return { round, results, ingestedJobs };
  };
}
