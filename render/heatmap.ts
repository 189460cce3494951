/**
 * Heatmap images: CA's `value/heatmap/image` (CA-REFERENCE §7.2, §8) as a pure function from a
 * window of distributions to a PNG.
 *
 * The pipeline is CA's: the keys present in the window; with `decomposeAll` every present key
 * is selected; layer 0 is the total and each selected key a further layer; every layer is
 * re-bucketed linearly over [ymin, ymax) (ymax autoscaled from the total when not given);
 * then `isolate` drops the total (no selection leaves one empty layer), otherwise the selected
 * keys are deducted from the total so that layer 0 is "everything not selected", and `exclude`
 * keeps only that remainder; hues are CA's defaults unless given; the layers are normalized
 * jointly (rank or linear) and painted, blending layers by intensity.
 *
 * With no decoration options the PNG is CA's pixel for pixel: 24-bit RGB, width x height, no
 * axes. Decorations (axes, legend, percentile lines) enlarge the image around the same plot.
 */
import { HeatmeshError, InvalidFieldError } from '../metad/index.js'
import { defaultHues, packRgb, WHITE } from './colour.js'
import { drawAxes, drawLegend, drawLines, layoutImage, type DecorationOptions } from './axes.js'
import { bucketizeSeries, deduct, normalize, windowUpperBound, type BucketScale, type Coloring, type Weights } from './layers.js'
import { encodePng, putPixels, takeSurface, type RenderContext } from './png.js'
import { cellColours, paintCells, type PlotArea } from './raster.js'
import { autoYmax, YMAX_LIMIT } from './scale.js'
import { columnPercentiles } from './stats.js'
import { presentKeys, type HeatmapWindow } from './window.js'

/** CA's defaults and limits for heatmap parameters. */
export const HEATMAP_DEFAULTS = Object.freeze({ width: 600, height: 300, ymin: 0, nbuckets: 100 })
export const HEATMAP_LIMITS = Object.freeze({
  width: [10, 1000], height: [10, 1000], nbuckets: [1, 100], ymin: [0, YMAX_LIMIT], ymax: [0, YMAX_LIMIT]
} as const)

/** The geometry and scale parameters shared by image, details, average and percentile. */
export interface ScaleOptions {
  /** Plot width in pixels, 10..1000. @default 600 */
  readonly width?: number
  /** Plot height in pixels, 10..1000. @default 300 */
  readonly height?: number
  /** Lowest value shown, 0..1e12. @default 0 */
  readonly ymin?: number
  /** Top of the value range (exclusive), 0..1e12, above ymin. @default autoscaled from the data */
  readonly ymax?: number
  /** Number of value buckets (rows of cells), 1..100. @default 100 */
  readonly nbuckets?: number
}

/** Options of {@link renderHeatmap}: CA's image parameters plus the decorations. */
export interface HeatmapOptions extends ScaleOptions, DecorationOptions {
  /** Keys of the discrete decomposition to draw in hues of their own. @default [] */
  readonly selected?: readonly string[]
  /** Draw only the selected keys. @default false */
  readonly isolate?: boolean
  /** Draw everything except the selected keys. @default false */
  readonly exclude?: boolean
  /** Select every key present in the window (sorted), each in its own hue. @default false */
  readonly decomposeAll?: boolean
  /**
   * Hues in degrees (integers 0..359): the first for the remainder layer (unless `isolate`),
   * then one per selected key. @default 21, then +91 mod 360 per key
   */
  readonly hues?: readonly number[]
  /** @default 'rank' */
  readonly coloring?: Coloring
  /** @default 'count' */
  readonly weights?: Weights
  /** Beyond CA: draw these percentiles (each 0..1) of each column as lines. @default [] */
  readonly percentiles?: readonly number[]
}

/** A rendered heatmap. */
export interface HeatmapImage {
  /** The PNG (24-bit RGB). */
  readonly png: Buffer
  readonly ymin: number
  /** The ymax used: the given one or the autoscaled one. */
  readonly ymax: number
  readonly nbuckets: number
  /** Size of the plot (the requested width and height, as CA echoes them). */
  readonly width: number
  readonly height: number
  /** Size of the PNG: the plot's, or larger when decorations are drawn. */
  readonly imageWidth: number
  readonly imageHeight: number
  /** Where the plot lies in the PNG ({x: 0, y: 0, width, height} without decorations). */
  readonly plot: PlotArea
  /** Keys with data anywhere in the window, sorted. */
  readonly present: string[]
}

/** Scale options with defaults applied and validated. */
export interface ResolvedScale {
  readonly width: number
  readonly height: number
  readonly ymin: number
  /** undefined: autoscale from the data. */
  readonly ymax: number | undefined
  readonly nbuckets: number
}

