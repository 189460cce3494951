/** The merge tree's wire messages: round trips, one rejection per malformed field, size limits. */
import test from 'ava'
import fc from 'fast-check'
import { holds } from '../../metad/property.js'
import {
  DecodeError, distributionOf, encodeValue, LATENCY_BUCKETING, limitValue, valuesEqual, type DecodeExpectation, type Value
} from '../../../metad/index.js'
import { contributorsOf } from '../../../node/merge/contributors.js'
import {
  decodeMergeMessage, encodeMergeMessage, MAX_ID_LENGTH, MAX_MERGE_MESSAGE_BYTES, MAX_SECOND, MergeDecodeError, mergeMessageByteLength, MERGE_WIRE_VERSION,
  pointSizeBound, type MergeMessage
} from '../../../node/merge/messages.js'
import type { StoredPoint } from '../../../node/merge/point-ring.js'

const ID = '0123456789abcdef'
const DIST: DecodeExpectation = { shape: 'distribution', bucketing: LATENCY_BUCKETING }
const expect = (id: string): DecodeExpectation | undefined => (id === ID ? DIST : id === 'scalar-one' ? { shape: 'scalar' } : undefined)

const dist = (values: number[]): Value => ({ type: 'distribution', dist: distributionOf(LATENCY_BUCKETING, values) })
const V1 = dist([1500, 2500, 1e6, 1e6, 3e9])
const C1 = contributorsOf([3, 2 ** 40, 2 ** 52 + 7])

function sameMessage (a: MergeMessage, b: MergeMessage): boolean {
  return JSON.stringify(a, replacer) === JSON.stringify(b, replacer)
}
function replacer (_k: string, v: unknown): unknown {
  if (v instanceof Map) return [...v.entries()]
  if (ArrayBuffer.isView(v)) return Array.from(v as Uint32Array)
  return v
}

const points: StoredPoint[] = [
  { second: 1000, value: V1, minreporting: 3, nsources: 4, contributors: C1 },
  { second: 1001, value: V1, minreporting: 2, nsources: 4, truncated: true },
  { second: 1005, value: V1, minreporting: 1, nsources: 4, seconds: [{ reporting: 1 }, { reporting: 3, contributors: C1 }] },
  { second: 1006, value: V1, minreporting: 3, nsources: 4, contributors: C1, pieces: [{ contributors: [C1[0]!], value: V1 }, { contributors: C1.slice(1), value: V1 }] }
]

const samples: MergeMessage[] = [
  { type: 'partial', id: ID, second: 1_750_000_000, contributors: C1, value: V1, late: false },
  { type: 'partial', id: ID, second: 1_750_000_001, contributors: [], value: undefined, late: true },
  { type: 'partial', id: ID, second: 1_750_000_002, contributors: C1, value: V1, late: false, ack: true },
  { type: 'partial', id: ID, second: 1_750_000_003, contributors: C1, value: V1, late: true, ack: true, resent: true },
  { type: 'partial', id: ID, second: 1_750_000_004, contributors: C1, value: V1, late: true, resent: true, silentParent: true },
  { type: 'ack' },
  { type: 'ack', gaps: [[0, 1]] },
  { type: 'ack', gaps: [[3, 5], [6, 7], [300_000, 300_010]] },
  { type: 'ack', upTo: 0 },
  { type: 'ack', upTo: 2 ** 40 },
  { type: 'ack', gaps: [[3, 5]], upTo: 9 },
  { type: 'ack-request', next: 0 },
  { type: 'ack-request', next: 2 ** 40 },
  { type: 'partial', id: ID, second: 1_750_000_006, contributors: C1, value: V1, late: false, ack: true, seq: 0 },
  { type: 'partial', id: ID, second: 1_750_000_007, contributors: [], value: undefined, late: false, seq: 2 ** 40 },
  { type: 'ack-request' },
  { type: 'nack', id: ID, second: 1_750_000_005, contributors: C1 },
  { type: 'nack', id: 'not-known-here', second: 1_750_000_006, contributors: C1 },
  { type: 'replica', id: ID, second: 1_750_000_000, contributors: C1, value: V1, nsources: 12 },
  { type: 'history-request', id: ID, from: 1_749_999_000, to: 1_750_000_011 },
  { type: 'history', id: ID, points, done: true },
  { type: 'history', id: ID, points: [], done: false },
  { type: 'query', requestId: 7, id: ID, from: 10, to: 70 },
  { type: 'query-reply', requestId: 7, id: ID, points: points.map(({ contributors: _c, seconds: _s, pieces: _p, ...p }) => p), holder: true }
]

