/**
 * The value resources (CA's `ai_value` implementations, CA-REFERENCE §7): for one data point of
 * an instrumentation, the fields of its answer. Each resource reads and validates its own
 * parameters before any data is fetched, so a bad parameter is a clear 409 naming it (CA wrapped
 * such errors in "failed to process data point"), and says which instrumentations it applies to.
 *
 *   resource            default duration   applies to            answer (beyond CA in brackets)
 *   raw                 1 s                every arity           value [folded]
 *   heatmap/image       60 s               numeric               image (base64 PNG or image/png), ymin, ymax, nbuckets,
 *                                                                width, height, present [layers, plot, image_width, image_height]
 *   heatmap/details     60 s               numeric               bucket_time, bucket_ymin, bucket_ymax, present, total [columns]
 *   heatmap/average     1 s                numeric               average [averages, ymin, ymax]
 *   heatmap/percentile  1 s                numeric               percentile [percentiles, ymin, ymax]
 *   heatmap/region      60 s               discrete + numeric    [inside, outside, keys ranked]
 *   chart/image         60 s               every arity           [image, legend, ymin, ymax, plot, ...]
 *
 * The common fields (times, nsources, minreporting, requested_*, transformations) are added by
 * the request pipeline (values.ts).
 */
import {
  catalog as defaultCatalog, findMetric, HeatmeshError, InvalidFieldError, rebucketLinear, splitDecomposition, valueToCa,
  type CaValue, type Catalog, type InstrumentationDefinition
} from '../../metad/index.js'
import {
  defaultHues, heatmapAverages, heatmapDetails, heatmapPercentiles, HEATMAP_DEFAULTS, HEATMAP_LIMITS, renderHeatmap, renderLineChart,
  renderStackedBars, resolveHeatmapOptions, resolveScale, type ChartImage, type HeatmapWindow, type SurfacePool, type ValueUnit
} from '../../render/index.js'
import {
  booleanParam, choiceParam, floatListParam, floatParam, integerListParam, integerParam, listParam, requireParam, type Query
} from './query-params.js'
import { regionBreakdown } from './region.js'
import { ColumnCache, heatmapWindow, keyColumns, scalarColumns } from './slot-window.js'
import type { ValuePoint } from './value-params.js'
import { foldedKeys, type PointData, type SlotIndex } from './value-points.js'

/** What a resource is given to answer for one data point. */
export interface PointContext {
  readonly def: InstrumentationDefinition
  readonly index: SlotIndex
  readonly point: ValuePoint
  readonly data: PointData
  readonly pool: SurfacePool
  readonly catalog: Catalog
  /** Conversions of slot values kept between requests (slot-window.ts). */
  readonly columns: ColumnCache
}

/** A resource's answer for one point: its fields, and the PNG for image resources. */
export interface PointAnswer {
  readonly fields: Record<string, unknown>
  readonly png?: Buffer
}

/** A value resource. */
export interface ValueResource<P = unknown> {
  /** The path below `.../value/`. */
  readonly name: string
  /** CA's default duration for this resource, seconds. */
  readonly defaultDuration: number
  /** Most `ndatapoints` one request may ask for. */
  readonly maxPoints: number
  /** Whether the answer is an image that may be sent as image/png. */
  readonly image: boolean
  /** Throws (ECA_NOENT / ECA_INVAL) when the resource does not apply to `def`. */
  applies: (def: InstrumentationDefinition, id: string) => void
  /** Reads and validates the resource's own parameters. */
  params: (q: Query, def: InstrumentationDefinition) => P
  answer: (ctx: PointContext, params: P) => PointAnswer
}

/** Most points of a request for resources that render or scan a window per point. */
export const MAX_RENDERED_POINTS = 60
/** Most points of a request for resources answering a number or a value per point. */
export const MAX_POINTS = 3600
/** Most percentile lines drawn on one heatmap. */
export const MAX_PERCENTILE_LINES = 8

const numericOnly = (def: InstrumentationDefinition, id: string): void => {
  if (def.valueArity !== 'numeric-decomposition') {
    throw new HeatmeshError('ECA_NOENT', `instrumentation ${JSON.stringify(id)} has no numeric decomposition: heatmap resources need one (its value-arity is ${def.valueArity})`)
  }
}

/** The axis unit of an instrumentation's numeric field (heatmap y) or, without one, of its metric (charts). */
export function unitOf (def: InstrumentationDefinition, cat: Catalog = defaultCatalog): { numeric: ValueUnit, metric: ValueUnit } {
  const metric = findMetric(cat, def.module, def.stat)
  const byType = (type: string | undefined): ValueUnit => type === 'time' ? 'ns' : type === 'size' ? 'bytes' : 'count'
  if (metric === undefined) return { numeric: 'count', metric: 'count' }
  let numeric: ValueUnit = 'count'
  try {
    numeric = byType(splitDecomposition(def.decomposition, metric).numeric?.type)
  } catch {
    numeric = 'count' // a definition from a peer with another catalog: plain numbers
  }
  return { numeric, metric: byType(metric.type) }
}

