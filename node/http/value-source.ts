/**
 * The port between the values API and the mesh: what `GET .../value/...` and `/metrics` need to
 * know about an instrumentation (its definition) and its data (merged slots fetched from the
 * instrumentation's root or a replica). The daemon implements it over the merge tree; unit tests
 * implement it with known slots. Nothing here knows libp2p.
 */
import { HeatmeshError, type InstrumentationDefinition, type Value } from '../../metad/index.js'

/** One merged slot of an instrumentation, at its granularity. */
export interface SlotPoint {
  /** Start of the slot (Unix seconds, a multiple of the granularity). */
  readonly second: number
  /** The merged value of every contributor of the slot (shape given by the definition). */
  readonly value: Value
  /** Live nodes expected to report for this slot. */
  readonly nsources: number
  /** Contributors merged into this slot (CA's minreporting for one slot). */
  readonly minreporting: number
  /** The decomposition was cut to its top keys (the rest folded into OTHER_KEY). */
  readonly truncated?: boolean
}

/** What the values routes need of the mesh. */
export interface ValueSource {
  /** The live definition `id` (undefined: ECA_NOENT), for shape, granularity, decomposition, retention, value-scope... */
  definition: (id: string) => { readonly definition: InstrumentationDefinition, readonly crtime: number } | undefined
  /**
   * Merged slots of `id` whose start lies in [startSecond, endSecond), at the instrumentation's granularity,
   * fetched from the instrumentation's root (or a replica). Slots absent from the answer had no data.
   */
  fetch: (id: string, startSecond: number, endSecond: number, signal: AbortSignal) => Promise<ReadonlyArray<SlotPoint>>
  /** Records an API access (idle-max). */
  touch: (id: string) => void
  /** Wall-clock seconds (injected for tests). */
  now: () => number
  /**
   * Optional: live nodes expected to report for `id` now. Used as a point's `nsources` when none
   * of its slots has data (a slot carries its own count); without it such a point says 0.
   */
  nsources?: (id: string) => number
}

/**
 * Fetches the slots of `[start, end)` through `source`, bounded by `timeoutMs` and cancelled
 * with `signal` (the client went away). A timeout is ECA_TIMEDOUT (503); a failure that is not
 * a HeatmeshError becomes ECA_REMOTE.
 */
export async function fetchSlots (source: ValueSource, id: string, start: number, end: number, signal: AbortSignal, timeoutMs: number): Promise<ReadonlyArray<SlotPoint>> {
  signal.throwIfAborted()
  const timeout = AbortSignal.timeout(timeoutMs)
  try {
    return await source.fetch(id, start, end, AbortSignal.any([signal, timeout]))
  } catch (err) {
    if (timeout.aborted && !signal.aborted) throw new HeatmeshError('ECA_TIMEDOUT', `fetching the values of instrumentation ${JSON.stringify(id)} took longer than ${timeoutMs} ms`, { cause: err })
    if (err instanceof HeatmeshError || signal.aborted) throw err
    throw new HeatmeshError('ECA_REMOTE', `cannot fetch the values of instrumentation ${JSON.stringify(id)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}
