import test from 'ava'
import fc from 'fast-check'
import { holds } from './property.js'
import {
  distributionFromBuckets, distributionFromCa, distributionOf, distributionPercentile, distributionPercentiles,
  distributionsEqual, distributionStats, distributionToCa, DistributionBuilder, emptyDistribution, mergeDistributionList,
  mergeDistributions, representativeValue, type Distribution
} from '../../metad/distribution.js'
import { HeatmeshError, InvalidFieldError } from '../../metad/errors.js'
import { INT64_MAX_NUMBER, LATENCY_BUCKETING, parseBucketing, quantizer, type Bucketing } from '../../metad/quantize.js'


const L = LATENCY_BUCKETING
const LQ = parseBucketing({ kind: 'lquantize', low: 0, high: 1000, step: 10 })

/** Any distribution of `b`: up to 60 buckets with counts up to 10^9 (edges over-represented). */
function arbDistribution (b: Bucketing = L): fc.Arbitrary<Distribution> {
  const n = quantizer(b).nbuckets
  const bucket = fc.oneof(fc.integer({ min: 0, max: n - 1 }), fc.constantFrom(0, 1, n - 2, n - 1))
  return fc.array(fc.tuple(bucket, fc.integer({ min: 1, max: 1e9 })), { maxLength: 60 }).map((pairs) => {
    const builder = new DistributionBuilder(b)
    for (const [i, c] of pairs) builder.addToBucket(i, c)
    return builder.build()
  })
}

/** Checks every invariant a Distribution promises. */
function valid (d: Distribution): boolean {
  const n = quantizer(d.bucketing).nbuckets
  let total = 0
  for (let k = 0; k < d.index.length; k++) {
    if (k > 0 && d.index[k]! <= d.index[k - 1]!) return false
    if (d.index[k]! >= n || !Number.isSafeInteger(d.count[k]) || d.count[k]! <= 0) return false
    total += d.count[k]!
  }
  return d.index.length === d.count.length && total === d.total && total <= Number.MAX_SAFE_INTEGER
}

const eq = distributionsEqual

test('a builder counts values into DTrace buckets and prints CA\'s JSON form', (t) => {
  const d = distributionOf(L, [5, 999, 1000, 1050, 1099, 1100, 53_000, 53_999, 2e12, 10n ** 18n])
  t.deepEqual(distributionToCa(d), [
    [[0, 999], 2],
    [[1000, 1099], 3],
    [[1100, 1199], 1],
    [[53000, 53999], 2],
    [[1e12, INT64_MAX_NUMBER], 2]
  ])
  t.is(d.total, 10)
  t.true(valid(d))
  t.is(JSON.stringify(distributionToCa(d).at(-1)), '[[1000000000000,9223372036854776000],2]')
})

test('the zero distribution prints as []', (t) => {
  t.deepEqual(distributionToCa(emptyDistribution(L)), [])
  t.is(emptyDistribution(L).total, 0)
})

test('addCount, addBig, addToBucket and addDistribution agree with add', (t) => {
  const a = new DistributionBuilder(L)
  a.add(1234); a.add(1234); a.add(1234); a.add(2 ** 60); a.add(77)
  const b = new DistributionBuilder(L)
  b.addCount(1234, 2)
  b.addBig(1234n)
  b.addCount(2n ** 63n - 1n, 1)
  b.addToBucket(0, 1)
  b.addCount(5, 0)
  t.true(eq(a.build(), b.build()))
  const c = new DistributionBuilder(L)
  c.addDistribution(a.build())
  t.true(eq(c.build(), a.build()))
})

test('a builder resets to empty and counts afresh', (t) => {
  const b = new DistributionBuilder(L)
  b.add(5000)
  b.add(6e9)
  b.reset()
  t.is(b.total, 0)
  t.true(eq(b.build(), emptyDistribution(L)))
  b.add(7000)
  t.deepEqual(distributionToCa(b.build()), [[[7000, 7099], 1]])
})

