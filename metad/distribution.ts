/**
 * Distributions: counts per bucket of one Bucketing (metad/quantize.ts), merged exactly.
 *
 * REPRESENTATION (chosen by measurement: `npm run bench -- distributions`, section 1). A
 * Distribution is immutable and sparse: two parallel typed arrays, `index` (strictly increasing
 * dense bucket indices) and `count` (positive integer counts), plus the bucketing and the cached
 * `total`. A per-second latency partial of 2,000 events fills about 240 of the 812 buckets, so
 * the sparse form holds 2.9 KB against 6.5 KB dense, and merging 500 partials costs what they
 * hold: about 3x faster than 500 dense arrays and 25x faster than Maps. (Only a merge of just two
 * partials favours dense arrays, being allocation-bound.) Where many values meet one accumulator
 * the work goes through a dense window: `DistributionBuilder` for inserting events,
 * `mergeDistributionList` for a second's partials from many children; a merge tree should use
 * the latter (or mergeValueList), not a fold of pairwise merges, which copies the growing result.
 *
 * EXACTNESS. Merge is bucket-wise addition of integers, hence associative and commutative, with
 * the empty distribution as identity (test/metad/distribution.test.ts checks these with
 * fast-check). Distributions of different bucketings never merge: HeatmeshError ECA_INCOMPAT.
 *
 * PRECISION. Counts are doubles holding integers, exact up to 2^53 - 1 (Number.MAX_SAFE_INTEGER;
 * 9e15 events in one distribution). Every operation that adds counts checks the resulting total
 * against that bound (one comparison per merge: if the total is exact, so is every bucket) and
 * throws HeatmeshError ECA_INVAL instead of rounding; the wire format (metad/value-codec.ts) carries
 * counts as unsigned varints and its decoder applies the same bound. Values are bucketed exactly
 * whatever their size (see metad/quantize.ts), bigints included.
 *
 * STATISTICS. Only bucket counts are kept, so statistics are estimates with stated rules:
 * - a bucket's representative value is the midpoint of its integers, (lo + hi) / 2, as CA's
 *   `weights=weight` heatmaps used; for the unbounded buckets (llquantize and lquantize
 *   overflow, lquantize underflow) it is the finite bound, which is all we know;
 * - sum = sum of count x representative; mean = sum / count;
 * - min / max are the lowest bucket's lo and the highest bucket's hi (bounds on the true ones);
 * - percentile p in [0, 1]: the rank p x count is found in the cumulative counts, and inside its
 *   bucket the value is interpolated linearly over [lo, hi + 1), the bucket's mass spread
 *   uniformly as CA's heatmap code spreads it (so p = 0 gives the lowest lo and p = 1 the
 *   highest hi + 1); in an unbounded bucket the answer is its finite bound.
 */
import { HeatmeshError, InvalidFieldError } from './errors.js'
import { describeBucketing, quantizer, sameBucketing, type Bucketing, type Quantizer } from './quantize.js'

/** CA's JSON form of a distribution: sparse `[[lo, hi], count]` sorted by lo, ranges inclusive. */
export type CaDistribution = Array<[[number, number], number]>

/**
 * An immutable sparse distribution. Invariants (every constructor here enforces them; never
 * mutate the arrays): `index` strictly increasing and < bucketCount(bucketing); `count[i]` a
 * positive safe integer; `total` their sum, <= Number.MAX_SAFE_INTEGER.
 */
export interface Distribution {
  readonly bucketing: Bucketing
  readonly index: Uint32Array
  readonly count: Float64Array
  readonly total: number
}

const MAX_COUNT = Number.MAX_SAFE_INTEGER

function make (bucketing: Bucketing, index: Uint32Array, count: Float64Array, total: number): Distribution {
  return { bucketing, index, count, total }
}

/**
 * Both arrays of an n-bucket distribution in one ArrayBuffer (counts first, 8-byte aligned): one
 * backing-store allocation instead of two, which measured about 3x cheaper in V8 for a few
 * hundred buckets, and allocation dominates a merge of two per-second partials.
 */
function allocate (n: number): { index: Uint32Array, count: Float64Array } {
  const buffer = new ArrayBuffer(n * 12)
  return { count: new Float64Array(buffer, 0, n), index: new Uint32Array(buffer, n * 8, n) }
}

function overflow (what: string, total: number): never {
  throw new HeatmeshError('ECA_INVAL', `count overflow: ${what} totals ${total} events, more than 2^53 - 1, the largest count kept exactly`)
}

function incompatible (a: Bucketing, b: Bucketing): never {
  throw new HeatmeshError('ECA_INCOMPAT', `cannot merge distributions of different bucketings: ${describeBucketing(a)} and ${describeBucketing(b)}`)
}

