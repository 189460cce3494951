/**
 * Bucketing: how a numeric field's values map to the ranges a distribution counts.
 *
 * THEORY. A distribution never stores values, only counts per bucket, and every node must cut
 * the number line at the same places or merges would not be exact. The cuts are DTrace's, bit
 * for bit, because Cloud Analytics' clients (and the bpftrace scripts metad generates) speak in
 * DTrace's buckets:
 *
 * - llquantize(base, low, high, nsteps), illumos `dtrace_aggregate_llquantize_bucket` and its
 *   printers (`dt_print_llquantize`, node-libdtrace `ranges_llquantize`). Bucket 0 is the
 *   underflow bucket `[0, base^low - 1]` (every value below base^low lands there, negative ones
 *   too, although the printers label it from 0). Each order of magnitude k = low..high covers
 *   `[base^k, base^(k+1))` in buckets of width `w = base^(k+1) / nsteps`, or 1 when
 *   `base^(k+1) <= nsteps` (the "fewer than one step" case: then the order has
 *   `base^(k+1) - base^k` buckets of width 1, e.g. 9 buckets for k = 0 with base 10); otherwise
 *   `nsteps - nsteps / base` buckets. The last bucket is the overflow `[base^(high+1), INT64_MAX]`.
 *   CA's time bucketing llquantize(10, 3, 11, 100) over ns thus has 9 orders x 90 = 810 regular
 *   buckets plus 2 (812).
 * - lquantize(low, high, step), illumos `dtrace_aggregate_lquantize` and node-libdtrace
 *   `ranges_lquantize`. `levels = floor((high - low) / step)`; bucket 0 is the underflow
 *   `[INT64_MIN, low - 1]`, bucket i = 1..levels is `[low + (i-1)*step, low + i*step - 1]`, the
 *   last is the overflow `[low + levels*step, INT64_MAX]` (so with `high - low` not a multiple of
 *   step, as in DTrace, the overflow starts below `high`).
 *
 * The parameters are checked with the D compiler's own rules (dt_cc.c: factor >= 2, low < high,
 * nsteps a multiple of factor that divides a power of it, 16-bit fields; lquantize's 32-bit
 * bounds and 16-bit step and level count). One deliberate difference: DTrace's lquantize casts
 * the value to int32 before bucketing (a value of 2^32 + 5 lands in bucket "5"); here values are
 * compared whole, so a large value lands in the overflow bucket as its magnitude says.
 *
 * DENSE INDEX. Buckets are numbered 0..nbuckets-1 in value order, exactly as DTrace numbers its
 * aggregation buffer: 0 is the underflow, nbuckets-1 the overflow. Distributions store these
 * indices; a dense `Float64Array(nbuckets)` is a valid accumulator.
 *
 * PRECISION. Bucket bounds are integers; heatmesh requires every finite bound (base^(high+1) for
 * llquantize) to be at most 2^53, so bounds are exact doubles. Consequently bucketing is exact for
 * any int64 input, even one that reached us as a rounded double: a value >= 2^53 rounds to a
 * double >= 2^53 (rounding is monotone and 2^53 is a double), and every such value is in the
 * overflow bucket, while values below 2^53 are exact. Bigint input is accepted for the same
 * reason: `indexBig` sends anything >= 2^53 to the overflow bucket (and anything <= -2^53 to the
 * underflow) and converts the rest exactly. A non-integer value v is bucketed as floor(v), which is
 * what the inclusive integer ranges mean (bucket [lo, hi] holds the reals [lo, hi + 1)). The
 * overflow bucket's upper bound INT64_MAX is not a double: it is carried as 2^63, which JavaScript
 * prints as 9223372036854776000, exactly as CA's JSON did.
 */
import { InvalidFieldError } from './errors.js'

/** DTrace's llquantize(value, base, low, high, nsteps) or lquantize(value, low, high, step). */
export type Bucketing =
  | { readonly kind: 'llquantize', readonly base: number, readonly low: number, readonly high: number, readonly nsteps: number }
  | { readonly kind: 'lquantize', readonly low: number, readonly high: number, readonly step: number }

