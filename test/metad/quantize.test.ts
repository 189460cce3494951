/**
 * metad/quantize.ts against DTrace itself: the reference functions below are line-by-line
 * transcriptions (in bigint, i.e. int64) of illumos `dtrace_aggregate_llquantize_bucket` and
 * `dtrace_aggregate_lquantize` (the kernel's bucket choice) and of node-libdtrace's
 * `ranges_llquantize` / `ranges_lquantize` (the [lo, hi] labels CA's JSON carried).
 */
import test from 'ava'
import fc from 'fast-check'
import { holds } from './property.js'
import {
  bucketCount, bucketIndex, bucketRange, describeBucketing, INT64_MAX_NUMBER, INT64_MIN_NUMBER, LATENCY_BUCKETING,
  MAX_BUCKETS, parseBucketing, quantizer, sameBucketing, type Bucketing
} from '../../metad/quantize.js'
import { InvalidFieldError } from '../../metad/errors.js'

const INT64_MAX = (1n << 63n) - 1n
const INT64_MIN = -(1n << 63n)

type Ll = Extract<Bucketing, { kind: 'llquantize' }>
type Lq = Extract<Bucketing, { kind: 'lquantize' }>

/** illumos dtrace.c dtrace_aggregate_llquantize_bucket, transcribed. */
function kernelLlquantize (b: Ll, value: bigint): number {
  const factor = BigInt(b.base)
  const nsteps = BigInt(b.nsteps)
  let thisv = 1n
  let base = 1
  let order: number
  for (order = 0; order < b.low; order++) thisv *= factor
  let last = thisv
  if (value < last) return 0
  for (thisv *= factor; order <= b.high; order++) {
    const nbuckets = thisv > nsteps ? nsteps : thisv
    const next = thisv * factor
    if (value < thisv) return base + Number((value - last) / (thisv / nbuckets))
    base += Number(nbuckets - nbuckets / factor)
    last = thisv
    thisv = next
  }
  return base
}

/** node-libdtrace ranges_llquantize, transcribed. */
function libdtraceLlRanges (b: Ll): Array<[bigint, bigint]> {
  const factor = BigInt(b.base)
  const nsteps = BigInt(b.nsteps)
  const ranges: Array<[bigint, bigint]> = []
  let value = 1n
  let order: number
  for (order = 0; order < b.low; order++) value *= factor
  ranges.push([0n, value - 1n])
  let next = value * factor
  let step = next > nsteps ? next / nsteps : 1n
  while (order <= b.high) {
    ranges.push([value, value + step - 1n])
    if ((value += step) !== next) continue
    next = value * factor
    step = next > nsteps ? next / nsteps : 1n
    order++
  }
  ranges.push([value, INT64_MAX])
  return ranges
}

/** illumos dtrace_aggregate_lquantize, transcribed without its int32 cast of the value (see quantize.ts). */
function kernelLquantize (b: Lq, val: bigint): number {
  const base = BigInt(b.low)
  const step = BigInt(b.step)
  const levels = BigInt(Math.floor((b.high - b.low) / b.step))
  if (val < base) return 0
  const level = (val - base) / step
  if (level < levels) return Number(level) + 1
  return Number(levels) + 1
}

/** node-libdtrace ranges_lquantize, transcribed. */
function libdtraceLRanges (b: Lq): Array<[bigint, bigint]> {
  const base = BigInt(b.low)
  const step = BigInt(b.step)
  const levels = Math.floor((b.high - b.low) / b.step)
  const ranges: Array<[bigint, bigint]> = []
  for (let i = 0; i <= levels + 1; i++) {
    const min = i === 0 ? INT64_MIN : base + BigInt(i - 1) * step
    const max = i > levels ? INT64_MAX : base + BigInt(i) * step - 1n
    ranges.push([min, max])
  }
  return ranges
}

/** Asserts a fast-check property, with fast-check's counterexample report as the message. */

const ll = (base: number, low: number, high: number, nsteps: number): Bucketing => parseBucketing({ kind: 'llquantize', base, low, high, nsteps })
const lq = (low: number, high: number, step: number): Bucketing => parseBucketing({ kind: 'lquantize', low, high, step })

