/**
 * Patrol's scoring, with novelty added: score = wVolume·volume + wResponse·responsiveness +
 * wNovelty·novelty for an accepted answer, 0 for a rejected one.
 */
export interface ScoringParams {
  /** Sigmoid midpoint and steepness of the volume term (Patrol: 1000 and 0.005). */
  volumeMidpoint: number;
  volumeSteepness: number;
  weights: { volume: number; responsiveness: number; novelty: number };
  /** Moving average over the last N round scores, dropping the lowest K (Patrol: 20 and 2). */
  historySize: number;
  dropLowest: number;
}

export const DEFAULT_SCORING: ScoringParams = {
  volumeMidpoint: 1000,
  volumeSteepness: 0.005,
  weights: { volume: 0.6, responsiveness: 0.1, novelty: 0.3 },
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

export interface ScoreParts {
  volume: number;
  responsiveness: number;
  novelty: number;
  total: number;
}

export function scoreAnswer(
  input: { volume: number; seconds: number; novelEdges: number; verifiedEdges: number },
  p: ScoringParams,
): ScoreParts {
  const volume = volumeScore(input.volume, p);
  const responsiveness = responsivenessScore(input.seconds);
  const novelty = input.verifiedEdges === 0 ? 0 : input.novelEdges / input.verifiedEdges;
  const w = p.weights;
  return {
    volume,
    responsiveness,
    novelty,
    total: w.volume * volume + w.responsiveness * responsiveness + w.novelty * novelty,
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
