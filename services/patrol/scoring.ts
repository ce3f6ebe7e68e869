/**
 * Patrol's scoring, paying only for complete, storable, new work.
 *
 *   total = completenessFactor(c) · (wVolume·volume + wResponse·responsiveness + wNovelty·novelty)
 *
 * for an answer that passed verification (verify.ts) and parses as the ingest job it becomes
 * (protocol/ingest.ts); 0 for any other. The terms:
 * - c, completeness (completeness.ts): the share of the edges the chain shows for the target and
 *   16 randomly drawn wallets of the answer (within the depth, in the window) that the answer holds.
 *   completenessFactor(c) = (c − floor) / (1 − floor) above `completenessFloor` (0.8), 0 below.
 *   An honest answer has c = 1 (miner and validator derive edges from the same events with
 *   edges.ts). Pay falls five times faster than c, and an answer missing a fifth of what it must
 *   hold earns nothing and is not stored: leaving out the edges the graph already holds, or
 *   answering with one real edge, no longer pays (they earned 2.3× and 1× the complete answer).
 * - volume: Patrol's sigmoid 1/(1+e^(−0.005(V−1000))) over nodes + edges. It is flat below ~500,
 *   which is why a tiny answer once scored like a small honest one; with completeness enforced V
 *   is fixed by the target the validator drew, so it no longer rewards a miner for leaving out.
 * - responsiveness: 2/(t+2), t in seconds from challenge to the answer's arrival.
 * - novelty: min(n, noveltyCap) / noveltyCap, n the NUMBER of verified edges neither in the graph
 *   before the round nor brought earlier in the round by another paid answer. A count, not a share:
 *   a share paid for dropping the known edges (a smaller denominator); a count does not change
 *   when known edges are added, so the complete answer always scores at least as much as any part
 *   of it. Capped at 100 so the term stays in [0, 1] and a handful of new facts already counts.
 * Adding a verified edge never lowers any term, so the complete answer is the best answer.
 */
export interface ScoringParams {
  /** Sigmoid midpoint and steepness of the volume term (Patrol: 1000 and 0.005). */
  volumeMidpoint: number;
  volumeSteepness: number;
  weights: { volume: number; responsiveness: number; novelty: number };
  /** New edges that earn the whole novelty weight. */
  noveltyCap: number;
  /** Completeness below which an answer earns nothing and is not stored. */
  completenessFloor: number;
  /** Moving average over the last N round scores, dropping the lowest K (Patrol: 20 and 2). */
  historySize: number;
  dropLowest: number;
}

export const DEFAULT_SCORING: ScoringParams = {
  volumeMidpoint: 1000,
  volumeSteepness: 0.005,
  weights: { volume: 0.6, responsiveness: 0.1, novelty: 0.3 },
  noveltyCap: 100,
  completenessFloor: 0.8,
  historySize: 20,
  dropLowest: 2,
};

export function volumeScore(volume: number, p: ScoringParams): number {
  return 1 / (1 + Math.exp(-p.volumeSteepness * (volume - p.volumeMidpoint)));
}

/** 2 / (t + 2), t in seconds: 1 for an instant answer, 0.5 at 2 s. */
export function responsivenessScore(seconds: number): number {
  return 2 / (Math.max(0, seconds) + 2);
}

/** The completeness that pays: 0 at or below the floor, rising linearly to 1 at c = 1. */
export function completenessFactor(completeness: number, p: ScoringParams): number {
  if (!(completeness > p.completenessFloor)) return 0;
  return Math.min(1, (completeness - p.completenessFloor) / (1 - p.completenessFloor));
}

export interface ScoreParts {
  volume: number;
  responsiveness: number;
  novelty: number;
  completeness: number;
  total: number;
}

export function scoreAnswer(
  input: { volume: number; seconds: number; novelEdges: number; completeness: number },
  p: ScoringParams,
): ScoreParts {
  const volume = volumeScore(input.volume, p);
  const responsiveness = responsivenessScore(input.seconds);
  const novelty = Math.min(Math.max(0, input.novelEdges), p.noveltyCap) / p.noveltyCap;
  const w = p.weights;
  const base = w.volume * volume + w.responsiveness * responsiveness + w.novelty * novelty;
  return {
    volume,
    responsiveness,
    novelty,
    completeness: input.completeness,
    total: completenessFactor(input.completeness, p) * base,
  };
}

export function movingAverage(history: number[], p: ScoringParams): number {
  const recent = history.slice(-p.historySize);
  if (recent.length === 0) return 0;
  const kept = recent.length > p.dropLowest ? [...recent].sort((a, b) => a - b).slice(p.dropLowest) : recent;
  return kept.reduce((s, x) => s + x, 0) / kept.length;
}

/** Weights proportional to scores, summing to 1 (all zero when nobody scored). */
export function normalizeWeights(scores: Map<string, number>): Map<string, number> {
  const sum = [...scores.values()].reduce((s, x) => s + x, 0);
  return new Map([...scores].map(([k, v]) => [k, sum > 0 ? v / sum : 0]));
}

/** u16 weights for set_weights: the largest share maps to 65535. */
export function toU16Weights(weights: number[]): number[] {
  const max = Math.max(0, ...weights);
  return weights.map((w) => (max > 0 ? Math.round((w / max) * 65535) : 0));
}
