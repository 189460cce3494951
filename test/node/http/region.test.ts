/**
 * node/http/region.ts: what a region is made of, on a hand-computed window.
 *
 * Region [2000, 4000) ns over two columns. Key a: 10 at [1000, 1099] and 4 at [3000, 3099] in
 * column 0, 2 at [2000, 2099] in column 1: inside 6, outside 10. Key b: 4 at [3950, 4049] in
 * column 0 (half of the bucket, 3950..3999, lies inside: 2 in, 2 out), 6 at [5000, 5099] in
 * column 1: inside 2, outside 8. Key d: 2 at [2500, 2599]: inside 2, outside 0. Key e: only an
 * empty column. Totals: inside 10, outside 18. Shares inside / outside / difference:
 * a 0.6 / 10/18 / 0.6 - 10/18; b 0.2 / 8/18; d 0.2 / 0. Ranked: d (0.2), a (0.0444), b (-0.2444).
 */
import test from 'ava'
import type { CaDistribution } from '../../../metad/index.js'
import type { HeatmapWindow } from '../../../render/index.js'
import { countInRange, regionBreakdown } from '../../../node/http/region.js'

const d = (...entries: Array<[number, number, number]>): CaDistribution => entries.map(([lo, hi, n]) => [[lo, hi], n])

const window: HeatmapWindow = {
  base: 1000,
  step: 1,
  ncolumns: 2,
  total: [undefined, undefined], // the breakdown reads the keys only
  byKey: new Map([
    ['a', [d([1000, 1099, 10], [3000, 3099, 4]), d([2000, 2099, 2])]],
    ['b', [d([3950, 4049, 4]), d([5000, 5099, 6])]],
    ['d', [undefined, d([2500, 2599, 2])]],
    ['e', [d(), undefined]]
  ])
}

test('counts inside and outside per key, with the straddling bucket split in proportion', (t) => {
  const r = regionBreakdown(window, 2000, 4000)
  t.is(r.inside, 10)
  t.is(r.outside, 18)
  const byName = Object.fromEntries(r.keys.map((k) => [k.key, k]))
  t.like(byName.a, { inside: 6, outside: 10 })
  t.like(byName.b, { inside: 2, outside: 8 })
  t.like(byName.d, { inside: 2, outside: 0 })
})

test('keys without events in the window are left out', (t) => {
  t.false(regionBreakdown(window, 2000, 4000).keys.some((k) => k.key === 'e'))
})

test('shares are of each side\'s total and keys rank by their difference, largest first', (t) => {
  const keys = regionBreakdown(window, 2000, 4000).keys
  t.deepEqual(keys.map((k) => k.key), ['d', 'a', 'b'])
  const [dk, a, b] = keys as [typeof keys[0], typeof keys[0], typeof keys[0]]
  t.is(dk.share_inside, 0.2)
  t.is(dk.share_outside, 0)
  t.is(a.share_inside, 0.6)
  t.is(a.share_outside, 10 / 18)
  t.is(a.difference, 0.6 - 10 / 18)
  t.is(b.share_inside, 0.2)
  t.is(b.share_outside, 8 / 18)
  t.true(Math.abs(b.difference - (0.2 - 8 / 18)) < 1e-15)
})

test('a region above the data holds nothing and its shares are 0', (t) => {
  const r = regionBreakdown(window, 1e9, Infinity)
  t.is(r.inside, 0)
  t.is(r.outside, 28)
  for (const k of r.keys) t.is(k.share_inside, 0)
})

test('equal differences rank by key', (t) => {
  const w: HeatmapWindow = { base: 0, step: 1, ncolumns: 1, total: [undefined], byKey: new Map([['y', [d([1000, 1099, 1])]], ['x', [d([1000, 1099, 1])]]]) }
  t.deepEqual(regionBreakdown(w, 0, 2000).keys.map((k) => k.key), ['x', 'y'])
})

test('without an upper bound the region runs to the overflow bucket', (t) => {
  t.deepEqual(countInRange(d([1000, 1099, 3], [1e12, 2 ** 63, 2]), 1000, Infinity), { inside: 5, total: 5 })
  t.deepEqual(countInRange(d([1000, 1099, 4]), 1050, 1075), { inside: 1, total: 4 })
  t.deepEqual(countInRange(undefined, 0, 10), { inside: 0, total: 0 })
})
