/**
 * node.gc_ops: garbage collections in this process, from a perf_hooks PerformanceObserver on
 * 'gc' entries (one per collection, with its kind and its duration, i.e. the pause). The
 * observer's callback runs a little after the collection (entries are delivered in batches), so
 * a GC at the very end of a second may count in the next one.
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'
import type { EventSource } from './event-source.js'

/** node.gc_ops' `gctype` for a V8 GC kind (perf_hooks.constants.NODE_PERFORMANCE_GC_*). */
export function gcType (kind: unknown): string {
  switch (kind) {
    case constants.NODE_PERFORMANCE_GC_MINOR: return 'minor'
    case constants.NODE_PERFORMANCE_GC_MAJOR: return 'major'
    case constants.NODE_PERFORMANCE_GC_INCREMENTAL: return 'incremental'
    case constants.NODE_PERFORMANCE_GC_WEAKCB: return 'weakcb'
    default: return 'unknown'
  }
}

/** The node.gc_ops source. */
export function gcSource (): EventSource {
  return {
    metric: 'node.gc_ops',
    fields: ['gctype', 'latency'],
    start (sink) {
      const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          const kind = (entry as PerformanceEntry & { detail?: { kind?: unknown } }).detail?.kind
          sink.event({ gctype: gcType(kind), latency: Math.max(0, Math.round(entry.duration * 1e6)) })
        }
      })
      observer.observe({ entryTypes: ['gc'] })
      let stopped = false
      return () => {
        if (stopped) return
        stopped = true
        observer.disconnect()
      }
    }
  }
}
