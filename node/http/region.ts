/**
 * Region analysis, beyond CA: what is a region of a heatmap made of? ("which processes make up
 * the slow band?")
 *
 * The region is the window's time range times the value range [ymin, ymax) of the numeric
 * field; everything else in the window (the same seconds, values outside the range) is the
 * outside. For each key of the discrete decomposition, the count inside the region and outside
 * it, and its share of each: `share_inside = inside / (sum of inside over keys)`, likewise
 * outside. A key whose share inside exceeds its share outside is over-represented in the region;
 * keys are ranked by `difference = share_inside - share_outside`, largest first (ties by key), so
 * the top of the list is what the region is made of more than the rest is.
 *
 * Counts are spread as the heatmap spreads them (CA-REFERENCE §8.2): a bucket [lo, hi] holds
 * the reals [lo, hi + 1) uniformly, and the part of it inside [ymin, ymax) counts inside. So
 * counts can be fractional where a bucket straddles a bound. A share is 0 when its side holds
 * nothing.
 */
import type { CaDistribution } from '../../metad/index.js'
import type { HeatmapWindow } from '../../render/index.js'

/** One key's place in the region. */
export interface RegionKey {
  readonly key: string
  readonly inside: number
  readonly outside: number
  readonly share_inside: number
  readonly share_outside: number
  readonly difference: number
}

/** The breakdown of a region. */
export interface RegionBreakdown {
  /** Events inside the region (all keys). */
  readonly inside: number
  /** Events of the window outside the region. */
  readonly outside: number
  /** Every key with events in the window, ranked by `difference`. */
  readonly keys: RegionKey[]
}

/** Events of `dist` inside [ymin, ymax) (ymax Infinity: no upper bound), spread uniformly per bucket. */
export function countInRange (dist: CaDistribution | undefined, ymin: number, ymax: number): { inside: number, total: number } {
  let inside = 0
  let total = 0
  if (dist === undefined) return { inside, total }
  for (const [[lo, hi], count] of dist) {
    total += count
    const top = hi + 1
    const from = lo > ymin ? lo : ymin
    const to = top < ymax ? top : ymax
    if (to <= from) continue
    inside += from === lo && to === top ? count : count * ((to - from) / (top - lo))
  }
  return { inside, total }
}

/** The breakdown of the region [ymin, ymax) over every column of `window` (which needs `byKey`). */
export function regionBreakdown (window: HeatmapWindow, ymin: number, ymax: number): RegionBreakdown {
  const rows: Array<{ key: string, inside: number, outside: number }> = []
  let allInside = 0
  let allOutside = 0
  for (const [key, series] of window.byKey ?? new Map()) {
    let inside = 0
    let total = 0
    for (let i = 0; i < window.ncolumns; i++) {
      const c = countInRange(series[i], ymin, ymax)
      inside += c.inside
      total += c.total
    }
    if (total === 0) continue
    const outside = Math.max(0, total - inside)
    rows.push({ key, inside, outside })
    allInside += inside
    allOutside += outside
  }
  const keys = rows.map(({ key, inside, outside }): RegionKey => {
    const shareInside = allInside > 0 ? inside / allInside : 0
    const shareOutside = allOutside > 0 ? outside / allOutside : 0
    return { key, inside, outside, share_inside: shareInside, share_outside: shareOutside, difference: shareInside - shareOutside }
  })
  keys.sort((a, b) => (b.difference - a.difference) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return { inside: allInside, outside: allOutside, keys }
}
