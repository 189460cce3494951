/**
 * CA's time parameters of every value resource (CA-REFERENCE §2.5; `caAggrInterval`,
 * `normalizeInterval` and `caAggrValueRequest.loadParameters` in CA's aggregator) and the data
 * points they name.
 *
 * THEORY. A request names an interval by any two of `start_time`, `duration` and `end_time`
 * (all three must agree), by one of them plus the resource's default duration, or by none: then
 * the interval ends one granularity before the current second (`start = floor(now) - duration -
 * granularity`), the newest interval that can be complete. The interval is aligned to the
 * granularity (start down, duration up) and repeated `ndatapoints` times back to back: point i
 * covers `[start + i * duration, start + (i + 1) * duration)`; the `requested_*` fields keep the
 * unaligned values. With the key `ndatapoints` present (even `1`) the answer is an array.
 *
 * Limits: `duration` 1..3600, `start_time` and `end_time` >= 0, `timeout` 0..5000 ms (default
 * 5000), `ndatapoints` >= 1. Beyond CA, which had no maximum: `ndatapoints` at most
 * `maxPoints` (per resource), and an interval given by `start_time` and `end_time` may not
 * exceed the 3600 s that `duration` may, so that a request's work is bounded.
 */
import { HeatmeshError, InvalidFieldError } from '../../metad/index.js'
import { integerParam, listParam, type Query } from './query-params.js'

/** Largest `duration` (s), CA's. */
export const DURATION_MAX = 3600
/** CA's default and largest `timeout` (ms) to wait for late data. */
export const TIMEOUT_MAX_MS = 5000

/** The time parameters of a request, validated one by one (absent ones undefined). */
export interface TimeInput {
  readonly start_time?: number
  readonly duration?: number
  readonly end_time?: number
  readonly ndatapoints: number
  /** The key `ndatapoints` was given: answer with an array. */
  readonly usearray: boolean
  /** Milliseconds to wait for the newest point to be complete. */
  readonly timeout: number
  readonly transformations: readonly string[]
}

/**
 * Reads the time parameters (CA's names and limits; ndatapoints at most `maxPoints`). heatmesh
 * offers no transformations, so any one named is refused as CA refused an unknown one.
 */
export function parseTimeParams (q: Query, maxPoints: number): TimeInput {
  const start = integerParam(q, 'start_time', { min: 0 })
  const duration = integerParam(q, 'duration', { min: 1, max: DURATION_MAX })
  const end = integerParam(q, 'end_time', { min: 0 })
  const ndatapoints = integerParam(q, 'ndatapoints', { min: 1, max: maxPoints })
  const timeout = integerParam(q, 'timeout', { min: 0, max: TIMEOUT_MAX_MS }) ?? TIMEOUT_MAX_MS
  const transformations = listParam(q, 'transformations') ?? []
  if (transformations.length > 0) {
    throw new InvalidFieldError('transformations', transformations, `transformation "${transformations[0]!}" does not exist`)
  }
  return {
    ...(start === undefined ? {} : { start_time: start }),
    ...(duration === undefined ? {} : { duration }),
    ...(end === undefined ? {} : { end_time: end }),
    ndatapoints: ndatapoints ?? 1,
    usearray: q.has('ndatapoints'),
    timeout,
    transformations
  }
}

/** An interval before alignment. */
export interface Interval {
  readonly start_time: number
  readonly duration: number
}

/**
 * CA's `caAggrInterval`: the interval named by the parameters, `now` in seconds (fractions are
 * dropped), with CA's messages for contradictions.
 */
export function resolveInterval (input: Pick<TimeInput, 'start_time' | 'duration' | 'end_time'>, now: number, defaultDuration: number, granularity: number): Interval {
  let start = input.start_time
  let duration = input.duration
  const end = input.end_time
  if (duration === undefined && (start === undefined || end === undefined)) duration = defaultDuration
  if (end !== undefined) {
    if (start === undefined && duration !== undefined) {
      if (duration > end) throw new HeatmeshError('ECA_INVAL', '"duration" cannot exceed "end_time"')
      start = end - duration
    } else if (start !== undefined && duration === undefined) {
      if (end <= start) throw new HeatmeshError('ECA_INVAL', '"end_time" must be later than "start_time"')
      duration = end - start
    } else if (start !== undefined && duration !== undefined && start + duration !== end) {
      throw new HeatmeshError('ECA_INVAL', '"start_time" + "duration" must equal "end_time"')
    }
  } else if (start === undefined) {
    start = Math.floor(now) - duration! - granularity
  }
  if (duration! < 1) throw new HeatmeshError('ECA_INVAL', '"duration" must be positive')
  if (duration! > DURATION_MAX) throw new HeatmeshError('ECA_INVAL', `"end_time" - "start_time" may not exceed ${DURATION_MAX} (the largest "duration")`)
  return { start_time: start!, duration: duration! }
}

/** CA's `normalizeInterval`: start aligned down, duration up, to the granularity. */
export function alignInterval (interval: Interval, granularity: number): Interval {
  const start = interval.start_time - (interval.start_time % granularity)
  const rest = interval.duration % granularity
  return { start_time: start, duration: rest === 0 ? interval.duration : interval.duration - rest + granularity }
}

/** One data point of a request: the aligned interval and the interval asked for. */
export interface ValuePoint {
  readonly start_time: number
  readonly duration: number
  readonly requested_start_time: number
  readonly requested_duration: number
  readonly requested_end_time: number
}

/** The request's data points, in time order (CA's `loadParameters`). */
export function valuePoints (input: TimeInput, now: number, defaultDuration: number, granularity: number): ValuePoint[] {
  const asked = resolveInterval(input, now, defaultDuration, granularity)
  const aligned = alignInterval(asked, granularity)
  const points: ValuePoint[] = []
  for (let i = 0; i < input.ndatapoints; i++) {
    points.push({
      start_time: aligned.start_time + i * aligned.duration,
      duration: aligned.duration,
      requested_start_time: asked.start_time + i * asked.duration,
      requested_duration: asked.duration,
      requested_end_time: asked.start_time + (i + 1) * asked.duration
    })
  }
  return points
}

/**
 * CA's rule: a request whose newest point ends more than `timeout` ms after the request arrived
 * (`now`, seconds) asks for data that cannot exist in time: ECA_INVAL
 * "requested data point is too far in the future".
 */
export function checkNotTooFar (points: readonly ValuePoint[], now: number, timeoutMs: number): void {
  const last = points[points.length - 1]!
  const end = last.start_time + last.duration
  if (end * 1000 > now * 1000 + timeoutMs) throw new HeatmeshError('ECA_INVAL', 'requested data point is too far in the future')
}
