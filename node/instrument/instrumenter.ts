/**
 * The instrumenter: the node's half of an instrumentation (CA's instsvc, CA-REFERENCE §1.2 step
 * 3-4, §1.8). It holds the backends, probes them once, gives each enabled instrumentation to the
 * cheapest available backend that serves every field it uses, and gathers one value per
 * instrumentation per second. (The value an instrumentation implies, and the user-space
 * accumulator the backends share, are in ./value-layout.ts.)
 *
 * THEORY. Enabling an instrumentation here:
 * 1. resolves its metric in the catalog;
 * 2. folds the node-constant field `hostname` into the predicate (specializePredicate). If the
 *    predicate becomes false, no event here can match: the instrumentation is 'excluded by
 *    predicate', runs on no backend and reports the zero value (a true zero, so the node still
 *    counts as reporting). Backends never see `hostname`;
 * 3. needs = decomposition ∪ predicate fields, minus `hostname`. Among the backends that
 *    implement the metric with every needed field, the cheapest available one wins (ties: the
 *    order the backends were given, as CA took the first registered). No candidate, or only
 *    unavailable ones: 'failed', with a reason naming the fields nobody serves or the backends
 *    that could and why they are unavailable. instrument() rejecting: 'failed' with its reason.
 *    A failure is a state, never an exception: the instrumenter keeps running;
 * 4. when `hostname` is the discrete decomposition field, the backend measures without it and
 *    collect() puts the backend's value under this node's hostname (scalar -> {host: n},
 *    distribution -> {host: dist}).
 *
 * Time is an argument: `collect(second)` is called by the daemon's 1 Hz timer (none here); it
 * calls every measurement's collect() once per second, and repeats its last answer when asked
 * for a second it has already collected (a timer that fires twice, a clock stepped back).
 * Only running measurements contribute a value; a failed, restarting or starting one is left
 * out of the map (it covers nothing this second), while an excluded one contributes its zero.
 */
import {
  HeatmeshError, findMetric, catalog as defaultCatalog, predicateFields, specializePredicate,
  type Catalog, type InstrumentationDefinition, type Metric, type Predicate, type Value
} from '../../metad/index.js'
import type { Backend, BackendStatus, Measurement, MeasurementSpec } from './backend.js'
import { valueFitsLayout, valueLayout, valueUnderKey, zeroValueOf, type ValueLayout } from './value-layout.js'

/** Default for InstrumenterInit.probeTimeoutMs. */
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000
/** Default for InstrumenterInit.instrumentTimeoutMs: CA's enable_instrumentation timeout. */
export const DEFAULT_INSTRUMENT_TIMEOUT_MS = 10_000

/** What the instrumenter uses. */
export interface InstrumenterComponents {
  /** Every backend this node has, in order of preference among equal costs. Names are unique. */
  readonly backends: readonly Backend[]
  /** This node's hostname: the value of every metric's `hostname` field here. */
  readonly hostname: string
  /** The catalog metrics are resolved in. @default metad's catalog */
  readonly catalog?: Catalog
}

export interface InstrumenterInit {
  /** A probe that has not answered after this long counts as unavailable. @default 10000 */
  readonly probeTimeoutMs?: number
  /** An instrument() that has not resolved after this long fails the instrumentation. @default 10000 */
  readonly instrumentTimeoutMs?: number
}

/**
 * An instrumentation's state on this node:
 * - `starting`: its backend's instrument() has not resolved yet;
 * - `running`: measuring (`restarting` when the backend says it is recovering);
 * - `excluded by predicate`: the predicate is false for this node's hostname: nothing runs, the
 *   value is zero;
 * - `failed`: not measuring; `reason` says why.
 */
export type InstrumentationState = 'starting' | 'running' | 'restarting' | 'excluded by predicate' | 'failed'

/** What the API shows of an instrumentation on this node. */
export interface InstrumentationStatus {
  readonly state: InstrumentationState
  /** The backend measuring it (absent when excluded, or failed before one was chosen). */
  readonly backend?: string
  /** Why it failed, is restarting or is excluded. */
  readonly reason?: string
}

