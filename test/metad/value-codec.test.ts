import test from 'ava'
import fc from 'fast-check'
import { holds } from './property.js'
import { distributionOf, DistributionBuilder, type Distribution } from '../../metad/distribution.js'
import { DecodeError, InvalidFieldError } from '../../metad/errors.js'
import { bucketCount, LATENCY_BUCKETING, parseBucketing, quantizer, sameBucketing, type Bucketing } from '../../metad/quantize.js'
import { decodeValue, encodedValueLength, encodeValue, WIRE_VERSION } from '../../metad/value-codec.js'
import { limitValue, OTHER_KEY, valuesEqual, type Value } from '../../metad/value.js'


const L = LATENCY_BUCKETING
const LQ = parseBucketing({ kind: 'lquantize', low: -100, high: 1000, step: 10 })

const arbBucketing: fc.Arbitrary<Bucketing> = fc.constantFrom(L, LQ, parseBucketing({ kind: 'llquantize', base: 2, low: 0, high: 40, nsteps: 8 }))

function arbDist (b: Bucketing): fc.Arbitrary<Distribution> {
  const n = quantizer(b).nbuckets
  const count = fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 2 ** 40 }))
  return fc.array(fc.tuple(fc.integer({ min: 0, max: n - 1 }), count), { maxLength: 30 }).map((pairs) => {
    const builder = new DistributionBuilder(b)
    for (const [i, c] of pairs) builder.addToBucket(i, c)
    return builder.build()
  })
}

const arbKey = fc.oneof(fc.constantFrom('sshd', 'node', '', 'ü', '日本', '\u{1F600}', '\uFEFFbom'), fc.string({ maxLength: 6, unit: 'grapheme' }))
const arbNum = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, 1e300, 0.5, -2.25),
  fc.double({ noNaN: true, noDefaultInfinity: true })
)

function limited (v: Value, k: number | null): Value { return k === null ? v : limitValue(v, k) }

/** Any valid value of any shape, integer or fractional numbers, limited or not. */
const arbValue: fc.Arbitrary<Value> = fc.oneof(
  arbNum.map((n): Value => ({ type: 'scalar', n })),
  fc.array(fc.tuple(arbKey, arbNum), { maxLength: 8 }).map((e): Value => ({ type: 'decomposition', keys: new Map(e), folded: 0 })),
  // Limited decompositions hold counts (limit refuses to round a sum of integers beyond 2^53).
  fc.tuple(fc.array(fc.tuple(arbKey, fc.integer({ min: -1e9, max: 1e9 })), { maxLength: 8 }), fc.integer({ min: 0, max: 4 }))
    .map(([e, k]) => limited({ type: 'decomposition', keys: new Map(e), folded: 0 }, k)),
  arbBucketing.chain((b) => arbDist(b)).map((dist): Value => ({ type: 'distribution', dist })),
  arbBucketing.chain((b) => fc.tuple(fc.constant(b), fc.array(fc.tuple(arbKey, arbDist(b)), { maxLength: 5 }), fc.option(fc.integer({ min: 0, max: 3 }))))
    .map(([b, e, k]) => limited({ type: 'decomposed-distribution', bucketing: b, keys: new Map(e), folded: 0 }, k))
)

/** Every invariant a Value promises (what a decoder must never break). */
function validValue (v: Value): boolean {
  const dist = (d: Distribution, b: Bucketing): boolean => {
    const n = bucketCount(b)
    let total = 0
    for (let k = 0; k < d.index.length; k++) {
      if ((k > 0 && d.index[k]! <= d.index[k - 1]!) || d.index[k]! >= n || !Number.isSafeInteger(d.count[k]) || d.count[k]! <= 0) return false
      total += d.count[k]!
    }
    return sameBucketing(d.bucketing, b) && total === d.total && total <= Number.MAX_SAFE_INTEGER
  }
  switch (v.type) {
    case 'scalar': return Number.isFinite(v.n)
    case 'decomposition': return v.keys.has(OTHER_KEY) === v.folded > 0 && [...v.keys.values()].every(Number.isFinite)
    case 'distribution': return dist(v.dist, v.dist.bucketing)
    case 'decomposed-distribution': return v.keys.has(OTHER_KEY) === v.folded > 0 && [...v.keys.values()].every((d) => dist(d, v.bucketing))
  }
}

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])

