/**
 * render/raster.ts: cell-to-pixel mapping (CA-REFERENCE §8.5), checked on sizes that do not
 * divide evenly, and through a decoded PNG.
 */
import test from 'ava'
import type { CaDistribution } from '../../metad/index.js'
import { cellAt, cellBounds, cellColour, heatmapLayers, normalize, renderHeatmap, resolveHeatmapOptions, type HeatmapWindow } from '../../render/index.js'
import { decodePng } from './decode.js'

test('cell bounds are floor(i * size / n)', (t) => {
  t.deepEqual(Array.from(cellBounds(3, 10)), [0, 3, 6, 10])
  t.deepEqual(Array.from(cellBounds(7, 600)), [0, 85, 171, 257, 342, 428, 514, 600])
})

for (const [n, size] of [[7, 600], [60, 601], [13, 299], [100, 300], [100, 10], [3, 1000], [1, 10]] as const) {
  test(`${n} cells over ${size} pixels cover every pixel exactly once, and cellAt inverts the bounds`, (t) => {
    const b = cellBounds(n, size)
    t.is(b[0], 0)
    t.is(b[n], size)
    const owner = new Int32Array(size).fill(-1)
    for (let i = 0; i < n; i++) {
      t.true(b[i + 1]! - b[i]! <= Math.ceil(size / n) && b[i + 1]! - b[i]! >= Math.floor(size / n))
      for (let p = b[i]!; p < b[i + 1]!; p++) {
        t.is(owner[p], -1)
        owner[p] = i
      }
    }
    for (let p = 0; p < size; p++) t.is(cellAt(p, n, size), owner[p]!)
  })
}

test('bucket 0 is at the bottom and every pixel of an odd-sized image has its cell\'s colour', async (t) => {
  // 7 columns x 13 buckets over 101 x 47 pixels, with distinct counts so that cells differ.
  const ncolumns = 7
  const nbuckets = 13
  const total: CaDistribution[] = []
  for (let i = 0; i < ncolumns; i++) {
    const dist: CaDistribution = []
    for (let j = 0; j < nbuckets; j++) if ((i + j) % 3 !== 0) dist.push([[j * 10, j * 10 + 9], 1 + i * nbuckets + j])
    total.push(dist)
  }
  const window: HeatmapWindow = { base: 0, step: 1, ncolumns, total }
  const options = { width: 101, height: 47, nbuckets, ymax: nbuckets * 10 }
  const image = renderHeatmap(window, options)
  const png = await decodePng(image.png)
  t.is(png.width, 101)
  t.is(png.height, 47)
  const map = normalize(heatmapLayers(window, resolveHeatmapOptions(options)).maps)[0]!
  let wrong = 0
  for (let y = 0; y < 47; y++) {
    const j = nbuckets - 1 - cellAt(y, nbuckets, 47)
    for (let x = 0; x < 101; x++) {
      const i = cellAt(x, ncolumns, 101)
      const want = cellColour(21, map[i * nbuckets + j]!)
      const got = png.pixel(x, y)
      if (got[0] !== want[0] || got[1] !== want[1] || got[2] !== want[2]) wrong++
    }
  }
  t.is(wrong, 0)
  // Column 0, bucket 0 has no data ((0 + 0) % 3 === 0): the bottom-left pixel is white.
  t.deepEqual(png.pixel(0, 46), [255, 255, 255])
  // Column 6, bucket 12 is empty too (top right); bucket 11 (pixel rows 3..6) holds the
  // largest count: full intensity.
  t.deepEqual(png.pixel(100, 0), [255, 255, 255])
  t.deepEqual(png.pixel(100, 3), [242, 101, 24])
  t.deepEqual(png.pixel(100, 6), [242, 101, 24])
})
