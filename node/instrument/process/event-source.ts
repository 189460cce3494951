/**
 * An event source of the process backend: something in this Node.js process that reports
 * events one by one (HTTP requests served, event-loop samples, GC pauses), each as a record of
 * field values, to whoever started it.
 */
import type { FieldRecord } from '../value-layout.js'

/** Receives a source's events. */
export interface EventSink {
  /** One event. Never throws back into the source. */
  readonly event: (record: FieldRecord) => void
}

/** A source of one metric's events. */
export interface EventSource {
  /** `module.stat`. */
  readonly metric: string
  /** The fields every record carries (hostname excluded). */
  readonly fields: readonly string[]
  /** Starts delivering events to `sink`; returns the function that stops it (idempotent). */
  readonly start: (sink: EventSink) => () => void
}
