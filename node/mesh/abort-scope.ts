/**
 * An abort signal for one operation: aborted when any of its sources is (the host's shutdown, a
 * caller's signal) or when its time budget runs out, and released by dispose() when the
 * operation ends. AbortSignal.any would do the combining, but on Node 20 a long-lived source
 * (the shutdown signal lives as long as the host) keeps every signal combined from it, with its
 * listeners, until that source dies: ~0.3 KB per message sent, a slow leak in a daemon
 * (measured: 20,000 sends retained 48 MB until their timeouts fired, ~6 MB after). Here the
 * listeners are removed and the timer cleared when the operation ends.
 */

import { setMaxListeners } from 'node:events'

/** One operation's signal (see the module header). */
export interface AbortScope {
  readonly signal: AbortSignal
  /** Whether the time budget ran out (rather than a source aborting). */
  readonly timedOut: boolean
  /** Removes the listeners on the sources and clears the timer; call when the operation ends. */
  dispose: () => void
}

/** A scope aborted by any of `sources` (undefined ones are ignored) or after `timeoutMs`. */
export function abortScope (sources: ReadonlyArray<AbortSignal | undefined>, timeoutMs: number): AbortScope {
  const controller = new AbortController()
  const listeners: Array<[AbortSignal, () => void]> = []
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort(new DOMException(`the operation timed out after ${timeoutMs} ms`, 'TimeoutError'))
  }, timeoutMs)
  // Like AbortSignal.timeout's: a pending budget does not keep the process alive.
  timer.unref()
  const dispose = (): void => {
    clearTimeout(timer)
    for (const [source, listener] of listeners) source.removeEventListener('abort', listener)
    listeners.length = 0
  }
  for (const source of sources) {
    if (source === undefined) continue
    if (source.aborted) {
      controller.abort(source.reason)
      break
    }
    const listener = (): void => { controller.abort(source.reason) }
    // A long-lived source has one listener per operation in flight (removed when it ends), often
    // more than Node's default warning threshold of 10.
    setMaxListeners(0, source)
    source.addEventListener('abort', listener, { once: true })
    listeners.push([source, listener])
  }
  if (controller.signal.aborted) dispose()
  return { signal: controller.signal, get timedOut () { return timedOut }, dispose }
}
