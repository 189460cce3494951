/**
 * render/details.ts: details, average and percentile (CA-REFERENCE §7.3-7.5), hand-computed,
 * for every column of the window including empty ones.
 */
import test from 'ava'
import { InvalidFieldError, type CaDistribution } from '../../metad/index.js'
import { heatmapAverages, heatmapDetails, heatmapPercentiles, sampleRange, windowFromTimes, type HeatmapWindow } from '../../render/index.js'

const d = (...cells: Array<[number, number, number]>): CaDistribution => cells.map(([lo, hi, n]) => [[lo, hi], n])

// Three columns of 5 s from t = 1000. Geometry used below: 30 x 20 px, 2 buckets over [0, 200),
// so each column is 10 px wide and each bucket 10 px high.
const window: HeatmapWindow = {
  base: 1000,
  step: 5,
  ncolumns: 3,
  total: [d([0, 99, 10]), undefined, d([50, 149, 20])],
  byKey: new Map([
    ['a', [undefined, undefined, d([50, 149, 15])]],
    ['b', [undefined, undefined, d([50, 149, 5])]],
    ['c', [undefined, undefined, d([100, 10099, 1])]]
  ])
}
const geometry = { width: 30, height: 20, nbuckets: 2, ymax: 200 }
// The same total without keys.
const plain: HeatmapWindow = { base: 1000, step: 5, ncolumns: 3, total: window.total }

test('sampleRange maps a pixel to its column, bucket (0 at the bottom) and rounded range', (t) => {
  const g = { ...geometry, ymin: 0, ncolumns: 3 }
  t.deepEqual(sampleRange(5, 15, g), { column: 0, bucket: 0, ymin: 0, ymax: 100 })
  t.deepEqual(sampleRange(29, 0, g), { column: 2, bucket: 1, ymin: 100, ymax: 200 })
  // size 1000 / 3 = 333.33: bucket 1 of 3 is round(333.33) .. round(666.67).
  t.deepEqual(sampleRange(0, 10, { width: 10, height: 30, nbuckets: 3, ymin: 0, ymax: 1000, ncolumns: 1 }), { column: 0, bucket: 1, ymin: 333, ymax: 667 })
})

test('sampleRange uses the image\'s exact cell bounds where CA\'s float division was off', (t) => {
  // Height 10 in 3 buckets: rows 0-2, 3-5, 6-9. CA put row 3 in the top bucket (3 / 3.33 < 1).
  const g = { width: 10, height: 10, nbuckets: 3, ymin: 0, ymax: 30, ncolumns: 1 }
  t.is(sampleRange(0, 2, g).bucket, 2)
  t.is(sampleRange(0, 3, g).bucket, 1)
  t.is(sampleRange(0, 6, g).bucket, 0)
})

test('details of a cell without keys: the total re-bucketed into the cell\'s range', (t) => {
  const r = heatmapDetails(plain, { ...geometry, x: 5, y: 15 })
  t.like(r, { bucketTime: 1000, bucketYmin: 0, bucketYmax: 100, column: 0, bucket: 0, total: 10, nbuckets: 2, width: 30, height: 20 })
  t.deepEqual(r.present, {})
})

test('details counts fractions of straddling buckets, shown as max(1, round(v))', (t) => {
  // [50, 149] (20) over [100, 200): half of it.
  t.like(heatmapDetails(plain, { ...geometry, x: 25, y: 5 }), { bucketTime: 1010, bucketYmin: 100, bucketYmax: 200, total: 10 })
})

test('details of an empty column is 0', (t) => {
  t.like(heatmapDetails(plain, { ...geometry, x: 15, y: 15 }), { bucketTime: 1005, total: 0 })
  t.like(heatmapDetails(window, { ...geometry, x: 15, y: 15 }), { bucketTime: 1005, total: 0 })
})

test('details per key: each key\'s count rounded, at least 1, and the total is their sum', (t) => {
  const r = heatmapDetails(window, { ...geometry, x: 25, y: 5 })
  // a: 15 / 2 = 7.5 -> 8; b: 2.5 -> 3; c: 1 spread over [100, 10100) -> 0.01 -> 1.
  t.deepEqual(r.present, { a: 8, b: 3, c: 1 })
  t.is(r.total, 12)
})

