/**
 * Values: what an instrumentation measures in one interval, in CA's four shapes, with one merge.
 *
 *   shape                      CA (raw JSON)              zero   here
 *   scalar                     573                        0      { type: 'scalar', n }
 *   decomposition              {"sd0": 1249, ...}         {}     { type: 'decomposition', keys: Map<string, number>, folded }
 *   distribution               [[[lo, hi], n], ...]       []     { type: 'distribution', dist }
 *   decomposed-distribution    {"sd0": [[[lo,hi],n]]}     {}     { type: 'decomposed-distribution', bucketing, keys: Map<string, Distribution>, folded }
 *
 * MERGE. `mergeValues(a, b)` adds: scalars by +, decompositions key by key over the union of
 * keys, distributions bucket by bucket. It is exact, associative and commutative, and each
 * shape's zero is its identity. Values of different shapes, or distributions of different
 * bucketings, do not merge (HeatmeshError ECA_INCOMPAT). Values are immutable: merge returns a
 * new value and may share unchanged parts of its inputs.
 *
 * CARDINALITY. `limitValue(v, k)` bounds a decomposition to its k keys with the largest totals
 * (ties broken by key, so every node keeps the same keys) and folds the rest into one key,
 * OTHER_KEY. The key is the string "\u0000other": it starts with a NUL character, which no key
 * from a kernel (bpftrace and DTrace strings are NUL-terminated C strings), from procfs or from a
 * CA client (parseValueFromCa rejects it) can contain, so it cannot collide with a real key.
 * Folding keeps totals exact: every event still counts, in OTHER_KEY if not under its own key.
 * `folded` says that keys were folded: it is a lower bound on how many distinct keys OTHER_KEY
 * stands for (merge takes the larger of two bounds, limit the larger of the old bound and the keys
 * it folds; a sum would double-count a key folded on two nodes). `folded > 0` exactly when
 * OTHER_KEY is present. Merge itself never truncates: limit where a bound is wanted (before a
 * partial is sent, before a value is stored), since top-k selection does not commute with merge.
 *
 * PRECISION. Distribution counts: see metad/distribution.ts (exact to 2^53 - 1, checked).
 * Scalar and decomposition numbers are doubles; when both addends are safe integers (counts,
 * bytes) the sum must be one too (at most 2^53 - 1 in magnitude) or merge throws HeatmeshError
 * ECA_INVAL rather than round, so integer merges are exact and associative. Fractional values
 * (CA's percent metrics) add as doubles, with a double's rounding.
 */
import { HeatmeshError, InvalidFieldError } from './errors.js'
import {
  distributionFromCa, distributionsEqual, distributionToCa, emptyDistribution, mergeDistributionList, mergeDistributions,
  type CaDistribution, type Distribution
} from './distribution.js'
import { describeBucketing, sameBucketing, type Bucketing } from './quantize.js'

/** The reserved key that holds what limitValue folded away (see the module header). */
export const OTHER_KEY = '\u0000other'

export interface ScalarValue {
  readonly type: 'scalar'
  readonly n: number
}
export interface DecompositionValue {
  readonly type: 'decomposition'
  readonly keys: ReadonlyMap<string, number>
  /** Lower bound on the distinct keys folded into OTHER_KEY; 0 when not truncated. */
  readonly folded: number
}
export interface DistributionValue {
  readonly type: 'distribution'
  readonly dist: Distribution
}
export interface DecomposedDistributionValue {
  readonly type: 'decomposed-distribution'
  /** Every key's distribution has this bucketing (also when there are no keys). */
  readonly bucketing: Bucketing
  readonly keys: ReadonlyMap<string, Distribution>
  /** Lower bound on the distinct keys folded into OTHER_KEY; 0 when not truncated. */
  readonly folded: number
}
/** One interval's measurement, in one of CA's four shapes. */
export type Value = ScalarValue | DecompositionValue | DistributionValue | DecomposedDistributionValue
export type ValueShape = Value['type']

