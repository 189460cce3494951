/**
 * The synthetic backend: synthetic.ops from a deterministic per-host workload
 * (syntheticWorkload), for tests, demos and the simulator. A measurement reports, at each
 * collect(), the events of the seconds its clock has passed since the previous collect (the
 * clock is injected, so tests and the simulator drive it; a second passed to collect() wins over
 * it), filtered by the predicate in user
 * space. The first collect reports the clock's current second; a collect in a second already
 * reported adds nothing; a jump forward reports every second skipped, up to
 * SYNTHETIC_MAX_CATCH_UP_SECONDS of them. So every second a measurement reports carries exactly
 * the workload's events of that second, and the oracle can compute them.
 */
import { hostname as osHostname } from 'node:os'
import { HeatmeshError } from '../../../metad/index.js'
import type { Backend, Measurement, MeasurementSpec } from '../backend.js'
import { createValueAccumulator, valueLayout, zeroValueOf } from '../value-layout.js'
import { DEFAULT_SYNTHETIC_PROFILE, parseSyntheticProfile, syntheticWorkload, type SyntheticProfile } from './workload.js'

/** Relative cost of a synthetic measurement (see Backend.cost). */
export const SYNTHETIC_COST = 1
/** Most seconds one collect() catches up on after the clock jumped. */
export const SYNTHETIC_MAX_CATCH_UP_SECONDS = 60

export interface SyntheticInit {
  /** The workload's seed; the same seed gives the same events. @default 1 */
  readonly seed?: number
  /** The host whose workload this is. @default os.hostname() */
  readonly hostname?: string
  /** The workload (validated here). @default DEFAULT_SYNTHETIC_PROFILE */
  readonly profile?: SyntheticProfile
  /**
   * The second a collect() reports up to: the wall-clock second that ended most recently, by
   * default (rounded, so a timer firing a few ms either side of the boundary reads the same).
   * @default () => Math.round(Date.now() / 1000) - 1
   */
  readonly second?: () => number
}

function createMeasurement (spec: MeasurementSpec, seed: number, hostname: string, profile: SyntheticProfile, clock: () => number): Measurement {
  const layout = valueLayout(spec.metric, spec.decomposition)
  const zero = zeroValueOf(layout)
  const acc = createValueAccumulator(layout, spec.predicate)
  let last: number | undefined
  let stopped = false
  let failure: string | undefined
  return {
    collect (second) {
      if (stopped) return zero
      try {
        const now = second ?? clock()
        if (!Number.isSafeInteger(now)) throw new RangeError(`the clock gave ${now}, not a whole second`)
        const from = last === undefined ? now : Math.max(last + 1, now - SYNTHETIC_MAX_CATCH_UP_SECONDS + 1)
        for (let s = from; s <= now; s++) {
          for (const { key, latencies } of syntheticWorkload(seed, hostname, s, profile)) {
            for (const latency of latencies) acc.add({ key, latency })
          }
        }
        if (last === undefined || now > last) last = now
        failure = undefined
        return acc.take()
      } catch (err) {
        acc.take()
        failure = err instanceof Error ? err.message : String(err)
        return zero
      }
    },
    state () {
      return failure === undefined ? { state: 'running' } : { state: 'failed', reason: failure }
    },
    async stop () {
      stopped = true
    }
  }
}

/**
 * Creates the synthetic backend.
 *
 * @example
 * let t = 1_700_000_000
 * const synthetic = createSyntheticBackend({ seed: 7, hostname: 'node-1', second: () => t })
 */
export function createSyntheticBackend (init: SyntheticInit = {}): Backend {
  const seed = init.seed ?? 1
  if (!Number.isFinite(seed)) throw new RangeError(`seed ${seed} is not a finite number`)
  const hostname = init.hostname ?? osHostname()
  const profile = init.profile === undefined ? DEFAULT_SYNTHETIC_PROFILE : parseSyntheticProfile(init.profile)
  const clock = init.second ?? (() => Math.round(Date.now() / 1000) - 1)
  return {
    name: 'synthetic',
    cost: SYNTHETIC_COST,
    implementations: [{ metric: 'synthetic.ops', fields: ['key', 'latency'] }],

    async probe (options = {}) {
      options.signal?.throwIfAborted()
      const rate = profile.keys.reduce((s, k) => s + k.rate, 0)
      return {
        name: 'synthetic',
        available: true,
        detail: `deterministic workload for host ${JSON.stringify(hostname)}, seed ${seed}: keys ${profile.keys.map((k) => k.key).join(', ')}, ~${Math.round(rate)} events/s before the host's factor`
      }
    },

    async instrument (spec, options = {}) {
      options.signal?.throwIfAborted()
      if (spec.metric.name !== 'synthetic.ops') throw new HeatmeshError('ECA_INVAL', `synthetic does not implement ${spec.metric.name}`)
      return createMeasurement(spec, seed, hostname, profile, clock)
    }
  }
}