/** CA's zero of a shape, for a point without data. */
function zeroCa (ctx: PointContext): CaValue {
  switch (ctx.index.shape) {
    case 'scalar': return 0
    case 'distribution': return []
    default: return {}
  }
}

// ---- raw ---------------------------------------------------------------------------------

export const rawResource: ValueResource<null> = {
  name: 'raw',
  defaultDuration: 1,
  maxPoints: MAX_POINTS,
  image: false,
  applies: () => {},
  params: () => null,
  answer: (ctx) => {
    const value = ctx.data.value === undefined ? zeroCa(ctx) : valueToCa(ctx.data.value)
    const folded = foldedKeys(ctx.data.value)
    return { fields: folded > 0 ? { value, folded } : { value } }
  }
}

// ---- heatmap scale parameters ---------------------------------------------------------------

interface ScaleParams {
  readonly width?: number
  readonly height?: number
  readonly ymin?: number
  readonly ymax?: number
  readonly nbuckets?: number
}

/** CA's heatmap scale parameters (width, height, ymin, ymax, nbuckets) with CA's limits, checked together. */
function scaleParams (q: Query): ScaleParams {
  const range = (name: keyof typeof HEATMAP_LIMITS): { min: number, max: number } => ({ min: HEATMAP_LIMITS[name][0], max: HEATMAP_LIMITS[name][1] })
  const out: { -readonly [K in keyof ScaleParams]: ScaleParams[K] } = {}
  for (const name of ['width', 'height', 'ymin', 'ymax', 'nbuckets'] as const) {
    const v = integerParam(q, name, range(name))
    if (v !== undefined) out[name] = v
  }
  resolveScale(out)
  return out
}

// ---- heatmap/image ---------------------------------------------------------------------------

interface ImageParams extends ScaleParams {
  readonly selected: readonly string[]
  readonly isolate: boolean
  readonly exclude: boolean
  readonly decomposeAll: boolean
  readonly hues?: readonly number[]
  readonly coloring?: 'rank' | 'linear'
  readonly weights?: 'count' | 'weight'
  readonly axes: boolean
  readonly legend: boolean
  readonly percentiles: readonly number[]
}

/** Which key each drawn layer shows (null: everything not selected) and its hue, as render draws them. */
export function heatmapLayerHues (present: readonly string[], p: ImageParams): Array<{ key: string | null, hue: number }> {
  const selected = p.decomposeAll ? present : p.selected
  const hues = p.hues ?? defaultHues(selected.length, p.isolate)
  if (p.isolate) return selected.length === 0 ? [{ key: null, hue: 0 }] : selected.map((key, i) => ({ key, hue: hues[i]! }))
  if (p.exclude) return [{ key: null, hue: hues[0]! }]
  return [{ key: null, hue: hues[0]! }, ...selected.map((key, i) => ({ key, hue: hues[i + 1]! }))]
}

export const heatmapImageResource: ValueResource<ImageParams> = {
  name: 'heatmap/image',
  defaultDuration: 60,
  maxPoints: MAX_RENDERED_POINTS,
  image: true,
  applies: numericOnly,
  params: (q) => {
    const hues = integerListParam(q, 'hues', { min: 0, max: 359 }, 'invalid hue')
    const coloring = choiceParam(q, 'coloring', ['rank', 'linear'] as const)
    const weights = choiceParam(q, 'weights', ['count', 'weight'] as const)
    const params: ImageParams = {
      ...scaleParams(q),
      selected: listParam(q, 'selected') ?? [],
      isolate: booleanParam(q, 'isolate') ?? false,
      exclude: booleanParam(q, 'exclude') ?? false,
      decomposeAll: booleanParam(q, 'decompose_all') ?? false,
      ...(hues === undefined ? {} : { hues }),
      ...(coloring === undefined ? {} : { coloring }),
      ...(weights === undefined ? {} : { weights }),
      axes: booleanParam(q, 'axes') ?? false,
      legend: booleanParam(q, 'legend') ?? false,
      percentiles: floatListParam(q, 'percentiles', { min: 0, max: 1 }, MAX_PERCENTILE_LINES) ?? []
    }
    // render's own checks (one of isolate/exclude/decompose_all, hues, ymax > ymin) before any
    // data is fetched; only decompose_all's hue count depends on the data.
    resolveHeatmapOptions(params)
    return params
  },
  answer: (ctx, p) => {
    const window = heatmapWindow(ctx.index, ctx.point.start_time, ctx.point.duration, ctx.columns)
    const image = renderHeatmap(window, { ...p, unit: unitOf(ctx.def, ctx.catalog).numeric }, { pool: ctx.pool })
    return {
      png: image.png,
      fields: {
        nbuckets: image.nbuckets,
        width: image.width,
        height: image.height,
        ymin: image.ymin,
        ymax: image.ymax,
        present: image.present,
        layers: heatmapLayerHues(image.present, p),
        image_width: image.imageWidth,
        image_height: image.imageHeight,
        plot: image.plot
      }
    }
  }
}

