/**
 * The backend contract suite (node/instrument/backend.ts), run against every backend, in the
 * manner of libp2p's interface-compliance-tests: a backend's test file calls
 * `backendContract({ create, ... })` and gets ava tests that check what the instrumenter relies
 * on: the probe reports in words; every implementation names a catalog metric and fields of it;
 * instrument + collect gives values of the shape the decomposition implies (none, each discrete
 * field, each numeric field, each discrete + numeric pair); stop is idempotent; and predicates
 * filter (a predicate that excludes everything gives zero values, while the same measurement
 * without it sees events of at least one metric).
 */
import test from 'ava'
import {
  catalog, metricField, parsePredicate, valueTotal, valuesEqual,
  type Decomposition, type Metric, type Predicate, type Value
} from '../../../metad/index.js'
import { valueFitsLayout, valueLayout, zeroValueOf, type Backend, type MeasurementSpec, type MetricImplementation } from '../../../node/instrument/index.js'

export interface ContractOptions {
  /** A fresh backend; each test makes its own. */
  readonly create: () => Backend
  /**
   * Makes events of `metric` happen (HTTP requests, a workload, a wait), awaited after
   * instrument() and before each collect(). @default nothing
   */
  readonly exercise?: (metric: string) => Promise<void>
  /** Which implementations get the per-metric tests. @default all */
  readonly metrics?: (metric: string) => boolean
  /** Register the tests with test.serial (for backends that must not run measurements at once). */
  readonly serial?: boolean
}

/** A string no real key holds (NUL cannot appear in kernel, procfs or workload strings). */
const NO_SUCH_VALUE = '\u0000heatmesh-contract-none'

function metricOf (impl: MetricImplementation): Metric {
  const m = catalog.metrics.get(impl.metric)
  if (m === undefined) throw new Error(`${impl.metric} is not in the catalog`)
  return m
}

/** The decompositions the contract tries for an implementation. */
export function contractDecompositions (impl: MetricImplementation): Decomposition[] {
  const metric = metricOf(impl)
  const discrete = impl.fields.filter((f) => metricField(metric, f)?.arity === 'discrete')
  const numeric = impl.fields.filter((f) => metricField(metric, f)?.arity === 'numeric')
  return [
    [],
    ...discrete.map((d) => [d]),
    ...numeric.map((n) => [n]),
    ...discrete.flatMap((d) => numeric.map((n) => [d, n]))
  ]
}

/** A predicate that no event of `impl` satisfies. */
export function excludingPredicate (impl: MetricImplementation): Predicate {
  const metric = metricOf(impl)
  const discrete = impl.fields.find((f) => metricField(metric, f)?.arity === 'discrete')
  if (discrete !== undefined) return parsePredicate({ eq: [discrete, NO_SUCH_VALUE] }, metric)
  const numeric = impl.fields.find((f) => metricField(metric, f)?.arity === 'numeric')
  if (numeric === undefined) throw new Error(`${impl.metric}: no field to exclude by`)
  return parsePredicate({ lt: [numeric, 0] }, metric) // latencies, percents, sizes are never negative
}

const TRUE: Predicate = Object.freeze({ op: 'true' })

function spec (impl: MetricImplementation, decomposition: Decomposition, predicate: Predicate = TRUE): MeasurementSpec {
  return { id: `contract-${impl.metric}-${decomposition.join('+') || 'none'}`, metric: metricOf(impl), predicate, decomposition: Object.freeze([...decomposition]) }
}

/** Why `v` is not a sound value (negative or non-finite numbers, empty keys), or undefined. */
function unsound (v: Value): string | undefined {
  const bad = (n: number): boolean => !Number.isFinite(n) || n < 0
  switch (v.type) {
    case 'scalar': return bad(v.n) ? `scalar ${v.n}` : undefined
    case 'decomposition':
      for (const [k, n] of v.keys) if (bad(n) || typeof k !== 'string') return `key ${JSON.stringify(k)}: ${n}`
      return undefined
    case 'distribution': return undefined
    case 'decomposed-distribution':
      for (const [k, d] of v.keys) if (d.total <= 0) return `key ${JSON.stringify(k)} holds an empty distribution`
      return undefined
  }
}