/** The zero distribution (CA's `[]`). */
export function emptyDistribution (bucketing: Bucketing): Distribution {
  return make(bucketing, new Uint32Array(0), new Float64Array(0), 0)
}

/**
 * Builds a distribution from bucket indices and counts, checking every invariant (sorted, in
 * range, positive safe-integer counts, total within 2^53 - 1). Zero counts are dropped.
 * @throws RangeError when the arrays break an invariant (a caller bug; data from outside comes
 *   through distributionFromCa or the wire decoder, which report their own errors).
 */
export function distributionFromBuckets (bucketing: Bucketing, index: ArrayLike<number>, count: ArrayLike<number>): Distribution {
  if (index.length !== count.length) throw new RangeError('index and count differ in length')
  const nbuckets = quantizer(bucketing).nbuckets
  let n = 0
  for (let i = 0; i < count.length; i++) if (count[i] !== 0) n++
  const { index: idx, count: cnt } = allocate(n)
  let total = 0
  let prev = -1
  let k = 0
  for (let i = 0; i < index.length; i++) {
    const b = index[i]!
    const c = count[i]!
    if (!Number.isInteger(b) || b <= prev || b >= nbuckets) throw new RangeError(`bucket index ${b} at ${i} is out of order or not a bucket of ${describeBucketing(bucketing)}`)
    if (!Number.isSafeInteger(c) || c < 0) throw new RangeError(`count ${c} at ${i} is not a non-negative safe integer`)
    prev = b
    if (c === 0) continue
    idx[k] = b
    cnt[k++] = c
    total += c
  }
  if (total > MAX_COUNT) overflow('the distribution', total)
  return make(bucketing, idx, cnt, total)
}

/**
 * Like distributionFromBuckets, but takes ownership of typed arrays instead of copying them (the
 * wire decoder's path): the caller must not touch them afterwards. Zero counts are refused.
 * @throws RangeError when the arrays break an invariant.
 */
export function distributionFromBucketArrays (bucketing: Bucketing, index: Uint32Array, count: Float64Array): Distribution {
  if (index.length !== count.length) throw new RangeError('index and count differ in length')
  const nbuckets = quantizer(bucketing).nbuckets
  let total = 0
  let prev = -1
  for (let i = 0; i < index.length; i++) {
    const b = index[i]!
    const c = count[i]!
    if (b <= prev || b >= nbuckets) throw new RangeError(`bucket index ${b} at ${i} is out of order or not a bucket of ${describeBucketing(bucketing)}`)
    if (!Number.isSafeInteger(c) || c <= 0) throw new RangeError(`count ${c} at ${i} is not a positive safe integer`)
    prev = b
    total += c
  }
  if (total > MAX_COUNT) overflow('the distribution', total)
  return make(bucketing, index, count, total)
}

/**
 * A mutable accumulator for one field's values: insert per event, then `build()` the immutable
 * Distribution (e.g. once a second). Dense inside, so an insert is one bucket lookup and one add.
 */
export class DistributionBuilder {
  readonly bucketing: Bucketing
  private readonly q: Quantizer
  private readonly counts: Float64Array
  private n = 0
  private lowest: number
  private highest = -1

  constructor (bucketing: Bucketing) {
    this.bucketing = bucketing
    this.q = quantizer(bucketing)
    this.counts = new Float64Array(this.q.nbuckets)
    this.lowest = this.q.nbuckets
  }

  /** Events counted so far. */
  get total (): number { return this.n }

  /** Counts one event of value `v` (a number; see addBig for int64 values). */
  add (v: number): void {
    const i = this.q.index(v)
    this.counts[i]! += 1
    this.n += 1
    if (i < this.lowest) this.lowest = i
    if (i > this.highest) this.highest = i
  }

  /** Counts one event whose value is a bigint (exact for any int64). */
  addBig (v: bigint): void {
    this.addToBucket(this.q.indexBig(v), 1)
  }

  /** Counts `n` events of value `v`; `n` must be a non-negative safe integer. */
  addCount (v: number | bigint, n: number): void {
    this.addToBucket(typeof v === 'bigint' ? this.q.indexBig(v) : this.q.index(v), n)
  }

