/**
 * The instrumenter's backend contract (Cloud Analytics' registerMetric / instrument /
 * deinstrument / value, in TypeScript). A backend implements some metrics, each with the fields
 * it can filter and decompose by; the instrumenter gives each instrumentation to the cheapest
 * available backend that serves every field it uses.
 *
 * Call contract:
 * - `probe()` once at start, before anything else: it finds out whether this machine lets the
 *   backend run (bpftrace installed? privileges? tracefs?) and says so in words for the API.
 *   A backend whose probe says unavailable is never asked to instrument.
 * - `instrument(spec)` resolves once measuring has started (e.g. bpftrace printed its ready
 *   marker), or rejects with a HeatmeshError whose message says why (attach failed, ...).
 * - `collect()` is called once a second by the instrumenter, at the wall-clock second
 *   boundary: it returns what was measured since the previous call (interval metrics) or the
 *   current level (point metrics) and never throws; a backend that lost its data source
 *   returns the zero value and reports it through `state()`. The value has exactly the shape
 *   the spec's decomposition implies (valueLayout in ./instrumenter.ts: scalar, {key: n},
 *   distribution over the numeric field's bucketing, {key: distribution}); the instrumenter
 *   fails a measurement that returns another. It reads `state()` right after `collect()` and
 *   publishes the value only when the state is 'running' (a 'restarting' measurement's zero is
 *   a gap, not a measured zero).
 * - `stop()` releases everything the measurement holds (child processes, listeners) and is
 *   idempotent.
 *
 * Node-constant fields (`hostname`) never reach a backend: the instrumenter folds them into the
 * predicate (specializePredicate) and adds the decomposition level itself.
 */
import type { Decomposition, Metric, Predicate, Value } from '../../metad/index.js'

/** What a backend is asked to measure: a resolved metric, a trusted predicate, a decomposition. */
export interface MeasurementSpec {
  /** The instrumentation's mesh-wide id, for logs and diagnostics only. */
  readonly id: string
  readonly metric: Metric
  /** Parsed against `metric`, already specialized: never mentions `hostname`. */
  readonly predicate: Predicate
  /** At most one discrete and one numeric field, never `hostname`; in the user's order. */
  readonly decomposition: Decomposition
}

/** One metric a backend implements, and the fields it can filter and decompose by. */
export interface MetricImplementation {
  /** `module.stat`. */
  readonly metric: string
  /** Field names (excluding `hostname`, which every metric has and no backend handles). */
  readonly fields: readonly string[]
}

/** What `probe()` found, in words an operator can act on. */
export interface BackendStatus {
  readonly name: string
  readonly available: boolean
  /** Why not (e.g. "bpftrace not found in PATH"), or what was found (versions, paths). */
  readonly detail: string
}

/** A measurement's health, for the API. */
export type MeasurementState =
  | { readonly state: 'running' }
  | { readonly state: 'restarting', readonly reason: string, readonly attempts: number }
  | { readonly state: 'failed', readonly reason: string }

/** A running measurement of one instrumentation on this node. */
export interface Measurement {
  /**
   * What was measured since the previous call (interval) or now (point). Never throws.
   * `second` is the wall-clock second being reported (the instrumenter always passes it):
   * backends measuring real events ignore it (they report what accumulated), a deterministic
   * backend reports exactly the seconds up to it, so a timer that fires late stays exact.
   */
  collect: (second?: number) => Value
  state: () => MeasurementState
  /** Releases everything; idempotent. */
  stop: () => Promise<void>
}

export interface Backend {
  /** `bpftrace`, `procfs`, `process`, `synthetic`. */
  readonly name: string
  /**
   * Relative cost of one measurement; the cheapest available backend that serves an
   * instrumentation's fields wins (reading counters beats tracing every event). In use:
   * procfs 1, synthetic 1, process 2 (JS work per event); an eBPF backend is dearer (e.g. 10).
   */
  readonly cost: number
  readonly implementations: readonly MetricImplementation[]
  probe: (options?: { signal?: AbortSignal }) => Promise<BackendStatus>
  instrument: (spec: MeasurementSpec, options?: { signal?: AbortSignal }) => Promise<Measurement>
}