/** Bucketings DTrace accepts, with a note on what each one exercises. */
const bucketings: Array<[Bucketing, string]> = [
  [LATENCY_BUCKETING, "CA's time bucketing"],
  [ll(10, 0, 11, 100), 'orders where base^(k+1)/nsteps < 1: width-1 buckets (size fields)'],
  [ll(10, 0, 2, 10), 'nsteps equal to the base'],
  [ll(2, 0, 10, 4), 'base 2'],
  [ll(3, 3, 5, 27), "Oracle's tst.llquantstep.d: a step dividing base^low but not base^2"],
  [ll(10, 2, 6, 20), 'nsteps dividing base^2 but not a multiple of it'],
  [ll(4, 1, 8, 64), 'nsteps a higher power of the base'],
  [ll(2, 0, 52, 2), 'bounds up to 2^53'],
  [lq(0, 1000, 10), "CA's subsecond lquantize(0, 1000, 10)"],
  [lq(0, 1000, 30), 'high - low not a multiple of step: overflow starts below high'],
  [lq(-100, 100, 7), 'negative bounds'],
  [lq(-2147483648, 2147352577, 65535), 'the widest: 32-bit bounds, 65535 levels of 65535']
]

function referenceRanges (b: Bucketing): Array<[bigint, bigint]> {
  return b.kind === 'llquantize' ? libdtraceLlRanges(b) : libdtraceLRanges(b)
}
function referenceIndex (b: Bucketing, v: bigint): number {
  return b.kind === 'llquantize' ? kernelLlquantize(b, v) : kernelLquantize(b, v)
}

test('LATENCY_BUCKETING has 810 regular buckets plus underflow and overflow', (t) => {
  t.is(bucketCount(LATENCY_BUCKETING), 812)
  t.is(quantizer(LATENCY_BUCKETING).nbuckets, 812)
})

test('latency buckets at the decade boundaries are exactly DTrace\'s', (t) => {
  const cases: Array<[number, number, [number, number]]> = [
    [0, 0, [0, 999]],
    [999, 0, [0, 999]],
    [1000, 1, [1000, 1099]],
    [1099, 1, [1000, 1099]],
    [1100, 2, [1100, 1199]],
    [9999, 90, [9900, 9999]],
    [10000, 91, [10000, 10999]],
    [99999, 180, [99000, 99999]],
    [100000, 181, [100000, 109999]],
    [999999999999, 810, [990000000000, 999999999999]],
    [1e12, 811, [1e12, INT64_MAX_NUMBER]],
    [2 ** 53, 811, [1e12, INT64_MAX_NUMBER]],
    [2 ** 63, 811, [1e12, INT64_MAX_NUMBER]],
    [Infinity, 811, [1e12, INT64_MAX_NUMBER]],
    [-1, 0, [0, 999]],
    [-Infinity, 0, [0, 999]],
    [1099.999, 1, [1000, 1099]]
  ]
  for (const [v, i, range] of cases) {
    t.is(bucketIndex(LATENCY_BUCKETING, v), i, `index of ${v}`)
    t.deepEqual(bucketRange(LATENCY_BUCKETING, i), range, `range of bucket ${i}`)
  }
  t.is(JSON.stringify(bucketRange(LATENCY_BUCKETING, 811)), '[1000000000000,9223372036854776000]')
})

test('lquantize(0, 1000, 10) prints underflow, ten-wide levels and overflow as node-libdtrace did', (t) => {
  const b = lq(0, 1000, 10)
  t.is(bucketCount(b), 102)
  t.deepEqual(bucketRange(b, 0), [INT64_MIN_NUMBER, -1])
  t.deepEqual(bucketRange(b, 1), [0, 9])
  t.deepEqual(bucketRange(b, 100), [990, 999])
  t.deepEqual(bucketRange(b, 101), [1000, INT64_MAX_NUMBER])
  t.is(JSON.stringify(bucketRange(b, 0)), '[-9223372036854776000,-1]')
})

