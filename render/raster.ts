/**
 * From cells to pixels (node-timeseries-heatmap `generate`, CA-REFERENCE §8.5).
 *
 * Cells map to pixels by floor division, so that every pixel belongs to exactly one cell and
 * cells differ in size by at most one pixel: column i covers pixel columns
 * `floor(i w / n) .. floor((i + 1) w / n) - 1`, and bucket j (bucket 0 at the bottom) covers
 * pixel rows `floor((nb - j - 1) h / nb) .. floor((nb - j) h / nb) - 1`. The bounds are computed
 * in exact integer arithmetic; CA multiplied by the float `w / n`, which could leave the last
 * pixel row or column unpainted for some sizes.
 *
 * Speed: each cell's colour is computed once ({@link cellColours}); then each bucket's band of
 * rows is painted by filling its first row span by span and copying that row down.
 */
import { blendInto, cellColour, packRgb, WHITE } from './colour.js'

/** Pixel bounds of `n` equal cells over `size` pixels: cell i is `[b[i], b[i + 1])`. */
export function cellBounds (n: number, size: number): Int32Array {
  const b = new Int32Array(n + 1)
  for (let i = 0; i <= n; i++) b[i] = Math.floor((i * size) / n)
  return b
}

/** The cell (0..n-1) that pixel `p` (0..size-1) belongs to: the inverse of {@link cellBounds}. */
export function cellAt (p: number, n: number, size: number): number {
  return Math.floor(((p + 1) * n - 1) / size)
}

/**
 * The packed colour of every cell (column-major like the maps), from normalized maps with one
 * hue per map: one map colours by intensity, several blend by intensity share; 0 is white.
 */
export function cellColours (maps: readonly Float64Array[], hues: readonly number[]): Uint32Array {
  if (maps.length === 0 || maps.length !== hues.length) throw new RangeError('cellColours: need one hue per map')
  const ncells = maps[0]!.length
  const out = new Uint32Array(ncells)
  const white = packRgb(WHITE)
  if (maps.length === 1) {
    const map = maps[0]!
    const hue = hues[0]!
    // Rank-normalized maps repeat few distinct intensities: remember the last one.
    let lastV = 0
    let lastC = white
    for (let k = 0; k < ncells; k++) {
      const v = map[k]!
      if (v === 0) { out[k] = white; continue }
      if (v !== lastV) { lastV = v; lastC = packRgb(cellColour(hue, v)) }
      out[k] = lastC
    }
    return out
  }
  const values = new Float64Array(maps.length)
  const rgb = [0, 0, 0]
  const scratch = [0, 0, 0]
  for (let k = 0; k < ncells; k++) {
    for (let m = 0; m < maps.length; m++) values[m] = maps[m]![k]!
    out[k] = blendInto(rgb, hues, values, scratch) ? packRgb(rgb) : white
  }
  return out
}

/** Where a grid of cells lands in a pixel buffer. */
export interface PlotArea {
  /** Left and top pixel of the plot inside the image. */
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

/**
 * Paints `colours` (ncolumns x nbuckets, column-major) into `pixels`, a buffer of packed
 * pixels `stride` wide, over the plot area.
 */
export function paintCells (
  pixels: Uint32Array,
  stride: number,
  area: PlotArea,
  ncolumns: number,
  nbuckets: number,
  colours: Uint32Array
): void {
  if (colours.length !== ncolumns * nbuckets) throw new RangeError('paintCells: colours do not match the grid')
  if (area.x + area.width > stride || (area.y + area.height) * stride > pixels.length) throw new RangeError('paintCells: plot area outside the image')
  const xs = cellBounds(ncolumns, area.width)
  const ys = cellBounds(nbuckets, area.height)
  for (let row = 0; row < nbuckets; row++) {
    const y0 = ys[row]!
    const y1 = ys[row + 1]!
    if (y1 === y0) continue
    const j = nbuckets - row - 1
    const first = (area.y + y0) * stride + area.x
    for (let i = 0; i < ncolumns; i++) pixels.fill(colours[i * nbuckets + j]!, first + xs[i]!, first + xs[i + 1]!)
    for (let y = y0 + 1; y < y1; y++) {
      const dst = (area.y + y) * stride + area.x
      pixels.copyWithin(dst, first, first + area.width)
    }
  }
}
