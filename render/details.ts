/**
 * The numbers behind a heatmap: CA's `value/heatmap/details`, `average` and `percentile`
 * (CA-REFERENCE §7.3-7.5), for a window of columns.
 *
 * Beyond CA: average and percentile are computed for every column of the window (CA answered
 * with the first column only, whatever the duration); `average` and `percentile` in the results
 * keep CA's first-column answer. Details map a pixel to its cell with the same exact bounds the
 * image is painted with (CA's float arithmetic could name a neighbouring cell when the plot size
 * is not a multiple of the number of columns or buckets).
 */
import { InvalidFieldError, rebucketLinear } from '../metad/index.js'
import { resolveScale, scaleFor, type ScaleOptions } from './heatmap.js'
import { bucketizeSeries, type BucketScale } from './layers.js'
import { cellAt } from './raster.js'
import { columnAverages, columnPercentiles } from './stats.js'
import { columnTime, hasData, type ColumnSeries, type HeatmapWindow } from './window.js'

/** Geometry of a heatmap for mapping pixels to cells. */
export interface Geometry extends BucketScale {
  readonly width: number
  readonly height: number
  readonly ncolumns: number
}

/** The cell under a pixel and its value range. */
export interface SampleRange {
  /** Column index in the window. */
  readonly column: number
  /** Bucket index, 0 at the bottom. */
  readonly bucket: number
  /** `round(ymin + bucket size)` and `round(ymin + (bucket + 1) size)`, as CA rounded them. */
  readonly ymin: number
  readonly ymax: number
}

/**
 * The cell under pixel (x, y) of the plot (origin top left): CA's `samplerange`. Preconditions:
 * 0 <= x < width, 0 <= y < height.
 */
export function sampleRange (x: number, y: number, g: Geometry): SampleRange {
  const column = cellAt(x, g.ncolumns, g.width)
  const bucket = g.nbuckets - cellAt(y, g.nbuckets, g.height) - 1
  const size = (g.ymax - g.ymin) / g.nbuckets
  return { column, bucket, ymin: Math.round(g.ymin + bucket * size), ymax: Math.round(g.ymin + (bucket + 1) * size) }
}

/** Options of {@link heatmapDetails}: the image's scale (ymax required) and the pixel. */
export interface DetailsOptions extends ScaleOptions {
  readonly x: number
  readonly y: number
}

/** CA's details answer for one pixel. */
export interface HeatmapDetails {
  readonly nbuckets: number
  readonly width: number
  readonly height: number
  /** Start time of the column under x. */
  readonly bucketTime: number
  readonly bucketYmin: number
  readonly bucketYmax: number
  /** Column index and bucket index of the cell. */
  readonly column: number
  readonly bucket: number
  /** Per key with data in the cell: its count there, at least 1 (sorted by key). */
  readonly present: Record<string, number>
  /** Sum of `present`'s counts, or the total's count when there are no keys. */
  readonly total: number
}

/**
 * Which keys make up the cell under pixel (x, y), and how many each: CA's details. Each key's
 * distribution in that column is re-bucketed into exactly [bucketYmin, bucketYmax) (counts are
 * fractional where source buckets straddle the range) and a non-zero count is shown as
 * `max(1, round(count))`, so a visible cell never reads 0; `total` is the sum of those, or the
 * same rounding applied to the total distribution when the window has no keys there.
 */
export function heatmapDetails (window: HeatmapWindow, options: DetailsOptions): HeatmapDetails {
  const scale = resolveScale(options)
  const { x, y } = options
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw new InvalidFieldError('x', x, 'must be a non-negative integer')
  if (typeof y !== 'number' || !Number.isInteger(y) || y < 0) throw new InvalidFieldError('y', y, 'must be a non-negative integer')
  if (scale.ymax === undefined || scale.ymax === 0) throw new InvalidFieldError('ymax', scale.ymax, '"ymax" must be specified')
  if (x >= scale.width) throw new InvalidFieldError('x', x, '"x" must be less than "width"')
  if (y >= scale.height) throw new InvalidFieldError('y', y, '"y" must be less than "height"')

  const range = sampleRange(x, y, { ...scale, ymax: scale.ymax, ncolumns: window.ncolumns })
  const count = (series: ColumnSeries | undefined): number => {
    const dist = series?.[range.column]
    if (dist === undefined || dist.length === 0) return 0
    return rebucketLinear(dist, range.ymin, range.ymax, 1)[0]!
  }
  const visible = (v: number): number => Math.max(1, Math.round(v))

  const keys: string[] = []
  if (window.byKey !== undefined) {
    for (const [key, series] of window.byKey) if (hasData(series[range.column])) keys.push(key)
    keys.sort()
  }
  const entries: Array<[string, number]> = []
  let total = 0
  if (keys.length === 0) {
    const v = count(window.total)
    total = v === 0 ? 0 : visible(v)
  } else {
    for (const key of keys) {
      const v = count(window.byKey!.get(key))
      if (!v) continue
      const shown = visible(v)
      entries.push([key, shown])
      total += shown
    }
  }
  return {
    nbuckets: scale.nbuckets,
    width: scale.width,
    height: scale.height,
    bucketTime: columnTime(window, range.column),
    bucketYmin: range.ymin,
    bucketYmax: range.ymax,
    column: range.column,
    bucket: range.bucket,
    present: Object.fromEntries(entries),
    total
  }
}

/** Scale fields echoed by average and percentile answers. */
export interface StatsScale {
  readonly ymin: number
  readonly ymax: number
  readonly nbuckets: number
  readonly width: number
  readonly height: number
}

/** Averages of every column. */
export interface HeatmapAverages extends StatsScale {
  /** Per column: the mean, or null without data. */
  readonly averages: Array<number | null>
  /** CA's answer: the first column's mean. */
  readonly average: number | null
}

/** CA's `value/heatmap/average`, for every column of the window. */
export function heatmapAverages (window: HeatmapWindow, options: ScaleOptions = {}): HeatmapAverages {
  const { map, echo } = totalMap(window, options)
  const averages = columnAverages(map, echo)
  return { ...echo, averages, average: averages[0] ?? null }
}

/** Percentiles of every column. */
export interface HeatmapPercentiles extends StatsScale {
  /** The fraction asked for, 0..1. */
  readonly p: number
  /** Per column: the percentile, ymin without data. */
  readonly percentiles: number[]
  /** CA's answer: the first column's percentile. */
  readonly percentile: number
}

/** CA's `value/heatmap/percentile` (p in 0..1), for every column of the window. */
export function heatmapPercentiles (window: HeatmapWindow, p: number, options: ScaleOptions = {}): HeatmapPercentiles {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new InvalidFieldError('percentile', p, 'must be a number between 0 and 1')
  const { map, echo } = totalMap(window, options)
  const percentiles = columnPercentiles(map, echo, p)
  return { ...echo, p, percentiles, percentile: percentiles[0] ?? echo.ymin }
}

function totalMap (window: HeatmapWindow, options: ScaleOptions): { map: Float64Array, echo: StatsScale } {
  if (!(Number.isInteger(window.ncolumns) && window.ncolumns >= 1)) throw new RangeError(`heatmap window needs at least one column (ncolumns ${window.ncolumns})`)
  const resolved = resolveScale(options)
  const scale = scaleFor(window, resolved)
  const map = bucketizeSeries(window.total, window.ncolumns, scale)
  return { map, echo: { ...scale, width: resolved.width, height: resolved.height } }
}
