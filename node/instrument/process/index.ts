/**
 * The process backend: the daemon's own operations (CA's cainstr and node.* metrics, turned on
 * heatmesh itself): HTTP requests it serves (diagnostics_channel), its event-loop delay (a
 * sampling timer) and its GC pauses (perf_hooks). Each measurement starts its own event source,
 * aggregates events in user space as they come (predicate first, then key and bucket), hands
 * the second's value over at collect(), and unsubscribes everything at stop().
 */
import { HeatmeshError } from '../../../metad/index.js'
import type { Backend, Measurement, MeasurementSpec, MeasurementState } from '../backend.js'
import { createValueAccumulator, valueLayout, zeroValueOf } from '../value-layout.js'
import type { EventSource } from './event-source.js'
import { eventLoopSource, DEFAULT_EVENT_LOOP_RESOLUTION_MS } from './eventloop.js'
import { gcSource } from './gc.js'
import { httpSource, HTTP_REQUEST_START_CHANNEL, HTTP_RESPONSE_FINISH_CHANNEL } from './http.js'

/** Relative cost of a process measurement (see Backend.cost): a little work per event, in JS. */
export const PROCESS_COST = 2

export interface ProcessInit {
  /** How often the event-loop sampler asks to run, in ms. @default 10 */
  readonly eventLoopResolutionMs?: number
  /** Longest `http_path` kept, in characters (longer paths are cut). @default 1024 */
  readonly maxPathLength?: number
}

function createMeasurement (source: EventSource, spec: MeasurementSpec): Measurement {
  const layout = valueLayout(spec.metric, spec.decomposition)
  const zero = zeroValueOf(layout)
  const acc = createValueAccumulator(layout, spec.predicate)
  let failure: string | undefined
  const stopSource = source.start({
    event (record) {
      if (failure !== undefined) return
      try {
        acc.add(record)
      } catch (err) {
        // A record the predicate or layout cannot read is a bug here, not the caller's: report it.
        failure = `cannot count a ${source.metric} event: ${err instanceof Error ? err.message : String(err)}`
      }
    }
  })
  let stopped = false
  return {
    collect () {
      if (stopped || failure !== undefined) return zero
      return acc.take()
    },
    state (): MeasurementState {
      return failure === undefined ? { state: 'running' } : { state: 'failed', reason: failure }
    },
    async stop () {
      if (stopped) return
      stopped = true
      stopSource()
    }
  }
}

/**
 * Creates the process backend.
 *
 * @example
 * const process = createProcessBackend({ eventLoopResolutionMs: 10 })
 */
export function createProcessBackend (init: ProcessInit = {}): Backend {
  const resolutionMs = init.eventLoopResolutionMs ?? DEFAULT_EVENT_LOOP_RESOLUTION_MS
  const sources: readonly EventSource[] = [
    httpSource({ maxPathLength: init.maxPathLength }),
    eventLoopSource({ resolutionMs }),
    gcSource()
  ]
  const byMetric = new Map(sources.map((s) => [s.metric, s]))
  return {
    name: 'process',
    cost: PROCESS_COST,
    implementations: sources.map((s) => ({ metric: s.metric, fields: s.fields })),

    async probe (options = {}) {
      options.signal?.throwIfAborted()
      return {
        name: 'process',
        available: true,
        detail: `Node ${process.version} pid ${process.pid}: HTTP via diagnostics_channel ${HTTP_REQUEST_START_CHANNEL} and ${HTTP_RESPONSE_FINISH_CHANNEL}; ` +
          `event-loop delay sampled every ${resolutionMs} ms; GC via PerformanceObserver('gc')`
      }
    },

    async instrument (spec, options = {}) {
      options.signal?.throwIfAborted()
      const source = byMetric.get(spec.metric.name)
      if (source === undefined) throw new HeatmeshError('ECA_INVAL', `process does not implement ${spec.metric.name}`)
      for (const f of spec.decomposition) {
        if (!source.fields.includes(f)) throw new HeatmeshError('ECA_INVAL', `process cannot decompose ${spec.metric.name} by ${f}`)
      }
      return createMeasurement(source, spec)
    }
  }
}