test('a builder refuses bad counts and buckets', (t) => {
  const b = new DistributionBuilder(L)
  t.throws(() => b.addCount(5, -1), { instanceOf: RangeError })
  t.throws(() => b.addCount(5, 1.5), { instanceOf: RangeError })
  t.throws(() => b.addCount(5, 2 ** 53), { instanceOf: RangeError })
  t.throws(() => b.addToBucket(812, 1), { instanceOf: RangeError })
  t.throws(() => b.add(NaN), { instanceOf: RangeError })
  t.throws(() => b.addDistribution(emptyDistribution(LQ)), { instanceOf: HeatmeshError, message: /different bucketings/ })
})

test('a builder refuses to round: a total beyond 2^53 - 1 throws on build', (t) => {
  const b = new DistributionBuilder(L)
  b.addCount(1000, Number.MAX_SAFE_INTEGER)
  t.is(b.build().total, Number.MAX_SAFE_INTEGER)
  b.add(2000)
  const e = t.throws(() => b.build(), { instanceOf: HeatmeshError })
  t.is(e!.code, 'ECA_INVAL')
})

test('distributionFromBuckets checks order, range and counts, and drops zero counts', (t) => {
  const d = distributionFromBuckets(L, [0, 5, 811], [3, 0, 1])
  t.deepEqual([...d.index], [0, 811])
  t.is(d.total, 4)
  t.throws(() => distributionFromBuckets(L, [5, 5], [1, 1]), { instanceOf: RangeError })
  t.throws(() => distributionFromBuckets(L, [6, 5], [1, 1]), { instanceOf: RangeError })
  t.throws(() => distributionFromBuckets(L, [812], [1]), { instanceOf: RangeError })
  t.throws(() => distributionFromBuckets(L, [1.5], [1]), { instanceOf: RangeError })
  t.throws(() => distributionFromBuckets(L, [1], [-1]), { instanceOf: RangeError })
  t.throws(() => distributionFromBuckets(L, [1], [0.5]), { instanceOf: RangeError })
  t.throws(() => distributionFromBuckets(L, [1], [1, 2]), { instanceOf: RangeError })
  t.throws(() => distributionFromBuckets(L, [1, 2], [2 ** 52, 2 ** 52]), { instanceOf: HeatmeshError })
})

test('merge adds bucket by bucket', (t) => {
  const a = distributionOf(L, [1000, 1000, 5000])
  const b = distributionOf(L, [1001, 9e12, 10])
  t.deepEqual(distributionToCa(mergeDistributions(a, b)), [
    [[0, 999], 1], [[1000, 1099], 3], [[5000, 5099], 1], [[1e12, INT64_MAX_NUMBER], 1]
  ])
})

test('merge is commutative', (t) => {
  holds(t, fc.property(arbDistribution(), arbDistribution(), (a, b) => eq(mergeDistributions(a, b), mergeDistributions(b, a))))
})

test('merge is associative', (t) => {
  holds(t, fc.property(arbDistribution(), arbDistribution(), arbDistribution(), (a, b, c) =>
    eq(mergeDistributions(mergeDistributions(a, b), c), mergeDistributions(a, mergeDistributions(b, c)))))
})

test('the empty distribution is the identity of merge', (t) => {
  holds(t, fc.property(arbDistribution(), (a) =>
    eq(mergeDistributions(a, emptyDistribution(L)), a) && eq(mergeDistributions(emptyDistribution(L), a), a)))
})

test('merge conserves counts, bucket by bucket, and keeps every invariant', (t) => {
  holds(t, fc.property(arbDistribution(), arbDistribution(), (a, b) => {
    const m = mergeDistributions(a, b)
    const per = new Map<number, number>()
    for (const d of [a, b]) d.index.forEach((i, k) => per.set(i, (per.get(i) ?? 0) + d.count[k]!))
    return valid(m) && m.total === a.total + b.total && m.index.length === per.size &&
      [...m.index].every((i, k) => per.get(i) === m.count[k])
  }))
})

test('merging a list equals folding merge, in any order', (t) => {
  holds(t, fc.property(fc.array(arbDistribution(), { maxLength: 12 }), (list) => {
    const folded = list.reduce(mergeDistributions, emptyDistribution(L))
    const merged = mergeDistributionList(list, L)
    return valid(merged) && eq(merged, folded) && eq(mergeDistributionList([...list].reverse(), L), folded)
  }))
})

