/**
 * render: heatmaps and charts as pure functions, data in, PNG out (CA-REFERENCE §7.2-7.5, §8).
 * No I/O, no clock: the caller passes a window of distributions and gets bytes and numbers back.
 * Other folders import render only through this face.
 *
 * @example
 * ```ts
 * import { renderHeatmap, heatmapDetails, windowFromTimes } from '../render/index.js'
 * const window = windowFromTimes({ start: 1308862500, duration: 60, step: 1, total, byKey })
 * const image = renderHeatmap(window, { selected: ['mysqld'] })   // CA's defaults: 600x300, 100 buckets
 * const cell = heatmapDetails(window, { x: 10, y: 250, ymax: image.ymax })
 * ```
 */
export { type ColumnSeries, type HeatmapWindow, type TimedData, windowFromTimes, columnTime, presentKeys } from './window.js'
export {
  renderHeatmap, heatmapLayers, resolveHeatmapOptions, resolveScale, scaleFor, HEATMAP_DEFAULTS, HEATMAP_LIMITS,
  type HeatmapOptions, type HeatmapImage, type HeatmapLayers, type ResolvedHeatmapOptions, type ResolvedScale, type ScaleOptions
} from './heatmap.js'
export {
  heatmapDetails, heatmapAverages, heatmapPercentiles, sampleRange,
  type DetailsOptions, type HeatmapDetails, type HeatmapAverages, type HeatmapPercentiles, type Geometry, type SampleRange, type StatsScale
} from './details.js'
export { bucketizeSeries, deduct, normalize, windowUpperBound, type BucketScale, type Coloring, type Weights } from './layers.js'
export { columnAverages, columnPercentiles } from './stats.js'
export { autoscale, autoYmax, YMAX_LIMIT } from './scale.js'
export { defaultHues, hsvToRgb, cellColour, blendColour, type Rgb } from './colour.js'
export { cellBounds, cellAt, type PlotArea } from './raster.js'
export { renderLineChart, renderStackedBars, type ChartOptions, type ChartImage, type LineSeries, type StackedBarOptions, type DecompositionColumns } from './chart.js'
export { type DecorationOptions, type TimeAxis } from './axes.js'
export { formatValue, formatTimeOfDay, niceTicks, type ValueUnit } from './units.js'
export { PNG_COMPRESSION_LEVEL, PNG_FILTERS, SurfacePool, type RenderContext } from './png.js'
