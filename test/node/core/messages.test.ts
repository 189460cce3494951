import test from 'ava'
import fc from 'fast-check'
import { DecodeError } from '../../../metad/index.js'
import {
  ALIVE_UPDATE_OVERHEAD, decodePeerMessage, decodeTopicMessage, encodedSize, encodePeerMessage, encodeTopicMessage, jsonByteLength, memberRecord, memberRecordBytes,
  MAX_MESSAGE_BYTES, MAX_UPDATES_PER_MESSAGE, type MemberRecord, type PeerMessage, type TopicMessage
} from '../../../node/core/messages.js'
import { clusterPeerId } from '../../../node/core/cluster.js'

const A = clusterPeerId(1)
const B = clusterPeerId(2)
const record: MemberRecord = { id: A, name: 'host-a', addresses: [`/ip4/10.0.0.1/tcp/4001/p2p/${A}`], meta: { backends: ['bpftrace', 'procfs'], cores: 8 }, incarnation: 3 }
const definition = '{"decomposition":["latency"],"enabled":true,"granularity":1,"idle-max":3600,"module":"syscall","persist-data":false,"predicate":{},"retention-time":600,"stat":"syscalls"}'
const version = { wall: 1_750_000_000_123, logical: 2, origin: A }

const peerSamples: PeerMessage[] = [
  { type: 'ping', seq: 1, updates: [] },
  { type: 'ping', seq: 2, updates: [{ type: 'alive', member: record }, { type: 'suspect', id: B, incarnation: 0, from: A }, { type: 'dead', id: B, incarnation: 1, from: A }, { type: 'left', id: A, incarnation: 4 }] },
  { type: 'ping-req', seq: 3, target: B, updates: [] },
  { type: 'ack', seq: 4, updates: [{ type: 'alive', member: record }] },
  { type: 'nack', seq: 5 },
  { type: 'spread', updates: [{ type: 'dead', id: B, incarnation: 7, from: A }] },
  { type: 'spread', updates: [{ type: 'refute', id: B, incarnation: 8, card: 2 ** 53 - 1 }, { type: 'refute', id: A, incarnation: 1, card: 0 }] },
  { type: 'sync-root', set: 'members', hash: 123456789012345, count: 17 },
  { type: 'sync-buckets', set: 'definitions', hash: 0, count: 2, buckets: [[0, 1, 99], [255, 1, 2 ** 53 - 1]] },
  { type: 'sync-members', entries: [{ member: record, state: 'suspect' }], want: [1, 2, 200] },
  { type: 'sync-members', entries: [] },
  { type: 'sync-definitions', entries: [{ id: '0123456789abcdef', version, state: 'live', definition, crtime: 1_750_000_000_000 }, { id: 'fedcba9876543210', version, state: 'deleted' }], accessed: [['0123456789abcdef', 1_750_000_001_000]], want: [3] },
  { type: 'sync-definitions', entries: [], accessed: [] }
]
const topicSamples: TopicMessage[] = [
  { type: 'def-update', entries: [{ id: '0123456789abcdef', version, state: 'live', definition, crtime: 1 }] },
  { type: 'def-access', id: '0123456789abcdef', at: 1_750_000_000_000 }
]

function bytes (text: string): Uint8Array { return new TextEncoder().encode(text) }

for (const m of peerSamples) {
  test(`a ${m.type} message survives encoding and decoding (${JSON.stringify(m).length} chars)`, (t) => {
    const wire = encodePeerMessage(m)
    t.deepEqual(decodePeerMessage(wire), m)
    t.is(encodedSize(m), wire.byteLength)
  })
}
for (const m of topicSamples) {
  test(`a ${m.type} topic message survives encoding and decoding`, (t) => {
    const wire = encodeTopicMessage(m)
    t.deepEqual(decodeTopicMessage(wire), m)
    t.is(encodedSize(m), wire.byteLength)
  })
}

test('the wire form is JSON with the version first', (t) => {
  t.is(new TextDecoder().decode(encodePeerMessage({ type: 'nack', seq: 5 })), '{"v":1,"type":"nack","seq":5}')
})

test('jsonByteLength equals the UTF-8 length of JSON.stringify for any JSON value', (t) => {
  const result = fc.check(fc.property(fc.jsonValue(), (v) => jsonByteLength(v) === Buffer.byteLength(JSON.stringify(v))), { numRuns: 500 })
  t.false(result.failed, fc.defaultReportMessage(result))
  const strings = fc.check(fc.property(fc.string({ unit: 'binary' }), (s) => jsonByteLength(s) === Buffer.byteLength(JSON.stringify(s))), { numRuns: 500 })
  t.false(strings.failed, fc.defaultReportMessage(strings))
  t.is(jsonByteLength({ a: undefined, b: [undefined] }), Buffer.byteLength(JSON.stringify({ a: undefined, b: [undefined] })))
})

