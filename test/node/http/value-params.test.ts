/**
 * node/http/value-params.ts: CA's time parameters, case by case as CA's tst.interval.js tested
 * caAggrInterval (now = 1234567890), with every error message; alignment to the granularity;
 * the data points of ndatapoints; the "too far in the future" rule.
 */
import test from 'ava'
import { HeatmeshError, InvalidFieldError } from '../../../metad/index.js'
import { parseQuery } from '../../../node/http/query-params.js'
import { alignInterval, checkNotTooFar, parseTimeParams, resolveInterval, valuePoints, type TimeInput } from '../../../node/http/value-params.js'

const now = 1234567890
const when = 12345
const input = (o: Partial<TimeInput>): TimeInput => ({ ndatapoints: 1, usearray: false, timeout: 5000, transformations: [], ...o })
const query = (s: string): ReturnType<typeof parseQuery> => parseQuery(new URLSearchParams(s))

// [name, parameters, default duration, granularity, expected start_time, expected duration]
const resolved: Array<[string, Partial<TimeInput>, number, number, number, number]> = [
  ['nothing given: the interval ends one granularity before now (1 s, g 1)', {}, 1, 1, now - 2, 1],
  ['nothing given, default 60 s at granularity 10', {}, 60, 10, now - 70, 60],
  ['nothing given, default 60 s at granularity 1', {}, 60, 1, now - 61, 60],
  ['nothing given, default 5 s at granularity 5', {}, 5, 5, now - 10, 5],
  ['start_time alone takes the default duration', { start_time: when }, 1, 1, when, 1],
  ['start_time alone, default 30 s at granularity 5', { start_time: when }, 30, 5, when, 30],
  ['duration alone ends one granularity before now', { duration: 10 }, 1, 1, now - 11, 10],
  ['duration alone at granularity 5', { duration: 20 }, 60, 5, now - 25, 20],
  ['end_time alone takes the default duration before it', { end_time: when }, 1, 1, when - 1, 1],
  ['end_time alone, default 60 s', { end_time: when }, 60, 5, when - 60, 60],
  ['start_time and duration', { start_time: when, duration: 10 }, 1, 1, when, 10],
  ['start_time and duration at granularity 5', { start_time: when, duration: 10 }, 60, 5, when, 10],
  ['end_time and duration', { end_time: when, duration: 10 }, 1, 1, when - 10, 10],
  ['end_time and duration at granularity 5', { end_time: when, duration: 10 }, 60, 5, when - 10, 10],
  ['start_time and end_time give the duration', { start_time: when, end_time: when + 1 }, 1, 1, when, 1],
  ['start_time and end_time at granularity 5', { start_time: when, end_time: when + 10 }, 60, 5, when, 10],
  ['all three, consistent', { start_time: when, duration: 1, end_time: when + 1 }, 1, 1, when, 1],
  ['all three, consistent, granularity 5', { start_time: when, duration: 10, end_time: when + 10 }, 60, 5, when, 10],
  ['a fractional now is truncated to its second', {}, 1, 1, now - 2, 1]
]

for (const [name, params, def, g, start, duration] of resolved) {
  test(`resolves the interval: ${name}`, (t) => {
    t.deepEqual(resolveInterval(params, name.includes('fractional') ? now + 0.9 : now, def, g), { start_time: start, duration })
  })
}

// [name, parameters, CA's message]
const contradictions: Array<[string, Partial<TimeInput>, string]> = [
  ['start_time + duration differs from end_time', { start_time: when, duration: 10, end_time: when + 1 }, '"start_time" + "duration" must equal "end_time"'],
  ['end_time before start_time', { start_time: when, end_time: when - 1 }, '"end_time" must be later than "start_time"'],
  ['end_time equal to start_time', { start_time: when, end_time: when }, '"end_time" must be later than "start_time"'],
  ['duration longer than end_time', { end_time: 10, duration: 11 }, '"duration" cannot exceed "end_time"'],
  ['a zero duration', { duration: 0 }, '"duration" must be positive'],
  ['start_time and end_time further apart than 3600 s (beyond CA)', { start_time: when, end_time: when + 3601 }, '"end_time" - "start_time" may not exceed 3600 (the largest "duration")']
]

