/**
 * Lookups in a validated catalog. All take names that may come from users, so they go through
 * Maps or exact comparisons, never plain-object property access.
 */
import type { Catalog, FieldDescription, FieldTypeDescription, Metric, MetricField } from './types.js'

/** The metric `module.stat`, or undefined if the catalog has none. */
export function findMetric (catalog: Catalog, module: string, stat: string): Metric | undefined {
  return catalog.metrics.get(`${module}.${stat}`)
}

/** A metric's field by name (with its arity and, if numeric, its bucketing), or undefined. */
export function metricField (metric: Metric, name: string): MetricField | undefined {
  return metric.fields.find((f) => f.name === name)
}

/** A catalog field's description (label, type name), or undefined. */
export function findField (catalog: Catalog, name: string): FieldDescription | undefined {
  return catalog.fields.get(name)
}

/** A field type by name, or undefined. */
export function findType (catalog: Catalog, name: string): FieldTypeDescription | undefined {
  return catalog.types.get(name)
}