/** Cases the decoder must reject, each with a note: the raw JSON text (or bytes) and the reason. */
const rejected: Array<[string, string | Uint8Array]> = [
  ['empty input', ''],
  ['truncated JSON', '{"v":1,"type":"nack","seq":'],
  ['not UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
  ['a JSON array, not an object', '[1,2,3]'],
  ['null', 'null'],
  ['no version', '{"type":"nack","seq":1}'],
  ['a future version', '{"v":2,"type":"nack","seq":1}'],
  ['an unknown type', '{"v":1,"type":"hello"}'],
  ['a prototype-named type', '{"v":1,"type":"constructor"}'],
  ['a missing seq', '{"v":1,"type":"nack"}'],
  ['a fractional seq', '{"v":1,"type":"nack","seq":1.5}'],
  ['a negative seq', '{"v":1,"type":"nack","seq":-1}'],
  ['a seq beyond 2^53', '{"v":1,"type":"nack","seq":9007199254740993}'],
  ['a string seq', '{"v":1,"type":"nack","seq":"1"}'],
  ['an extra key', '{"v":1,"type":"nack","seq":1,"admin":true}'],
  ['a __proto__ key', '{"v":1,"type":"nack","seq":1,"__proto__":{"x":1}}'],
  ['updates not an array', '{"v":1,"type":"ping","seq":1,"updates":{}}'],
  ['an update of unknown type', '{"v":1,"type":"ping","seq":1,"updates":[{"type":"resurrect","id":"x"}]}'],
  ['an empty peer id', '{"v":1,"type":"ping-req","seq":1,"target":"","updates":[]}'],
  ['a peer id with a space', '{"v":1,"type":"ping-req","seq":1,"target":"a b","updates":[]}'],
  ['a peer id of 129 characters', `{"v":1,"type":"ping-req","seq":1,"target":"${'a'.repeat(129)}","updates":[]}`],
  ['a member with a control character in its name', `{"v":1,"type":"spread","updates":[{"type":"alive","member":{"id":"a","name":"x\\u0000","addresses":[],"meta":{},"incarnation":0}}]}`],
  ['a member with 17 addresses', `{"v":1,"type":"spread","updates":[{"type":"alive","member":{"id":"a","name":"x","addresses":${JSON.stringify(Array(17).fill('/ip4/1.2.3.4'))},"meta":{},"incarnation":0}}]}`],
  ['a member whose meta is an array', '{"v":1,"type":"spread","updates":[{"type":"alive","member":{"id":"a","name":"x","addresses":[],"meta":[],"incarnation":0}}]}'],
  ['a member whose meta is nested too deep', '{"v":1,"type":"spread","updates":[{"type":"alive","member":{"id":"a","name":"x","addresses":[],"meta":{"a":{"b":{"c":{"d":{"e":1}}}}},"incarnation":0}}]}'],
  ['a member whose meta is too large', `{"v":1,"type":"spread","updates":[{"type":"alive","member":{"id":"a","name":"x","addresses":[],"meta":{"k":"${'x'.repeat(1100)}"},"incarnation":0}}]}`],
  ['a member with a negative incarnation', '{"v":1,"type":"spread","updates":[{"type":"suspect","id":"a","incarnation":-1,"from":"b"}]}'],
  ['a refute whose card is not a fingerprint', '{"v":1,"type":"spread","updates":[{"type":"refute","id":"a","incarnation":1,"card":-1}]}'],
  ['a refute whose card is a string', '{"v":1,"type":"spread","updates":[{"type":"refute","id":"a","incarnation":1,"card":"x"}]}'],
  ['a refute carrying a member record', '{"v":1,"type":"spread","updates":[{"type":"refute","id":"a","incarnation":1,"card":5,"member":{}}]}'],
  ['too many updates', `{"v":1,"type":"spread","updates":[${Array(MAX_UPDATES_PER_MESSAGE + 1).fill('{"type":"left","id":"a","incarnation":0}').join(',')}]}`],
  ['a sync for an unknown set', '{"v":1,"type":"sync-root","set":"secrets","hash":0,"count":0}'],
  ['buckets out of order', '{"v":1,"type":"sync-buckets","set":"members","hash":0,"count":0,"buckets":[[5,1,1],[4,1,1]]}'],
  ['a bucket index of 256', '{"v":1,"type":"sync-buckets","set":"members","hash":0,"count":0,"buckets":[[256,1,1]]}'],
  ['a bucket with a zero count', '{"v":1,"type":"sync-buckets","set":"members","hash":0,"count":0,"buckets":[[1,0,1]]}'],
  ['a want list with a duplicate', '{"v":1,"type":"sync-members","entries":[],"want":[3,3]}'],
  ['a member entry in an unknown state', '{"v":1,"type":"sync-members","entries":[{"member":{"id":"a","name":"x","addresses":[],"meta":{},"incarnation":0},"state":"zombie"}]}'],
  ['a definition id that is not 16 hex digits', `{"v":1,"type":"sync-definitions","entries":[{"id":"../../etc","version":{"wall":1,"logical":0,"origin":"a"},"state":"deleted"}],"accessed":[]}`],
  ['an upper-case definition id', `{"v":1,"type":"sync-definitions","entries":[{"id":"0123456789ABCDEF","version":{"wall":1,"logical":0,"origin":"a"},"state":"deleted"}],"accessed":[]}`],
  ['a tombstone that carries a definition', `{"v":1,"type":"sync-definitions","entries":[{"id":"0123456789abcdef","version":{"wall":1,"logical":0,"origin":"a"},"state":"deleted","definition":"{}"}],"accessed":[]}`],
  ['a definition that is not JSON', `{"v":1,"type":"sync-definitions","entries":[{"id":"0123456789abcdef","version":{"wall":1,"logical":0,"origin":"a"},"state":"live","definition":"{oops","crtime":1}],"accessed":[]}`],
  ['a definition that is a JSON array', `{"v":1,"type":"sync-definitions","entries":[{"id":"0123456789abcdef","version":{"wall":1,"logical":0,"origin":"a"},"state":"live","definition":"[]","crtime":1}],"accessed":[]}`],
  ['a definition with a bad idle-max', `{"v":1,"type":"sync-definitions","entries":[{"id":"0123456789abcdef","version":{"wall":1,"logical":0,"origin":"a"},"state":"live","definition":"{\\"idle-max\\":-5}","crtime":1}],"accessed":[]}`],
  ['a definition without crtime', `{"v":1,"type":"sync-definitions","entries":[{"id":"0123456789abcdef","version":{"wall":1,"logical":0,"origin":"a"},"state":"live","definition":"{}"}],"accessed":[]}`],
  ['a version with a huge logical counter', `{"v":1,"type":"sync-definitions","entries":[{"id":"0123456789abcdef","version":{"wall":1,"logical":4294967296,"origin":"a"},"state":"deleted"}],"accessed":[]}`],
  ['an access pair of three items', '{"v":1,"type":"sync-definitions","entries":[],"accessed":[["0123456789abcdef",1,2]]}'],
  ['a topic message type on the peer channel', '{"v":1,"type":"def-access","id":"0123456789abcdef","at":1}']
]

for (const [note, input] of rejected) {
  test(`the peer decoder rejects ${note}`, (t) => {
    const error = t.throws(() => decodePeerMessage(typeof input === 'string' ? bytes(input) : input), { instanceOf: DecodeError })
    t.is(error?.code, 'ECA_INVAL')
  })
}

test('the topic decoder rejects an empty update, a peer message type and a bad access time', (t) => {
  for (const text of [
    '{"v":1,"type":"def-update","entries":[]}',
    '{"v":1,"type":"nack","seq":1}',
    '{"v":1,"type":"def-access","id":"0123456789abcdef","at":-1}',
    '{"v":1,"type":"def-access","id":"0123456789abcdef","at":1,"extra":0}'
  ]) t.throws(() => decodeTopicMessage(bytes(text)), { instanceOf: DecodeError }, text)
})

test('the decoder rejects a message over the size limit before parsing it', (t) => {
  const huge = bytes(`{"v":1,"type":"spread","updates":[],"pad":"${'x'.repeat(MAX_MESSAGE_BYTES)}"}`)
  const error = t.throws(() => decodePeerMessage(huge), { instanceOf: DecodeError })
  t.regex(error?.message ?? '', /more than 65536/)
})

test('the decoder survives deeply nested JSON', (t) => {
  const deep = bytes(`{"v":1,"type":"spread","updates":[{"type":"alive","member":{"id":"a","name":"x","addresses":[],"meta":{"k":${'['.repeat(30000)}${']'.repeat(30000)}},"incarnation":0}}]}`)
  t.true(deep.byteLength < MAX_MESSAGE_BYTES)
  t.throws(() => decodePeerMessage(deep), { instanceOf: DecodeError })
})

test('a decoded message never carries a key the sender smuggled in through __proto__', (t) => {
  const m = decodePeerMessage(bytes(`{"v":1,"type":"spread","updates":[{"type":"alive","member":{"id":"a","name":"x","addresses":[],"meta":{"__proto__":{"polluted":true}},"incarnation":0}}]}`))
  t.is(({} as Record<string, unknown>).polluted, undefined)
  t.is(m.type, 'spread')
})

test('fuzz: arbitrary bytes decode to a message or a DecodeError, never anything else', (t) => {
  const result = fc.check(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
    for (const decode of [decodePeerMessage, decodeTopicMessage]) {
      try { decode(b) } catch (err) { if (!(err instanceof DecodeError)) return false }
    }
    return true
  }), { numRuns: 2000 })
  t.false(result.failed, fc.defaultReportMessage(result))
})

