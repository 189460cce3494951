/**
 * Quantiles of the simulator's measurements (nearest rank, so every figure reported is a value
 * that was measured) and the {mean, p50, p99, max} summaries summary.json is made of.
 */

/** The q-quantile (0 <= q <= 1) of ascending `sorted` by nearest rank; null when empty. */
export function quantile (sorted: ArrayLike<number>, q: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number
}

/** `values` sorted ascending, as a new Float64Array. */
export function sortedCopy (values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort()
}

/** Mean of `values`; null when empty. */
export function mean (values: ArrayLike<number>): number | null {
  if (values.length === 0) return null
  let s = 0
  for (let i = 0; i < values.length; i++) s += values[i] as number
  return s / values.length
}

/** A number rounded to `digits` decimals (summaries stay readable and byte-stable). */
export function round (x: number | null, digits = 3): number | null {
  if (x === null) return null
  const f = 10 ** digits
  return Math.round(x * f) / f
}