/** Decodes `bytes`: a valid value that re-encodes to the same bytes, or a DecodeError. Anything else fails. */
function decodesOrRejects (bytes: Uint8Array): boolean {
  let v: Value
  try {
    v = decodeValue(bytes)
  } catch (e) {
    if (e instanceof DecodeError) return true
    throw e
  }
  return validValue(v) && same(encodeValue(v), bytes)
}

test('every value round-trips', (t) => {
  holds(t, fc.property(arbValue, (v) => {
    const back = decodeValue(encodeValue(v))
    return validValue(back) && valuesEqual(back, v)
  }), { numRuns: 1000 })
})

test('encodedValueLength is the length of the encoding, without encoding', (t) => {
  holds(t, fc.property(arbValue, (v) => encodedValueLength(v) === encodeValue(v).byteLength), { numRuns: 1000 })
  // UTF-8 lengths: 1, 2, 3 and 4 bytes per character (a surrogate pair is one 4-byte character).
  for (const key of ['a', 'ü', '日', '\u{1F600}', 'aü日\u{1F600}']) {
    const v: Value = { type: 'decomposition', keys: new Map([[key, 1]]), folded: 0 }
    t.is(encodedValueLength(v), encodeValue(v).byteLength, key)
  }
})

test('the encoding is canonical: re-encoding decoded bytes gives the same bytes', (t) => {
  holds(t, fc.property(arbValue, (v) => {
    const bytes = encodeValue(v)
    return same(encodeValue(decodeValue(bytes)), bytes)
  }), { numRuns: 1000 })
})

test('the bytes are as the format says', (t) => {
  t.deepEqual([...encodeValue({ type: 'scalar', n: 5 })], [WIRE_VERSION, 1, 0, 5])
  t.deepEqual([...encodeValue({ type: 'scalar', n: -300 })], [1, 1, 1, 0xac, 0x02])
  t.deepEqual([...encodeValue({ type: 'scalar', n: 0.5 })], [1, 1, 2, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f])
  t.deepEqual([...encodeValue({ type: 'decomposition', keys: new Map([['b', 2], ['a', 1]]), folded: 0 })],
    [1, 2, 0, 2, 1, 0x61, 0, 1, 1, 0x62, 0, 2])
  // Buckets 1 (x3) and 3 (x1) of llquantize(10, 3, 11, 100): gaps 1 and 1.
  const dist = distributionOf(L, [1000, 1001, 1002, 1234])
  t.deepEqual([...encodeValue({ type: 'distribution', dist })], [1, 3, 1, 10, 3, 11, 100, 2, 1, 3, 1, 1])
  t.deepEqual([...encodeValue({ type: 'distribution', dist: distributionOf(LQ, [-5]) })], [1, 3, 2, 199, 1, 0xd0, 0x0f, 10, 1, 10, 1])
})

test('a latency partial of 2,000 events takes about two bytes a bucket', (t) => {
  // Deterministic log-normal-ish spread: 2,000 values between 2 us and 2 ms.
  const xs = Array.from({ length: 2000 }, (_, i) => Math.round(2000 * 1000 ** ((i * 7919 % 2000) / 2000)))
  const dist = distributionOf(L, xs)
  const bytes = encodeValue({ type: 'distribution', dist })
  t.true(bytes.length <= 2 * dist.index.length + 10, `${bytes.length} bytes for ${dist.index.length} buckets`)
})

test('the last bucket decodes, one past it does not', (t) => {
  const v = decodeValue(Uint8Array.from([1, 3, ...ll, 2, 5, 1, 0xa5, 0x06, 1]))
  t.deepEqual(v.type === 'distribution' ? [...v.dist.index] : [], [5, 811])
  t.throws(() => decodeValue(Uint8Array.from([1, 3, ...ll, 2, 5, 1, 0xa6, 0x06, 1])), { instanceOf: DecodeError })
})

test('the decoder checks the expected shape and bucketing', (t) => {
  const bytes = encodeValue({ type: 'distribution', dist: distributionOf(L, [1000]) })
  t.notThrows(() => decodeValue(bytes, { shape: 'distribution', bucketing: L }))
  t.throws(() => decodeValue(bytes, { shape: 'scalar' }), { instanceOf: DecodeError, message: /where a scalar value was expected/ })
  t.throws(() => decodeValue(bytes, { bucketing: LQ }), { instanceOf: DecodeError, message: /bucketing llquantize\(10, 3, 11, 100\) where lquantize/ })
})

