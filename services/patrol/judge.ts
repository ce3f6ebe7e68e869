import type { GraphEdge } from '../../graph/model.ts';
import { type SubgraphJob, checkBuiltSubgraphJob } from '../../protocol/ingest.ts';
import type { Chain } from '../../protocol/model.ts';
import { type Challenge, challengeWindow } from '../../protocol/patrol.ts';
import type { Collected } from './answers.ts';
import type { PatrolMiner, PatrolVerifier } from './seam.ts';

/** Why an answer was not paid: the label of `vigil_patrol_answers_rejected_total`. */
export type RejectionKind = 'no_answer' | 'refused' | 'unverified' | 'unstorable' | 'incomplete' | 'error';

/** An answer's fate before scoring: paid (with what it measured and the job it becomes) or not, with why. */
export type Judged =
  | { accepted: true; edges: GraphEdge[]; volume: number; completeness: number; job: SubgraphJob }
  | { accepted: false; kind: RejectionKind; reason: string };

/**
 * Everything that decides whether an answer is paid, in order of cost: it arrived (else why the
 * answers that came were refused), it is the ingest job the worker will store (the worker's own
 * checks, so what the validator accepts always ingests), and the chain's verifier accepts it.
 */
export async function judgeAnswer(
  c: Challenge,
  miner: PatrolMiner,
  collected: Collected,
  ctx: { chain: Chain; validator: string; verify: PatrolVerifier; now?: () => Date },
): Promise<Judged> {
  const { got, refused } = collected;
  if (!got) {
    const reason = refused
      ? `no valid answer before the deadline (refused on arrival: ${refused})`
      : 'no answer before the deadline';
    return { accepted: false, kind: refused ? 'refused' : 'no_answer', reason };
  }
  // Cheap, before chain work: its nodes and edges were parsed on arrival by the job's own schema.
  const job: SubgraphJob = {
    kind: 'subgraph',
    chain: ctx.chain,
    submissionId: `${c.id}:${miner.hotkey}`,
    target: c.target,
    window: challengeWindow(c),
    miner: { hotkey: miner.hotkey, uid: miner.uid },
    validator: { hotkey: ctx.validator },
    acceptedAt: (ctx.now?.() ?? new Date()).toISOString(),
    nodes: got.answer.subgraph.nodes,
    edges: got.answer.subgraph.edges,
  };
  try {
    checkBuiltSubgraphJob(job);
  } catch (err) {
    return { accepted: false, kind: 'unstorable', reason: `not storable: ${(err as Error).message}` };
  }
  try {
    const verdict = await ctx.verify(got.answer, c);
    // The job stores the verifier's edges: the chain's own record (Ethereum adds token metadata).
    return verdict.accepted ? { ...verdict, job: { ...job, edges: verdict.edges } } : verdict;
  } catch (err) {
    return { accepted: false, kind: 'error', reason: `verification failed: ${(err as Error).message}` };
  }
}
