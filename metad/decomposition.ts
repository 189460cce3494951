/**
 * Decompositions (CA-REFERENCE §5): the fields an instrumentation's values are split by. At most
 * one discrete field (the keys of a `{key: value}` object) and one numeric field (the buckets of
 * a distribution), kept in the order the request gave them (instrumenters put the numeric one
 * last when they aggregate). The derived `value-dimension` and `value-arity` are CA's.
 */
import { InvalidFieldError } from './errors.js'
import { metricField } from './catalog/lookup.js'
import type { DiscreteMetricField, Metric, NumericMetricField } from './catalog/types.js'

/** Field names, in the request's order; at most one discrete and one numeric. */
export type Decomposition = readonly string[]

/** CA's `value-arity`: how a value is shaped, and so how a client draws it. */
export type ValueArity = 'scalar' | 'discrete-decomposition' | 'numeric-decomposition'

/** CA's `value-dimension`: 1 + the number of decomposition fields. */
export type ValueDimension = 1 | 2 | 3

/** More entries than this are rejected before any is looked at (only two could ever be valid). */
export const DECOMPOSITION_MAX_ENTRIES = 64

/**
 * Parses a decomposition given as an array of field names or a comma-separated string (as form
 * parameters give it; "" is the empty decomposition). Checks, in order: the shape; each field
 * exists on the metric (CA: field "field", "no such field for specified metric"); no field is
 * given twice; at most one discrete and one numeric field (CA's messages).
 *
 * @example
 * parseDecomposition('execname,latency', metric) // ['execname', 'latency']
 */
export function parseDecomposition (input: unknown, metric: Metric): Decomposition {
  let names: readonly unknown[]
  if (typeof input === 'string') {
    names = input === '' ? [] : input.split(',', DECOMPOSITION_MAX_ENTRIES + 1)
  } else if (Array.isArray(input)) {
    names = input
  } else {
    throw new InvalidFieldError('decomposition', input, 'must be an array of field names or a comma-separated string')
  }
  if (names.length > DECOMPOSITION_MAX_ENTRIES) {
    throw new InvalidFieldError('decomposition', Array.isArray(input) ? `(an array of ${names.length} entries)` : input, 'too many fields: at most one discrete and one numeric field may be specified')
  }
  names.forEach((name, i) => {
    if (typeof name !== 'string') throw new InvalidFieldError('decomposition', input, `element ${i} is not a field name: got ${typeof name}`)
    if (metricField(metric, name) === undefined) throw new InvalidFieldError('field', name, 'no such field for specified metric')
  })
  const fields = names as readonly string[]
  fields.forEach((name, i) => {
    if (fields.indexOf(name) !== i) throw new InvalidFieldError('decomposition', input, `field "${name}" specified more than once`)
  })
  let ndiscrete = 0
  let nnumeric = 0
  for (const name of fields) {
    if (metricField(metric, name)?.arity === 'numeric') nnumeric++
    else ndiscrete++
  }
  if (ndiscrete > 1) throw new InvalidFieldError('decomposition', input, 'more than one discrete decomposition specified')
  if (nnumeric > 1) throw new InvalidFieldError('decomposition', input, 'more than one numeric decomposition specified')
  return Object.freeze([...fields])
}

/** CA's `value-dimension`: `decomposition.length + 1`. */
export function valueDimension (decomposition: Decomposition): ValueDimension {
  return (decomposition.length + 1) as ValueDimension
}

/**
 * CA's `value-arity`: `scalar` without decomposition, `numeric-decomposition` if a numeric field
 * is decomposed (with or without a discrete one), else `discrete-decomposition`.
 */
export function valueArity (decomposition: Decomposition, metric: Metric): ValueArity {
  if (decomposition.length === 0) return 'scalar'
  return decomposition.some((name) => metricField(metric, name)?.arity === 'numeric')
    ? 'numeric-decomposition'
    : 'discrete-decomposition'
}

/** The decomposition's discrete and numeric fields (with bucketing), for backends. */
export function splitDecomposition (decomposition: Decomposition, metric: Metric): { discrete?: DiscreteMetricField, numeric?: NumericMetricField } {
  const out: { discrete?: DiscreteMetricField, numeric?: NumericMetricField } = {}
  for (const name of decomposition) {
    const f = metricField(metric, name)
    if (f === undefined) throw new Error(`splitDecomposition: metric ${metric.name} has no field "${name}"`)
    if (f.arity === 'numeric') out.numeric = f
    else out.discrete = f
  }
  return out
}