  /** Adds `n` to bucket `i` directly (e.g. from a backend that already bucketed in the kernel). */
  addToBucket (i: number, n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`count ${n} is not a non-negative safe integer`)
    if (!Number.isInteger(i) || i < 0 || i >= this.q.nbuckets) throw new RangeError(`${i} is not a bucket of ${describeBucketing(this.bucketing)}`)
    if (n === 0) return
    this.counts[i]! += n
    this.n += n
    if (i < this.lowest) this.lowest = i
    if (i > this.highest) this.highest = i
  }

  /** Adds a whole distribution (same bucketing, else ECA_INCOMPAT). */
  addDistribution (d: Distribution): void {
    if (!sameBucketing(this.bucketing, d.bucketing)) incompatible(this.bucketing, d.bucketing)
    const { index } = d
    const m = index.length
    if (m === 0) return
    addInto(this.counts, index, d.count, 0)
    this.n += d.total
    if (index[0]! < this.lowest) this.lowest = index[0]!
    if (index[m - 1]! > this.highest) this.highest = index[m - 1]!
  }

  /** The distribution of everything added since construction or the last reset. */
  build (): Distribution {
    if (this.n > MAX_COUNT) overflow('the distribution', this.n)
    return compact(this.bucketing, this.counts, this.lowest, this.highest, this.n)
  }

  /** Forgets everything added (clears only the touched range). */
  reset (): void {
    if (this.highest >= this.lowest) this.counts.fill(0, this.lowest, this.highest + 1)
    this.n = 0
    this.lowest = this.q.nbuckets
    this.highest = -1
  }
}

/**
 * Adds sparse counts into dense ones, bucket i going to counts[i - offset]: the merge hot loop.
 * Unrolled by four, which measured up to 1.8x faster than the plain loop in V8 (merging the 500
 * partials of bench/distributions.ts).
 */
function addInto (counts: Float64Array, index: Uint32Array, count: Float64Array, offset: number): void {
  const n = index.length
  let k = 0
  for (; k + 3 < n; k += 4) {
    const i0 = index[k]! - offset
    const i1 = index[k + 1]! - offset
    const i2 = index[k + 2]! - offset
    const i3 = index[k + 3]! - offset
    counts[i0]! += count[k]!
    counts[i1]! += count[k + 1]!
    counts[i2]! += count[k + 2]!
    counts[i3]! += count[k + 3]!
  }
  for (; k < n; k++) counts[index[k]! - offset]! += count[k]!
}

/** Sparse copy of dense counts over [lowest, highest], counts[i] holding bucket i + offset. */
function compact (bucketing: Bucketing, counts: Float64Array, lowest: number, highest: number, total: number, offset = 0): Distribution {
  let n = 0
  for (let i = lowest; i <= highest; i++) if (counts[i] !== 0) n++
  const { index: idx, count: cnt } = allocate(n)
  let k = 0
  for (let i = lowest; i <= highest; i++) {
    const c = counts[i]!
    if (c !== 0) { idx[k] = i + offset; cnt[k++] = c }
  }
  return make(bucketing, idx, cnt, total)
}

/** The distribution of `values` under `bucketing` (a convenience over DistributionBuilder). */
export function distributionOf (bucketing: Bucketing, values: Iterable<number | bigint>): Distribution {
  const b = new DistributionBuilder(bucketing)
  for (const v of values) {
    if (typeof v === 'bigint') b.addBig(v)
    else b.add(v)
  }
  return b.build()
}

/**
 * Exact merge of two distributions of the same bucketing: bucket-wise addition. Associative and
 * commutative; the empty distribution is its identity (and is returned as is: values are immutable).
 * @throws HeatmeshError ECA_INCOMPAT for different bucketings, ECA_INVAL if the total would pass 2^53 - 1.
 */
export function mergeDistributions (a: Distribution, b: Distribution): Distribution {
  if (!sameBucketing(a.bucketing, b.bucketing)) incompatible(a.bucketing, b.bucketing)
  const total = a.total + b.total
  if (total > MAX_COUNT) overflow('the merge', total)
  const ai = a.index
  const bi = b.index
  const na = ai.length
  const nb = bi.length
  if (nb === 0) return a
  if (na === 0) return b
  // Two-pointer merge. (Adding both into a dense window and compacting measured slower: it
  // allocates twice, and allocation dominates a merge of two per-second partials.)
  let n = 0 // size of the union, so the result is allocated exactly once
  for (let i = 0, j = 0; i < na || j < nb; n++) {
    if (j >= nb) { n += na - i; break }
    if (i >= na) { n += nb - j; break }
    const x = ai[i]!
    const y = bi[j]!
    if (x <= y) i++
    if (y <= x) j++
  }
  const { index: idx, count: cnt } = allocate(n)
  const ac = a.count
  const bc = b.count
  let i = 0
  let j = 0
  let k = 0
  while (i < na && j < nb) {
    const x = ai[i]!
    const y = bi[j]!
    if (x < y) { idx[k] = x; cnt[k++] = ac[i++]! } else if (y < x) { idx[k] = y; cnt[k++] = bc[j++]! } else { idx[k] = x; cnt[k++] = ac[i++]! + bc[j++]! }
  }
  while (i < na) { idx[k] = ai[i]!; cnt[k++] = ac[i++]! }
  while (j < nb) { idx[k] = bi[j]!; cnt[k++] = bc[j++]! }
  return make(a.bucketing, idx, cnt, total)
}

