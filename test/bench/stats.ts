/** Small statistics helpers for the benchmark (no dependencies, deterministic). */

/** Nearest-rank percentile (p in [0, 100]) of unsorted values; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export interface Distribution {
  n: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function distribution(values: readonly number[]): Distribution {
  return {
    n: values.length,
    mean: round(mean(values)),
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    max: round(values.length ? Math.max(...values) : Number.NaN),
  };
}

/**
 * Jain's fairness index (sum x)^2 / (n * sum x^2): 1 when every tenant got the same, 1/n when
 * one tenant got everything. Defined as 1 for an all-zero input (nobody was favoured).
 */
export function jainIndex(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sum = values.reduce((a, b) => a + b, 0);
  const squares = values.reduce((a, b) => a + b * b, 0);
  if (squares === 0) return 1;
  return (sum * sum) / (values.length * squares);
}

/** Length of the overlap of [a0, a1] and [b0, b1]. */
export function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

/**
 * Time-weighted integral of a step function given as change points (time, new value), over
 * [from, to]. Used for "how many backend calls were running" over time.
 */
export function integrateSteps(changes: readonly { t: number; value: number }[], from: number, to: number): number {
  let total = 0;
  let value = 0;
  let last = from;
  for (const c of changes) {
    if (c.t > to) break;
    if (c.t > last) {
      total += value * (c.t - last);
      last = c.t;
    }
    value = c.value;
  }
  if (to > last) total += value * (to - last);
  return total;
}

/** A seeded PRNG (mulberry32) so every run offers the same arrival pattern. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Exponentially distributed gap (ms) for a Poisson process of `ratePerSecond`. */
export function poissonGapMs(random: () => number, ratePerSecond: number): number {
  return (-Math.log(1 - random()) / ratePerSecond) * 1000;
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
