/**
 * render/heatmap.ts: the image request end to end (CA-REFERENCE §7.2, §8.5): exact pixel
 * colours of a decoded PNG, the response fields, option validation with CA's messages, and the
 * decorations beyond CA.
 */
import test from 'ava'
import { HeatmeshError, InvalidFieldError, type CaDistribution } from '../../metad/index.js'
import { renderHeatmap, SurfacePool, type HeatmapOptions, type HeatmapWindow } from '../../render/index.js'
import { decodePng } from './decode.js'

const d = (lo: number, hi: number, n: number): CaDistribution => [[[lo, hi], n]]

// Two columns of 10 px over 20 x 10 px; 2 buckets over [0, 100): 5 pixel rows each.
// Column 0: keys a and b, 3 each, in bucket 0. Column 1: nothing.
const window: HeatmapWindow = {
  base: 1000,
  step: 1,
  ncolumns: 2,
  total: [d(0, 49, 6), undefined],
  byKey: new Map([['a', [d(0, 49, 3), undefined]], ['b', [d(0, 49, 3), undefined]]])
}
const small: HeatmapOptions = { width: 20, height: 10, nbuckets: 2, ymax: 100 }

test('the PNG decodes to the requested size', async (t) => {
  const png = await decodePng(renderHeatmap(window, small).png)
  t.is(png.width, 20)
  t.is(png.height, 10)
})

test('defaults are CA\'s: 600 x 300, 100 buckets, ymin 0, autoscaled ymax', async (t) => {
  const image = renderHeatmap(window)
  t.like(image, { width: 600, height: 300, imageWidth: 600, imageHeight: 300, nbuckets: 100, ymin: 0, ymax: 60 })
  t.deepEqual(image.plot, { x: 0, y: 0, width: 600, height: 300 })
  const png = await decodePng(image.png)
  t.is(png.width, 600)
  t.is(png.height, 300)
})

test('a single full layer is HSV(21, 0.9, 0.95) = (242, 101, 24) and empty cells are white', async (t) => {
  const png = await decodePng(renderHeatmap(window, small).png)
  for (let x = 0; x < 10; x++) for (let y = 5; y < 10; y++) t.deepEqual(png.pixel(x, y), [242, 101, 24])
  t.deepEqual(png.pixel(0, 0), [255, 255, 255]) // column 0, bucket 1
  t.deepEqual(png.pixel(15, 7), [255, 255, 255]) // column 1: missing
})

test('two layers of equal intensity blend to (147, 171, 24)', async (t) => {
  const image = renderHeatmap(window, { ...small, selected: ['a'] })
  const png = await decodePng(image.png)
  // Layer 0 (the rest: b, 3) and layer a (3) rank equally at 1: 21 and 112 half and half.
  t.deepEqual(png.pixel(3, 8), [147, 171, 24])
  t.deepEqual(png.pixel(3, 2), [255, 255, 255])
})

test('isolate draws the selected key alone in hue 112', async (t) => {
  const png = await decodePng(renderHeatmap(window, { ...small, selected: ['a'], isolate: true }).png)
  t.deepEqual(png.pixel(3, 8), [53, 242, 24])
})

test('present lists the keys with data, sorted', (t) => {
  t.deepEqual(renderHeatmap(window, small).present, ['a', 'b'])
  t.deepEqual(renderHeatmap({ base: 0, step: 1, ncolumns: 1, total: [] }, small).present, [])
})

test('a surface pool changes nothing in the output', (t) => {
  const pool = new SurfacePool()
  const plain = renderHeatmap(window, { ...small, selected: ['a'] }).png
  renderHeatmap(window, { ...small, isolate: true }, { pool })
  t.deepEqual(renderHeatmap(window, { ...small, selected: ['a'] }, { pool }).png, plain)
})