// ---- heatmap/details -------------------------------------------------------------------------

interface DetailsParams extends ScaleParams {
  readonly x: number
  readonly y: number
}

/** Per column, the keys (and total) in the value range [ymin, ymax), with CA's details rounding. */
function detailColumns (window: HeatmapWindow, ymin: number, ymax: number): Array<{ bucket_time: number, present: Record<string, number>, total: number }> {
  const visible = (v: number): number => Math.max(1, Math.round(v))
  const count = (dist: Parameters<typeof rebucketLinear>[0]): number => dist === undefined || dist.length === 0 ? 0 : rebucketLinear(dist, ymin, ymax, 1)[0]!
  const out = []
  const keys = [...(window.byKey?.keys() ?? [])].sort()
  for (let i = 0; i < window.ncolumns; i++) {
    const present: Record<string, number> = {}
    let total = 0
    let anyKey = false
    for (const key of keys) {
      const v = count(window.byKey!.get(key)![i])
      if (window.byKey!.get(key)![i] !== undefined) anyKey = true
      if (!v) continue
      present[key] = visible(v)
      total += present[key]
    }
    if (!anyKey) {
      const v = count(window.total[i])
      total = v === 0 ? 0 : visible(v)
    }
    out.push({ bucket_time: window.base + i * window.step, present, total })
  }
  return out
}

export const heatmapDetailsResource: ValueResource<DetailsParams> = {
  name: 'heatmap/details',
  defaultDuration: 60,
  maxPoints: MAX_RENDERED_POINTS,
  image: false,
  applies: numericOnly,
  params: (q) => {
    const x = requireParam('x', integerParam(q, 'x', { min: 0 }))
    const y = requireParam('y', integerParam(q, 'y', { min: 0 }))
    const scale = scaleParams(q)
    if (scale.ymax === undefined || scale.ymax === 0) throw new HeatmeshError('ECA_INVAL', '"ymax" must be specified')
    // render checks these too; here they are refused before any data is fetched.
    if (x >= (scale.width ?? HEATMAP_DEFAULTS.width)) throw new InvalidFieldError('x', x, '"x" must be less than "width"')
    if (y >= (scale.height ?? HEATMAP_DEFAULTS.height)) throw new InvalidFieldError('y', y, '"y" must be less than "height"')
    return { ...scale, x, y }
  },
  answer: (ctx, p) => {
    const window = heatmapWindow(ctx.index, ctx.point.start_time, ctx.point.duration, ctx.columns)
    const d = heatmapDetails(window, p)
    return {
      fields: {
        nbuckets: d.nbuckets,
        width: d.width,
        height: d.height,
        bucket_time: d.bucketTime,
        bucket_ymin: d.bucketYmin,
        bucket_ymax: d.bucketYmax,
        present: d.present,
        total: d.total,
        columns: detailColumns(window, d.bucketYmin, d.bucketYmax)
      }
    }
  }
}

// ---- heatmap/average and heatmap/percentile -------------------------------------------------

export const heatmapAverageResource: ValueResource<ScaleParams> = {
  name: 'heatmap/average',
  defaultDuration: 1,
  maxPoints: MAX_POINTS,
  image: false,
  applies: numericOnly,
  params: scaleParams,
  answer: (ctx, p) => {
    const a = heatmapAverages(heatmapWindow(ctx.index, ctx.point.start_time, ctx.point.duration, ctx.columns), p)
    return { fields: { nbuckets: a.nbuckets, width: a.width, height: a.height, average: a.average, averages: a.averages, ymin: a.ymin, ymax: a.ymax } }
  }
}

interface PercentileParams extends ScaleParams {
  readonly percentile: number
}

export const heatmapPercentileResource: ValueResource<PercentileParams> = {
  name: 'heatmap/percentile',
  defaultDuration: 1,
  maxPoints: MAX_POINTS,
  image: false,
  applies: numericOnly,
  params: (q) => ({ ...scaleParams(q), percentile: requireParam('percentile', floatParam(q, 'percentile', { min: 0, max: 1 })) }),
  answer: (ctx, p) => {
    const r = heatmapPercentiles(heatmapWindow(ctx.index, ctx.point.start_time, ctx.point.duration, ctx.columns), p.percentile, p)
    return { fields: { nbuckets: r.nbuckets, width: r.width, height: r.height, percentile: r.percentile, percentiles: r.percentiles, ymin: r.ymin, ymax: r.ymax } }
  }
}