function checkInteger (field: string, value: number, [lo, hi]: readonly [number, number]): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
    throw new InvalidFieldError(field, value, `must be an integer between ${lo} and ${hi}`)
  }
  return value
}

function checkNumber (field: string, value: number, [lo, hi]: readonly [number, number]): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < lo || value > hi) {
    throw new InvalidFieldError(field, value, `must be a number between ${lo} and ${hi}`)
  }
  return value
}

/** Applies CA's defaults to the scale options and validates them with CA's messages. */
export function resolveScale (options: ScaleOptions): ResolvedScale {
  const width = checkInteger('width', options.width ?? HEATMAP_DEFAULTS.width, HEATMAP_LIMITS.width)
  const height = checkInteger('height', options.height ?? HEATMAP_DEFAULTS.height, HEATMAP_LIMITS.height)
  const nbuckets = checkInteger('nbuckets', options.nbuckets ?? HEATMAP_DEFAULTS.nbuckets, HEATMAP_LIMITS.nbuckets)
  const ymin = checkNumber('ymin', options.ymin ?? HEATMAP_DEFAULTS.ymin, HEATMAP_LIMITS.ymin)
  const ymax = options.ymax === undefined ? undefined : checkNumber('ymax', options.ymax, HEATMAP_LIMITS.ymax)
  if (ymax !== undefined && ymin >= ymax) throw new InvalidFieldError('ymax', ymax, '"ymax" must be greater than "ymin"')
  return { width, height, ymin, ymax, nbuckets }
}

/** The bucket scale for a window: the given ymax, or CA's autoscale of the total's maximum. */
export function scaleFor (window: HeatmapWindow, scale: ResolvedScale): BucketScale {
  const ymax = scale.ymax ?? autoYmax(windowUpperBound(window), scale.ymin)
  return { ymin: scale.ymin, ymax, nbuckets: scale.nbuckets }
}

/** Heatmap options with defaults applied and validated (hues are checked against the data). */
export interface ResolvedHeatmapOptions extends ResolvedScale {
  readonly selected: readonly string[]
  readonly isolate: boolean
  readonly exclude: boolean
  readonly decomposeAll: boolean
  readonly hues: readonly number[] | undefined
  readonly coloring: Coloring
  readonly weights: Weights
  readonly percentiles: readonly number[]
}

/** Validates heatmap options (CA's rules and messages), applying defaults. */
export function resolveHeatmapOptions (options: HeatmapOptions): ResolvedHeatmapOptions {
  const scale = resolveScale(options)
  const isolate = options.isolate === true
  const exclude = options.exclude === true
  const decomposeAll = options.decomposeAll === true
  if (Number(isolate) + Number(exclude) + Number(decomposeAll) > 1) {
    throw new HeatmeshError('ECA_INVAL', 'only one of "isolate", "exclude", and "decompose_all" may be specified')
  }
  const selected = options.selected ?? []
  if (!Array.isArray(selected) || selected.some((k) => typeof k !== 'string')) {
    throw new InvalidFieldError('selected', selected, 'must be an array of strings')
  }
  if (new Set(selected).size !== selected.length) throw new InvalidFieldError('selected', selected, 'lists a key twice')
  const coloring = options.coloring ?? 'rank'
  if (coloring !== 'rank' && coloring !== 'linear') throw new InvalidFieldError('coloring', coloring, 'must be "rank" or "linear"')
  const weights = options.weights ?? 'count'
  if (weights !== 'count' && weights !== 'weight') throw new InvalidFieldError('weights', weights, 'must be "count" or "weight"')
  const percentiles = options.percentiles ?? []
  for (const p of percentiles) {
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new InvalidFieldError('percentiles', percentiles, 'each must be a number between 0 and 1')
  }
  const hues = options.hues
  if (hues !== undefined && !decomposeAll) checkHues(hues, selected.length + (isolate ? 0 : 1))
  return { ...scale, selected, isolate, exclude, decomposeAll, hues, coloring, weights, percentiles }
}

/** CA's hue rules: at least `needed` hues, each an integer 0..359. */
function checkHues (hues: readonly number[], needed: number): void {
  if (!Array.isArray(hues)) throw new InvalidFieldError('hues', hues, 'must be an array of hues')
  if (needed > hues.length) throw new InvalidFieldError('hues', hues, `need ${needed} hues`)
  for (const hue of hues) {
    if (typeof hue !== 'number' || !Number.isInteger(hue) || hue < 0 || hue >= 360) throw new InvalidFieldError('hues', hues, 'invalid hue')
  }
}

