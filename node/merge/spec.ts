/**
 * What the merge tree knows of an instrumentation: the shape of its values (so partials of
 * another shape are rejected), its granularity, retention and value scope (CA-REFERENCE §1.3,
 * §1.7), whether its points are persisted, and how many members run it (nsources). The binding
 * derives it from the definition and the member cards; the tree never reads a definition.
 */
import { sameBucketing, type Bucketing, type DecodeExpectation, type Value, type ValueShape } from '../../metad/index.js'

/** CA's value-scope: interval values add up over a slot, point values keep the slot's first second. */
export type ValueScope = 'interval' | 'point'

/** One instrumentation as the merge tree sees it. */
export interface InstrumentationSpec {
  readonly shape: ValueShape
  /** The bucketing of the distributions (required for the two distribution shapes). */
  readonly bucketing?: Bucketing
  /** Seconds per point (1, or a multiple of 5 in CA). */
  readonly granularity: number
  /** Seconds of history kept at the holders. */
  readonly retentionTime: number
  /** Whether the holders emit `store` effects for the disk. */
  readonly persistData: boolean
  readonly valueScope: ValueScope
  /** Members that run the instrumentation (CA's nsources), computed by the binding. */
  readonly expectedSources: number
}

/**
 * Checks a spec from the local binding (a bad one is a caller bug).
 * @throws RangeError naming what is wrong.
 */
export function checkSpec (spec: InstrumentationSpec): InstrumentationSpec {
  const int = (name: string, v: number, min: number): void => {
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${name} ${v} is not an integer >= ${min}`)
  }
  int('granularity', spec.granularity, 1)
  int('retentionTime', spec.retentionTime, 1)
  int('expectedSources', spec.expectedSources, 0)
  if (spec.retentionTime < spec.granularity) throw new RangeError(`retentionTime ${spec.retentionTime} is shorter than the granularity ${spec.granularity}`)
  if ((spec.shape === 'distribution' || spec.shape === 'decomposed-distribution') && spec.bucketing === undefined) {
    throw new RangeError(`a ${spec.shape} instrumentation needs a bucketing`)
  }
  if (spec.valueScope !== 'interval' && spec.valueScope !== 'point') throw new RangeError(`value scope ${String(spec.valueScope)} is neither interval nor point`)
  return spec
}

/** What decodeValue must expect for this instrumentation's values. */
export function expectationOf (spec: InstrumentationSpec): DecodeExpectation {
  return spec.bucketing === undefined ? { shape: spec.shape } : { shape: spec.shape, bucketing: spec.bucketing }
}

/** Whether `v` has the spec's shape (and bucketing): values built by other cores are checked too. */
export function valueFits (spec: InstrumentationSpec, v: Value): boolean {
  if (v.type !== spec.shape) return false
  switch (v.type) {
    case 'scalar':
    case 'decomposition':
      return true
    case 'distribution':
      return spec.bucketing !== undefined && sameBucketing(v.dist.bucketing, spec.bucketing)
    case 'decomposed-distribution':
      return spec.bucketing !== undefined && sameBucketing(v.bucketing, spec.bucketing)
    default: {
      const never: never = v
      throw new Error(`unhandled value ${String(never)}`)
    }
  }
}

/** Whether two specs store points the same way (else the points are dropped and restarted). */
export function sameStorage (a: InstrumentationSpec, b: InstrumentationSpec): boolean {
  if (a.shape !== b.shape || a.granularity !== b.granularity || a.valueScope !== b.valueScope) return false
  if (a.bucketing === undefined || b.bucketing === undefined) return a.bucketing === b.bucketing
  return sameBucketing(a.bucketing, b.bucketing)
}