/**
 * Exact merge of any number of distributions of one bucketing (a second's partials from many
 * children): one pass adding each into a dense accumulator, one compaction. Equal to folding
 * mergeDistributions, and several times faster for many inputs.
 * @param bucketing the bucketing of the result, needed when `list` may be empty.
 * @throws HeatmeshError ECA_INCOMPAT for different bucketings, ECA_INVAL if the total would pass 2^53 - 1.
 */
export function mergeDistributionList (list: readonly Distribution[], bucketing?: Bucketing): Distribution {
  const b = bucketing ?? list[0]?.bucketing
  if (b === undefined) throw new RangeError('mergeDistributionList needs a bucketing for an empty list')
  const n = list.length
  if (n === 0) return emptyDistribution(b)
  if (n === 1) {
    if (!sameBucketing(b, list[0]!.bucketing)) incompatible(b, list[0]!.bucketing)
    return list[0]!
  }
  // First pass over the list only (not the buckets): bucketings, total, and the window of buckets
  // present, so the accumulator spans what the inputs hold rather than the whole bucketing.
  let total = 0
  let lowest = Infinity
  let highest = -1
  for (let p = 0; p < n; p++) {
    const d = list[p]!
    if (!sameBucketing(b, d.bucketing)) incompatible(b, d.bucketing)
    const m = d.index.length
    if (m === 0) continue
    total += d.total
    if (d.index[0]! < lowest) lowest = d.index[0]!
    if (d.index[m - 1]! > highest) highest = d.index[m - 1]!
  }
  if (total > MAX_COUNT) overflow('the merge', total)
  if (highest < 0) return emptyDistribution(b)
  const window = new Float64Array(highest - lowest + 1)
  for (let p = 0; p < n; p++) addInto(window, list[p]!.index, list[p]!.count, lowest)
  return compact(b, window, 0, highest - lowest, total, lowest)
}

/** Structural equality: same bucketing, same buckets, same counts. */
export function distributionsEqual (a: Distribution, b: Distribution): boolean {
  if (!sameBucketing(a.bucketing, b.bucketing) || a.total !== b.total || a.index.length !== b.index.length) return false
  for (let i = 0; i < a.index.length; i++) {
    if (a.index[i] !== b.index[i] || a.count[i] !== b.count[i]) return false
  }
  return true
}

/** CA's JSON form: `[[lo, hi], count]` per non-empty bucket, sorted by lo (overflow hi = INT64_MAX). */
export function distributionToCa (d: Distribution): CaDistribution {
  const q = quantizer(d.bucketing)
  const out: CaDistribution = new Array(d.index.length)
  for (let k = 0; k < d.index.length; k++) {
    const i = d.index[k]!
    out[k] = [[q.lo(i), q.hi(i)], d.count[k]!]
  }
  return out
}

/**
 * Parses CA's JSON form from outside (an HTTP body, a stash file) against the field's bucketing:
 * an array of `[[lo, hi], count]`, sorted by lo without repeats, each range exactly a bucket of
 * `bucketing`, each count a non-negative safe integer (zero counts are dropped), the total
 * within 2^53 - 1.
 * @throws InvalidFieldError naming `field` and the offending entry.
 */
export function distributionFromCa (input: unknown, bucketing: Bucketing, field = 'value'): Distribution {
  const fail = (reason: string): never => { throw new InvalidFieldError(field, input, reason) }
  if (!Array.isArray(input)) return fail('must be an array of [[lo, hi], count]')
  const q = quantizer(bucketing)
  const idx: number[] = []
  const cnt: number[] = []
  let total = 0
  let prev = -1
  for (let k = 0; k < input.length; k++) {
    const e: unknown = input[k]
    if (!Array.isArray(e) || e.length !== 2 || !Array.isArray(e[0]) || e[0].length !== 2) fail(`entry ${k} must be [[lo, hi], count]`)
    const [[lo, hi], c] = e as [[unknown, unknown], unknown]
    if (typeof lo !== 'number' || typeof hi !== 'number') return fail(`entry ${k}: lo and hi must be numbers`)
    if (typeof c !== 'number' || !Number.isSafeInteger(c) || c < 0) return fail(`entry ${k}: count ${String(c)} must be a non-negative integer below 2^53`)
    const i = q.indexOfRange(lo, hi)
    if (i < 0) {
      const near = Number.isFinite(lo) ? q.index(lo) : 0
      return fail(`entry ${k}: [${lo}, ${hi}] is not a bucket of ${describeBucketing(bucketing)} (the bucket holding ${lo} is [${q.lo(near)}, ${q.hi(near)}])`)
    }
    if (i <= prev) return fail(`entry ${k}: [${lo}, ${hi}] is out of order (entries must be sorted by lo, each bucket once)`)
    prev = i
    if (c === 0) continue
    idx.push(i)
    cnt.push(c)
    total += c
  }
  if (total > MAX_COUNT) fail('total count exceeds 2^53 - 1')
  return make(bucketing, Uint32Array.from(idx), Float64Array.from(cnt), total)
}

