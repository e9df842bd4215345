/** Order statistics of a sample, in the sample's unit (milliseconds throughout the benchmarks). */
export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Nearest-rank percentiles: with 200 runs p99 is the 198th value, an observed time rather than an
 * interpolation between two, so a figure in the README is always one that really happened.
 */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) {
    return { n: 0, min: NaN, p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN };
  }
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] as number;
  const total = sorted.reduce((sum, v) => sum + v, 0);
  return {
    n: sorted.length,
    min: sorted[0] as number,
    p50: rank(50),
    p95: rank(95),
    p99: rank(99),
    max: sorted[sorted.length - 1] as number,
    mean: Math.round((total / sorted.length) * 10) / 10,
  };
}
