/**
 * The in-script bucketing ladder against metad's bucketIndex/bucketRange: for boundary values
 * of every bucketing (each bucket's first and last value, and random values), the ladder's
 * output is the lower bound of the value's bucket (0 for lquantize's underflow: values are
 * unsigned). The same ladders run inside bpftrace in accept.test.ts.
 */
import test from 'ava'
import fc from 'fast-check'
import { describeBucketing, LATENCY_BUCKETING } from '../../../metad/quantize.js'
import { bucketLadder, evaluateLadder, renderLadder } from '../../../metad/bpftrace/ladder.js'
import { boundaryValues, expectedLo, LADDER_BUCKETINGS } from './ladder-cases.js'

for (const b of LADDER_BUCKETINGS) {
  test(`the ladder for ${describeBucketing(b)} gives each boundary value its bucket's lower bound`, (t) => {
    const rungs = bucketLadder(b)
    const bad = boundaryValues(b).filter((v) => evaluateLadder(rungs, BigInt(v)) !== expectedLo(b, v))
    t.deepEqual(bad, [])
  })

  test(`the ladder for ${describeBucketing(b)} agrees with bucketIndex on random values`, (t) => {
    const rungs = bucketLadder(b)
    fc.assert(fc.property(fc.maxSafeNat(), (v) => evaluateLadder(rungs, BigInt(v)) === expectedLo(b, v)), { numRuns: 2000 })
    t.is(evaluateLadder(rungs, 2n ** 64n - 1n), expectedLo(b, 2 ** 53))
  })
}

test('the latency ladder is the measured one: underflow, nine decades, overflow', (t) => {
  t.deepEqual(renderLadder(bucketLadder(LATENCY_BUCKETING), '$d', '$b'), [
    'if ($d < 1000) { $b = 0; }',
    'else if ($d < 10000) { $b = $d / 100 * 100; }',
    'else if ($d < 100000) { $b = $d / 1000 * 1000; }',
    'else if ($d < 1000000) { $b = $d / 10000 * 10000; }',
    'else if ($d < 10000000) { $b = $d / 100000 * 100000; }',
    'else if ($d < 100000000) { $b = $d / 1000000 * 1000000; }',
    'else if ($d < 1000000000) { $b = $d / 10000000 * 10000000; }',
    'else if ($d < 10000000000) { $b = $d / 100000000 * 100000000; }',
    'else if ($d < 100000000000) { $b = $d / 1000000000 * 1000000000; }',
    'else if ($d < 1000000000000) { $b = $d / 10000000000 * 10000000000; }',
    'else { $b = 1000000000000; }'
  ])
})

test('one-wide orders merge into the value itself (llquantize(10, 0, 11, 100) below 100)', (t) => {
  const lines = renderLadder(bucketLadder({ kind: 'llquantize', base: 10, low: 0, high: 11, nsteps: 100 }), '$v', '$b')
  t.is(lines[0], 'if ($v < 100) { $b = $v; }')
  t.is(lines[1], 'else if ($v < 1000) { $b = $v / 10 * 10; }')
  t.is(lines.length, 12)
})

test('lquantize with a low above 0 offsets its levels and prints its underflow as 0', (t) => {
  t.deepEqual(renderLadder(bucketLadder({ kind: 'lquantize', low: 5, high: 100, step: 10 }), '$v', '$b'), [
    'if ($v < 5) { $b = 0; }',
    'else if ($v < 95) { $b = ($v - 5) / 10 * 10 + 5; }',
    'else { $b = 95; }'
  ])
})

test('an lquantize with a negative low is refused: unsigned values cannot be bucketed by it', (t) => {
  t.throws(() => bucketLadder({ kind: 'lquantize', low: -10, high: 10, step: 1 }), { message: /negative low/ })
})