/** CA's raw JSON for a value (`value` in `.../value/raw`). */
export type CaValue = number | Record<string, number> | CaDistribution | Record<string, CaDistribution>

/** The zero of a shape: CA's 0, {}, [] and {}. Distribution shapes need their bucketing. */
export function zeroValue (shape: 'scalar' | 'decomposition'): Value
export function zeroValue (shape: ValueShape, bucketing: Bucketing): Value
export function zeroValue (shape: ValueShape, bucketing?: Bucketing): Value {
  switch (shape) {
    case 'scalar': return { type: 'scalar', n: 0 }
    case 'decomposition': return { type: 'decomposition', keys: new Map(), folded: 0 }
    case 'distribution': return { type: 'distribution', dist: emptyDistribution(needBucketing(shape, bucketing)) }
    case 'decomposed-distribution': return { type: 'decomposed-distribution', bucketing: needBucketing(shape, bucketing), keys: new Map(), folded: 0 }
    default: return unreachable(shape)
  }
}

function needBucketing (shape: ValueShape, b: Bucketing | undefined): Bucketing {
  if (b === undefined) throw new RangeError(`a ${shape} value needs a bucketing`)
  return b
}

function unreachable (x: never): never {
  throw new Error(`unhandled value shape ${String(x)}`)
}

function incompatible (a: Value, b: Value): never {
  throw new HeatmeshError('ECA_INCOMPAT', `cannot merge a ${a.type} value with a ${b.type} value`)
}

/** a + b for two numbers of a value, refusing to round a sum of exact integers. */
function add (a: number, b: number): number {
  const s = a + b
  if (!Number.isSafeInteger(s) && Number.isSafeInteger(a) && Number.isSafeInteger(b)) {
    throw new HeatmeshError('ECA_INVAL', `count overflow: ${a} + ${b} is beyond 2^53 - 1, the largest integer kept exactly`)
  }
  return s
}

/**
 * The exact sum of two values of one shape (and one bucketing). See the module header.
 * @throws HeatmeshError ECA_INCOMPAT (shapes or bucketings differ), ECA_INVAL (count overflow).
 */
export function mergeValues (a: Value, b: Value): Value {
  switch (a.type) {
    case 'scalar':
      if (b.type !== 'scalar') return incompatible(a, b)
      return { type: 'scalar', n: add(a.n, b.n) }
    case 'decomposition': {
      if (b.type !== 'decomposition') return incompatible(a, b)
      if (b.keys.size === 0 && b.folded <= a.folded) return a
      if (a.keys.size === 0 && a.folded <= b.folded) return b
      const keys = new Map(a.keys)
      for (const [k, n] of b.keys) {
        const m = keys.get(k)
        keys.set(k, m === undefined ? n : add(m, n))
      }
      return { type: 'decomposition', keys, folded: Math.max(a.folded, b.folded) }
    }
    case 'distribution':
      if (b.type !== 'distribution') return incompatible(a, b)
      return { type: 'distribution', dist: mergeDistributions(a.dist, b.dist) }
    case 'decomposed-distribution': {
      if (b.type !== 'decomposed-distribution') return incompatible(a, b)
      if (!sameBucketing(a.bucketing, b.bucketing)) {
        throw new HeatmeshError('ECA_INCOMPAT', `cannot merge distributions of different bucketings: ${describeBucketing(a.bucketing)} and ${describeBucketing(b.bucketing)}`)
      }
      if (b.keys.size === 0 && b.folded <= a.folded) return a
      if (a.keys.size === 0 && a.folded <= b.folded) return b
      const keys = new Map(a.keys)
      for (const [k, d] of b.keys) {
        const m = keys.get(k)
        keys.set(k, m === undefined ? d : mergeDistributions(m, d))
      }
      return { type: 'decomposed-distribution', bucketing: a.bucketing, keys, folded: Math.max(a.folded, b.folded) }
    }
    default: return unreachable(a)
  }
}