samples.forEach((m, i) => {
  test(`a ${m.type} message round-trips (sample ${i})`, (t) => {
    const bytes = encodeMergeMessage(m)
    t.is(bytes[0], MERGE_WIRE_VERSION)
    t.true(sameMessage(decodeMergeMessage(bytes, expect), m))
  })
})

test('every value shape round-trips in a partial', (t) => {
  const arb = fc.oneof(
    fc.integer().map((n): Value => ({ type: 'scalar', n })),
    fc.array(fc.tuple(fc.string({ maxLength: 5 }), fc.nat(1e6)), { maxLength: 6 }).map((e): Value => limitValue({ type: 'decomposition', keys: new Map(e), folded: 0 }, 3)),
    fc.array(fc.integer({ min: 1, max: 1e10 }), { maxLength: 20 }).map(dist)
  )
  holds(t, fc.property(arb, fc.integer({ min: 0, max: MAX_SECOND }), (v, second) => {
    const m: MergeMessage = { type: 'partial', id: 'any-id', second, contributors: C1, value: v, late: false }
    const back = decodeMergeMessage(encodeMergeMessage(m), () => ({}))
    return back.type === 'partial' && back.second === second && back.value !== undefined && valuesEqual(back.value, v)
  }))
})

// ---- one rejection per field ---------------------------------------------------------------------

function varint (v: number): number[] {
  const out: number[] = []
  while (v >= 0x80) { out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80) }
  out.push(v)
  return out
}
const str = (s: string): number[] => [...varint(s.length), ...[...s].map((c) => c.charCodeAt(0))]
const bytes = (b: Uint8Array | number[]): number[] => [...varint(b.length), ...b]
const set = (keys: number[]): number[] => {
  const out = varint(keys.length)
  let prev = -1
  for (const k of keys) { out.push(...varint(k - prev - 1)); prev = k }
  return out
}
const V1B = [...encodeValue(V1)]
const SCALAR = [...encodeValue({ type: 'scalar', n: 5 })]
const head = (type: number): number[] => [MERGE_WIRE_VERSION, type]
const partial = (over: { id?: number[], second?: number[], contributors?: number[], flags?: number[], value?: number[], tail?: number[] } = {}): Uint8Array =>
  Uint8Array.from([...head(1), ...(over.id ?? str(ID)), ...(over.second ?? varint(100)), ...(over.contributors ?? set([1, 2])), ...(over.flags ?? [2]),
    ...(over.value ?? bytes(V1B)), ...(over.tail ?? [])])
const point = (over: { second?: number, minreporting?: number, flags?: number, extra?: number[], value?: number[] } = {}): number[] =>
  [...varint(over.second ?? 10), ...varint(over.minreporting ?? 2), ...varint(3), over.flags ?? 0, ...(over.extra ?? []), ...(over.value ?? bytes(V1B))]
const history = (pts: number[][], done = 1): Uint8Array => Uint8Array.from([...head(4), ...str(ID), done, ...varint(pts.length), ...pts.flat()])