/** The node's instrumenter. */
export interface Instrumenter {
  /** Probes every backend (concurrently) and keeps what they say; idempotent. */
  start: (options?: { signal?: AbortSignal }) => Promise<void>
  /** What each backend's probe found, in the order the backends were given. Empty before start(). */
  backendStatuses: () => readonly BackendStatus[]
  /**
   * Starts measuring `definition` under `id` (replacing whatever ran under that id). Resolves
   * with the resulting status once the backend started or failed; never rejects for a failure
   * of the instrumentation (see InstrumentationState). Calling it before start() or after
   * stop() is a caller bug and throws.
   */
  enable: (id: string, definition: InstrumentationDefinition) => Promise<InstrumentationStatus>
  /** Stops measuring `id` and forgets it; unknown ids are ignored. */
  disable: (id: string) => Promise<void>
  /**
   * The values of `second` (the wall-clock second just ended), one per instrumentation that
   * covers it (running or excluded). A second at or before the last one collected gets the last
   * answer again without asking the backends.
   */
  collect: (second: number) => ReadonlyMap<string, Value>
  /** The status of `id`, or undefined if it is not enabled here. */
  status: (id: string) => InstrumentationStatus | undefined
  /** Every instrumentation's status. */
  statuses: () => ReadonlyMap<string, InstrumentationStatus>
  /** Stops every measurement; idempotent. */
  stop: () => Promise<void>
  /** A snapshot for post-mortem debugging. */
  debugState: () => unknown
}

interface Entry {
  readonly id: string
  readonly definition: InstrumentationDefinition
  readonly abort: AbortController
  status: InstrumentationStatus
  /** Set while running. */
  measurement?: Measurement
  /** The backend's layout, checked on every value. */
  backendLayout?: ValueLayout
  /** Set when hostname is the discrete decomposition field: the backend's value goes under it. */
  wrapUnderHost: boolean
  /** The value reported while excluded by predicate. */
  zero?: Value
}

const TRUE_PREDICATE: Predicate = Object.freeze({ op: 'true' })
const DISABLED_WHILE_STARTING = 'disabled (or replaced) before its backend had started'

/**
 * Creates the instrumenter.
 *
 * @example
 * const inst = createInstrumenter({ backends: [createProcfsBackend(), createProcessBackend()], hostname: os.hostname() })
 * await inst.start()
 * await inst.enable('1', parseInstrumentation({ module: 'cpu', stat: 'cpus', decomposition: 'utilization' }, catalog))
 * setInterval(() => publish(inst.collect(Math.floor(Date.now() / 1000) - 1)), 1000) // the daemon's timer
 */
