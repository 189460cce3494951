/**
 * Charts for the value shapes a heatmap does not fit: a line chart for scalar series and a
 * stacked bar chart for discrete decompositions ({key: n} per column), in the heatmap's hues
 * (CA's default sequence 21, 112, 203, ... at full intensity) with the same optional axes and
 * legend, rendered to PNG. Beyond CA, which drew these in the browser.
 */
import { HeatmeshError, InvalidFieldError } from '../metad/index.js'
import { drawAxes, drawGrid, drawLegend, drawLines, layoutImage, type DecorationOptions, type TimeAxis } from './axes.js'
import { cellColour, cssRgb, defaultHues, packRgb, WHITE } from './colour.js'
import { encodePng, putPixels, takeSurface, type RenderContext } from './png.js'
import { cellBounds, type PlotArea } from './raster.js'
import { autoscale } from './scale.js'

/** Options shared by the charts. */
export interface ChartOptions extends DecorationOptions {
  /** Plot width in pixels, 10..4000. @default 600 */
  readonly width?: number
  /** Plot height in pixels, 10..4000. @default 300 */
  readonly height?: number
  /** Bottom of the value axis. @default 0 */
  readonly ymin?: number
  /** Top of the value axis. @default autoscaled from the data (CA's autoscale) */
  readonly ymax?: number
  /** One hue (0..359) per series or key, in order. @default 21, then +91 mod 360 */
  readonly hues?: readonly number[]
}

/** A rendered chart. */
export interface ChartImage {
  readonly png: Buffer
  readonly ymin: number
  readonly ymax: number
  readonly width: number
  readonly height: number
  readonly imageWidth: number
  readonly imageHeight: number
  readonly plot: PlotArea
  /** The series labels or keys in drawing order, with their hues. */
  readonly legend: Array<{ label: string, hue: number }>
}

/** One line of a line chart: a value per column, null where there is none. */
export interface LineSeries {
  readonly label: string
  readonly values: ReadonlyArray<number | null>
}

const CHART_LIMIT = 4000

interface ResolvedChart {
  width: number
  height: number
  ymin: number
  ymax: number | undefined
}

function resolveChart (options: ChartOptions): ResolvedChart {
  const width = options.width ?? 600
  const height = options.height ?? 300
  for (const [field, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 10 || v > CHART_LIMIT) throw new InvalidFieldError(field, v, `must be an integer between 10 and ${CHART_LIMIT}`)
  }
  const ymin = options.ymin ?? 0
  if (!Number.isFinite(ymin)) throw new InvalidFieldError('ymin', ymin, 'must be a number')
  const ymax = options.ymax
  if (ymax !== undefined && !(Number.isFinite(ymax) && ymax > ymin)) throw new InvalidFieldError('ymax', ymax, '"ymax" must be greater than "ymin"')
  return { width, height, ymin, ymax }
}

function chartHues (options: ChartOptions, n: number): number[] {
  const hues = options.hues ?? defaultHues(Math.max(0, n - 1))
  if (hues.length < n) throw new InvalidFieldError('hues', hues, `need ${n} hues`)
  for (const h of hues) if (!Number.isInteger(h) || h < 0 || h >= 360) throw new InvalidFieldError('hues', hues, 'invalid hue')
  return hues.slice(0, n)
}

function chartTop (dataMax: number, ymin: number): number {
  return autoscale(dataMax > ymin ? dataMax : ymin + 1)
}

function checkTime (time: TimeAxis): void {
  if (!(Number.isInteger(time.ncolumns) && time.ncolumns >= 1)) throw new HeatmeshError('ECA_INVAL', `a chart needs at least one column (ncolumns ${time.ncolumns})`)
}