/**
 * The exact sum of many values of one shape, e.g. one second's partials from all children.
 * Equal to folding mergeValues, but each key's distributions are merged in one dense pass.
 * @param zero the result for an empty list (and the shape every element must have).
 */
export function mergeValueList (values: readonly Value[], zero: Value): Value {
  if (values.length === 0) return zero
  if (values.length === 1) return mergeValues(zero, values[0]!)
  switch (zero.type) {
    case 'distribution': {
      const dists: Distribution[] = []
      for (const v of values) {
        if (v.type !== 'distribution') return incompatible(zero, v)
        dists.push(v.dist)
      }
      dists.push(zero.dist)
      return { type: 'distribution', dist: mergeDistributionList(dists) }
    }
    case 'decomposed-distribution': {
      const byKey = new Map<string, Distribution[]>()
      let folded = zero.folded
      for (const v of values) {
        if (v.type !== 'decomposed-distribution') return incompatible(zero, v)
        if (!sameBucketing(zero.bucketing, v.bucketing)) mergeValues(zero, v) // throws ECA_INCOMPAT
        folded = Math.max(folded, v.folded)
        for (const [k, d] of v.keys) {
          const list = byKey.get(k)
          if (list === undefined) byKey.set(k, [d])
          else list.push(d)
        }
      }
      for (const [k, d] of zero.keys) {
        const list = byKey.get(k)
        if (list === undefined) byKey.set(k, [d])
        else list.push(d)
      }
      const keys = new Map<string, Distribution>()
      for (const [k, list] of byKey) keys.set(k, list.length === 1 ? list[0]! : mergeDistributionList(list))
      return { type: 'decomposed-distribution', bucketing: zero.bucketing, keys, folded }
    }
    default: {
      let acc: Value = zero
      for (const v of values) acc = mergeValues(acc, v)
      return acc
    }
  }
}

/** Total events (or the sum) a value holds: n, the sum over keys, or the distributions' totals. */
export function valueTotal (v: Value): number {
  switch (v.type) {
    case 'scalar': return v.n
    case 'decomposition': { let s = 0; for (const n of v.keys.values()) s += n; return s }
    case 'distribution': return v.dist.total
    case 'decomposed-distribution': { let s = 0; for (const d of v.keys.values()) s += d.total; return s }
    default: return unreachable(v)
  }
}

/**
 * Bounds a decomposition to its `k` largest keys (by count, or by distribution total; ties by
 * key) plus OTHER_KEY holding the rest; totals stay exact. Scalars, distributions and values
 * with at most `k` real keys are returned unchanged.
 */
export function limitValue (v: Value, k: number): Value {
  if (!Number.isSafeInteger(k) || k < 0) throw new RangeError(`key limit ${k} is not a non-negative integer`)
  if (v.type === 'scalar' || v.type === 'distribution') return v
  const real = v.keys.size - (v.keys.has(OTHER_KEY) ? 1 : 0)
  if (real <= k) return v
  if (v.type === 'decomposition') {
    const ranked = [...v.keys].filter(([key]) => key !== OTHER_KEY).sort(byWeightThenKey(([, n]) => n))
    const keys = new Map(ranked.slice(0, k))
    let other = v.keys.get(OTHER_KEY) ?? 0
    for (let i = k; i < ranked.length; i++) other = add(other, ranked[i]![1])
    keys.set(OTHER_KEY, other)
    return { type: 'decomposition', keys, folded: Math.max(v.folded, ranked.length - k) }
  }
  const ranked = [...v.keys].filter(([key]) => key !== OTHER_KEY).sort(byWeightThenKey(([, d]) => d.total))
  const keys = new Map(ranked.slice(0, k))
  const rest = ranked.slice(k).map(([, d]) => d)
  const prior = v.keys.get(OTHER_KEY)
  if (prior !== undefined) rest.push(prior)
  keys.set(OTHER_KEY, mergeDistributionList(rest, v.bucketing))
  return { type: 'decomposed-distribution', bucketing: v.bucketing, keys, folded: Math.max(v.folded, ranked.length - k) }
}

