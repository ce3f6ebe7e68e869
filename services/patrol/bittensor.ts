import type { ChainView } from './chainView.ts';
import { DEFAULT_COMPLETENESS_SAMPLE, measureCompleteness } from './completeness.ts';
import { type ScoringParams, completenessFactor } from './scoring.ts';
import type { PatrolVerifier, TargetSource } from './seam.ts';
import { sampleTargets } from './targets.ts';
import { verifyContent } from './verify.ts';

/** Patrol on Bittensor: the round's target source and verifier over a subtensor ChainView. */

/** Targets drawn from real activity in `probes` random blocks of [1, head] (targets.ts). */
export function bittensorTargets(
  chain: Pick<ChainView, 'block'>,
  { probes, random = Math.random }: { probes: number; random?: () => number },
): TargetSource {
  return (miners, head) =>
    sampleTargets(chain, { count: miners.length, fromBlock: 1, toBlock: head, probes, random });
}

/**
 * Content checks (verify.ts: every edge what its event proves, within window and depth), then
 * completeness (completeness.ts: `sample` wallets besides the target, drawn with `random`), in
 * order of cost; an answer at or below the scoring's completeness floor is `incomplete`.
 */
export function bittensorVerifier(
  chain: ChainView,
  {
    scoring,
    sample = DEFAULT_COMPLETENESS_SAMPLE,
    random = Math.random,
  }: { scoring: ScoringParams; sample?: number; random?: () => number },
): PatrolVerifier {
  return async (answer, challenge) => {
    const verdict = await verifyContent(answer, challenge, chain);
    if (!verdict.accepted) return { accepted: false, kind: 'unverified', reason: verdict.reason };
    const m = await measureCompleteness(verdict.edges, challenge, chain, { sample, random });
    if (completenessFactor(m.ratio, scoring) > 0) return { ...verdict, completeness: m.ratio };
    const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
    const reason =
      `incomplete: the answer holds ${m.present} of the ${m.expected} edges the chain shows for ` +
      `${m.wallets.length} sampled wallets (the target included) within depth ${challenge.depth} in the window ` +
      `(${pct(m.ratio)}, at or below the ${pct(scoring.completenessFloor)} floor); missing e.g. ${m.missing.join(', ')}`;
    return { accepted: false, kind: 'incomplete', reason };
  };
}
