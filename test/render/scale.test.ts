/** render/scale.ts: CA's autoscale (CA-REFERENCE §8.2) and the ymax rules around it. */
import test from 'ava'
import { autoscale, autoYmax, YMAX_LIMIT } from '../../render/index.js'

const examples: Array<[number, number]> = [
  [9, 10], [10, 12], [30, 32], [99, 100], [101, 120], [1000, 1200], [5100, 6000],
  [53999, 60000], [123456, 140000], [1e9, 1.2e9]
]
for (const [max, want] of examples) {
  test(`autoscale(${max}) is ${want}`, (t) => {
    t.is(autoscale(max), want)
  })
}

test('autoscale falls back to the maximum itself when no round number fits', (t) => {
  // p = 1: candidates 10 and 2 both exceed 1.25.
  t.is(autoscale(1), 1)
})

test('autoscale of nothing is nothing', (t) => {
  t.is(autoscale(0), 0)
})

test('autoYmax caps at 1e12 (data in the overflow bucket reaches INT64_MAX)', (t) => {
  t.is(autoYmax(9223372036854775807 + 1, 0), YMAX_LIMIT)
  t.is(autoYmax(1e12 + 5, 0), 1e12)
})

test('autoYmax never returns a range at or below ymin', (t) => {
  t.is(autoYmax(0, 0), 1) // no data: CA returned 0, a zero-height scale
  t.is(autoYmax(1000, 5000), 6000) // data below ymin: scale from ymin + 1
  t.is(autoYmax(5100, 0), 6000)
})