const malformed: Array<[string, Uint8Array, string, string?]> = [
  ['an unknown version', Uint8Array.of(9, 1), 'version'],
  ['an unknown type', Uint8Array.of(MERGE_WIRE_VERSION, 42), 'type'],
  ['an empty message', new Uint8Array(0), 'version'],
  ['an empty id', partial({ id: str('') }), 'partial.id'],
  ['an id with a space', partial({ id: str('a b') }), 'partial.id'],
  ['an id longer than the limit', partial({ id: str('x'.repeat(MAX_ID_LENGTH + 1)) }), 'partial.id'],
  ['a second beyond the limit', partial({ second: varint(MAX_SECOND + 1) }), 'partial.second'],
  ['a varint not in its shortest form', partial({ second: [0x80, 0x00] }), 'partial.second'],
  ['contributors cut short', partial({ contributors: [5, 0, 0] , flags: [], value: [] }), 'partial.contributors'],
  ['unknown partial flags', partial({ flags: [64] }), 'partial.flags'],
  ['a seq flag without a seq', partial({ flags: [34], value: [] }), 'partial.seq'],
  ['an ack with bytes after its upTo', Uint8Array.from([...head(7), ...varint(1), ...varint(3), ...varint(4), ...varint(9), 0]), 'ack.end'],
  ['an ack with an upTo cut short', Uint8Array.from([...head(7), ...varint(0), 0x80]), 'ack.upTo'],
  ['an ack with an empty gap', Uint8Array.from([...head(7), ...varint(1), ...varint(3), ...varint(3)]), 'ack.gaps[0].to'],
  ['an ack with gaps out of order', Uint8Array.from([...head(7), ...varint(2), ...varint(5), ...varint(6), ...varint(1), ...varint(2)]), 'ack.gaps[1].from'],
  ['an ack with touching gaps', Uint8Array.from([...head(7), ...varint(2), ...varint(1), ...varint(3), ...varint(3), ...varint(4)]), 'ack.gaps[1].from'],
  ['an ack with more gaps than MAX_GAPS', Uint8Array.from([...head(7), ...varint(65)]), 'ack.gaps'],
  ['an ack-request with bytes after its number', Uint8Array.from([...head(8), ...varint(3), 0]), 'ack-request.end'],
  ['a silent parent on a partial not resent', partial({ flags: [16 | 2] }), 'partial.flags'],
  ['contributors without a value', partial({ flags: [0], value: [] }), 'partial.value'],
  ['a value without contributors', partial({ contributors: set([]) }), 'partial.value'],
  ['value bytes that are not a value', partial({ value: bytes([1, 77]) }), 'partial.value'],
  ['a value longer than the bytes left', partial({ value: [50, 1, 3] }), 'partial.value'],
  ['trailing bytes', partial({ tail: [0] }), 'partial.end'],
  ['a replica without contributors', Uint8Array.from([...head(2), ...str(ID), ...varint(5), ...set([]), ...varint(1), ...bytes(V1B)]), 'replica.contributors'],
  ['a replica nsources beyond the limit', Uint8Array.from([...head(2), ...str(ID), ...varint(5), ...set([1]), ...varint(2 ** 40), ...bytes(V1B)]), 'replica.nsources'],
  ['a history-request window that ends before it starts', Uint8Array.from([...head(3), ...str(ID), ...varint(20), ...varint(10)]), 'history-request.to'],
  ['a done byte that is not a boolean', history([], 2), 'history.done'],
  ['more points than bytes', Uint8Array.from([...head(4), ...str(ID), 1, ...varint(1000)]), 'history.points'],
  ['points out of order', history([point({ second: 10 }), point({ second: 10 })]), 'history.points[1].second'],
  ['unknown point flags', history([point({ flags: 16 })]), 'history.points[0].flags'],
  ['pieces without contributors', history([point({ flags: 8, extra: [...varint(1)] })]), 'history.points[0].pieces'],
  ['more pieces than contributors', history([point({ flags: 2 | 8, minreporting: 1, extra: [...set([5]), ...varint(2)] })]), 'history.points[0].pieces'],
  ['minreporting that disagrees with the contributors', history([point({ flags: 2, minreporting: 3, extra: set([1, 2]) })]), 'history.points[0].minreporting'],
  ['a second whose reporting disagrees with its contributors', history([point({ flags: 4, extra: [...varint(1), 2, 1, ...set([5])] })]), 'history.points[0].seconds[0].reporting'],
  ['a second flag that is not a boolean', history([point({ flags: 4, extra: [...varint(1), 2, 7] })]), 'history.points[0].seconds[0].flags'],
  ['a query request id beyond the limit', Uint8Array.from([...head(5), ...varint(2 ** 33), ...str(ID), ...varint(1), ...varint(2)]), 'query.requestId'],
  ['a holder byte that is not a boolean', Uint8Array.from([...head(6), ...varint(1), ...str(ID), 3, ...varint(0)]), 'query-reply.holder']
]

for (const [name, input, field] of malformed) {
  test(`decoding refuses ${name}, naming ${field}`, (t) => {
    const err = t.throws(() => decodeMergeMessage(input, expect), { instanceOf: MergeDecodeError })
    t.true(err instanceof DecodeError)
    t.is(err?.field, field)
    t.is(err?.kind, 'malformed')
  })
}