export function createInstrumenter (components: InstrumenterComponents, init: InstrumenterInit = {}): Instrumenter {
  const { backends, hostname } = components
  const cat = components.catalog ?? defaultCatalog
  const probeTimeoutMs = init.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS
  const instrumentTimeoutMs = init.instrumentTimeoutMs ?? DEFAULT_INSTRUMENT_TIMEOUT_MS
  const names = new Set<string>()
  for (const b of backends) {
    if (names.has(b.name)) throw new Error(`two backends are named "${b.name}"`)
    names.add(b.name)
  }

  const probed = new Map<string, BackendStatus>()
  const entries = new Map<string, Entry>()
  let starting: Promise<void> | undefined
  let started = false
  let stopped = false
  let lastSecond: number | undefined
  let lastValues: ReadonlyMap<string, Value> = new Map()

  async function probeOne (b: Backend, signal: AbortSignal): Promise<BackendStatus> {
    try {
      const status = await raceAbort(b.probe({ signal }), signal)
      return { name: b.name, available: status.available === true, detail: String(status.detail) }
    } catch (err) {
      const detail = signal.aborted ? `probe did not answer within ${probeTimeoutMs} ms` : `probe failed: ${messageOf(err)}`
      return { name: b.name, available: false, detail }
    }
  }

  function setFailed (entry: Entry, reason: string, backend?: string): InstrumentationStatus {
    entry.status = backend === undefined ? { state: 'failed', reason } : { state: 'failed', backend, reason }
    return entry.status
  }

  /** The backend for `metric` with `needs`, or a failure reason. */
  function choose (metric: Metric, needs: readonly string[]): { backend: Backend } | { reason: string } {
    const implementing = backends.filter((b) => b.implementations.some((i) => i.metric === metric.name))
    if (implementing.length === 0) return { reason: `no backend on this node implements ${metric.name}` }
    const fieldsOf = (b: Backend): readonly string[] => b.implementations.find((i) => i.metric === metric.name)!.fields
    const covering = implementing.filter((b) => needs.every((f) => fieldsOf(b).includes(f)))
    if (covering.length === 0) {
      const served = (f: string): boolean => implementing.some((b) => fieldsOf(b).includes(f))
      const offers = implementing.map((b) => `${b.name} serves ${fieldsOf(b).join(', ') || 'no field'}`).join('; ')
      const unserved = needs.filter((f) => !served(f))
      if (unserved.length > 0) {
        return { reason: `no backend on this node serves ${plural(unserved, 'field')} ${unserved.map((f) => `"${f}"`).join(', ')} of ${metric.name} (${offers})` }
      }
      return { reason: `no single backend on this node serves fields ${needs.map((f) => `"${f}"`).join(', ')} of ${metric.name} together (${offers})` }
    }
    const available = covering
      .filter((b) => probed.get(b.name)?.available === true)
      .sort((a, b) => a.cost - b.cost) // stable: equal costs keep the given order
    if (available.length === 0) {
      const why = covering.map((b) => `${b.name} is unavailable: ${probed.get(b.name)?.detail ?? 'not probed'}`).join('; ')
      return { reason: `${metric.name}${needs.length > 0 ? ` with ${needs.join(', ')}` : ''} needs a backend that is unavailable here (${why})` }
    }
    return { backend: available[0]! }
  }

  async function enableEntry (entry: Entry): Promise<InstrumentationStatus> {
    const def = entry.definition
    const metric = findMetric(cat, def.module, def.stat)
    if (metric === undefined) return setFailed(entry, `no metric ${def.module}.${def.stat} in this node's catalog`)
    const specialized = specializePredicate(def.predicate, { hostname })
    const full = valueLayout(metric, def.decomposition)
    if (specialized === false) {
      entry.zero = zeroValueOf(full)
      entry.status = { state: 'excluded by predicate', reason: `the predicate is false for hostname ${JSON.stringify(hostname)}` }
      return entry.status
    }
    const predicate = specialized === true ? TRUE_PREDICATE : specialized
    const decomposition = Object.freeze(def.decomposition.filter((f) => f !== 'hostname'))
    const needs = [...new Set([...decomposition, ...predicateFields(predicate)])]
    const chosen = choose(metric, needs)
    if ('reason' in chosen) return setFailed(entry, chosen.reason)
    const backend = chosen.backend
    entry.wrapUnderHost = full.discrete === 'hostname'
    entry.backendLayout = valueLayout(metric, decomposition)
    entry.status = { state: 'starting', backend: backend.name }
    const spec: MeasurementSpec = { id: entry.id, metric, predicate, decomposition }
    const timeout = deadline(instrumentTimeoutMs)
    const signal = AbortSignal.any([entry.abort.signal, timeout.signal])
    let measurement: Measurement
    try {
      measurement = await raceAbort(backend.instrument(spec, { signal }), signal)
    } catch (err) {
      if (entry.abort.signal.aborted) return setFailed(entry, DISABLED_WHILE_STARTING, backend.name)
      const why = timeout.signal.aborted ? `did not start within ${instrumentTimeoutMs} ms` : messageOf(err)
      return setFailed(entry, `backend ${backend.name} could not start: ${why}`, backend.name)
    } finally {
      timeout.clear()
    }
    if (entry.abort.signal.aborted) {
      await stopQuietly(measurement)
      return setFailed(entry, DISABLED_WHILE_STARTING, backend.name)
    }
    entry.measurement = measurement
    entry.status = { state: 'running', backend: backend.name }
    return liveStatus(entry)
  }

  /** The status, with a running measurement's own state folded in. */
  function liveStatus (entry: Entry): InstrumentationStatus {
    const m = entry.measurement
    if (m === undefined || entry.status.state !== 'running') return entry.status
    const backend = entry.status.backend
    let s
    try {
      s = m.state()
    } catch (err) {
      return { state: 'failed', backend, reason: `state() threw: ${messageOf(err)}` }
    }
    switch (s.state) {
      case 'running': return entry.status
      case 'restarting': return { state: 'restarting', backend, reason: `${s.reason} (attempt ${s.attempts})` }
      case 'failed': return { state: 'failed', backend, reason: s.reason }
      default: return { state: 'failed', backend, reason: `unknown measurement state ${JSON.stringify((s as { state: unknown }).state)}` }
    }
  }

  async function disableEntry (entry: Entry): Promise<void> {
    entry.abort.abort()
    const m = entry.measurement
    entry.measurement = undefined
    if (m !== undefined) await stopQuietly(m)
  }

  function collectEntry (entry: Entry, second: number): Value | undefined {
    if (entry.status.state === 'excluded by predicate') return entry.zero
    const m = entry.measurement
    if (m === undefined || entry.status.state !== 'running') return undefined
    let v: Value
    try {
      v = m.collect(second)
    } catch (err) {
      // The contract says collect() never throws; one that does is retired, not retried.
      setFailed(entry, `backend ${entry.status.backend ?? '?'} failed while collecting: ${messageOf(err)}`, entry.status.backend)
      entry.measurement = undefined
      void stopQuietly(m)
      return undefined
    }
    if (!valueFitsLayout(v, entry.backendLayout!)) {
      setFailed(entry, `backend ${entry.status.backend ?? '?'} returned a ${v.type} value where a ${entry.backendLayout!.shape} was due`, entry.status.backend)
      entry.measurement = undefined
      void stopQuietly(m)
      return undefined
    }
    if (liveStatus(entry).state !== 'running') return undefined
    return entry.wrapUnderHost ? valueUnderKey(v, hostname) : v
  }

  return {
    async start (options = {}) {
      if (stopped) throw new Error('the instrumenter was stopped')
      starting ??= (async () => {
        options.signal?.throwIfAborted()
        const results = await Promise.all(backends.map(async (b) => {
          const timeout = deadline(probeTimeoutMs)
          try {
            return await probeOne(b, AbortSignal.any([timeout.signal, ...(options.signal === undefined ? [] : [options.signal])]))
          } finally {
            timeout.clear()
          }
        }))
        options.signal?.throwIfAborted()
        for (const s of results) probed.set(s.name, s)
        started = true
      })()
      try {
        await starting
      } catch (err) {
        starting = undefined // an aborted start may be tried again
        throw err
      }
    },

    backendStatuses () {
      return backends.flatMap((b) => { const s = probed.get(b.name); return s === undefined ? [] : [s] })
    },

    async enable (id, definition) {
      if (stopped) throw new Error('the instrumenter was stopped')
      if (!started) throw new Error('enable() before start() finished')
      const old = entries.get(id)
      if (old !== undefined) {
        entries.delete(id)
        await disableEntry(old)
      }
      const entry: Entry = { id, definition, abort: new AbortController(), status: { state: 'starting' }, wrapUnderHost: false }
      entries.set(id, entry)
      try {
        return await enableEntry(entry)
      } catch (err) {
        // A bug in a backend or the catalog: still a state, not a crash.
        return setFailed(entry, `internal error: ${messageOf(err)}`)
      }
    },

    async disable (id) {
      const entry = entries.get(id)
      if (entry === undefined) return
      entries.delete(id)
      await disableEntry(entry)
    },

    collect (second) {
      if (lastSecond !== undefined && second <= lastSecond) return lastValues
      const out = new Map<string, Value>()
      if (!stopped) {
        for (const entry of entries.values()) {
          const v = collectEntry(entry, second)
          if (v !== undefined) out.set(entry.id, v)
        }
      }
      lastSecond = second
      lastValues = out
      return out
    },

    status (id) {
      const entry = entries.get(id)
      return entry === undefined ? undefined : liveStatus(entry)
    },

    statuses () {
      const out = new Map<string, InstrumentationStatus>()
      for (const [id, entry] of entries) out.set(id, liveStatus(entry))
      return out
    },

    async stop () {
      stopped = true
      const all = [...entries.values()]
      entries.clear()
      await Promise.all(all.map(disableEntry))
    },

    debugState () {
      return {
        hostname,
        started,
        stopped,
        lastSecond,
        backends: [...probed.values()],
        instrumentations: [...entries.values()].map((e) => ({
          id: e.id, metric: `${e.definition.module}.${e.definition.stat}`, decomposition: e.definition.decomposition, ...liveStatus(e)
        }))
      }
    }
  }
}