for (const [name, params, message] of contradictions) {
  test(`refuses ${name} with CA's message`, (t) => {
    const err = t.throws(() => resolveInterval(params, now, 1, 1), { instanceOf: HeatmeshError })
    t.is(err?.code, 'ECA_INVAL')
    t.is(err?.message, message)
  })
}

test('alignment moves the start down and the duration up to the granularity', (t) => {
  t.deepEqual(alignInterval({ start_time: 12347, duration: 7 }, 5), { start_time: 12345, duration: 10 })
  t.deepEqual(alignInterval({ start_time: 12345, duration: 10 }, 5), { start_time: 12345, duration: 10 })
  t.deepEqual(alignInterval({ start_time: 12347, duration: 7 }, 1), { start_time: 12347, duration: 7 })
})

test('points keep the requested interval in requested_* and lie back to back', (t) => {
  const points = valuePoints(input({ start_time: 12347, duration: 7, ndatapoints: 3, usearray: true }), now, 60, 5)
  t.deepEqual(points, [
    { start_time: 12345, duration: 10, requested_start_time: 12347, requested_duration: 7, requested_end_time: 12354 },
    { start_time: 12355, duration: 10, requested_start_time: 12354, requested_duration: 7, requested_end_time: 12361 },
    { start_time: 12365, duration: 10, requested_start_time: 12361, requested_duration: 7, requested_end_time: 12368 }
  ])
})

test('the too-far rule allows a point ending up to timeout ms after now and refuses one beyond', (t) => {
  const at = (start: number): ReturnType<typeof valuePoints> => valuePoints(input({ start_time: start, duration: 1 }), now, 1, 1)
  t.notThrows(() => { checkNotTooFar(at(now + 4), now, 5000) }) // ends at now + 5 s
  const err = t.throws(() => { checkNotTooFar(at(now + 5), now, 5000) }, { instanceOf: HeatmeshError })
  t.is(err?.message, 'requested data point is too far in the future')
  t.throws(() => { checkNotTooFar(at(now), now, 0) }, { message: 'requested data point is too far in the future' })
})

test('the time parameters default to one point, no array, timeout 5000 ms', (t) => {
  t.deepEqual(parseTimeParams(query(''), 10), input({}))
})

test('the key ndatapoints asks for an array even with the value 1', (t) => {
  t.like(parseTimeParams(query('ndatapoints=1'), 10), { ndatapoints: 1, usearray: true })
})

// [query, field, reason]
const bad: Array<[string, string, string]> = [
  ['duration=0', 'duration', 'value too small (min: 1)'],
  ['duration=3601', 'duration', 'value too large (max: 3600)'],
  ['duration=abc', 'duration', 'not a number'],
  ['duration=1.5', 'duration', 'not an integer'],
  ['start_time=-1', 'start_time', 'value too small (min: 0)'],
  ['end_time=x', 'end_time', 'not a number'],
  ['ndatapoints=0', 'ndatapoints', 'value too small (min: 1)'],
  ['ndatapoints=11', 'ndatapoints', 'value too large (max: 10)'],
  ['timeout=5001', 'timeout', 'value too large (max: 5000)'],
  ['timeout=-1', 'timeout', 'value too small (min: 0)'],
  ['transformations=geolocate', 'transformations', 'transformation "geolocate" does not exist'],
  ['duration=1&duration=2', 'duration', 'given more than once']
]

for (const [q, field, reason] of bad) {
  test(`refuses ${q}, naming ${field}`, (t) => {
    const err = t.throws(() => parseTimeParams(query(q), 10), { instanceOf: InvalidFieldError })
    t.is(err?.field, field)
    t.is(err?.reason, reason)
    t.true(err!.message.includes(`for field "${field}"`))
  })
}
