/**
 * render/layers.ts and the layer pipeline of render/heatmap.ts: deduct, rank and linear
 * normalization, and CA's selected / isolate / exclude / decompose_all (CA-REFERENCE §8.3-8.5).
 */
import test from 'ava'
import type { CaDistribution } from '../../metad/index.js'
import {
  bucketizeSeries, deduct, heatmapLayers, normalize, resolveHeatmapOptions, windowUpperBound,
  type HeatmapOptions, type HeatmapWindow
} from '../../render/index.js'

const f64 = (xs: number[]): Float64Array => Float64Array.from(xs)
const arr = (a: Float64Array): number[] => Array.from(a)

test('deduct subtracts cell by cell', (t) => {
  t.deepEqual(arr(deduct(f64([5, 3, 0]), f64([2, 1, 0]))), [3, 2, 0])
})

test('deduct floors remainders below 0.001 (and small deficits) to 0', (t) => {
  t.deepEqual(arr(deduct(f64([3, 1, 2]), f64([3.0005, 0.9995, 2.4]))), [0, 0, 0])
})

test('deduct rejects a deficit beyond 0.5 as a caller bug', (t) => {
  t.throws(() => deduct(f64([1]), f64([1.6])), { instanceOf: RangeError })
})

test('deduct does not change its inputs', (t) => {
  const total = f64([5])
  deduct(total, f64([2]))
  t.deepEqual(arr(total), [5])
})

test('rank normalization ranks non-zero cells of all layers jointly; ties share the rank of their first occurrence', (t) => {
  // Non-zero values 2, 5, 2, 5, 1: descending 5 5 2 2 1, so 5 -> 5/5, 2 -> 3/5, 1 -> 1/5.
  const [a, b] = normalize([f64([0, 2, 5, 2]), f64([5, 0, 1, 0])], 'rank')
  t.deepEqual(arr(a!), [0, 0.6, 1, 0.6])
  t.deepEqual(arr(b!), [1, 0, 0.2, 0])
})

test('rank is the default normalization', (t) => {
  t.deepEqual(arr(normalize([f64([0, 10, 20])])[0]!), [0, 0.5, 1])
})

test('linear normalization divides by the largest cell of all layers', (t) => {
  const [a, b] = normalize([f64([4, 2, 0]), f64([1, 8, 0])], 'linear')
  t.deepEqual(arr(a!), [0.5, 0.25, 0])
  t.deepEqual(arr(b!), [0.125, 1, 0])
})

test('linear normalization never divides by less than 1', (t) => {
  t.deepEqual(arr(normalize([f64([0.5, 0.25])], 'linear')[0]!), [0.5, 0.25])
})

test('normalization leaves its inputs alone', (t) => {
  const m = f64([3, 6])
  normalize([m], 'linear')
  normalize([m], 'rank')
  t.deepEqual(arr(m), [3, 6])
})

// Three keys over two columns; ymax 40, 4 buckets of 10.
const d = (...cells: Array<[number, number, number]>): CaDistribution => cells.map(([lo, hi, n]) => [[lo, hi], n])
const a: Array<CaDistribution | undefined> = [d([0, 9, 4]), d([10, 19, 2])]
const b: Array<CaDistribution | undefined> = [d([0, 9, 1], [20, 29, 3]), undefined]
const c: Array<CaDistribution | undefined> = [[], undefined] // present in the map, but no data
const window: HeatmapWindow = {
  base: 100,
  step: 1,
  ncolumns: 2,
  total: [d([0, 9, 5], [20, 29, 3]), d([10, 19, 2])],
  byKey: new Map([['b', b], ['a', a], ['c', c]])
}
const base: HeatmapOptions = { ymax: 40, nbuckets: 4 }
const layersOf = (o: HeatmapOptions): ReturnType<typeof heatmapLayers> => heatmapLayers(window, resolveHeatmapOptions({ ...base, ...o }))

test('present lists keys with data anywhere in the window, sorted', (t) => {
  t.deepEqual(layersOf({}).present, ['a', 'b'])
})

test('without a selection there is one layer: the total in hue 21', (t) => {
  const l = layersOf({})
  t.deepEqual(l.maps.map(arr), [[5, 0, 3, 0, 0, 2, 0, 0]])
  t.deepEqual(l.hues, [21])
  t.deepEqual(l.keys, [null])
})

test('selected keys become layers and are deducted from the total (layer 0 = the rest)', (t) => {
  const l = layersOf({ selected: ['a'] })
  t.deepEqual(l.maps.map(arr), [[1, 0, 3, 0, 0, 0, 0, 0], [4, 0, 0, 0, 0, 2, 0, 0]])
  t.deepEqual(l.hues, [21, 112])
  t.deepEqual(l.keys, [null, 'a'])
})

test('isolate draws only the selected keys, in the hues after 21', (t) => {
  const l = layersOf({ selected: ['a', 'b'], isolate: true })
  t.deepEqual(l.maps.map(arr), [[4, 0, 0, 0, 0, 2, 0, 0], [1, 0, 3, 0, 0, 0, 0, 0]])
  t.deepEqual(l.hues, [112, 203])
})

test('isolate with nothing selected draws one empty layer in hue 0', (t) => {
  const l = layersOf({ isolate: true })
  t.deepEqual(l.maps.map(arr), [[0, 0, 0, 0, 0, 0, 0, 0]])
  t.deepEqual(l.hues, [0])
})

test('exclude keeps only the remainder', (t) => {
  const l = layersOf({ selected: ['a'], exclude: true })
  t.deepEqual(l.maps.map(arr), [[1, 0, 3, 0, 0, 0, 0, 0]])
  t.deepEqual(l.hues, [21])
})

test('decompose_all selects every present key, sorted, each in its own hue', (t) => {
  const l = layersOf({ decomposeAll: true })
  t.deepEqual(l.selected, ['a', 'b'])
  t.deepEqual(l.maps.map(arr), [[0, 0, 0, 0, 0, 0, 0, 0], [4, 0, 0, 0, 0, 2, 0, 0], [1, 0, 3, 0, 0, 0, 0, 0]])
  t.deepEqual(l.hues, [21, 112, 203])
})

test('given hues are used in order and cut to the number of layers', (t) => {
  t.deepEqual(layersOf({ selected: ['a'], hues: [10, 20, 30] }).hues, [10, 20])
})

test('a selected key without data is an empty layer', (t) => {
  const l = layersOf({ selected: ['zzz'] })
  t.deepEqual(l.maps.map(arr), [[5, 0, 3, 0, 0, 2, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]])
})

test('weights=weight multiplies counts by the bucket midpoints', (t) => {
  const l = layersOf({ weights: 'weight' })
  t.deepEqual(l.maps.map(arr), [[5 * 4.5, 0, 3 * 24.5, 0, 0, 2 * 14.5, 0, 0]])
  t.deepEqual(arr(l.totalCounts), [5, 0, 3, 0, 0, 2, 0, 0])
})

test('without ymax the scale is autoscaled from the total over the window', (t) => {
  t.is(windowUpperBound(window), 30)
  t.is(heatmapLayers(window, resolveHeatmapOptions({ nbuckets: 4 })).scale.ymax, 32)
})

test('missing columns and columns past the series are empty', (t) => {
  const map = bucketizeSeries([undefined, d([0, 9, 1])], 3, { ymin: 0, ymax: 20, nbuckets: 2 })
  t.deepEqual(arr(map), [0, 0, 1, 0, 0, 0])
})
