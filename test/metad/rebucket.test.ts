/**
 * metad/rebucket.ts: CA's linear re-bucketing of one column, checked against hand-computed cases
 * (CA-REFERENCE §8.2). Bucket units: size = (max - min) / nbuckets.
 */
import test from 'ava'
import { rebucketLinear, distributionUpperBound, type CaDistribution } from '../../metad/index.js'

const arr = (a: Float64Array): number[] => Array.from(a)

test('a range straddling bucket edges is spread uniformly over [lo, hi + 1)', (t) => {
  // [5, 24] is [5, 25) = buckets 0.5 .. 2.5 of size 10: half of bucket 0, all of 1, half of 2.
  t.deepEqual(arr(rebucketLinear([[[5, 24], 20]], 0, 100, 10)), [5, 10, 5, 0, 0, 0, 0, 0, 0, 0])
})

test('a range inside one bucket puts its whole count there', (t) => {
  t.deepEqual(arr(rebucketLinear([[[12, 15], 7]], 0, 100, 10)), [0, 7, 0, 0, 0, 0, 0, 0, 0, 0])
})

test('a range covering exactly one bucket fills it', (t) => {
  t.deepEqual(arr(rebucketLinear([[[0, 9], 3], [[30, 39], 4]], 0, 40, 4)), [3, 0, 0, 4])
})

test('the part of a range below min is dropped', (t) => {
  // [0, 19] over [10, 50) in 4 buckets: [0, 20) is buckets -1 .. 1; only bucket 0 (10 of 20) stays.
  t.deepEqual(arr(rebucketLinear([[[0, 19], 20]], 10, 50, 4)), [10, 0, 0, 0])
})

test('the part of a range at or above max is dropped', (t) => {
  // [35, 54] over [0, 40): buckets 3.5 .. 5.5, u = 10 per bucket; only half of bucket 3 stays.
  t.deepEqual(arr(rebucketLinear([[[35, 54], 20]], 0, 40, 4)), [0, 0, 0, 5])
})

test('a range spanning beyond both ends fills every bucket evenly', (t) => {
  // [0, 99] over [20, 60) in 4: u = 100 / 10 = 10 per bucket.
  t.deepEqual(arr(rebucketLinear([[[0, 99], 100]], 20, 60, 4)), [10, 10, 10, 10])
})

test('ranges entirely outside [min, max) are skipped', (t) => {
  t.deepEqual(arr(rebucketLinear([[[0, 9], 5], [[100, 199], 5]], 10, 100, 3)), [0, 0, 0])
})

test('weighByRange multiplies each count by its range midpoint', (t) => {
  // 2 * (10 + 9 / 2) = 29, all in bucket 1.
  t.deepEqual(arr(rebucketLinear([[[10, 19], 2]], 0, 100, 10, { weighByRange: true })), [0, 29, 0, 0, 0, 0, 0, 0, 0, 0])
})

test('counts inside [min, max) are conserved', (t) => {
  const dist: CaDistribution = [[[0, 999], 3], [[1000, 1099], 5], [[1100, 1199], 7], [[5000, 5999], 11]]
  const out = rebucketLinear(dist, 0, 6000, 7)
  t.true(Math.abs(out.reduce((a, b) => a + b, 0) - 26) < 1e-9)
})

test('out is zeroed, filled and returned', (t) => {
  const out = new Float64Array([9, 9, 9, 9])
  const r = rebucketLinear([[[0, 9], 1]], 0, 20, 2, { out })
  t.is(r.buffer, out.buffer)
  t.deepEqual(arr(out), [1, 0, 9, 9])
})

test('an empty or missing distribution gives zeros', (t) => {
  t.deepEqual(arr(rebucketLinear([], 0, 10, 2)), [0, 0])
  t.deepEqual(arr(rebucketLinear(undefined, 0, 10, 2)), [0, 0])
})

test('a degenerate span (max <= min) gives zeros instead of CA\'s endless loop', (t) => {
  t.deepEqual(arr(rebucketLinear([[[0, 99], 5]], 50, 50, 1)), [0])
})

test('bad nbuckets or min is a caller bug', (t) => {
  t.throws(() => rebucketLinear([], 0, 10, 0), { instanceOf: RangeError })
  t.throws(() => rebucketLinear([], -1, 10, 2), { instanceOf: RangeError })
})

test('distributionUpperBound is max(hi + 1), 0 when empty', (t) => {
  t.is(distributionUpperBound([[[0, 999], 1], [[1000, 1099], 2]]), 1100)
  // CA's running max skipped [10, 10] after [0, 9] (it compared hi, not hi + 1, to the max).
  t.is(distributionUpperBound([[[0, 9], 1], [[10, 10], 1]]), 11)
  t.is(distributionUpperBound([[[0, 0], 4]]), 1)
  t.is(distributionUpperBound([]), 0)
  t.is(distributionUpperBound(undefined), 0)
})