/** Renders scalar series as lines, point i at the middle of column i. */
export function renderLineChart (time: TimeAxis, series: readonly LineSeries[], options: ChartOptions = {}, context: RenderContext = {}): ChartImage {
  checkTime(time)
  const opts = resolveChart(options)
  const hues = chartHues(options, series.length)
  let dataMax = -Infinity
  for (const s of series) for (const v of s.values) if (v !== null && Number.isFinite(v) && v > dataMax) dataMax = v
  const ymax = opts.ymax ?? chartTop(dataMax, opts.ymin)
  const { imageWidth, imageHeight, plot } = layoutImage(opts.width, opts.height, options)
  const surface = takeSurface(imageWidth, imageHeight, context.pool)
  surface.pixels.fill(packRgb(WHITE))
  putPixels(surface)
  const unit = options.unit ?? 'count'
  if (options.axes === true) drawGrid(surface.ctx, plot, opts.ymin, ymax, unit)
  // Columns beyond a series' length have no value.
  const lines = series.map((s) => ({ label: '', values: Array.from({ length: time.ncolumns }, (_, i) => s.values[i] ?? null) }))
  drawLines(surface.ctx, plot, opts.ymin, ymax, lines, hues.map((h) => cssRgb(cellColour(h, 1))))
  const legend = series.map((s, k) => ({ label: s.label, hue: hues[k]! }))
  if (options.axes === true) drawAxes(surface.ctx, plot, opts.ymin, ymax, unit, time)
  if (options.legend === true) drawLegend(surface.ctx, plot, legend)
  return { png: encodePng(surface), ymin: opts.ymin, ymax, width: opts.width, height: opts.height, imageWidth, imageHeight, plot, legend }
}

/** A decomposition per column ({key: n}); undefined for a column without data. */
export type DecompositionColumns = ReadonlyArray<Readonly<Record<string, number>> | undefined>

/** Options of {@link renderStackedBars}. */
export interface StackedBarOptions extends ChartOptions {
  /** Keys bottom to top. @default every key, by total over the window, largest first (ties by name) */
  readonly keys?: readonly string[]
}

/**
 * Renders decompositions as stacked bars: one bar per column, one segment per key (bottom to
 * top in `keys` order), painted straight into pixels (no anti-aliasing, so segment edges are
 * exact); bars leave a one-pixel gap when columns are at least 3 pixels wide.
 */
export function renderStackedBars (time: TimeAxis, columns: DecompositionColumns, options: StackedBarOptions = {}, context: RenderContext = {}): ChartImage {
  checkTime(time)
  const opts = resolveChart(options)
  const n = time.ncolumns
  const totals = new Map<string, number>()
  let dataMax = 0
  for (let i = 0; i < n; i++) {
    const col = columns[i]
    if (col === undefined) continue
    let sum = 0
    for (const [key, v] of Object.entries(col)) {
      if (!(Number.isFinite(v) && v >= 0)) throw new InvalidFieldError('value', col, 'counts must be non-negative numbers')
      totals.set(key, (totals.get(key) ?? 0) + v)
      sum += v
    }
    if (sum > dataMax) dataMax = sum
  }
  const keys = options.keys ?? [...totals.keys()].sort((a, b) => (totals.get(b)! - totals.get(a)!) || (a < b ? -1 : a > b ? 1 : 0))
  const hues = chartHues(options, keys.length)
  const ymin = opts.ymin
  const ymax = opts.ymax ?? chartTop(dataMax, ymin)
  const { imageWidth, imageHeight, plot } = layoutImage(opts.width, opts.height, options)
  const surface = takeSurface(imageWidth, imageHeight, context.pool)
  const px = surface.pixels
  px.fill(packRgb(WHITE))
  const colours = hues.map((h) => packRgb(cellColour(h, 1)))
  const xs = cellBounds(n, plot.width)
  // Pixel row (from the plot's top) of a stacked value, clamped to the plot.
  const rowOf = (v: number): number => {
    const r = Math.round(plot.height - ((v - ymin) / (ymax - ymin)) * plot.height)
    return r < 0 ? 0 : r > plot.height ? plot.height : r
  }
  for (let i = 0; i < n; i++) {
    const col = columns[i]
    if (col === undefined) continue
    const x0 = plot.x + xs[i]!
    let x1 = plot.x + xs[i + 1]!
    if (x1 - x0 >= 3) x1 -= 1
    let below = 0
    keys.forEach((key, k) => {
      const v = col[key] ?? 0
      if (v === 0) return
      const top = rowOf(below + v)
      const bottom = rowOf(below)
      below += v
      for (let r = top; r < bottom; r++) {
        const rowStart = (plot.y + r) * imageWidth
        px.fill(colours[k]!, rowStart + x0, rowStart + x1)
      }
    })
  }
  putPixels(surface)
  const unit = options.unit ?? 'count'
  const legend = keys.map((key, k) => ({ label: key, hue: hues[k]! }))
  if (options.axes === true) drawAxes(surface.ctx, plot, ymin, ymax, unit, time)
  if (options.legend === true) drawLegend(surface.ctx, plot, [...legend].reverse())
  return { png: encodePng(surface), ymin, ymax, width: opts.width, height: opts.height, imageWidth, imageHeight, plot, legend }
}