/**
 * A signal that aborts after `ms` unless cleared first. Unlike AbortSignal.timeout, its timer is
 * ref'd: a probe or start in flight is work the process must wait for, and the timer is cleared
 * as soon as that work settles.
 */
function deadline (ms: number): { signal: AbortSignal, clear: () => void } {
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort(new HeatmeshError('ECA_TIMEDOUT', `no answer within ${ms} ms`)) }, ms)
  return { signal: controller.signal, clear: () => { clearTimeout(timer) } }
}

/** Settles with `p`, or rejects as soon as `signal` aborts (a backend that ignores its signal). */
async function raceAbort<T> (p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.then(async (m) => { await stopIfMeasurement(m) }, () => {})
    throw signal.reason
  }
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      // The backend may still start later: stop what it starts so nothing is left behind.
      p.then(async (m) => { await stopIfMeasurement(m) }, () => {})
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    p.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v) }, (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err) })
  })
}

async function stopIfMeasurement (m: unknown): Promise<void> {
  if (typeof m === 'object' && m !== null && typeof (m as Measurement).stop === 'function') await stopQuietly(m as Measurement)
}

async function stopQuietly (m: Measurement): Promise<void> {
  try {
    await m.stop()
  } catch {
    // stop() releases what it can; an error here leaves nothing more for us to do.
  }
}

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function plural (items: readonly unknown[], word: string): string {
  return items.length === 1 ? word : `${word}s`
}
