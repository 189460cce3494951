/**
 * caMetadata: the body of CA's `GET /ca` (CA-REFERENCE §2.3) for a catalog, optionally limited
 * to a selection of metrics and fields (what the mesh actually serves, say). Like CA's
 * caMetricHttpSerialize, it lists only the modules, fields and types that the listed metrics
 * use. heatmesh's own type properties (`integer`, `bucketing`) are not part of CA's payload and
 * are left out.
 */
import type { Catalog, FieldTypeDescription } from './types.js'

/** A type as `GET /ca` shows it. */
export interface CaTypeMetadata {
  name: string
  arity: 'discrete' | 'numeric'
  unit: string
  abbr?: string
  base?: 2 | 10
  power?: number
  minmax?: number
}

/** A metric as `GET /ca` shows it: exactly one of `unit` or `type`. */
export interface CaMetricMetadata {
  module: string
  stat: string
  label: string
  interval: 'interval' | 'point'
  fields: string[]
  unit?: string
  type?: string
}

/** The `GET /ca` payload. */
export interface CaMetadata {
  modules: Record<string, { label: string }>
  fields: Record<string, { label: string, type: string }>
  types: Record<string, CaTypeMetadata>
  metrics: CaMetricMetadata[]
  transformations: Record<string, { label: string, fields: string[] }>
}

/**
 * Selects a metric, and optionally some of its fields (default: all). Entries naming a metric or
 * field the catalog does not have are ignored, so a selection from a peer running a newer catalog
 * intersects cleanly; several entries for one metric are united.
 */
export interface MetricSelection {
  readonly module: string
  readonly stat: string
  readonly fields?: readonly string[]
}

/**
 * CA's `GET /ca` payload for `catalog`, restricted to `metrics` if given. Metrics are listed in
 * the catalog's (sorted) order with their fields in the catalog's order. Transformations are
 * empty: heatmesh offers none yet.
 *
 * @example
 * caMetadata(catalog, [{ module: 'syscall', stat: 'syscalls', fields: ['hostname', 'latency'] }])
 */
export function caMetadata (catalog: Catalog, metrics?: Iterable<MetricSelection>): CaMetadata {
  let selected: Map<string, Set<string> | 'all'> | undefined
  if (metrics !== undefined) {
    selected = new Map()
    for (const s of metrics) {
      const name = `${s.module}.${s.stat}`
      const prev = selected.get(name)
      if (prev === 'all') continue
      if (s.fields === undefined) { selected.set(name, 'all'); continue }
      const set = prev ?? new Set<string>()
      for (const f of s.fields) set.add(f)
      selected.set(name, set)
    }
  }

  const out: CaMetadata = { modules: {}, fields: {}, types: {}, metrics: [], transformations: {} }
  const addType = (name: string): void => {
    if (Object.hasOwn(out.types, name)) return
    out.types[name] = caType(catalog.types.get(name) as FieldTypeDescription)
  }
  for (const metric of catalog.metrics.values()) {
    const sel = selected === undefined ? 'all' : selected.get(metric.name)
    if (sel === undefined) continue
    const fields = metric.fields.filter((f) => sel === 'all' || sel.has(f.name))
    if (!Object.hasOwn(out.modules, metric.module)) {
      out.modules[metric.module] = { label: catalog.modules.get(metric.module)?.label ?? metric.module }
    }
    const entry: CaMetricMetadata = {
      module: metric.module,
      stat: metric.stat,
      label: metric.label,
      interval: metric.interval,
      fields: fields.map((f) => f.name)
    }
    if (metric.type !== undefined) {
      entry.type = metric.type
      addType(metric.type)
    } else {
      entry.unit = metric.unit
    }
    for (const f of fields) {
      if (!Object.hasOwn(out.fields, f.name)) out.fields[f.name] = { label: f.label, type: f.type }
      addType(f.type)
    }
    out.metrics.push(entry)
  }
  return out
}

function caType (t: FieldTypeDescription): CaTypeMetadata {
  const out: CaTypeMetadata = { name: t.name, arity: t.arity, unit: t.unit }
  if (t.abbr !== undefined) out.abbr = t.abbr
  if (t.base !== undefined) out.base = t.base
  if (t.power !== undefined) out.power = t.power
  if (t.minmax !== undefined) out.minmax = t.minmax
  return out
}