/** CA's time bucketing: llquantize(10, 3, 11, 100) over nanoseconds (1 us .. 1000 s, 90 buckets a decade). */
export const LATENCY_BUCKETING: Bucketing = Object.freeze({ kind: 'llquantize', base: 10, low: 3, high: 11, nsteps: 100 })

/** INT64_MAX, the overflow bucket's upper bound, as a JS number: 2^63 (prints 9223372036854776000). */
export const INT64_MAX_NUMBER = 2 ** 63
/** INT64_MIN, lquantize's underflow lower bound, as a JS number: -2^63 (exact). */
export const INT64_MIN_NUMBER = -(2 ** 63)
/** heatmesh's cap on buckets per bucketing, so a dense accumulator stays small (1 MiB of doubles). */
export const MAX_BUCKETS = 131072

const TWO_POW_53 = 2 ** 53
const UINT16_MAX = 65535
const INT32_MIN = -(2 ** 31)
const INT32_MAX = 2 ** 31 - 1
const INT64_MAX_BIG = (1n << 63n) - 1n

/**
 * Parses and checks a bucketing from outside (a catalog entry, a peer's message) with the D
 * compiler's rules plus heatmesh's two limits (finite bounds <= 2^53, at most MAX_BUCKETS
 * buckets). Returns a fresh frozen object holding only the known members.
 * @throws InvalidFieldError naming `field`, with DTrace's reason where DTrace has one.
 */
export function parseBucketing (input: unknown, field = 'bucketing'): Bucketing {
  const fail = (reason: string): never => { throw new InvalidFieldError(field, input, reason) }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return fail('must be an object')
  const o = input as Record<string, unknown>
  const int = (name: string, min: number, max: number, what: string): number => {
    const v = o[name]
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return fail(`"${name}" must be ${what}`)
    return v
  }
  if (o.kind === 'llquantize') {
    const u16 = 'an unsigned 16-bit integer'
    const base = int('base', 0, UINT16_MAX, u16)
    const low = int('low', 0, UINT16_MAX, u16)
    const high = int('high', 0, UINT16_MAX, u16)
    const nsteps = int('nsteps', 0, UINT16_MAX, u16)
    if (base < 2) fail('llquantize() factor must be two or more')
    if (low >= high) fail('llquantize() high magnitude must be greater than low magnitude')
    if (nsteps < base) fail('llquantize() factor must be less than or equal to the number of linear steps per magnitude')
    let v = base
    while (v < nsteps) v *= base
    if (nsteps % base !== 0 || v % nsteps !== 0) {
      fail('llquantize() factor must evenly divide the number of steps per magnitude, and the number of steps per magnitude must evenly divide a power of the factor')
    }
    // dt_cc.c: factor^(high+2) must not overflow int64 (the kernel computes one order ahead).
    if (BigInt(base) ** BigInt(high + 2) > INT64_MAX_BIG) fail(`llquantize() factor (${base}) raised to power of high magnitude (${high}) plus 1 overflows 64-bits`)
    if (base ** (high + 1) > TWO_POW_53) fail(`llquantize() bounds must stay within 2^53 (heatmesh keeps bucket bounds exact): ${base}^${high + 1} is larger`)
    const b: Bucketing = Object.freeze({ kind: 'llquantize', base, low, high, nsteps })
    const n = bucketCount(b)
    if (n > MAX_BUCKETS) fail(`has ${n} buckets; heatmesh allows at most ${MAX_BUCKETS}`)
    return b
  }
  if (o.kind === 'lquantize') {
    const i32 = 'a signed 32-bit integer'
    const low = int('low', INT32_MIN, INT32_MAX, i32)
    const high = int('high', INT32_MIN, INT32_MAX, i32)
    const step = int('step', 1, UINT16_MAX, 'an integer from 1 to 65535')
    if (high < low) fail('lquantize() base must be less than limit')
    const levels = Math.floor((high - low) / step)
    if (levels === 0) fail('lquantize() step too large: must have at least one quantization level')
    if (levels > UINT16_MAX) fail('lquantize() step too small: number of quantization levels must be a 16-bit quantity')
    return Object.freeze({ kind: 'lquantize', low, high, step })
  }
  return fail('"kind" must be "llquantize" or "lquantize"')
}

