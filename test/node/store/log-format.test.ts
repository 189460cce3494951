import test from 'ava'
import {
  decodeHeader, encodeHeader, encodeRecordInto, MAX_PAYLOAD_BYTES, RECORD_FLOOR, RECORD_HEADER_BYTES, RECORD_POINT, scanRecords,
  type RecordKind
} from '../../../node/store/log-format.js'

/** A log: header of `id`, then the given records. */
function log (id: string, records: Array<[RecordKind, number, Uint8Array]>): Buffer {
  const header = encodeHeader(id)
  const body = Buffer.alloc(records.reduce((n, [, , p]) => n + RECORD_HEADER_BYTES + p.length, 0))
  let at = 0
  for (const [kind, second, payload] of records) at += encodeRecordInto(body, at, kind, second, payload)
  return Buffer.concat([header, body])
}

function scan (bytes: Uint8Array): { records: Array<[RecordKind, number, number]>, end: number, damage: string | undefined } {
  const records: Array<[RecordKind, number, number]> = []
  const { length } = decodeHeader(bytes, 'test log')
  const result = scanRecords(bytes, length, (kind, second, _offset, size) => { records.push([kind, second, size]) })
  return { records, end: result.end, damage: result.damage === undefined ? undefined : `${result.damage.kind}: ${result.damage.reason}` }
}

test('a header round-trips any JavaScript string id, lone surrogates and NUL included', (t) => {
  for (const id of ['0123456789abcdef', '', 'a\u0000b', '\ud800x', '../x', 'é'.repeat(300)]) {
    const header = encodeHeader(id)
    t.deepEqual(decodeHeader(header, 'h'), { id, length: header.length })
  }
})

test('a header with an unknown magic is rejected as not a point log', (t) => {
  const header = encodeHeader('a')
  header[0] = 0x58
  t.throws(() => decodeHeader(header, 'h'), { name: 'DecodeError', message: /unknown magic/ })
  t.throws(() => decodeHeader(new Uint8Array(0), 'h'), { name: 'DecodeError', message: /unknown magic/ })
})

test('a header of another format version is rejected naming the version', (t) => {
  const header = encodeHeader('a')
  header.writeUInt16LE(2, 4)
  t.throws(() => decodeHeader(header, 'h'), { name: 'DecodeError', message: /unsupported format version 2/ })
})

test('a header whose id bytes were altered fails its CRC', (t) => {
  const header = encodeHeader('abcd')
  header[12] ^= 1
  t.throws(() => decodeHeader(header, 'h'), { name: 'DecodeError', message: /header CRC mismatch/ })
})

test('a header cut short is rejected, never read past its end', (t) => {
  const header = encodeHeader('abcd')
  t.throws(() => decodeHeader(header.subarray(0, header.length - 1), 'h'), { name: 'DecodeError', message: /cut short/ })
})

test('records round-trip with their kind, second and size, seconds up to the largest safe integer', (t) => {
  const bytes = log('a', [[RECORD_POINT, 5, Uint8Array.of(1, 2, 3)], [RECORD_FLOOR, 3, new Uint8Array(0)], [RECORD_POINT, Number.MAX_SAFE_INTEGER, new Uint8Array(0)]])
  t.deepEqual(scan(bytes), {
    records: [[RECORD_POINT, 5, 19], [RECORD_FLOOR, 3, 16], [RECORD_POINT, Number.MAX_SAFE_INTEGER, 16]],
    end: bytes.length,
    damage: undefined
  })
})

test('a record cut short by the end of the file is a torn tail ending the valid prefix', (t) => {
  const whole = log('a', [[RECORD_POINT, 1, Uint8Array.of(1)], [RECORD_POINT, 2, Uint8Array.of(2, 2, 2, 2)]])
  const firstEnd = whole.length - (RECORD_HEADER_BYTES + 4)
  for (const cut of [1, 4, RECORD_HEADER_BYTES + 3]) {
    const r = scan(whole.subarray(0, whole.length - cut))
    t.deepEqual(r.records, [[RECORD_POINT, 1, 17]])
    t.is(r.end, firstEnd)
    t.regex(r.damage ?? '', /^torn: partial record/)
  }
})

test('a payload bit flip fails the record CRC and ends the valid prefix as corruption', (t) => {
  const bytes = log('a', [[RECORD_POINT, 1, Uint8Array.of(1)], [RECORD_POINT, 2, Uint8Array.of(2)], [RECORD_POINT, 3, Uint8Array.of(3)]])
  bytes[bytes.length - 17 - 1] ^= 0x10 // the payload of second 2
  const r = scan(bytes)
  t.deepEqual(r.records, [[RECORD_POINT, 1, 17]])
  t.is(r.damage, 'corrupt: record CRC mismatch')
})

test('a run of zeros after the records (a file extended but never written) is not read as records', (t) => {
  const good = log('a', [[RECORD_POINT, 1, Uint8Array.of(9)]])
  const r = scan(Buffer.concat([good, Buffer.alloc(64)]))
  t.deepEqual(r.records, [[RECORD_POINT, 1, 17]])
  t.is(r.end, good.length)
  t.is(r.damage, 'corrupt: record CRC mismatch')
})

test('an impossible length or record kind is corruption, not a request for gigabytes', (t) => {
  const good = log('a', [[RECORD_POINT, 1, Uint8Array.of(9)]])
  const bad = Buffer.alloc(RECORD_HEADER_BYTES)
  bad.writeUInt32LE(MAX_PAYLOAD_BYTES + 1, 4)
  t.is(scan(Buffer.concat([good, bad])).damage, `corrupt: impossible payload length ${MAX_PAYLOAD_BYTES + 1}`)
  bad.writeUInt32LE((7 << 24) >>> 0, 4)
  t.is(scan(Buffer.concat([good, bad])).damage, 'corrupt: unknown record kind 7')
})