test('fuzz: arbitrary JSON values decode to a message or a DecodeError, never anything else', (t) => {
  const shaped = fc.oneof(
    fc.jsonValue(),
    fc.record({ v: fc.constant(1), type: fc.constantFrom('ping', 'ping-req', 'ack', 'nack', 'spread', 'sync-root', 'sync-buckets', 'sync-members', 'sync-definitions', 'def-update', 'def-access') }, { requiredKeys: [] })
      .chain((head) => fc.dictionary(fc.constantFrom('seq', 'updates', 'target', 'set', 'hash', 'count', 'buckets', 'entries', 'want', 'accessed', 'id', 'at'), fc.jsonValue()).map((rest) => ({ ...rest, ...head })))
  )
  const result = fc.check(fc.property(shaped, (value) => {
    const b = bytes(JSON.stringify(value))
    for (const decode of [decodePeerMessage, decodeTopicMessage]) {
      try { decode(b) } catch (err) { if (!(err instanceof DecodeError)) return false }
    }
    return true
  }), { numRuns: 3000 })
  t.false(result.failed, fc.defaultReportMessage(result))
})

test('fuzz: a valid message truncated or with one byte changed is rejected or still well-formed', (t) => {
  const wires = [...peerSamples.map(encodePeerMessage)]
  const result = fc.check(fc.property(fc.integer({ min: 0, max: wires.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (k, pos, byte, truncate) => {
    const wire = wires[k] as Uint8Array
    const p = pos % wire.byteLength
    const mutated = truncate ? wire.slice(0, p) : Uint8Array.from(wire, (x, i) => (i === p ? byte : x))
    try {
      const m = decodePeerMessage(mutated)
      // Whatever got through must itself re-encode within the limits.
      return encodePeerMessage(m).byteLength <= MAX_MESSAGE_BYTES
    } catch (err) {
      return err instanceof DecodeError
    }
  }), { numRuns: 3000 })
  t.false(result.failed, fc.defaultReportMessage(result))
})

test('memberRecordBytes is the JSON length of any valid record', (t) => {
  const arbRecord = fc.record({
    id: fc.string({ minLength: 1, maxLength: 60, unit: fc.constantFrom(...'abcXYZ0189-_'.split('')) }),
    name: fc.string({ maxLength: 40, unit: 'binary' }),
    addresses: fc.array(fc.string({ minLength: 1, maxLength: 50 }), { maxLength: 4 }),
    meta: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 3 }))),
    incarnation: fc.nat()
  })
  const result = fc.check(fc.property(arbRecord, (r) => memberRecordBytes(r) === Buffer.byteLength(JSON.stringify(r)) &&
    memberRecordBytes(r) + ALIVE_UPDATE_OVERHEAD === Buffer.byteLength(JSON.stringify({ type: 'alive', member: r }))), { numRuns: 500 })
  t.false(result.failed, fc.defaultReportMessage(result))
})

test('a local card is turned into a record with exactly the record keys, or refused if peers would refuse it', (t) => {
  const card = { id: A, name: 'host', addresses: ['/ip4/1.2.3.4/tcp/1'], meta: { backends: ['procfs'] }, secret: 'not for the wire' }
  const r = memberRecord(card, 2)
  t.deepEqual(Object.keys(r), ['id', 'name', 'addresses', 'meta', 'incarnation'])
  t.is(r.incarnation, 2)
  t.throws(() => memberRecord({ ...card, meta: { pad: 'x'.repeat(2000) } }, 0), { instanceOf: DecodeError })
  t.throws(() => memberRecord({ ...card, addresses: ['has\nnewline'] }, 0), { instanceOf: DecodeError })
})
