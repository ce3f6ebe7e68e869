import type { ActivityReader } from '../../../chains/ethereum/activity.ts';
import type { TokenMetadataReader } from '../../../chains/ethereum/tokens.ts';
import type { GraphEdge } from '../../../graph/model.ts';
import { DEFAULT_COMPLETENESS_SAMPLE } from '../completeness.ts';
import { type ScoringParams, completenessFactor } from '../scoring.ts';
import type { PatrolVerifier, TargetSource, Verified } from '../seam.ts';
import { measureEthereumCompleteness } from './completeness.ts';
import { sampleEthereumTargets } from './targets.ts';
import { verifyEthereumContent } from './verify.ts';

/** Patrol on Ethereum: the round's target source and verifier over a node's activity reader. */

/** Targets from activity in `probes` random blocks among the node's last `recent` (targets.ts). */
export function ethereumTargets(
  reader: Pick<ActivityReader, 'block'>,
  { probes, recent, random = Math.random }: { probes: number; recent?: number; random?: () => number },
): TargetSource {
  return (miners, head) =>
    sampleEthereumTargets(reader, { count: miners.length, head, probes, recent, random });
}

/**
 * Content checks against the node (verify.ts), then completeness against the validator's own read
 * of the window (completeness.ts), in order of cost. Accepted edges are the node's own record,
 * ERC-20 ones carrying the token's symbol and decimals where its contract answers: what is stored.
 */
export function ethereumVerifier(
  reader: ActivityReader,
  tokens: TokenMetadataReader,
  {
    scoring,
    sample = DEFAULT_COMPLETENESS_SAMPLE,
    random = Math.random,
  }: { scoring: ScoringParams; sample?: number; random?: () => number },
): PatrolVerifier {
  return async (answer, challenge): Promise<Verified> => {
    if (challenge.chain !== 'ethereum')
      throw new Error(`an Ethereum verifier got a ${challenge.chain} challenge`);
    const verdict = await verifyEthereumContent(answer, challenge, reader);
    if (!verdict.accepted) return { accepted: false, kind: 'unverified', reason: verdict.reason };
    const m = await measureEthereumCompleteness(verdict.edges, challenge, reader, { sample, random });
    if (completenessFactor(m.ratio, scoring) === 0) {
      const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
      const reason =
        `incomplete: the answer holds ${m.present} of the ${m.expected} edges the node shows for ` +
        `${m.wallets.length} sampled addresses (the target included) within depth ${challenge.depth} in the window ` +
        `(${pct(m.ratio)}, at or below the ${pct(scoring.completenessFloor)} floor); missing e.g. ${m.missing.join(', ')}`;
      return { accepted: false, kind: 'incomplete', reason };
    }
    return { ...verdict, edges: await withTokenMetadata(verdict.edges, tokens), completeness: m.ratio };
  };
}

/** ERC-20 edges with the token's symbol and decimals, as its contract states them (absent when it does not). */
export async function withTokenMetadata(
  edges: GraphEdge[],
  tokens: TokenMetadataReader,
): Promise<GraphEdge[]> {
  const list = [...new Set(edges.flatMap((e) => (e.evidence.token ? [e.evidence.token] : [])))];
  const meta = new Map(await Promise.all(list.map(async (t) => [t, await tokens.of(t)] as const)));
  return edges.map((e) => {
    const m = e.evidence.token ? meta.get(e.evidence.token) : undefined;
    if (!m || (m.symbol === undefined && m.decimals === undefined)) return e;
    const evidence = { ...e.evidence };
    if (m.symbol !== undefined) evidence.tokenSymbol = m.symbol;
    if (m.decimals !== undefined) evidence.tokenDecimals = m.decimals;
    return { ...e, evidence };
  });
}