/** Registers the contract tests for the backend `options.create()` makes. */
export function backendContract (options: ContractOptions): void {
  const register = options.serial === true ? test.serial : test
  const exercise = options.exercise ?? (async () => {})
  const sample = options.create()
  const name = sample.name
  const impls = sample.implementations.filter((i) => options.metrics?.(i.metric) ?? true)

  register(`${name}: the probe says it is available here, in words`, async (t) => {
    const status = await options.create().probe()
    t.is(status.name, name)
    t.true(status.available, status.detail)
    t.true(status.detail.trim().length > 0)
  })

  register(`${name}: every implementation names a catalog metric and fields of that metric, never hostname`, (t) => {
    t.true(sample.implementations.length > 0)
    t.true(Number.isFinite(sample.cost) && sample.cost > 0)
    for (const impl of sample.implementations) {
      const metric = catalog.metrics.get(impl.metric)
      t.not(metric, undefined, `${impl.metric} is not in the catalog`)
      if (metric === undefined) continue
      t.deepEqual(impl.fields.filter((f) => metricField(metric, f) === undefined), [], `${impl.metric}: fields not on the metric`)
      t.false(impl.fields.includes('hostname'), `${impl.metric} lists hostname`)
      t.is(new Set(impl.fields).size, impl.fields.length, `${impl.metric} lists a field twice`)
    }
    t.is(new Set(sample.implementations.map((i) => i.metric)).size, sample.implementations.length, 'a metric is implemented twice')
  })

  for (const impl of impls) {
    for (const decomposition of contractDecompositions(impl)) {
      const layout = valueLayout(metricOf(impl), decomposition)
      const by = decomposition.length === 0 ? 'no decomposition' : decomposition.join(' and ')
      register(`${name}: ${impl.metric} with ${by} gives ${layout.shape} values`, async (t) => {
        const backend = options.create()
        t.true((await backend.probe()).available)
        const m = await backend.instrument(spec(impl, decomposition))
        try {
          for (let i = 0; i < 2; i++) {
            await exercise(impl.metric)
            const v = m.collect()
            t.true(valueFitsLayout(v, layout), `collect ${i + 1} gave a ${v.type} value`)
            t.is(unsound(v), undefined)
          }
          t.is(m.state().state, 'running')
        } finally {
          await m.stop()
        }
      })
    }
  }

  if (impls.length > 0) {
    register(`${name}: stop is idempotent, and a stopped measurement collects zero`, async (t) => {
      const backend = options.create()
      t.true((await backend.probe()).available)
      const impl = impls[0]!
      const m = await backend.instrument(spec(impl, []))
      await exercise(impl.metric)
      m.collect()
      await m.stop()
      await m.stop()
      await t.notThrowsAsync(m.stop())
      await exercise(impl.metric)
      t.true(valuesEqual(m.collect(), zeroValueOf(valueLayout(metricOf(impl), []))))
    })

    register(`${name}: a predicate that excludes everything gives zero values, where the unfiltered measurement counts`, async (t) => {
      const backend = options.create()
      t.true((await backend.probe()).available)
      const counted: string[] = []
      for (const impl of impls) {
        const all = await backend.instrument(spec(impl, []))
        const none = await backend.instrument(spec(impl, [], excludingPredicate(impl)))
        try {
          let seen = 0
          for (let i = 0; i < 2; i++) {
            await exercise(impl.metric)
            seen += valueTotal(all.collect())
            const v = none.collect()
            t.true(valuesEqual(v, zeroValueOf(valueLayout(metricOf(impl), []))), `${impl.metric}: the excluding predicate let ${valueTotal(v)} through`)
          }
          if (seen > 0) counted.push(impl.metric)
        } finally {
          await all.stop()
          await none.stop()
        }
      }
      // Zero from the filter means something only if the same measurement unfiltered saw events.
      t.true(counted.length > 0, 'no metric counted anything unfiltered, so the filter was not shown to filter')
      t.log(`unfiltered counts seen for ${counted.join(', ')}`)
    })
  }
}