test('the encoder refuses values that break the invariants', (t) => {
  t.throws(() => encodeValue({ type: 'scalar', n: NaN }), { instanceOf: RangeError })
  t.throws(() => encodeValue({ type: 'scalar', n: Infinity }), { instanceOf: RangeError })
  t.throws(() => encodeValue({ type: 'decomposition', keys: new Map([[OTHER_KEY, 1]]), folded: 0 }), { instanceOf: RangeError })
  t.throws(() => encodeValue({ type: 'decomposition', keys: new Map([['a', 1]]), folded: 2 }), { instanceOf: RangeError })
  t.throws(() => encodeValue({ type: 'decomposition', keys: new Map([['\uD800x', 1]]), folded: 0 }), { instanceOf: InvalidFieldError })
  t.throws(() => encodeValue({ type: 'decomposed-distribution', bucketing: L, keys: new Map([['a', distributionOf(LQ, [1])]]), folded: 0 }), { instanceOf: RangeError })
})

const ll = [1, 10, 3, 11, 100] // the bucketing bytes of llquantize(10, 3, 11, 100)

/** Malformed inputs, each with the reason the decoder must give. */
const malformed: Array<[number[], RegExp, string]> = [
  [[], /truncated/, 'nothing'],
  [[2, 1, 0, 5], /unknown version 2/, 'version 2'],
  [[0, 1, 0, 5], /unknown version 0/, 'version 0'],
  [[1, 9, 0], /unknown value tag 9/, 'an unknown tag'],
  [[1, 0], /unknown value tag 0/, 'tag 0'],
  [[1], /truncated/, 'a version only'],
  [[1, 1, 0, 5, 0], /1 trailing bytes/, 'a trailing byte'],
  [[1, 1, 3, 5], /unknown number kind 3/, 'an unknown number kind'],
  [[1, 1, 0, 0x85], /truncated in a varint/, 'a varint cut short'],
  [[1, 1, 0, 0x85, 0x00], /shortest form/, 'a varint with a trailing zero byte'],
  [[1, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /longer than 8 bytes/, 'a 9-byte varint'],
  [[1, 1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10], /exceeds 2\^53 - 1/, 'a varint of 2^53'],
  [[1, 1, 1, 0], /negative zero/, 'negative zero as an integer'],
  [[1, 1, 2, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f], /integer encoded as a float/, 'the integer 1 as a float'],
  [[1, 1, 2, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f], /not finite/, 'NaN'],
  [[1, 1, 2, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f], /not finite/, 'Infinity'],
  [[1, 1, 2, 0, 0, 0], /truncated in a float/, 'a float cut short'],
  [[1, 2, 0, 2, 1, 0x62, 0, 1, 1, 0x61, 0, 1], /key "a" is repeated or out of order/, 'unsorted keys'],
  [[1, 2, 0, 2, 1, 0x61, 0, 1, 1, 0x61, 0, 1], /key "a" is repeated or out of order/, 'a repeated key'],
  [[1, 2, 0, 1, 2, 0xc3, 0x28, 0, 1], /not valid UTF-8/, 'a key of invalid UTF-8'],
  [[1, 2, 0, 1, 3, 0xed, 0xa0, 0x80, 0, 1], /not valid UTF-8/, 'a key with an encoded surrogate'],
  [[1, 2, 0, 1, 9, 0x61], /key of 9 bytes but only 1 left/, 'a key longer than the message'],
  [[1, 2, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0], /4294967295 keys but only 1 bytes left/, 'an absurd key count'],
  [[1, 2, 0, 1, 6, 0, 0x6f, 0x74, 0x68, 0x65, 0x72, 0, 1], /present exactly when keys were folded/, 'the other key without folded'],
  [[1, 2, 1, 1, 1, 0x61, 0, 1], /present exactly when keys were folded/, 'folded without the other key'],
  [[1, 3, 3], /unknown bucketing kind 3/, 'an unknown bucketing kind'],
  [[1, 3, 1, 10, 3, 11, 30, 0], /invalid bucketing: llquantize\(\) factor must evenly divide/, 'an invalid llquantize'],
  [[1, 3, 2, 0, 0, 1, 0], /invalid bucketing: lquantize\(\) step too large/, 'an lquantize without levels'],
  [[1, 3, 1, 2, 0, 60, 2, 0], /invalid bucketing: .*2\^53/, 'a bucketing beyond 2^53'],
  [[1, 3, ...ll, 1, 0xac, 0x06, 1], /bucket index 812 out of range/, 'the first index past the end'],
  [[1, 3, ...ll, 2, 5, 1, 0xa6, 0x06, 1], /bucket index 812 out of range/, 'a gap past the end'],
  [[1, 3, ...ll, 1, 5, 0], /zero count/, 'a zero count'],
  [[1, 3, ...ll, 2, 5, 1], /2 buckets need at least 4 bytes, 2 left/, 'fewer bytes than the bucket count needs'],
  [[1, 3, ...ll, 0xad, 0x06], /813 buckets, but llquantize\(10, 3, 11, 100\) has 812/, 'more buckets than the bucketing has'],
  [[1, 3, ...ll, 0xff, 0xff, 0xff, 0xff, 0x0f], /buckets, but/, 'an absurd bucket count'],
  [[1, 3, ...ll, 2, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 1], /total count exceeds 2\^53 - 1/, 'a total beyond 2^53 - 1'],
  [[1, 3, ...ll, 1, 5, 1, 7], /1 trailing bytes/, 'a distribution with a trailing byte'],
  [[1, 4, ...ll, 0, 1, 1, 0x61, 1, 0xac, 0x06, 1], /bucket index 812 out of range/, 'a keyed distribution with an index out of range'],
  [[1, 4, ...ll, 0, 0x80, 0x80, 0x04], /65536 keys but only 0 bytes left/, 'an absurd keyed-distribution key count'],
  [[1, 4, ...ll, 0, 2, 1, 0x61, 0, 1, 0x61, 0], /repeated or out of order/, 'a repeated distribution key']
]
for (const [bytes, reason, note] of malformed) {
  test(`the decoder rejects ${note}`, (t) => {
    const e = t.throws(() => decodeValue(Uint8Array.from(bytes)), { instanceOf: DecodeError })
    t.regex(e!.message, reason)
    t.is(e!.code, 'ECA_INVAL')
  })
}

test('the decoder rejects every truncation of a valid encoding', (t) => {
  holds(t, fc.property(arbValue, (v) => {
    const bytes = encodeValue(v)
    for (let n = 0; n < bytes.length; n++) {
      try {
        decodeValue(bytes.subarray(0, n))
        return false
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e
      }
    }
    return true
  }), { numRuns: 300 })
})

test('the decoder reads a view into a larger buffer', (t) => {
  const bytes = encodeValue({ type: 'scalar', n: 0.5 })
  const buffer = new Uint8Array(bytes.length + 7)
  buffer.set(bytes, 3)
  t.deepEqual(decodeValue(buffer.subarray(3, 3 + bytes.length)), { type: 'scalar', n: 0.5 })
})

test('fuzz: random bytes decode to a valid value or throw DecodeError, nothing else', (t) => {
  const header = fc.tuple(fc.constantFrom(1, 1, 1, 0, 2), fc.integer({ min: 0, max: 5 })).map(([v, tag]) => [v, tag])
  const arbBytes = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.tuple(header, fc.uint8Array({ maxLength: 64 })).map(([h, rest]) => Uint8Array.from([...h, ...rest])),
    fc.tuple(header, fc.constantFrom([1, 10, 3, 11, 100], [2, 199, 0xd0, 0x0f, 10]), fc.uint8Array({ maxLength: 64 }))
      .map(([h, b, rest]) => Uint8Array.from([...h, ...b, ...rest]))
  )
  holds(t, fc.property(arbBytes, decodesOrRejects), { numRuns: 20000 })
})

test('fuzz: mutated valid encodings decode to a valid value or throw DecodeError, nothing else', (t) => {
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() })
  )
  holds(t, fc.property(arbValue, fc.array(mutation, { minLength: 1, maxLength: 4 }), (v, mutations) => {
    const bytes = [...encodeValue(v)]
    for (const m of mutations) {
      const at = m.at % (bytes.length + 1)
      switch (m.op) {
        case 'set': if (at < bytes.length) bytes[at] = m.byte; break
        case 'flip': if (at < bytes.length) bytes[at] = bytes[at]! ^ (1 << m.bit); break
        case 'insert': bytes.splice(at, 0, m.byte); break
        case 'delete': bytes.splice(at, 1); break
        case 'truncate': bytes.length = at; break
      }
    }
    return decodesOrRejects(Uint8Array.from(bytes))
  }), { numRuns: 5000 })
})
