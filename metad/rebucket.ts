/**
 * Linear re-bucketing: CA's `bucketize` for one column (node-timeseries-heatmap, CA-REFERENCE
 * §8.2). A distribution's inclusive integer ranges `[lo, hi]` are laid over `nbuckets` equal
 * buckets spanning `[min, max)`.
 *
 * Theory. Each range's count is assumed to be spread uniformly over the half-open interval
 * `[lo, hi + 1)`: an integer-valued sample `v` in the range occupies `[v, v + 1)`. Expressed in
 * bucket units (`size = (max - min) / nbuckets`), the interval is `[low, high)`; every bucket
 * it covers fully receives `u = count / (high - low)`, the partly covered end buckets receive
 * `u` times the covered fraction, and what falls outside `[min, max)` is dropped (there is no
 * overflow row). A range inside a single bucket puts its whole count there. The arithmetic,
 * including the order of floating-point operations, is CA's, so columns match CA's to the bit.
 *
 * Differences from CA, both where CA misbehaves: a degenerate span (`max <= min`, which CA's
 * details request produced when `bucket_ymin` rounds to `bucket_ymax`) returns empty buckets
 * instead of looping forever; and {@link distributionUpperBound} is the true `max(hi + 1)`
 * (CA updated its running maximum only when `hi` exceeded it, so a width-1 bucket right after
 * another could be left out, and a lone `[0, 0]` bucket gave 0).
 */
import type { CaDistribution } from './distribution.js'

/** Options of {@link rebucketLinear}. */
export interface RebucketOptions {
  /**
   * Weigh each count by its range's midpoint `lo + (hi - lo) / 2` (CA's `weights=weight`:
   * colour by total time rather than by number of operations).
   * @default false
   */
  readonly weighByRange?: boolean
  /** Buffer of at least `nbuckets` entries to write into (zeroed first) instead of allocating. */
  readonly out?: Float64Array
}

/**
 * Re-buckets one distribution into `nbuckets` linear buckets over `[min, max)`.
 * Returns `out` (its first `nbuckets` entries) when given, else a new array.
 * Preconditions (asserted): `nbuckets` is a positive integer, `min >= 0`.
 */
export function rebucketLinear (
  dist: CaDistribution | undefined,
  min: number,
  max: number,
  nbuckets: number,
  options: RebucketOptions = {}
): Float64Array {
  if (!(Number.isInteger(nbuckets) && nbuckets > 0)) throw new RangeError(`rebucketLinear: bad nbuckets ${nbuckets}`)
  if (!(min >= 0)) throw new RangeError(`rebucketLinear: bad min ${min}`)
  const out = options.out
  let buckets: Float64Array
  if (out === undefined) {
    buckets = new Float64Array(nbuckets)
  } else {
    if (out.length < nbuckets) throw new RangeError('rebucketLinear: out is shorter than nbuckets')
    buckets = out.length === nbuckets ? out : out.subarray(0, nbuckets)
    buckets.fill(0)
  }
  if (dist === undefined || dist.length === 0 || !(max > min)) return buckets
  const weigh = options.weighByRange === true
  const size = (max - min) / nbuckets

  for (let e = 0; e < dist.length; e++) {
    const entry = dist[e]!
    const lo = entry[0][0]
    const hi = entry[0][1]
    let val = entry[1]
    if (lo >= max || hi < min) continue
    if (weigh) val *= lo + ((hi - lo) / 2)

    let low = (lo - min) / size
    let high = ((hi + 1) - min) / size
    const lowfilled = Math.floor(low) + 1
    let highfilled = Math.floor(high)

    if (highfilled < lowfilled) {
      // The range does not fill a whole bucket: all of it goes to the one bucket it is in.
      buckets[highfilled] += val
      continue
    }

    // CA's expression, kept for bit-exact results: (1 / width) * val, not val / width.
    const u = (1 / (high - low)) * val
    if (low < 0) low = 0
    if (high >= nbuckets) high = nbuckets - 1
    if (highfilled > nbuckets) highfilled = nbuckets

    if (low < lowfilled && lowfilled > 0) buckets[lowfilled - 1] += (lowfilled - low) * u
    // CA started this loop at a possibly negative lowfilled and let the writes below 0 vanish.
    for (let k = lowfilled > 0 ? lowfilled : 0; k < highfilled; k++) buckets[k] += u
    if (high > highfilled) buckets[highfilled] += (high - highfilled) * u
  }
  return buckets
}

/**
 * The exclusive upper bound of a distribution's data, `max(hi + 1)` over its buckets, or 0
 * when it has none: what CA's autoscale starts from when `ymax` is not given.
 */
export function distributionUpperBound (dist: CaDistribution | undefined): number {
  let max = 0
  if (dist === undefined) return max
  for (let e = 0; e < dist.length; e++) {
    const top = dist[e]![0][1] + 1
    if (top > max) max = top
  }
  return max
}
