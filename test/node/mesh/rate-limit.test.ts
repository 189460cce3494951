/**
 * The token buckets behind the gossip rate limit, in virtual time.
 */
import test from 'ava'
import { TokenBuckets } from '../../../node/mesh/rate-limit.js'

test('a fresh key may send a full burst at once and nothing more', (t) => {
  const buckets = new TokenBuckets({ perSecond: 1, burst: 3 })
  t.deepEqual([1, 2, 3, 4, 5].map(() => buckets.take('a', 0)), [true, true, true, false, false])
})

test('tokens come back at the sustained rate, never beyond the burst', (t) => {
  const buckets = new TokenBuckets({ perSecond: 2, burst: 2 })
  t.true(buckets.take('a', 0))
  t.true(buckets.take('a', 0))
  t.false(buckets.take('a', 0))
  t.false(buckets.take('a', 400), 'at 2 per second, 0.4 s refills less than one token')
  t.true(buckets.take('a', 500))
  // A long quiet period refills to the burst, not more.
  t.deepEqual([1, 2, 3].map(() => buckets.take('a', 60_000)), [true, true, false])
})

test('keys are limited independently', (t) => {
  const buckets = new TokenBuckets({ perSecond: 1, burst: 1 })
  t.true(buckets.take('a', 0))
  t.false(buckets.take('a', 0))
  t.true(buckets.take('b', 0))
})

test('a clock that goes back for a key neither refills nor breaks the bucket', (t) => {
  const buckets = new TokenBuckets({ perSecond: 1, burst: 1 })
  t.true(buckets.take('a', 10_000))
  t.false(buckets.take('a', 5000))
  t.false(buckets.take('a', 10_500))
  t.true(buckets.take('a', 11_000))
})

test('full buckets are forgotten when the bound is reached, busy ones are kept', (t) => {
  const buckets = new TokenBuckets({ perSecond: 1, burst: 1 }, 4)
  for (const key of ['a', 'b', 'c']) t.true(buckets.take(key, 0))
  t.true(buckets.take('d', 5000)) // by now a, b and c are full again
  t.true(buckets.take('e', 5000), 'the fifth key forgets the full ones')
  t.is(buckets.size, 2)
  t.false(buckets.take('d', 5000), 'a busy bucket survives the forgetting')
})

test('more busy keys than the bound keeps the map bounded', (t) => {
  const buckets = new TokenBuckets({ perSecond: 1, burst: 1 }, 8)
  for (let i = 0; i < 1000; i++) t.true(buckets.take(`k${i}`, 0))
  t.true(buckets.size <= 8)
})

test('a policy that lets nothing through is refused', (t) => {
  t.throws(() => new TokenBuckets({ perSecond: 0, burst: 1 }), { instanceOf: RangeError, message: /perSecond/ })
  t.throws(() => new TokenBuckets({ perSecond: 1, burst: 0.5 }), { instanceOf: RangeError, message: /burst/ })
  t.throws(() => new TokenBuckets({ perSecond: Number.NaN, burst: 1 }), { instanceOf: RangeError })
  t.throws(() => new TokenBuckets({ perSecond: 1, burst: 1 }, 0), { instanceOf: RangeError, message: /maxKeys/ })
})
