/**
 * The data a heatmap is drawn from: a window of columns, one per time slot.
 *
 * Column i covers the slot starting at `base + i * step` (step = the instrumentation's
 * granularity). A column holds the total distribution and, when the instrumentation is also
 * decomposed by a discrete field, one distribution per key; a missing column (no data for that
 * slot) is drawn empty. This is CA's dim-3 dataset sliced to the request's window (CA-REFERENCE
 * §1.4, §8.1).
 */
import type { CaDistribution } from '../metad/index.js'

/** Per column, a distribution or `undefined` (no data in that slot). */
export type ColumnSeries = ReadonlyArray<CaDistribution | undefined>

/** A window of heatmap columns. */
export interface HeatmapWindow {
  /** Start time of column 0 (Unix seconds). */
  readonly base: number
  /** Seconds between consecutive columns (the granularity); at least 1. */
  readonly step: number
  /** Number of columns; entries of the series beyond their length count as missing. */
  readonly ncolumns: number
  /** The total distribution of each column. */
  readonly total: ColumnSeries
  /** Per key of the discrete decomposition, that key's distribution in each column. */
  readonly byKey?: ReadonlyMap<string, ColumnSeries>
}

/** Time-indexed data as CA's dataset held it: slot start time -> distribution. */
export interface TimedData {
  /** Start of the window (Unix seconds, aligned to `step`). */
  readonly start: number
  /** Length of the window in seconds; the window has `ceil(duration / step)` columns. */
  readonly duration: number
  /** Granularity in seconds. @default 1 */
  readonly step?: number
  readonly total: ReadonlyMap<number, CaDistribution>
  readonly byKey?: ReadonlyMap<string, ReadonlyMap<number, CaDistribution>>
}

/**
 * Slices time-indexed data into a window: columns at `start, start + step, ...` below
 * `start + duration`, missing times empty (CA's object form of `bucketize` input with `base`,
 * `nsamples` and `step`).
 */
export function windowFromTimes (data: TimedData): HeatmapWindow {
  const step = data.step ?? 1
  if (!(Number.isInteger(step) && step >= 1)) throw new RangeError(`windowFromTimes: bad step ${step}`)
  const ncolumns = Math.max(0, Math.ceil(data.duration / step))
  const slice = (byTime: ReadonlyMap<number, CaDistribution>): Array<CaDistribution | undefined> => {
    const out = new Array<CaDistribution | undefined>(ncolumns)
    for (let i = 0; i < ncolumns; i++) out[i] = byTime.get(data.start + i * step)
    return out
  }
  const window: { -readonly [K in keyof HeatmapWindow]: HeatmapWindow[K] } = {
    base: data.start, step, ncolumns, total: slice(data.total)
  }
  if (data.byKey !== undefined) {
    const byKey = new Map<string, ColumnSeries>()
    for (const [key, byTime] of data.byKey) byKey.set(key, slice(byTime))
    window.byKey = byKey
  }
  return window
}

/** The start time of column `i`. */
export function columnTime (window: HeatmapWindow, i: number): number {
  return window.base + i * window.step
}

/** True when a distribution has a non-zero count. */
export function hasData (dist: CaDistribution | undefined): boolean {
  if (dist === undefined) return false
  for (let e = 0; e < dist.length; e++) if (dist[e]![1] !== 0) return true
  return false
}

/** True when the series has data in some column of the window. */
export function seriesHasData (series: ColumnSeries, ncolumns: number): boolean {
  const n = Math.min(ncolumns, series.length)
  for (let i = 0; i < n; i++) if (hasData(series[i])) return true
  return false
}

/** The keys with data anywhere in the window, sorted (CA's `present`). */
export function presentKeys (window: HeatmapWindow): string[] {
  const keys: string[] = []
  if (window.byKey === undefined) return keys
  for (const [key, series] of window.byKey) if (seriesHasData(series, window.ncolumns)) keys.push(key)
  return keys.sort()
}