for (const [b, note] of bucketings) {
  test(`${describeBucketing(b)} (${note}): every bucket's range is node-libdtrace's`, (t) => {
    const q = quantizer(b)
    const ref = referenceRanges(b)
    t.is(q.nbuckets, ref.length)
    const bad: string[] = []
    for (let i = 0; i < ref.length; i++) {
      const [lo, hi] = ref[i]!
      // Finite bounds are exact; INT64_MIN/MAX are carried as the nearest doubles, -2^63 and 2^63.
      const exact = (x: number, want: bigint): boolean => want === INT64_MIN || want === INT64_MAX ? x === Number(want) : BigInt(x) === want
      if (!exact(q.lo(i), lo) || !exact(q.hi(i), hi)) bad.push(`bucket ${i}: [${q.lo(i)}, ${q.hi(i)}] != [${lo}, ${hi}]`)
      if (q.indexOfRange(q.lo(i), q.hi(i)) !== i) bad.push(`indexOfRange of bucket ${i}`)
    }
    t.deepEqual(bad, [])
  })

  test(`${describeBucketing(b)} (${note}): the index of every bucket edge is the kernel's`, (t) => {
    const q = quantizer(b)
    const bad: string[] = []
    for (const [lo, hi] of referenceRanges(b)) {
      for (const v of [lo - 1n, lo, lo + 1n, hi - 1n, hi, hi + 1n]) {
        if (v < INT64_MIN || v > INT64_MAX) continue
        const want = referenceIndex(b, v)
        if (q.indexBig(v) !== want) bad.push(`indexBig(${v}) = ${q.indexBig(v)}, kernel says ${want}`)
        if (q.index(Number(v)) !== want) bad.push(`index(${Number(v)}) = ${q.index(Number(v))}, kernel says ${want}`)
      }
    }
    t.deepEqual(bad, [])
  })

  test(`${describeBucketing(b)} (${note}): any int64, as a bigint or rounded to a double, lands where the kernel puts it`, (t) => {
    const q = quantizer(b)
    const int64 = fc.oneof(
      fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
      fc.bigInt({ min: -1n, max: 10n ** 13n }),
      fc.integer({ min: 0, max: 62 }).chain((e) => fc.bigInt({ min: (1n << BigInt(e)) - 2n, max: (1n << BigInt(e)) + 2n }))
    )
    holds(t, fc.property(int64, (v) => {
      const want = referenceIndex(b, v)
      return q.indexBig(v) === want && q.index(Number(v)) === want
    }), { numRuns: 2000 })
  })
}

test('a fractional value is bucketed as its floor', (t) => {
  holds(t, fc.property(fc.double({ min: -1e13, max: 1e13, noNaN: true }), (v) =>
    bucketIndex(LATENCY_BUCKETING, v) === bucketIndex(LATENCY_BUCKETING, Math.floor(v))))
  t.is(bucketIndex(lq(0, 1000, 10), 9.99), 1)
  t.is(bucketIndex(lq(0, 1000, 10), -0.5), 0)
})

test('bucketing NaN is a caller bug and throws', (t) => {
  t.throws(() => bucketIndex(LATENCY_BUCKETING, NaN), { instanceOf: RangeError })
  t.throws(() => bucketIndex(lq(0, 10, 1), NaN), { instanceOf: RangeError })
})

test('indexOfRange finds only exact buckets', (t) => {
  const q = quantizer(LATENCY_BUCKETING)
  t.is(q.indexOfRange(1000, 1099), 1)
  t.is(q.indexOfRange(1000, 1098), -1)
  t.is(q.indexOfRange(1000, 1199), -1)
  t.is(q.indexOfRange(1001, 1099), -1)
  t.is(q.indexOfRange(1e12, 9223372036854775807), 811)
  t.is(q.indexOfRange(0, 999), 0)
  t.is(q.indexOfRange(0.5, 999), -1)
  t.is(q.indexOfRange(NaN, 999), -1)
})

test('bucketRange rejects a non-bucket', (t) => {
  t.throws(() => bucketRange(LATENCY_BUCKETING, 812), { instanceOf: RangeError })
  t.throws(() => bucketRange(LATENCY_BUCKETING, -1), { instanceOf: RangeError })
  t.throws(() => bucketRange(LATENCY_BUCKETING, 1.5), { instanceOf: RangeError })
})

test('sameBucketing compares kind and parameters', (t) => {
  t.true(sameBucketing(LATENCY_BUCKETING, ll(10, 3, 11, 100)))
  t.false(sameBucketing(LATENCY_BUCKETING, ll(10, 3, 11, 50)))
  t.false(sameBucketing(LATENCY_BUCKETING, lq(3, 11, 1)))
  t.true(sameBucketing(lq(0, 10, 1), lq(0, 10, 1)))
  t.false(sameBucketing(lq(0, 10, 1), lq(0, 11, 1)))
})