test('details validates with CA\'s messages', (t) => {
  const reason = (f: () => unknown): string | undefined => t.throws(f, { instanceOf: InvalidFieldError })?.reason
  t.is(reason(() => heatmapDetails(window, { width: 30, height: 20, x: 0, y: 0 })), '"ymax" must be specified')
  t.is(reason(() => heatmapDetails(window, { ...geometry, x: 30, y: 0 })), '"x" must be less than "width"')
  t.is(reason(() => heatmapDetails(window, { ...geometry, x: 0, y: 20 })), '"y" must be less than "height"')
  t.is(reason(() => heatmapDetails(window, { ...geometry, x: -1, y: 0 })), 'must be a non-negative integer')
  t.is(reason(() => heatmapDetails(window, { ...geometry, ymin: 300, x: 0, y: 0 })), '"ymax" must be greater than "ymin"')
})

test('average of every column: count-weighted bucket midpoints, null when empty', (t) => {
  const r = heatmapAverages(window, { nbuckets: 2, ymax: 200 })
  // Column 0: all 10 in bucket 0 (midpoint 50). Column 2: 10 in bucket 0, 10 in bucket 1.
  t.deepEqual(r.averages, [50, null, 100])
  t.is(r.average, 50)
  t.like(r, { ymin: 0, ymax: 200, nbuckets: 2, width: 600, height: 300 })
})

test('the first-column average is null when that column is empty', (t) => {
  const r = heatmapAverages({ base: 0, step: 1, ncolumns: 2, total: [undefined, d([0, 99, 1])] }, { nbuckets: 2, ymax: 200 })
  t.deepEqual(r.averages, [null, 50])
  t.is(r.average, null)
})

test('percentile of every column, interpolated inside its bucket; ymin when empty', (t) => {
  const p50 = heatmapPercentiles(window, 0.5, { nbuckets: 2, ymax: 200 })
  // Column 0: 10 in bucket 0, half of it -> 50. Column 2: 10 + 10; bucket 0 reaches 0.5 exactly.
  t.deepEqual(p50.percentiles, [50, 0, 100])
  t.is(p50.percentile, 50)
  t.is(p50.p, 0.5)
  const p75 = heatmapPercentiles(window, 0.75, { nbuckets: 2, ymax: 200 })
  t.deepEqual(p75.percentiles, [75, 0, 150])
  const p0 = heatmapPercentiles(window, 0, { nbuckets: 2, ymax: 200, ymin: 0 })
  t.deepEqual(p0.percentiles, [0, 0, 0])
  const p100 = heatmapPercentiles(window, 1, { nbuckets: 2, ymax: 200 })
  t.deepEqual(p100.percentiles, [100, 0, 200])
})

test('an empty column\'s percentile is ymin', (t) => {
  t.deepEqual(heatmapPercentiles(plain, 0.9, { nbuckets: 2, ymin: 20, ymax: 220 }).percentiles[1], 20)
})

test('average and percentile autoscale ymax from the window', (t) => {
  // Data max 150 -> 160.
  t.is(heatmapAverages(window, { nbuckets: 2 }).ymax, 160)
  t.is(heatmapPercentiles(window, 0.5, { nbuckets: 2 }).ymax, 160)
})

test('percentile outside 0..1 is rejected', (t) => {
  t.is(t.throws(() => heatmapPercentiles(window, 1.5), { instanceOf: InvalidFieldError })?.field, 'percentile')
})

test('windowFromTimes takes columns at base + i * step, missing times empty', (t) => {
  const w = windowFromTimes({
    start: 100,
    duration: 12,
    step: 5,
    total: new Map([[100, d([0, 9, 1])], [110, d([0, 9, 2])], [115, d([0, 9, 3])]]),
    byKey: new Map([['a', new Map([[105, d([0, 9, 4])]])]])
  })
  t.is(w.ncolumns, 3)
  t.deepEqual(w.total, [d([0, 9, 1]), undefined, d([0, 9, 2])])
  t.deepEqual(w.byKey?.get('a'), [undefined, d([0, 9, 4]), undefined])
})
