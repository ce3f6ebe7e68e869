/**
 * Nearest-rank percentile (the smallest value with at least p % of the values at or below it):
 * one definition for rewards (L99) and every benchmark, so their figures compare. NaN when empty.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
