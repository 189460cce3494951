/**
 * `GET /metrics`: what a node tells Prometheus (text format 0.0.4, prometheus.ts).
 *
 * - The daemon's own health: each number of the `health` function as a gauge
 *   `heatmesh_<name>` (e.g. heatmesh_members_live); a name that would not make a valid metric
 *   name is left out and said so in a comment line. The values routes' counters:
 *   heatmesh_http_value_requests_total, _errors_total, _waits_total.
 * - Per live instrumentation, its latest merged slot (the newest of the last
 *   LATEST_LOOKBACK_SLOTS slots), labelled `instrumentation="<id>"` and `metric="module.stat"`:
 *   heatmesh_instrumentation_up (1: its slots could be fetched), _latest_second (start of that
 *   slot), _nsources and _minreporting (its coverage); the value itself as heatmesh_value (a gauge:
 *   scalars, and decompositions with one sample per key) or heatmesh_distribution (a histogram:
 *   numeric decompositions, one per key when also decomposed by a discrete field). A key is
 *   the value of a label named after the discrete field (`execname="sshd"`), or `key` when the
 *   field's name is not a valid label name or is one of ours; the keys folded away by the merge
 *   tree's cardinality bound appear as `(other)` with the label `folded="true"`.
 *
 * A value is per slot (per granularity seconds), not a running total: a counter-like rate is
 * the gauge itself (events in the last slot), and a histogram's buckets describe the last slot
 * only. Prometheus' `rate()` does not apply to them.
 */
import {
  findMetric, OTHER_KEY, splitDecomposition, type Catalog, type Distribution, type InstrumentationDefinition, type Value
} from '../../metad/index.js'
import { EXPOSITION_CONTENT_TYPE, formatExposition, histogramSamples, isLabelName, isMetricName, type MetricFamily, type Sample } from './prometheus.js'
import { CORS_HEADERS } from './respond.js'
import type { Router } from './router.js'
import { OTHER_LABEL } from './slot-window.js'
import { indexSlots } from './value-points.js'
import { fetchSlots, type SlotPoint, type ValueSource } from './value-source.js'

/** The daemon's health numbers by name (without the `heatmesh_` prefix). */
export type HealthSource = () => Readonly<Record<string, number>>

/** How many slots back /metrics looks for an instrumentation's latest slot. */
export const LATEST_LOOKBACK_SLOTS = 10

/** Families written here, which a health number may not shadow. */
const OWN_FAMILY = /^heatmesh_(http_value_|instrumentation_|value$|distribution$)/

/** Labels of ours that a discrete field may not take over. */
const RESERVED_LABELS = new Set(['instrumentation', 'metric', 'le', 'folded', 'key'])

/** Counters of the values routes. */
export interface ValueCounters {
  /** Requests served. */
  requests: number
  /** Requests answered with an error. */
  errors: number
  /** Requests that waited for late data. */
  waits: number
}

/** What the /metrics route reads. */
export interface MetricsComponents {
  readonly source: ValueSource
  readonly catalog: Catalog
  readonly health?: HealthSource
  readonly instrumentations?: () => readonly string[]
  readonly counters: () => Readonly<ValueCounters>
  readonly fetchTimeoutMs: number
}

/** An instrumentation's latest slot, or why there is none. */
export interface LatestSlot {
  readonly id: string
  readonly definition: InstrumentationDefinition
  /** undefined: no slot in the lookback window. */
  readonly slot?: SlotPoint
  readonly ok: boolean
}

/** The label a discrete field's keys are written under. */
export function keyLabel (discrete: string | undefined): string {
  return discrete !== undefined && isLabelName(discrete) && !RESERVED_LABELS.has(discrete) ? discrete : 'key'
}

function keyLabels (base: Record<string, string>, label: string, key: string): Record<string, string> {
  return key === OTHER_KEY ? { ...base, [label]: OTHER_LABEL, folded: 'true' } : { ...base, [label]: key }
}