test('parseBucketing returns a frozen copy with only the known members', (t) => {
  const b = parseBucketing({ kind: 'llquantize', base: 10, low: 3, high: 11, nsteps: 100, extra: 1 })
  t.deepEqual(b, LATENCY_BUCKETING)
  t.true(Object.isFrozen(b))
})

/** Each rule of dt_cc.c (and heatmesh's two limits) with an input that breaks it. */
const invalid: Array<[unknown, RegExp, string]> = [
  [null, /must be an object/, 'not an object'],
  [[1], /must be an object/, 'an array'],
  [{ kind: 'quantize' }, /"kind" must be/, 'unknown kind'],
  [{ kind: 'llquantize', base: 1, low: 0, high: 6, nsteps: 20 }, /factor must be two or more/, 'factor < 2'],
  [{ kind: 'llquantize', base: 10, low: 6, high: 6, nsteps: 20 }, /high magnitude must be greater/, 'low == high'],
  [{ kind: 'llquantize', base: 10, low: 0, high: 6, nsteps: 6 }, /less than or equal to the number of linear steps/, 'nsteps < factor'],
  [{ kind: 'llquantize', base: 10, low: 0, high: 6, nsteps: 25 }, /evenly divide/, 'nsteps not a multiple of factor'],
  [{ kind: 'llquantize', base: 10, low: 0, high: 6, nsteps: 30 }, /evenly divide/, 'nsteps divides no power of factor'],
  [{ kind: 'llquantize', base: 10, low: 0, high: 6, nsteps: 65536 }, /"nsteps" must be an unsigned 16-bit/, 'nsteps beyond 16 bits'],
  [{ kind: 'llquantize', base: 10, low: -1, high: 6, nsteps: 20 }, /"low" must be an unsigned 16-bit/, 'negative low'],
  [{ kind: 'llquantize', base: 10, low: 0, high: 6.5, nsteps: 20 }, /"high" must be an unsigned 16-bit/, 'fractional high'],
  [{ kind: 'llquantize', base: '10', low: 0, high: 6, nsteps: 20 }, /"base" must be/, 'base as a string'],
  [{ kind: 'llquantize', base: 10, low: 0, high: 18, nsteps: 10 }, /overflows 64-bits/, 'factor^(high+2) beyond int64 (D_LLQUANT_MAGTOOBIG)'],
  [{ kind: 'llquantize', base: 10, low: 0, high: 15, nsteps: 10 }, /within 2\^53/, 'bounds beyond 2^53 (heatmesh)'],
  [{ kind: 'llquantize', base: 2, low: 0, high: 52, nsteps: 32768 }, new RegExp(`at most ${MAX_BUCKETS}`), 'too many buckets (heatmesh)'],
  [{ kind: 'lquantize', low: 0, high: 2 ** 31, step: 10 }, /"high" must be a signed 32-bit/, 'limit beyond 32 bits'],
  [{ kind: 'lquantize', low: -(2 ** 31) - 1, high: 0, step: 10 }, /"low" must be a signed 32-bit/, 'base beyond 32 bits'],
  [{ kind: 'lquantize', low: 10, high: 0, step: 1 }, /base must be less than limit/, 'limit < base'],
  [{ kind: 'lquantize', low: 0, high: 1000, step: 0 }, /"step" must be an integer from 1/, 'step 0'],
  [{ kind: 'lquantize', low: 0, high: 1000, step: 65536 }, /"step" must be an integer from 1/, 'step beyond 16 bits'],
  [{ kind: 'lquantize', low: 0, high: 9, step: 10 }, /step too large/, 'no level'],
  [{ kind: 'lquantize', low: 0, high: 100000, step: 1 }, /step too small/, 'more than 65535 levels']
]
for (const [input, reason, note] of invalid) {
  test(`parseBucketing rejects ${note}`, (t) => {
    const e = t.throws(() => parseBucketing(input, 'bucketing'), { instanceOf: InvalidFieldError })
    t.regex(e!.reason, reason)
    t.is(e!.field, 'bucketing')
    t.is(e!.code, 'ECA_INVAL')
  })
}
