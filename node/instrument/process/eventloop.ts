/**
 * node.eventloop_delay: how late this process's event loop runs a timer. A sampling timer asks
 * to run every `resolution` ms; each time it runs, the delay is how much later than asked it
 * ran (0 when on time), one event of the metric with that latency in ns. A loop blocked for
 * 300 ms yields one sample of ~300 ms; an idle loop yields ~1000 / resolution samples of ~0.
 *
 * Why an own timer rather than perf_hooks.monitorEventLoopDelay: that one keeps an HDR
 * histogram whose buckets Node does not expose (only min, max, mean, stddev and a coarse
 * percentile map), so it cannot be turned into a llquantize distribution faithfully; an own
 * timer gives each sample exactly, and bench/instrument.ts measures its cost against
 * monitorEventLoopDelay's at the same resolution. The timer is unref'd (it never keeps the
 * process alive) and reuses one Timeout object (refresh()).
 */
import type { EventSource } from './event-source.js'

/** Default sampling interval in ms: monitorEventLoopDelay's default resolution. */
export const DEFAULT_EVENT_LOOP_RESOLUTION_MS = 10

/** The node.eventloop_delay source, sampling every `resolutionMs`. */
export function eventLoopSource (options: { resolutionMs?: number } = {}): EventSource {
  const resolutionMs = options.resolutionMs ?? DEFAULT_EVENT_LOOP_RESOLUTION_MS
  if (!Number.isInteger(resolutionMs) || resolutionMs < 1) throw new RangeError(`event-loop resolution ${resolutionMs} ms is not a positive integer`)
  const period = BigInt(resolutionMs) * 1_000_000n
  return {
    metric: 'node.eventloop_delay',
    fields: ['latency'],
    start (sink) {
      let due = process.hrtime.bigint() + period
      const timer = setTimeout(() => {
        const now = process.hrtime.bigint()
        const late = now - due
        sink.event({ latency: late > 0n ? Number(late) : 0 })
        due = process.hrtime.bigint() + period
        timer.refresh()
      }, resolutionMs)
      timer.unref()
      return () => { clearTimeout(timer) }
    }
  }
}