/** The metric families of the daemon's health, the route's counters and the latest slots. */
export function metricFamilies (
  health: Readonly<Record<string, number>>,
  counters: Readonly<ValueCounters>,
  latest: readonly LatestSlot[],
  discreteField: (def: InstrumentationDefinition) => string | undefined
): { families: MetricFamily[], skipped: Array<{ name: string, reason: string }> } {
  const families: MetricFamily[] = []
  const skipped: Array<{ name: string, reason: string }> = []
  for (const name of Object.keys(health).sort()) {
    const full = `heatmesh_${name}`
    const value = health[name]!
    if (!isMetricName(full)) {
      skipped.push({ name, reason: 'not a valid metric name' })
      continue
    }
    if (OWN_FAMILY.test(full)) {
      skipped.push({ name, reason: 'the name of a family of the values API' })
      continue
    }
    if (typeof value !== 'number') {
      skipped.push({ name, reason: 'not a number' })
      continue
    }
    families.push({ name: full, help: `heatmesh daemon health: ${name}`, type: 'gauge', samples: [{ labels: {}, value }] })
  }
  families.push(
    { name: 'heatmesh_http_value_requests_total', help: 'Requests served by the values API.', type: 'counter', samples: [{ labels: {}, value: counters.requests }] },
    { name: 'heatmesh_http_value_errors_total', help: 'Requests of the values API answered with an error.', type: 'counter', samples: [{ labels: {}, value: counters.errors }] },
    { name: 'heatmesh_http_value_waits_total', help: 'Requests of the values API that waited for late data.', type: 'counter', samples: [{ labels: {}, value: counters.waits }] }
  )

  const up: Sample[] = []
  const second: Sample[] = []
  const nsources: Sample[] = []
  const minreporting: Sample[] = []
  const gauges: Sample[] = []
  const histograms: Sample[] = []
  for (const { id, definition: def, slot, ok } of latest) {
    const base = { instrumentation: id, metric: `${def.module}.${def.stat}` }
    up.push({ labels: base, value: ok ? 1 : 0 })
    if (slot === undefined) continue
    second.push({ labels: base, value: slot.second })
    nsources.push({ labels: base, value: slot.nsources })
    minreporting.push({ labels: base, value: slot.minreporting })
    const label = keyLabel(discreteField(def))
    valueSamples(slot.value, base, label, gauges, histograms)
  }
  families.push(
    { name: 'heatmesh_instrumentation_up', help: 'Whether the latest slots of the instrumentation could be fetched from the mesh (1) or not (0).', type: 'gauge', samples: up },
    { name: 'heatmesh_instrumentation_latest_second', help: 'Start (Unix seconds) of the instrumentation\'s latest merged slot.', type: 'gauge', samples: second },
    { name: 'heatmesh_instrumentation_nsources', help: 'Nodes expected to report for the latest slot.', type: 'gauge', samples: nsources },
    { name: 'heatmesh_instrumentation_minreporting', help: 'Nodes merged into the latest slot.', type: 'gauge', samples: minreporting },
    { name: 'heatmesh_value', help: 'The latest slot of a scalar or discretely decomposed instrumentation (events or the metric\'s unit per slot).', type: 'gauge', samples: gauges },
    { name: 'heatmesh_distribution', help: 'The latest slot of a numerically decomposed instrumentation; _sum estimated from bucket midpoints.', type: 'histogram', samples: histograms }
  )
  return { families, skipped }
}

function valueSamples (v: Value, base: Record<string, string>, label: string, gauges: Sample[], histograms: Sample[]): void {
  switch (v.type) {
    case 'scalar':
      gauges.push({ labels: base, value: v.n })
      return
    case 'decomposition':
      for (const key of [...v.keys.keys()].sort()) gauges.push({ labels: keyLabels(base, label, key), value: v.keys.get(key)! })
      return
    case 'distribution':
      histograms.push(...histogramSamples(base, v.dist))
      return
    case 'decomposed-distribution':
      for (const key of [...v.keys.keys()].sort()) histograms.push(...histogramSamples(keyLabels(base, label, key), v.keys.get(key) as Distribution))
      return
    default: {
      const never: never = v
      return never
    }
  }
}

/** Adds `GET /metrics`. */
export function addMetricsRoute (router: Router, components: MetricsComponents): Router {
  const { source } = components
  const latestOf = async (id: string): Promise<LatestSlot | undefined> => {
    const found = source.definition(id)
    if (found === undefined) return undefined
    const g = found.definition.granularity
    const now = Math.floor(source.now())
    const end = now - (now % g) + g
    try {
      const slots = await fetchSlots(source, id, end - LATEST_LOOKBACK_SLOTS * g, end, new AbortController().signal, components.fetchTimeoutMs)
      // Checked as the values routes check them; unusable slots count as a failed fetch.
      const index = indexSlots(slots, found.definition)
      let slot: SlotPoint | undefined
      for (const s of index.bySecond.values()) if (slot === undefined || s.second > slot.second) slot = s
      return { id, definition: found.definition, ok: true, ...(slot === undefined ? {} : { slot }) }
    } catch {
      return { id, definition: found.definition, ok: false }
    }
  }
  return router.add('GET', '/metrics', async ({ res }) => {
    const ids = components.instrumentations?.() ?? []
    const latest = (await Promise.all(ids.map(latestOf))).filter((x): x is LatestSlot => x !== undefined)
    const { families, skipped } = metricFamilies(components.health?.() ?? {}, components.counters(), latest, (def) => discreteFieldOf(def, components.catalog))
    const comments = skipped.map(({ name, reason }) => `# heatmesh: health number ${JSON.stringify(name)} left out: ${reason}\n`).join('')
    const text = comments + formatExposition(families)
    res.writeHead(200, { ...CORS_HEADERS, 'Content-Type': EXPOSITION_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) })
    res.end(text)
  })
}

/** The discrete field an instrumentation is decomposed by, if any (the catalog says which field is which). */
export function discreteFieldOf (def: InstrumentationDefinition, cat: Catalog): string | undefined {
  const metric = findMetric(cat, def.module, def.stat)
  if (metric === undefined) return undefined
  try {
    return splitDecomposition(def.decomposition, metric).discrete?.name
  } catch {
    return undefined // a field this node's catalog does not have: keys go under `key`
  }
}
