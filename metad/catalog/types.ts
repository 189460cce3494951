/**
 * The shapes of the metric catalog: what a catalog source file declares (the `*Description`
 * types, plain readonly data) and what `validateCatalog` returns (the resolved `Catalog`, in
 * which every metric field carries its type, arity and bucketing).
 *
 * Vocabulary (CA-REFERENCE §3, CA's ca-metric.js): a *metric* is a quantity named `module.stat`
 * that can be counted per second; its *fields* are the dimensions it can be filtered on
 * (predicate) and split by (decomposition). Every field has a *type*; the type's *arity* is
 * `discrete` (values are strings: hostnames, pids, ports) or `numeric` (numbers in the type's
 * unit, e.g. time in ns). Field names form one namespace across the catalog, so `latency` means
 * the same thing in every metric that has it.
 */
import type { Bucketing } from '../quantize.js'

/** `discrete`: string values, eq/ne only. `numeric`: numbers, all comparisons, bucketed. */
export type Arity = 'discrete' | 'numeric'

/**
 * CA's `value-scope` of a metric (§1.3): `interval` values are counts over the second and add
 * up over time; `point` values are levels sampled at the second and do not.
 */
export type ValueScope = 'interval' | 'point'

/** A module: a namespace for metrics (`syscall`, `cpu`, ...). */
export interface ModuleDescription {
  /** Lower-case identifier, `[a-z][a-z0-9_]*`. */
  readonly name: string
  /** Human-readable label, e.g. "System calls". */
  readonly label: string
}

/**
 * A field type (CA-REFERENCE §3.1). `unit`, `abbr`, `base`, `power` and `minmax` are CA's
 * display hints and appear in `GET /ca`; `integer` and `bucketing` are heatmesh's own and do not.
 */
export interface FieldTypeDescription {
  /** Lower-case identifier, e.g. `time`. */
  readonly name: string
  readonly arity: Arity
  /** Display unit, "" for none (e.g. "seconds" for time, "bytes" for size). */
  readonly unit: string
  /** Abbreviation of the unit ("s", "B", "%"); numeric types only. */
  readonly abbr?: string
  /** Prefix base for display (10: k, M, G; 2: Ki, Mi, Gi); numeric types only, needs `unit`. */
  readonly base?: 2 | 10
  /** Values are in units of base^power (time: 10^-9, i.e. ns); needs `base`. */
  readonly power?: number
  /** Recommended minimum top of a chart (100 for percent). */
  readonly minmax?: number
  /**
   * Numeric types only: values are integers (ns, bytes, counts), so predicate constants must be
   * integers too.
   */
  readonly integer?: boolean
  /**
   * Numeric types only, required there: how fields of this type are bucketed unless a metric
   * overrides it. Every node buckets a field the same way, so merges are exact bucket-wise sums.
   */
  readonly bucketing?: Bucketing
}

/** A field: one named dimension, shared by every metric that lists it. */
export interface FieldDescription {
  /** Lower-case identifier, e.g. `execname`. */
  readonly name: string
  /** Human-readable label, e.g. "application name" (CA's labels where CA had the field). */
  readonly label: string
  /** Name of a type in the catalog's types. */
  readonly type: string
}

interface MetricDescriptionBase {
  /** Name of a module in the catalog. */
  readonly module: string
  /** Lower-case identifier, unique within the module. */
  readonly stat: string
  /** Human-readable label, e.g. "system calls". */
  readonly label: string
  /** `interval` (counts per interval, added up) or `point` (levels, not added over time). */
  readonly interval: ValueScope
  /** Field names, in display order; each must exist in the catalog's fields. */
  readonly fields: readonly string[]
  /**
   * Per-field bucketing overrides for numeric fields of this metric (default: the field type's).
   */
  readonly bucketing?: Readonly<Record<string, Bucketing>>
  /** One or two sentences for docs/METRICS.md: what is counted, and when. */
  readonly description: string
}

/**
 * One metric, as declared in `metad/catalog/metrics/<module>.<stat>.ts`. Exactly one of `unit`
 * (what one count is, e.g. "syscalls") or `type` (the value's type, e.g. `size` for bytes).
 */
export type MetricDescription =
  | (MetricDescriptionBase & { readonly unit: string, readonly type?: undefined })
  | (MetricDescriptionBase & { readonly type: string, readonly unit?: undefined })

/** The raw catalog: the input of `validateCatalog`. */
export interface CatalogDescription {
  readonly modules: readonly ModuleDescription[]
  readonly types: readonly FieldTypeDescription[]
  readonly fields: readonly FieldDescription[]
  readonly metrics: readonly MetricDescription[]
}

/** A discrete field of a resolved metric. */
export interface DiscreteMetricField {
  readonly name: string
  readonly label: string
  /** The type's name. */
  readonly type: string
  readonly arity: 'discrete'
}

/** A numeric field of a resolved metric, with the bucketing every node must use for it. */
export interface NumericMetricField {
  readonly name: string
  readonly label: string
  /** The type's name. */
  readonly type: string
  readonly arity: 'numeric'
  /** Values (and so predicate constants) are integers. */
  readonly integer: boolean
  readonly bucketing: Bucketing
}

/** A field as a resolved metric sees it. */
export type MetricField = DiscreteMetricField | NumericMetricField

interface MetricBase {
  /** `module.stat`. */
  readonly name: string
  readonly module: string
  readonly stat: string
  readonly label: string
  readonly interval: ValueScope
  readonly description: string
  /** In declaration order. */
  readonly fields: readonly MetricField[]
}

/** A validated metric with its fields resolved. Exactly one of `unit` or `type`. */
export type Metric =
  | (MetricBase & { readonly unit: string, readonly type?: undefined })
  | (MetricBase & { readonly type: string, readonly unit?: undefined })

/**
 * A validated catalog. Maps (not plain objects) so that a user-supplied name such as
 * `__proto__` or `constructor` can never be found by accident. `metrics` is keyed by
 * `module.stat` and iterates in sorted order.
 */
export interface Catalog {
  readonly modules: ReadonlyMap<string, ModuleDescription>
  readonly types: ReadonlyMap<string, FieldTypeDescription>
  readonly fields: ReadonlyMap<string, FieldDescription>
  readonly metrics: ReadonlyMap<string, Metric>
}
