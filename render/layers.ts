/**
 * Heatmap layers: the numbers behind the colours (node-timeseries-heatmap `bucketize`,
 * `deduct` and `normalize` with CA's glue, CA-REFERENCE §8.2-8.5).
 *
 * A *map* is one layer's grid of cells, stored column-major in a Float64Array: cell (column i,
 * bucket j) is at `i * nbuckets + j`, bucket 0 being the lowest values. Layer 0 holds the total
 * of every key that is not drawn in a hue of its own; each selected key is a further layer.
 * Normalization maps all layers jointly to intensities in [0, 1]:
 * - rank (CA's default): every non-zero cell of every layer is ranked; a value v becomes
 *   (number of non-zero cells <= v) / (number of non-zero cells), so ties share the rank of
 *   their first occurrence in descending order and zeros stay 0;
 * - linear: divided by the largest cell (at least 1).
 */
import { rebucketLinear, distributionUpperBound } from '../metad/index.js'
import type { ColumnSeries, HeatmapWindow } from './window.js'

/** How cell values become intensities: CA's `coloring` parameter. */
export type Coloring = 'rank' | 'linear'
/** What a cell counts: operations (`count`) or operations times their latency (`weight`). */
export type Weights = 'count' | 'weight'

/** The vertical layout of a heatmap's buckets. */
export interface BucketScale {
  readonly ymin: number
  readonly ymax: number
  readonly nbuckets: number
}

/** CA's deduct tolerances: a deficit beyond this is a bug; a remainder below the floor is 0. */
export const DEDUCT_TOLERANCE = 0.5
export const DEDUCT_FLOOR = 0.001

/** The largest `hi + 1` over the window's total distributions (0 if there is no data). */
export function windowUpperBound (window: HeatmapWindow): number {
  let max = 0
  const n = Math.min(window.ncolumns, window.total.length)
  for (let i = 0; i < n; i++) {
    const top = distributionUpperBound(window.total[i])
    if (top > max) max = top
  }
  return max
}

/** Re-buckets every column of a series into one map (CA's `bucketize` over a window). */
export function bucketizeSeries (
  series: ColumnSeries | undefined,
  ncolumns: number,
  scale: BucketScale,
  weights: Weights = 'count'
): Float64Array {
  const { ymin, ymax, nbuckets } = scale
  const map = new Float64Array(ncolumns * nbuckets)
  if (series === undefined) return map
  const weighByRange = weights === 'weight'
  const n = Math.min(ncolumns, series.length)
  for (let i = 0; i < n; i++) {
    const dist = series[i]
    if (dist === undefined || dist.length === 0) continue
    rebucketLinear(dist, ymin, ymax, nbuckets, { weighByRange, out: map.subarray(i * nbuckets, (i + 1) * nbuckets) })
  }
  return map
}

/**
 * `total - part`, cell by cell (CA's `deduct`): remainders below {@link DEDUCT_FLOOR} become 0,
 * absorbing floating-point error; a deficit beyond {@link DEDUCT_TOLERANCE} means `part` was not
 * part of `total`, which is the caller's bug.
 */
export function deduct (total: Float64Array, part: Float64Array): Float64Array {
  if (total.length !== part.length) throw new RangeError('deduct: maps differ in size')
  const out = new Float64Array(total.length)
  for (let k = 0; k < total.length; k++) {
    const r = total[k]! - part[k]!
    if (!(r > -DEDUCT_TOLERANCE)) {
      throw new RangeError(`deduct: at cell ${k}, deduction (${part[k]}) exceeds total (${total[k]}) by more than the error tolerance`)
    }
    out[k] = r < DEDUCT_FLOOR ? 0 : r
  }
  return out
}

/** Normalizes maps jointly to intensities in [0, 1]; returns new maps. */
export function normalize (maps: readonly Float64Array[], coloring: Coloring = 'rank'): Float64Array[] {
  return coloring === 'linear' ? normalizeLinear(maps) : normalizeRank(maps)
}

function normalizeLinear (maps: readonly Float64Array[]): Float64Array[] {
  let max = 1
  for (const map of maps) for (let k = 0; k < map.length; k++) if (map[k]! > max) max = map[k]!
  return maps.map((map) => map.map((v) => v / max))
}

function normalizeRank (maps: readonly Float64Array[]): Float64Array[] {
  let n = 0
  for (const map of maps) for (let k = 0; k < map.length; k++) if (map[k] !== 0) n++
  const sorted = new Float64Array(n)
  let w = 0
  for (const map of maps) for (let k = 0; k < map.length; k++) if (map[k] !== 0) sorted[w++] = map[k]!
  sorted.sort()
  return maps.map((map) => {
    const out = new Float64Array(map.length)
    for (let k = 0; k < map.length; k++) {
      const v = map[k]!
      if (v !== 0) out[k] = upperBound(sorted, v) / n
    }
    return out
  })
}

/** Index of the first element of ascending `a` greater than `v`. */
function upperBound (a: Float64Array, v: number): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid]! <= v) lo = mid + 1
    else hi = mid
  }
  return lo
}