test('merge works the same for lquantize distributions', (t) => {
  holds(t, fc.property(arbDistribution(LQ), arbDistribution(LQ), arbDistribution(LQ), (a, b, c) =>
    eq(mergeDistributions(mergeDistributions(a, b), c), mergeDistributions(a, mergeDistributions(c, b)))))
})

test('distributions of different bucketings do not merge', (t) => {
  const a = distributionOf(L, [1000])
  const b = distributionOf(LQ, [10])
  const other = distributionOf(parseBucketing({ kind: 'llquantize', base: 10, low: 3, high: 11, nsteps: 50 }), [1000])
  for (const f of [() => mergeDistributions(a, b), () => mergeDistributions(a, other), () => mergeDistributionList([a, b]),
    () => mergeDistributionList([a], LQ), () => mergeDistributions(emptyDistribution(L), emptyDistribution(LQ))]) {
    const e = t.throws(f, { instanceOf: HeatmeshError })
    t.is(e!.code, 'ECA_INCOMPAT')
    t.regex(e!.message, /llquantize\(10, 3, 11, 100\) and (lquantize\(0, 1000, 10\)|llquantize\(10, 3, 11, 50\))|lquantize\(0, 1000, 10\) and llquantize/)
  }
})

test('merge refuses to round: totals beyond 2^53 - 1 throw ECA_INVAL', (t) => {
  const big = distributionFromBuckets(L, [1], [2 ** 52])
  t.is(mergeDistributions(big, distributionFromBuckets(L, [2], [2 ** 52 - 1])).total, Number.MAX_SAFE_INTEGER)
  for (const f of [() => mergeDistributions(big, big), () => mergeDistributionList([big, big])]) {
    const e = t.throws(f, { instanceOf: HeatmeshError })
    t.is(e!.code, 'ECA_INVAL')
    t.regex(e!.message, /count overflow/)
  }
})

test('mergeDistributionList of nothing needs a bucketing', (t) => {
  t.true(eq(mergeDistributionList([], L), emptyDistribution(L)))
  t.throws(() => mergeDistributionList([]), { instanceOf: RangeError })
})

test('CA JSON round-trips', (t) => {
  holds(t, fc.property(arbDistribution(), (d) => eq(distributionFromCa(JSON.parse(JSON.stringify(distributionToCa(d))), L), d)))
  holds(t, fc.property(arbDistribution(LQ), (d) => eq(distributionFromCa(JSON.parse(JSON.stringify(distributionToCa(d))), LQ), d)))
})

test('distributionFromCa drops zero counts', (t) => {
  t.deepEqual(distributionToCa(distributionFromCa([[[1000, 1099], 0], [[1100, 1199], 2]], L)), [[[1100, 1199], 2]])
})

/** Each rule of distributionFromCa with an input that breaks it. */
const badCa: Array<[unknown, RegExp, string]> = [
  [{}, /must be an array/, 'an object'],
  ['[]', /must be an array/, 'a string'],
  [[[1000, 1099, 1]], /entry 0 must be \[\[lo, hi\], count\]/, 'a flat entry'],
  [[[[1000], 1]], /entry 0 must be/, 'a range of one number'],
  [[[[1000, 1099], 1, 2]], /entry 0 must be/, 'an entry of three elements'],
  [[null], /entry 0 must be/, 'a null entry'],
  [[[['1000', 1099], 1]], /lo and hi must be numbers/, 'lo as a string'],
  [[[[1000, 1099], -1]], /count -1 must be a non-negative integer/, 'a negative count'],
  [[[[1000, 1099], 1.5]], /count 1.5 must be/, 'a fractional count'],
  [[[[1000, 1099], 2 ** 53]], /must be a non-negative integer below 2\^53/, 'a count of 2^53'],
  [[[[1000, 1099], '3']], /count 3 must be/, 'a count as a string'],
  [[[[1000, 1098], 1]], /\[1000, 1098\] is not a bucket of llquantize\(10, 3, 11, 100\) \(the bucket holding 1000 is \[1000, 1099\]\)/, 'a range narrower than a bucket'],
  [[[[1000, 1199], 1]], /is not a bucket/, 'a range spanning two buckets'],
  [[[[1050, 1149], 1]], /is not a bucket/, 'a range straddling two buckets'],
  [[[[0, 10], 1]], /is not a bucket/, 'another bucketing\'s range'],
  [[[[NaN, 10], 1]], /is not a bucket/, 'NaN bounds'],
  [[[[1100, 1199], 1], [[1000, 1099], 1]], /entry 1: \[1000, 1099\] is out of order/, 'unsorted entries'],
  [[[[1000, 1099], 1], [[1000, 1099], 1]], /entry 1: .* out of order/, 'a repeated bucket'],
  [[[[1000, 1099], 2 ** 52], [[1100, 1199], 2 ** 52]], /total count exceeds 2\^53 - 1/, 'a total beyond 2^53 - 1']
]
for (const [input, reason, note] of badCa) {
  test(`distributionFromCa rejects ${note}`, (t) => {
    const e = t.throws(() => distributionFromCa(input, L, 'value'), { instanceOf: InvalidFieldError })
    t.regex(e!.reason, reason)
    t.is(e!.field, 'value')
  })
}