/** The layers of a heatmap before normalization, and what they were made from. */
export interface HeatmapLayers {
  readonly scale: BucketScale
  readonly ncolumns: number
  /** The maps to draw, in order (raw values: counts, or weights). */
  readonly maps: Float64Array[]
  /** One hue per map. */
  readonly hues: number[]
  /** What each map shows: `null` for the remainder (or total), else the key. */
  readonly keys: Array<string | null>
  readonly present: string[]
  /** The keys selected (after `decomposeAll`). */
  readonly selected: readonly string[]
  /** The total map, counted (not weighted): what percentile lines are computed from. */
  readonly totalCounts: Float64Array
}

/** CA's image pipeline up to normalization (see the module comment). */
export function heatmapLayers (window: HeatmapWindow, options: ResolvedHeatmapOptions): HeatmapLayers {
  checkWindow(window)
  const n = window.ncolumns
  const scale = scaleFor(window, options)
  const present = presentKeys(window)
  const selected = options.decomposeAll ? present : options.selected
  if (options.hues !== undefined && options.decomposeAll) checkHues(options.hues, selected.length + 1)
  let hues = options.hues !== undefined ? [...options.hues] : defaultHues(selected.length, options.isolate)

  const total = bucketizeSeries(window.total, n, scale, options.weights)
  const totalCounts = options.weights === 'count' ? total : bucketizeSeries(window.total, n, scale, 'count')
  const parts = selected.map((key) => bucketizeSeries(window.byKey?.get(key), n, scale, options.weights))

  let maps: Float64Array[]
  let keys: Array<string | null>
  if (options.isolate) {
    maps = parts
    keys = [...selected]
    if (maps.length === 0) {
      maps = [new Float64Array(n * scale.nbuckets)]
      keys = [null]
      hues = [0]
    }
  } else {
    let rest = total
    for (const part of parts) rest = deduct(rest, part)
    if (options.exclude) {
      maps = [rest]
      keys = [null]
    } else {
      maps = [rest, ...parts]
      keys = [null, ...selected]
    }
  }
  return { scale, ncolumns: n, maps, hues: hues.slice(0, maps.length), keys, present, selected, totalCounts }
}

function checkWindow (window: HeatmapWindow): void {
  if (!(Number.isInteger(window.ncolumns) && window.ncolumns >= 1)) throw new RangeError(`heatmap window needs at least one column (ncolumns ${window.ncolumns})`)
  if (!(window.step >= 1)) throw new RangeError(`heatmap window step must be >= 1 (step ${window.step})`)
}

/** Renders a heatmap image (CA's `value/heatmap/image`). Throws InvalidFieldError/HeatmeshError on bad options. */
export function renderHeatmap (window: HeatmapWindow, options: HeatmapOptions = {}, context: RenderContext = {}): HeatmapImage {
  const opts = resolveHeatmapOptions(options)
  const layers = heatmapLayers(window, opts)
  const normalized = normalize(layers.maps, opts.coloring)
  const colours = cellColours(normalized, layers.hues)

  const decorated = options.axes === true || options.legend === true || opts.percentiles.length > 0
  const { imageWidth, imageHeight, plot } = layoutImage(opts.width, opts.height, options)
  const surface = takeSurface(imageWidth, imageHeight, context.pool)
  if (imageWidth !== opts.width || imageHeight !== opts.height) surface.pixels.fill(packRgb(WHITE))
  paintCells(surface.pixels, imageWidth, plot, layers.ncolumns, layers.scale.nbuckets, colours)
  putPixels(surface)

  if (decorated) {
    const { ymin, ymax } = layers.scale
    const unit = options.unit ?? 'ns'
    if (opts.percentiles.length > 0) {
      const lines = opts.percentiles.map((p) => ({
        label: `p${formatPercent(p)}`,
        values: columnPercentiles(layers.totalCounts, layers.scale, p, true)
      }))
      drawLines(surface.ctx, plot, ymin, ymax, lines)
    }
    if (options.axes === true) drawAxes(surface.ctx, plot, ymin, ymax, unit, window)
    if (options.legend === true) {
      const entries = layers.keys.map((key, m) => ({
        label: key ?? (layers.selected.length > 0 ? 'other' : 'all'),
        hue: layers.hues[m]!
      }))
      drawLegend(surface.ctx, plot, entries, opts.coloring === 'rank' ? ['rare', 'common'] : ['few', 'many'])
    }
  }

  return {
    png: encodePng(surface),
    ymin: layers.scale.ymin,
    ymax: layers.scale.ymax,
    nbuckets: layers.scale.nbuckets,
    width: opts.width,
    height: opts.height,
    imageWidth,
    imageHeight,
    plot,
    present: layers.present
  }
}

/** 0.99 -> "99", 0.999 -> "99.9", 0.5 -> "50". */
function formatPercent (p: number): string {
  return String(Number((p * 100).toFixed(3)))
}