/** Whether bucket `i` of `q` is unbounded below or above (its printed bound is INT64_MIN / INT64_MAX). */
function unboundedBelow (q: Quantizer, i: number): boolean {
  return i === 0 && q.bucketing.kind === 'lquantize'
}
function unboundedAbove (q: Quantizer, i: number): boolean {
  return i === q.nbuckets - 1
}

/**
 * The value standing for bucket `i` in sums and means: (lo + hi) / 2, the mean of the integers
 * in the bucket (CA's weighting); an unbounded bucket's finite bound.
 */
export function representativeValue (bucketing: Bucketing, i: number, q: Quantizer = quantizer(bucketing)): number {
  if (unboundedAbove(q, i)) return q.lo(i)
  if (unboundedBelow(q, i)) return q.hi(i)
  return (q.lo(i) + q.hi(i)) / 2
}

/** Summary statistics of a distribution (see the module header for how each is estimated). */
export interface DistributionStats {
  /** Exact number of events. */
  readonly count: number
  /** Estimated sum of the values (count x representative value per bucket); 0 when empty. */
  readonly sum: number
  /** sum / count; undefined when empty (CA's average answered null). */
  readonly mean: number | undefined
  /** Lower bound of the lowest non-empty bucket; undefined when empty. */
  readonly min: number | undefined
  /** Upper bound of the highest non-empty bucket (INT64_MAX as 2^63 for overflow); undefined when empty. */
  readonly max: number | undefined
}

/** Count, sum, mean, min and max of `d`. */
export function distributionStats (d: Distribution): DistributionStats {
  const n = d.index.length
  if (n === 0) return { count: 0, sum: 0, mean: undefined, min: undefined, max: undefined }
  const q = quantizer(d.bucketing)
  let sum = 0
  for (let k = 0; k < n; k++) sum += d.count[k]! * representativeValue(d.bucketing, d.index[k]!, q)
  return { count: d.total, sum, mean: sum / d.total, min: q.lo(d.index[0]!), max: q.hi(d.index[n - 1]!) }
}

/**
 * The p-th quantile of `d`, p in [0, 1] (0.99 for p99), interpolated linearly within its bucket
 * over [lo, hi + 1) (see the module header); undefined for an empty distribution.
 * @throws RangeError if p is not in [0, 1].
 */
export function distributionPercentile (d: Distribution, p: number): number | undefined {
  return distributionPercentiles(d, [p])[0]
}

/** Several quantiles in one pass over the buckets; `ps` need not be sorted. */
export function distributionPercentiles (d: Distribution, ps: readonly number[]): Array<number | undefined> {
  for (const p of ps) if (!(p >= 0 && p <= 1)) throw new RangeError(`percentile ${p} is not in [0, 1]`)
  const n = d.index.length
  if (n === 0) return ps.map(() => undefined)
  const q = quantizer(d.bucketing)
  const order = ps.map((_, i) => i).sort((x, y) => ps[x]! - ps[y]!)
  const out: Array<number | undefined> = new Array(ps.length)
  let k = 0
  let below = 0 // events in buckets before k
  for (const which of order) {
    const rank = ps[which]! * d.total
    // The first bucket whose cumulative count reaches the rank (the last one for p = 1).
    while (k < n - 1 && below + d.count[k]! < rank) below += d.count[k++]!
    const i = d.index[k]!
    if (unboundedAbove(q, i)) { out[which] = q.lo(i); continue }
    if (unboundedBelow(q, i)) { out[which] = q.hi(i); continue }
    const frac = Math.min(1, Math.max(0, (rank - below) / d.count[k]!))
    const lo = q.lo(i)
    out[which] = lo + frac * (q.hi(i) + 1 - lo)
  }
  return out
}