// ---- heatmap/region --------------------------------------------------------------------------

interface RegionParams {
  readonly ymin: number
  /** Infinity: no upper bound. */
  readonly ymax: number
}

export const heatmapRegionResource: ValueResource<RegionParams> = {
  name: 'heatmap/region',
  defaultDuration: 60,
  maxPoints: MAX_RENDERED_POINTS,
  image: false,
  applies: (def, id) => {
    const decomposed = def.decomposition.join(', ') || 'nothing'
    if (def.valueArity !== 'numeric-decomposition') {
      throw new HeatmeshError('ECA_INVAL', `a region needs a numeric decomposition (such as latency): instrumentation ${JSON.stringify(id)} is decomposed by ${decomposed}`)
    }
    if (def.valueDimension !== 3) {
      throw new HeatmeshError('ECA_INVAL', `a region needs a discrete decomposition to break down (such as execname): instrumentation ${JSON.stringify(id)} is decomposed by ${decomposed} only`)
    }
  },
  params: (q) => {
    const ymin = integerParam(q, 'ymin', { min: 0 }) ?? 0
    const ymax = integerParam(q, 'ymax', { min: 0 })
    if (ymax !== undefined && ymax <= ymin) throw new InvalidFieldError('ymax', ymax, '"ymax" must be greater than "ymin"')
    return { ymin, ymax: ymax ?? Infinity }
  },
  answer: (ctx, p) => {
    const r = regionBreakdown(heatmapWindow(ctx.index, ctx.point.start_time, ctx.point.duration, ctx.columns), p.ymin, p.ymax)
    return { fields: { ymin: p.ymin, ymax: Number.isFinite(p.ymax) ? p.ymax : null, inside: r.inside, outside: r.outside, keys: r.keys } }
  }
}

// ---- chart/image -----------------------------------------------------------------------------

interface ChartParams {
  readonly width?: number
  readonly height?: number
  readonly ymin?: number
  readonly ymax?: number
  readonly hues?: readonly number[]
  readonly axes: boolean
  readonly legend: boolean
}

export const chartImageResource: ValueResource<ChartParams> = {
  name: 'chart/image',
  defaultDuration: 60,
  maxPoints: MAX_RENDERED_POINTS,
  image: true,
  applies: () => {},
  params: (q) => {
    const out: { -readonly [K in keyof ChartParams]: ChartParams[K] } = { axes: booleanParam(q, 'axes') ?? false, legend: booleanParam(q, 'legend') ?? false }
    for (const name of ['width', 'height'] as const) {
      const v = integerParam(q, name, { min: HEATMAP_LIMITS[name][0], max: HEATMAP_LIMITS[name][1] })
      if (v !== undefined) out[name] = v
    }
    for (const name of ['ymin', 'ymax'] as const) {
      const v = floatParam(q, name)
      if (v !== undefined) out[name] = v
    }
    const hues = integerListParam(q, 'hues', { min: 0, max: 359 }, 'invalid hue')
    if (hues !== undefined) out.hues = hues
    return out
  },
  answer: (ctx, p) => {
    const { start_time: start, duration } = ctx.point
    const time = { base: start, step: ctx.index.granularity, ncolumns: Math.max(1, Math.ceil(duration / ctx.index.granularity)) }
    const units = unitOf(ctx.def, ctx.catalog)
    let chart: ChartImage
    let kind: 'line' | 'stacked-bars'
    if (ctx.index.shape === 'scalar' || ctx.index.shape === 'distribution') {
      // A distribution without keys is charted as its number of events per slot.
      const label = ctx.index.shape === 'scalar' ? `${ctx.def.module}.${ctx.def.stat}` : 'events'
      chart = renderLineChart(time, [{ label, values: scalarColumns(ctx.index, start, duration) }], { ...p, unit: ctx.index.shape === 'scalar' ? units.metric : 'count' }, { pool: ctx.pool })
      kind = 'line'
    } else {
      chart = renderStackedBars(time, keyColumns(ctx.index, start, duration), { ...p, unit: ctx.index.shape === 'decomposition' ? units.metric : 'count' }, { pool: ctx.pool })
      kind = 'stacked-bars'
    }
    return {
      png: chart.png,
      fields: {
        chart: kind,
        width: chart.width,
        height: chart.height,
        ymin: chart.ymin,
        ymax: chart.ymax,
        legend: chart.legend,
        image_width: chart.imageWidth,
        image_height: chart.imageHeight,
        plot: chart.plot
      }
    }
  }
}
