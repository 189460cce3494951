/**
 * Per-column statistics of a re-bucketed map (node-timeseries-heatmap `average` and
 * `percentile`, CA-REFERENCE §7.4-7.5). Values are estimated from the linear buckets, so their
 * resolution is `(ymax - ymin) / nbuckets` whatever the resolution of the source buckets.
 */
import type { BucketScale } from './layers.js'

/**
 * The mean of each column: `sum(c_j * (ymin + (j + 0.5) size)) / sum(c_j)`, bucket midpoints
 * weighted by count; `null` for a column without data (CA returned NaN there).
 */
export function columnAverages (map: Float64Array, scale: BucketScale): Array<number | null> {
  const { ymin, ymax, nbuckets } = scale
  const size = (ymax - ymin) / nbuckets
  const n = map.length / nbuckets
  const out = new Array<number | null>(n)
  for (let i = 0; i < n; i++) {
    let sum = 0
    let count = 0
    for (let j = 0; j < nbuckets; j++) {
      const c = map[i * nbuckets + j]!
      count += c
      sum += c * (ymin + ((j + 0.5) * size))
    }
    out[i] = count > 0 ? sum / count : null
  }
  return out
}

/**
 * The `p`-th percentile (0..1) of each column: walking up the buckets accumulating S, the first
 * bucket j with S / C >= p holds it, at `ymin + (j + frac) size` with
 * `frac = (p C - (S - c_j)) / c_j` clamped to [0, 1]. A column without data gives `ymin` (CA's
 * answer), or `null` when `emptyAsNull` is set (for drawing, where ymin would be a false point).
 */
export function columnPercentiles (map: Float64Array, scale: BucketScale, p: number, emptyAsNull: true): Array<number | null>
export function columnPercentiles (map: Float64Array, scale: BucketScale, p: number, emptyAsNull?: false): number[]
export function columnPercentiles (map: Float64Array, scale: BucketScale, p: number, emptyAsNull = false): Array<number | null> {
  const { ymin, ymax, nbuckets } = scale
  const size = (ymax - ymin) / nbuckets
  const n = map.length / nbuckets
  const out = new Array<number | null>(n)
  for (let i = 0; i < n; i++) {
    const base = i * nbuckets
    let total = 0
    for (let j = 0; j < nbuckets; j++) total += map[base + j]!
    if (!(total > 0)) {
      out[i] = emptyAsNull ? null : ymin
      continue
    }
    let sum = 0
    let value = ymin + nbuckets * size
    for (let j = 0; j < nbuckets; j++) {
      const c = map[base + j]!
      sum += c
      if (sum / total >= p) {
        let frac = c > 0 ? (p * total - (sum - c)) / c : 0
        if (frac < 0) frac = 0
        else if (frac > 1) frac = 1
        value = ymin + ((j + frac) * size)
        break
      }
    }
    out[i] = value
  }
  return out
}