function byWeightThenKey<T> (weight: (e: [string, T]) => number): (x: [string, T], y: [string, T]) => number {
  return (x, y) => {
    const d = weight(y) - weight(x)
    if (d !== 0) return d
    return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0
  }
}

/** Structural equality (key order ignored; -0 equals 0, which the wire does not distinguish). */
export function valuesEqual (a: Value, b: Value): boolean {
  switch (a.type) {
    case 'scalar': return b.type === 'scalar' && a.n === b.n
    case 'decomposition': {
      if (b.type !== 'decomposition' || a.folded !== b.folded || a.keys.size !== b.keys.size) return false
      for (const [k, n] of a.keys) if (b.keys.get(k) !== n) return false
      return true
    }
    case 'distribution': return b.type === 'distribution' && distributionsEqual(a.dist, b.dist)
    case 'decomposed-distribution': {
      if (b.type !== 'decomposed-distribution' || !sameBucketing(a.bucketing, b.bucketing) || a.folded !== b.folded || a.keys.size !== b.keys.size) return false
      for (const [k, d] of a.keys) {
        const e = b.keys.get(k)
        if (e === undefined || !distributionsEqual(d, e)) return false
      }
      return true
    }
    default: return unreachable(a)
  }
}

/**
 * CA's raw JSON for `v`; object keys are sorted. OTHER_KEY appears as itself ("\u0000other");
 * the API layer reports `folded` beside the value.
 */
export function valueToCa (v: Value): CaValue {
  switch (v.type) {
    case 'scalar': return v.n
    // Object.fromEntries defines own properties, so a key "__proto__" stays a key.
    case 'decomposition': return Object.fromEntries([...v.keys.keys()].sort().map((k) => [k, v.keys.get(k)!]))
    case 'distribution': return distributionToCa(v.dist)
    case 'decomposed-distribution':
      return Object.fromEntries([...v.keys.keys()].sort().map((k) => [k, distributionToCa(v.keys.get(k)!)]))
    default: return unreachable(v)
  }
}

/**
 * Parses CA's raw JSON from outside into a value of `shape` (distribution shapes need the
 * field's bucketing). Numbers must be finite; distributions are checked by distributionFromCa;
 * OTHER_KEY is refused as a key (JSON cannot say how many keys it stands for).
 * @throws InvalidFieldError naming `field`.
 */
export function parseValueFromCa (input: unknown, shape: ValueShape, bucketing?: Bucketing, field = 'value'): Value {
  const fail = (reason: string): never => { throw new InvalidFieldError(field, input, reason) }
  const object = (): Array<[string, unknown]> => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return fail(`must be an object for a ${shape} value`)
    const entries = Object.entries(input)
    for (const [k] of entries) if (k === OTHER_KEY) fail('key "\\u0000other" is reserved')
    return entries
  }
  switch (shape) {
    case 'scalar':
      if (typeof input !== 'number' || !Number.isFinite(input)) return fail('must be a finite number')
      return { type: 'scalar', n: input }
    case 'decomposition': {
      const keys = new Map<string, number>()
      for (const [k, n] of object()) {
        if (typeof n !== 'number' || !Number.isFinite(n)) return fail(`key ${JSON.stringify(k)}: must be a finite number`)
        keys.set(k, n)
      }
      return { type: 'decomposition', keys, folded: 0 }
    }
    case 'distribution':
      return { type: 'distribution', dist: distributionFromCa(input, needBucketing(shape, bucketing), field) }
    case 'decomposed-distribution': {
      const b = needBucketing(shape, bucketing)
      const keys = new Map<string, Distribution>()
      for (const [k, d] of object()) keys.set(k, distributionFromCa(d, b, `${field}[${JSON.stringify(k)}]`))
      return { type: 'decomposed-distribution', bucketing: b, keys, folded: 0 }
    }
    default: return unreachable(shape)
  }
}