/** Whether two bucketings cut the number line identically (same kind and parameters). */
export function sameBucketing (a: Bucketing, b: Bucketing): boolean {
  if (a === b) return true
  if (a.kind === 'llquantize') {
    return b.kind === 'llquantize' && a.base === b.base && a.low === b.low && a.high === b.high && a.nsteps === b.nsteps
  }
  return b.kind === 'lquantize' && a.low === b.low && a.high === b.high && a.step === b.step
}

/** DTrace's spelling, for messages: `llquantize(10, 3, 11, 100)`, `lquantize(0, 1000, 10)`. */
export function describeBucketing (b: Bucketing): string {
  return b.kind === 'llquantize' ? `llquantize(${b.base}, ${b.low}, ${b.high}, ${b.nsteps})` : `lquantize(${b.low}, ${b.high}, ${b.step})`
}

/** Number of buckets including underflow and overflow (812 for LATENCY_BUCKETING). */
export function bucketCount (b: Bucketing): number {
  if (b.kind === 'lquantize') return Math.floor((b.high - b.low) / b.step) + 2
  let n = 2
  for (let k = b.low, t = b.base ** b.low; k <= b.high; k++, t *= b.base) n += orderBuckets(t * b.base, b.base, b.nsteps)
  return n
}

/** Buckets in the order [next / base, next): DTrace's `nbuckets - nbuckets / factor`. */
function orderBuckets (next: number, base: number, nsteps: number): number {
  const nb = next > nsteps ? nsteps : next
  return nb - nb / base
}

/**
 * A bucketing compiled for hot loops: the bucket index of a value and the inclusive bounds of a
 * bucket. Compiling is cheap (a few numbers per order of magnitude); reuse one in loops anyway.
 */
export interface Quantizer {
  readonly bucketing: Bucketing
  /** Buckets including underflow (0) and overflow (nbuckets - 1). */
  readonly nbuckets: number
  /** Dense index of the bucket holding `v` (floor(v) if fractional). NaN is a caller bug: throws. */
  index (v: number): number
  /** The same for an int64 (or any bigint): exact, see the module header. */
  indexBig (v: bigint): number
  /** Inclusive lower bound of bucket `i` (underflow: 0 for llquantize, INT64_MIN for lquantize). */
  lo (i: number): number
  /** Inclusive upper bound of bucket `i` (overflow: INT64_MAX, carried as 2^63). */
  hi (i: number): number
  /** Index of the bucket whose bounds are exactly [lo, hi], or -1 if there is none. */
  indexOfRange (lo: number, hi: number): number
}

/** Compiles `b` (assumed valid: parse untrusted input with parseBucketing first). */
export function quantizer (b: Bucketing): Quantizer {
  return b.kind === 'llquantize' ? new LlQuantizer(b) : new LQuantizer(b)
}

/** Convenience for one-off use: the dense index of `v` under `b`. Compile a Quantizer for loops. */
export function bucketIndex (b: Bucketing, v: number | bigint): number {
  const q = quantizer(b)
  return typeof v === 'bigint' ? q.indexBig(v) : q.index(v)
}

/** Convenience for one-off use: the inclusive [lo, hi] of bucket `i` as DTrace prints it. */
export function bucketRange (b: Bucketing, i: number): [number, number] {
  const q = quantizer(b)
  if (!Number.isInteger(i) || i < 0 || i >= q.nbuckets) throw new RangeError(`${i} is not a bucket of ${describeBucketing(b)}`)
  return [q.lo(i), q.hi(i)]
}

const BIG_2_53 = 9007199254740992n

