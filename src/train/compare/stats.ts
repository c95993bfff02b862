import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const tQuantile = require("@stdlib/stats-base-dists-t-quantile") as (p: number, df: number) => number;
const tCdf = require("@stdlib/stats-base-dists-t-cdf") as (t: number, df: number) => number;

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 for one value. */
  std: number;
  /** The two-sided 95% Student-t interval of the mean; null with fewer than two values. */
  ci95: [number, number] | null;
}

/** Mean, standard deviation and 95% t-interval of the mean (docs/results.md, "How to read it"). */
export function summarize(xs: readonly number[]): Summary {
  const n = xs.length;
  if (n === 0) return { n, mean: NaN, std: NaN, ci95: null };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const half = n > 1 ? tQuantile(0.975, n - 1) * (std / Math.sqrt(n)) : NaN;
  return { n, mean, std, ci95: n > 1 ? [mean - half, mean + half] : null };
}

/** Per-seed differences a − b over the seeds both have (a paired comparison), summarized. */
export function pairedDifference(
  a: ReadonlyMap<number, number>,
  b: ReadonlyMap<number, number>,
): Summary & { seeds: number[] } {
  const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
  return { ...summarize(seeds.map((s) => a.get(s)! - b.get(s)!)), seeds };
}

/**
 * The two-sided p-value of Student's one-sample t-test that the mean behind `s` equals `line`
 * (the test whose 95% interval is `s.ci95`: p < 0.05 exactly when the interval leaves out the
 * line); null with fewer than two values.
 */
export function tTestP(s: Summary, line: number): number | null {
  if (s.n < 2) return null;
  const se = s.std / Math.sqrt(s.n);
  if (se === 0) return s.mean === line ? 1 : 0;
  // 2·P(T ≤ −|t|) rather than 2·(1 − P(T ≤ |t|)), which loses the small p-values to rounding.
  return 2 * tCdf(-Math.abs(s.mean - line) / se, s.n - 1);
}

/**
 * Holm's step-down correction: which of the hypotheses behind the p-values are rejected with a
 * familywise error rate of at most `alpha` (the k-th smallest p against alpha / (m − k), stopping
 * at the first that fails).
 */
export function holmRejects(ps: readonly number[], alpha = 0.05): boolean[] {
  const order = ps.map((_, i) => i).sort((a, b) => ps[a] - ps[b]);
  const rejected = ps.map(() => false);
  for (let k = 0; k < order.length && ps[order[k]] <= alpha / (order.length - k); k++)
    rejected[order[k]] = true;
  return rejected;
}

/** n values spaced evenly in log10 from lo to hi (both included). */
export function logSpaced(lo: number, hi: number, n: number): number[] {
  if (!(lo > 0 && hi > lo) || n < 2) throw new Error(`logSpaced: expected 0 < lo < hi and n ≥ 2`);
  const [a, b] = [Math.log10(lo), Math.log10(hi)];
  return Array.from({ length: n }, (_, i) => Number((10 ** (a + ((b - a) * i) / (n - 1))).toPrecision(3)));
}