const invalid: Array<[string, HeatmapOptions, string, string]> = [
  ['ymax equal to ymin', { ymin: 100, ymax: 100 }, 'ymax', '"ymax" must be greater than "ymin"'],
  ['ymax below ymin', { ymin: 100, ymax: 50 }, 'ymax', '"ymax" must be greater than "ymin"'],
  ['too few hues', { selected: ['a', 'b'], hues: [21, 112] }, 'hues', 'need 3 hues'],
  ['too few hues with isolate', { selected: ['a', 'b'], isolate: true, hues: [21] }, 'hues', 'need 2 hues'],
  ['too few hues for decompose_all', { decomposeAll: true, hues: [21, 112] }, 'hues', 'need 3 hues'],
  ['a hue of 360', { hues: [360] }, 'hues', 'invalid hue'],
  ['a negative hue', { hues: [21, -1] }, 'hues', 'invalid hue'],
  ['a fractional hue', { hues: [21.5] }, 'hues', 'invalid hue'],
  ['width below 10', { width: 5 }, 'width', 'must be an integer between 10 and 1000'],
  ['height above 1000', { height: 1001 }, 'height', 'must be an integer between 10 and 1000'],
  ['nbuckets 0', { nbuckets: 0 }, 'nbuckets', 'must be an integer between 1 and 100'],
  ['ymax above 1e12', { ymax: 2e12 }, 'ymax', 'must be a number between 0 and 1000000000000'],
  ['an unknown coloring', { coloring: 'log' as 'rank' }, 'coloring', 'must be "rank" or "linear"'],
  ['an unknown weighting', { weights: 'bytes' as 'count' }, 'weights', 'must be "count" or "weight"'],
  ['a key selected twice', { selected: ['a', 'a'] }, 'selected', 'lists a key twice'],
  ['a percentile line above 1', { percentiles: [1.5] }, 'percentiles', 'each must be a number between 0 and 1']
]
for (const [name, options, field, reason] of invalid) {
  test(`rejects ${name}: ${reason}`, (t) => {
    const err = t.throws(() => renderHeatmap(window, options), { instanceOf: InvalidFieldError })
    t.is(err?.code, 'ECA_INVAL')
    t.is(err?.field, field)
    t.is(err?.reason, reason)
  })
}

test('rejects more than one of isolate, exclude and decompose_all with CA\'s message', (t) => {
  for (const options of [{ isolate: true, exclude: true }, { exclude: true, decomposeAll: true }, { isolate: true, decomposeAll: true }]) {
    const err = t.throws(() => renderHeatmap(window, options), { instanceOf: HeatmeshError })
    t.is(err?.code, 'ECA_INVAL')
    t.is(err?.message, 'only one of "isolate", "exclude", and "decompose_all" may be specified')
  }
})

test('hues may outnumber the layers (CA cut them)', (t) => {
  t.notThrows(() => renderHeatmap(window, { ...small, hues: [21, 112, 203] }))
})

test('axes and legend enlarge the image around an unchanged plot', async (t) => {
  const plain = await decodePng(renderHeatmap(window, { ...small, width: 60, height: 40 }).png)
  const image = renderHeatmap(window, { ...small, width: 60, height: 40, axes: true, legend: true })
  t.deepEqual(image.plot, { x: 64, y: 10, width: 60, height: 40 })
  t.is(image.imageWidth, 64 + 60 + 130)
  t.is(image.imageHeight, 10 + 40 + 22)
  const png = await decodePng(image.png)
  t.is(png.width, image.imageWidth)
  t.is(png.height, image.imageHeight)
  let differ = 0
  for (let y = 0; y < 40; y++) {
    for (let x = 0; x < 60; x++) {
      const a = plain.pixel(x, y)
      const b = png.pixel(x + 64, y + 10)
      if (a[0] !== b[0] || a[1] !== b[1] || a[2] !== b[2]) differ++
    }
  }
  t.is(differ, 0)
  // Labels are drawn left of the plot: some pixel there is not white.
  let ink = 0
  for (let y = 0; y < image.imageHeight; y++) for (let x = 0; x < 60; x++) if (png.pixel(x, y)[0] < 200) ink++
  t.true(ink > 0)
})

test('percentile lines are drawn over the plot', async (t) => {
  const big: HeatmapWindow = { base: 0, step: 1, ncolumns: 2, total: [d(0, 99, 10), d(0, 99, 10)] }
  const plain = await decodePng(renderHeatmap(big, { width: 40, height: 40, nbuckets: 4, ymax: 200 }).png)
  const image = renderHeatmap(big, { width: 40, height: 40, nbuckets: 4, ymax: 200, percentiles: [0.5] })
  const png = await decodePng(image.png)
  // Lines lie inside the plot: the image keeps its size.
  t.is(png.width, 40)
  t.deepEqual(image.plot, { x: 0, y: 0, width: 40, height: 40 })
  // The median, 50, sits at 3/4 of the plot's height: a dark line across the plot there.
  const px = png.pixel(10, 30)
  t.true(px[0] < 100 && px[1] < 100 && px[2] < 100)
  t.notDeepEqual(plain.pixel(10, 30), px)
})