test('a value of another shape is refused as wrong-shape, not as malformed', (t) => {
  const err = t.throws(() => decodeMergeMessage(partial({ value: bytes(SCALAR) }), expect), { instanceOf: MergeDecodeError })
  t.is(err?.kind, 'wrong-shape')
  t.is(err?.field, 'partial.value')
  const other = dist([5])
  const lq: Value = { type: 'distribution', dist: distributionOf({ kind: 'lquantize', low: 0, high: 100, step: 10 }, [5]) }
  t.notThrows(() => decodeMergeMessage(partial({ value: bytes([...encodeValue(other)]) }), expect))
  t.is(t.throws(() => decodeMergeMessage(partial({ value: bytes([...encodeValue(lq)]) }), expect), { instanceOf: MergeDecodeError })?.kind, 'wrong-shape')
})

test('a value for an instrumentation the receiver does not know is refused as unknown-instrumentation', (t) => {
  const err = t.throws(() => decodeMergeMessage(partial({ id: str('not-known') }), expect), { instanceOf: MergeDecodeError })
  t.is(err?.kind, 'unknown-instrumentation')
  t.is(err?.field, 'partial.id')
  // Without a value there is nothing to decode: the core decides about the id.
  t.notThrows(() => decodeMergeMessage(partial({ id: str('not-known'), contributors: set([]), flags: [0], value: [] }), expect))
})

test('messages beyond the size limit are refused both ways', (t) => {
  const huge = new Uint8Array(MAX_MERGE_MESSAGE_BYTES + 1)
  huge.set([MERGE_WIRE_VERSION, 1])
  t.is(t.throws(() => decodeMergeMessage(huge, expect), { instanceOf: MergeDecodeError })?.field, 'message')
  // Every latency bucket filled: 3,600 points of about 2 KB each do not fit in 4 MiB.
  const big = dist(Array.from({ length: 3000 }, (_, i) => 1000 * 1.007 ** i))
  const pts = Array.from({ length: 3600 }, (_, i) => ({ second: i, value: big, minreporting: 1, nsources: 1 }))
  t.throws(() => encodeMergeMessage({ type: 'history', id: ID, points: pts, done: true }), { instanceOf: RangeError })
  t.throws(() => encodeMergeMessage({ type: 'history', id: ID, points: Array.from({ length: 3601 }, (_, i) => ({ ...pts[0]!, second: i })), done: true }), { instanceOf: RangeError })
  t.throws(() => encodeMergeMessage({ type: 'query', requestId: 1, id: 'bad id', from: 0, to: 1 }), { instanceOf: RangeError })
})

test('pointSizeBound is an upper bound of a point\'s encoded size', (t) => {
  for (const p of points) {
    const alone = encodeMergeMessage({ type: 'history', id: ID, points: [p], done: true }).length
    const empty = encodeMergeMessage({ type: 'history', id: ID, points: [], done: true }).length
    t.true(alone - empty <= pointSizeBound(p), `${alone - empty} > ${pointSizeBound(p)}`)
  }
})

test('arbitrary bytes never make the decoder throw anything but a MergeDecodeError', (t) => {
  const valid = samples.map(encodeMergeMessage)
  const mutated = fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(64))
    .map(([b, edits, cut]) => {
      const copy = Uint8Array.from(b)
      for (const [at, v] of edits) copy[at % copy.length] = v
      return copy.subarray(0, Math.max(0, copy.length - (cut % 3 === 0 ? cut % copy.length : 0)))
    })
  holds(t, fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 64 })), (input) => {
    try {
      decodeMergeMessage(input, expect)
      return true
    } catch (err) {
      return err instanceof MergeDecodeError
    }
  }), { numRuns: 3000 })
})

test('mergeMessageByteLength is the length of the encoding, partials computed without encoding', (t) => {
  for (const m of samples) t.is(mergeMessageByteLength(m), encodeMergeMessage(m).byteLength, m.type)
  holds(t, fc.property(
    fc.string({ minLength: 1, maxLength: MAX_ID_LENGTH }).filter((s) => /^[\x21-\x7e]+$/.test(s)),
    fc.integer({ min: 0, max: MAX_SECOND }),
    fc.uniqueArray(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { maxLength: 40 }),
    fc.array(fc.double({ min: 1000, max: 1e10, noNaN: true }), { maxLength: 30 }),
    (id, second, keys, values) => {
      const m: MergeMessage = keys.length === 0
        ? { type: 'partial', id, second, contributors: [], value: undefined, late: false }
        : { type: 'partial', id, second, contributors: contributorsOf(keys), value: dist(values), late: true }
      return mergeMessageByteLength(m) === encodeMergeMessage(m).byteLength
    }
  ))
})
