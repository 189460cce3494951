/**
 * The value an instrumentation implies, and how user-space backends build it: the layout
 * (shape, discrete key field, numeric field and its bucketing) derived from a metric and a
 * decomposition, its zero, and the accumulator that turns records into one value (CA's
 * caInstrComputeValue). Shared by the instrumenter and every backend.
 */
import {
  DistributionBuilder, emptyDistribution, evaluatePredicate, sameBucketing, splitDecomposition, zeroValue,
  type Bucketing, type Decomposition, type Distribution, type Metric, type Predicate, type Value, type ValueShape
} from '../../metad/index.js'

/** How an instrumentation's values are shaped, derived from its metric and decomposition. */
export interface ValueLayout {
  readonly shape: ValueShape
  /** The discrete decomposition field (whose values are the keys), if any. */
  readonly discrete?: string
  /** The numeric decomposition field (whose values are bucketed), if any. */
  readonly numeric?: string
  /** The numeric field's bucketing in the resolved metric; present exactly when `numeric` is. */
  readonly bucketing?: Bucketing
}

/**
 * The layout of the values of `metric` decomposed by `decomposition` (trusted: validated
 * against the metric, e.g. by parseInstrumentation): scalar, `{key: n}`, a distribution over
 * the numeric field's bucketing, or `{key: distribution}`.
 */
export function valueLayout (metric: Metric, decomposition: Decomposition): ValueLayout {
  const { discrete, numeric } = splitDecomposition(decomposition, metric)
  if (numeric === undefined) {
    return discrete === undefined ? { shape: 'scalar' } : { shape: 'decomposition', discrete: discrete.name }
  }
  if (discrete === undefined) return { shape: 'distribution', numeric: numeric.name, bucketing: numeric.bucketing }
  return { shape: 'decomposed-distribution', discrete: discrete.name, numeric: numeric.name, bucketing: numeric.bucketing }
}

/** The zero of a layout: CA's 0, {}, [] or {}. */
export function zeroValueOf (layout: ValueLayout): Value {
  return layout.bucketing === undefined ? zeroValue(layout.shape as 'scalar' | 'decomposition') : zeroValue(layout.shape, layout.bucketing)
}

/** Whether `v` has the shape (and, for distributions, the bucketing) that `layout` implies. */
export function valueFitsLayout (v: Value, layout: ValueLayout): boolean {
  if (v.type !== layout.shape) return false
  if (v.type === 'distribution') return layout.bucketing !== undefined && sameBucketing(v.dist.bucketing, layout.bucketing)
  if (v.type === 'decomposed-distribution') return layout.bucketing !== undefined && sameBucketing(v.bucketing, layout.bucketing)
  return true
}

/** One record's field values, as evaluatePredicate takes them. */
export type FieldRecord = Readonly<Record<string, string | number>>

/**
 * Turns records into one value of a layout, in user space (CA's caInstrComputeValue): a record
 * the predicate rejects is dropped; the others add `weight` under their key (the discrete
 * field's value) in the bucket of their numeric field's value.
 */
export interface ValueAccumulator {
  /**
   * Counts one record with `weight` (1 for an event; a counter's delta; a level such as bytes or
   * percent). Records must carry every field the predicate and the layout use. A distribution
   * layout takes integer weights only. Zero weights are dropped, so a key appears only when
   * something was counted under it (as in a DTrace aggregation).
   */
  add: (record: FieldRecord, weight?: number) => void
  /** The value of everything added since the last take, and a fresh start. */
  take: () => Value
}

/** An accumulator for `layout`, filtering with `predicate` (trusted: parsed for the metric). */
export function createValueAccumulator (layout: ValueLayout, predicate: Predicate): ValueAccumulator {
  const trivial = predicate.op === 'true'
  const { discrete, numeric, bucketing } = layout
  let n = 0
  let keys = new Map<string, number>()
  let dist: DistributionBuilder | undefined
  let dists = new Map<string, DistributionBuilder>()

  const addTo = (b: DistributionBuilder, record: FieldRecord, weight: number): void => {
    const v = record[numeric!]
    if (typeof v !== 'number') throw new TypeError(`record has no number for numeric field "${numeric!}"`)
    b.addCount(v, weight)
  }
  const keyOf = (record: FieldRecord): string => {
    const k = record[discrete!]
    if (typeof k !== 'string') throw new TypeError(`record has no string for discrete field "${discrete!}"`)
    return k
  }

  return {
    add (record, weight = 1) {
      if (weight === 0 || !Number.isFinite(weight)) return
      if (!trivial && !evaluatePredicate(predicate, record)) return
      switch (layout.shape) {
        case 'scalar': n += weight; return
        case 'decomposition': { const k = keyOf(record); keys.set(k, (keys.get(k) ?? 0) + weight); return }
        case 'distribution': addTo(dist ??= new DistributionBuilder(bucketing!), record, weight); return
        case 'decomposed-distribution': {
          const k = keyOf(record)
          let b = dists.get(k)
          if (b === undefined) { b = new DistributionBuilder(bucketing!); dists.set(k, b) }
          addTo(b, record, weight)
          return
        }
        default: { const never: never = layout.shape; throw new Error(`unhandled value shape ${String(never)}`) }
      }
    },
    take () {
      let v: Value
      switch (layout.shape) {
        case 'scalar': v = { type: 'scalar', n }; n = 0; break
        case 'decomposition': v = { type: 'decomposition', keys, folded: 0 }; keys = new Map(); break
        case 'distribution':
          v = { type: 'distribution', dist: dist?.build() ?? emptyDistribution(bucketing!) }
          dist?.reset()
          break
        case 'decomposed-distribution': {
          const out = new Map<string, Distribution>()
          for (const [k, b] of dists) out.set(k, b.build())
          v = { type: 'decomposed-distribution', bucketing: bucketing!, keys: out, folded: 0 }
          dists = new Map()
          break
        }
        default: { const never: never = layout.shape; throw new Error(`unhandled value shape ${String(never)}`) }
      }
      return v
    }
  }
}

/** `v` under the single key `key` ({key: n} or {key: dist}); a zero `v` gives the empty object. */
export function valueUnderKey (v: Value, key: string): Value {
  switch (v.type) {
    case 'scalar':
      return { type: 'decomposition', keys: v.n === 0 ? new Map() : new Map([[key, v.n]]), folded: 0 }
    case 'distribution':
      return { type: 'decomposed-distribution', bucketing: v.dist.bucketing, keys: v.dist.total === 0 ? new Map() : new Map([[key, v.dist]]), folded: 0 }
    default:
      throw new RangeError(`cannot put a ${v.type} value under one key: it is decomposed already`)
  }
}