test('a bucket\'s representative value is the mean of its integers, or the finite bound of an unbounded bucket', (t) => {
  t.is(representativeValue(L, 0), 499.5)
  t.is(representativeValue(L, 1), 1049.5)
  t.is(representativeValue(L, 811), 1e12)
  t.is(representativeValue(LQ, 0), -1)
  t.is(representativeValue(LQ, 1), 4.5)
  t.is(representativeValue(LQ, 101), 1000)
})

test('stats: count, sum and mean from representative values, min and max from bucket bounds', (t) => {
  const d = distributionOf(L, [1000, 1050, 2000])
  t.deepEqual(distributionStats(d), { count: 3, sum: 2 * 1049.5 + 2049.5, mean: (2 * 1049.5 + 2049.5) / 3, min: 1000, max: 2099 })
  t.deepEqual(distributionStats(emptyDistribution(L)), { count: 0, sum: 0, mean: undefined, min: undefined, max: undefined })
  t.is(distributionStats(distributionOf(L, [5e12])).max, INT64_MAX_NUMBER)
})

test('percentiles interpolate linearly within the bucket over [lo, hi + 1)', (t) => {
  const d = distributionOf(L, [1000, 1050, 2000, 2001])
  // Cumulative counts: [1000, 1099] -> 2, [2000, 2099] -> 4.
  t.is(distributionPercentile(d, 0), 1000)
  t.is(distributionPercentile(d, 0.25), 1050) // rank 1 of 2 in the first bucket: halfway
  t.is(distributionPercentile(d, 0.5), 1100) // rank 2: the top of the first bucket
  t.is(distributionPercentile(d, 0.75), 2050)
  t.is(distributionPercentile(d, 1), 2100)
  t.deepEqual(distributionPercentiles(d, [1, 0, 0.25]), [2100, 1000, 1050])
  t.is(distributionPercentile(emptyDistribution(L), 0.5), undefined)
  t.is(distributionPercentile(distributionOf(L, [5e12, 6e12]), 0.99), 1e12)
  t.is(distributionPercentile(distributionOf(LQ, [-5]), 0.5), -1)
})

test('percentiles are monotone in p and lie within the distribution\'s bounds', (t) => {
  holds(t, fc.property(arbDistribution(), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 8 }), (d, ps) => {
    if (d.total === 0) return distributionPercentiles(d, ps).every((x) => x === undefined)
    const sorted = [...ps].sort((x, y) => x - y)
    const vs = distributionPercentiles(d, sorted) as number[]
    const { min, max } = distributionStats(d)
    return vs.every((v, i) => i === 0 || v >= vs[i - 1]!) && vs.every((v) => v >= min! && v <= Math.min(max!, 1e12 - 1) + 1)
  }))
})

test('percentiles outside [0, 1] are refused', (t) => {
  const d = distributionOf(L, [1000])
  for (const p of [-0.1, 1.1, NaN]) t.throws(() => distributionPercentile(d, p), { instanceOf: RangeError })
})