class LlQuantizer implements Quantizer {
  readonly bucketing: Bucketing
  readonly nbuckets: number
  private readonly norders: number
  /** bottom[j] = base^(low+j) for j = 0..norders; bottom[norders] is where the overflow starts. */
  private readonly bottom: Float64Array
  /** first[j]: dense index of the first bucket of order low+j; first[norders] is the overflow's. */
  private readonly first: Int32Array
  /** width[j]: bucket width in order low+j. */
  private readonly width: Float64Array

  constructor (b: Extract<Bucketing, { kind: 'llquantize' }>) {
    this.bucketing = b
    const norders = b.high - b.low + 1
    this.norders = norders
    this.bottom = new Float64Array(norders + 1)
    this.first = new Int32Array(norders + 1)
    this.width = new Float64Array(norders)
    let t = b.base ** b.low
    let i = 1
    for (let j = 0; j < norders; j++) {
      const next = t * b.base
      this.bottom[j] = t
      this.first[j] = i
      this.width[j] = next > b.nsteps ? next / b.nsteps : 1
      i += orderBuckets(next, b.base, b.nsteps)
      t = next
    }
    this.bottom[norders] = t
    this.first[norders] = i
    this.nbuckets = i + 1
  }

  index (v: number): number {
    const bottom = this.bottom
    if (v < bottom[0]!) return 0
    for (let j = 0; j < this.norders; j++) {
      // Exact: both operands are integers below 2^53, so the rounded quotient floors correctly.
      if (v < bottom[j + 1]!) return (this.first[j]! + Math.floor((Math.floor(v) - bottom[j]!) / this.width[j]!)) | 0
    }
    if (Number.isNaN(v)) throw new RangeError('cannot bucket NaN')
    return this.nbuckets - 1
  }

  indexBig (v: bigint): number {
    if (v >= BIG_2_53) return this.nbuckets - 1
    if (v <= -BIG_2_53) return 0
    return this.index(Number(v))
  }

  private order (i: number): number {
    let j = 0
    while (j < this.norders - 1 && i >= this.first[j + 1]!) j++
    return j
  }

  lo (i: number): number {
    if (i <= 0) return 0
    if (i >= this.nbuckets - 1) return this.bottom[this.norders]!
    const j = this.order(i)
    return this.bottom[j]! + (i - this.first[j]!) * this.width[j]!
  }

  hi (i: number): number {
    if (i <= 0) return this.bottom[0]! - 1
    if (i >= this.nbuckets - 1) return INT64_MAX_NUMBER
    const j = this.order(i)
    return this.bottom[j]! + (i - this.first[j]! + 1) * this.width[j]! - 1
  }

  indexOfRange (lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) return -1
    const i = this.index(lo)
    return this.lo(i) === lo && this.hi(i) === hi ? i : -1
  }
}

class LQuantizer implements Quantizer {
  readonly bucketing: Bucketing
  readonly nbuckets: number
  private readonly low: number
  private readonly step: number
  private readonly levels: number

  constructor (b: Extract<Bucketing, { kind: 'lquantize' }>) {
    this.bucketing = b
    this.low = b.low
    this.step = b.step
    this.levels = Math.floor((b.high - b.low) / b.step)
    this.nbuckets = this.levels + 2
  }

  index (v: number): number {
    if (v < this.low) return 0
    const level = Math.floor((Math.floor(v) - this.low) / this.step)
    if (level < this.levels) return (level + 1) | 0
    if (Number.isNaN(v)) throw new RangeError('cannot bucket NaN')
    return this.levels + 1
  }

  indexBig (v: bigint): number {
    if (v >= BIG_2_53) return this.nbuckets - 1
    if (v <= -BIG_2_53) return 0
    return this.index(Number(v))
  }

  lo (i: number): number {
    return i <= 0 ? INT64_MIN_NUMBER : this.low + (Math.min(i, this.levels + 1) - 1) * this.step
  }

  hi (i: number): number {
    return i > this.levels ? INT64_MAX_NUMBER : this.low + Math.max(i, 0) * this.step - 1
  }

  indexOfRange (lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) return -1
    const i = this.index(lo)
    return this.lo(i) === lo && this.hi(i) === hi ? i : -1
  }
}
