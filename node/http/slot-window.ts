/**
 * Slots laid out as the columns render/ draws: one column per slot of a data point, column i
 * starting at `start + i * granularity`, a slot without data an empty column. A heatmap needs
 * each column's total distribution and, with a discrete decomposition, each key's (CA's dim-3
 * dataset sliced to the window, CA-REFERENCE §1.4, §8.1); a chart needs a number per column
 * (scalars) or a `{key: n}` per column (discrete decompositions, and event counts of
 * distributions).
 *
 * Speed: render/ takes CA's JSON form of distributions, and converting a slot's distributions
 * (and merging a decomposed slot's keys into its total) costs about 0.15 ms per slot of five
 * keys, 9 ms for a 60-slot window, more than rendering it. Values are immutable, so a
 * {@link ColumnCache} keeps each conversion keyed by the value object itself: a heatmap redrawn
 * every second over a sliding window converts only its newest slot, and conversions go away
 * with the values (WeakMap).
 */
import {
  distributionToCa, mergeDistributionList, OTHER_KEY, valueTotal, type CaDistribution, type DecomposedDistributionValue, type Distribution, type Value
} from '../../metad/index.js'
import type { DecompositionColumns, HeatmapWindow } from '../../render/index.js'
import type { SlotIndex } from './value-points.js'

/** How OTHER_KEY (the keys folded away) is labelled in charts, whose legends print keys. */
export const OTHER_LABEL = '(other)'

/** CA-form conversions of immutable values, kept as long as the values live. */
export class ColumnCache {
  readonly #ca = new WeakMap<Distribution, CaDistribution>()
  readonly #total = new WeakMap<DecomposedDistributionValue, CaDistribution>()

  /** `d` in CA's JSON form. */
  ca (d: Distribution): CaDistribution {
    let out = this.#ca.get(d)
    if (out === undefined) {
      out = distributionToCa(d)
      this.#ca.set(d, out)
    }
    return out
  }

  /** The sum of a decomposed value's keys, in CA's JSON form. */
  total (v: DecomposedDistributionValue): CaDistribution {
    let out = this.#total.get(v)
    if (out === undefined) {
      out = distributionToCa(mergeDistributionList([...v.keys.values()], v.bucketing))
      this.#total.set(v, out)
    }
    return out
  }
}

function columnCount (index: SlotIndex, duration: number): number {
  return Math.max(1, Math.ceil(duration / index.granularity))
}

/**
 * The heatmap window of the point `[start, start + duration)`: per column the total
 * distribution and, for a decomposed distribution, each key's. Precondition: the index holds
 * distribution shapes.
 */
export function heatmapWindow (index: SlotIndex, start: number, duration: number, cache: ColumnCache = new ColumnCache()): HeatmapWindow {
  const g = index.granularity
  const n = columnCount(index, duration)
  const total = new Array<CaDistribution | undefined>(n)
  if (index.shape !== 'decomposed-distribution') {
    for (let i = 0; i < n; i++) {
      const v = index.bySecond.get(start + i * g)?.value
      total[i] = v?.type === 'distribution' ? cache.ca(v.dist) : undefined
    }
    return { base: start, step: g, ncolumns: n, total }
  }
  const byKey = new Map<string, Array<CaDistribution | undefined>>()
  for (let i = 0; i < n; i++) {
    const v = index.bySecond.get(start + i * g)?.value
    if (v?.type !== 'decomposed-distribution') continue
    for (const [key, dist] of v.keys) {
      let series = byKey.get(key)
      if (series === undefined) {
        series = new Array<CaDistribution | undefined>(n)
        byKey.set(key, series)
      }
      series[i] = cache.ca(dist)
    }
    total[i] = cache.total(v)
  }
  return { base: start, step: g, ncolumns: n, total, byKey }
}

/** Per column, the scalar value (null without data). */
export function scalarColumns (index: SlotIndex, start: number, duration: number): Array<number | null> {
  const n = columnCount(index, duration)
  const out = new Array<number | null>(n)
  for (let i = 0; i < n; i++) {
    const v = index.bySecond.get(start + i * index.granularity)?.value
    out[i] = v === undefined ? null : valueTotal(v)
  }
  return out
}

/** Per column, `{key: count}` of a decomposition (a decomposed distribution counts events per key). */
export function keyColumns (index: SlotIndex, start: number, duration: number): DecompositionColumns {
  const n = columnCount(index, duration)
  const out = new Array<Readonly<Record<string, number>> | undefined>(n)
  for (let i = 0; i < n; i++) {
    const v = index.bySecond.get(start + i * index.granularity)?.value
    out[i] = v === undefined ? undefined : keyCounts(v)
  }
  return out
}

function keyCounts (v: Value): Record<string, number> {
  const out: Record<string, number> = Object.create(null) as Record<string, number>
  const add = (key: string, n: number): void => {
    const label = key === OTHER_KEY ? OTHER_LABEL : key
    out[label] = (out[label] ?? 0) + n
  }
  if (v.type === 'decomposition') for (const [k, n] of v.keys) add(k, n)
  else if (v.type === 'decomposed-distribution') for (const [k, d] of v.keys) add(k, d.total)
  return out
}
