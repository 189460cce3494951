/**
 * The point log's on-disk format: how a file header and a record are laid out, how they are
 * encoded, and how a file read back from disk is scanned into its longest valid prefix.
 * No I/O here: the store (point-log.ts) reads and writes, this module only turns bytes into
 * records and back, so every rule below is testable on a byte array.
 *
 * THEORY. A point log is one append-only file per instrumentation:
 *
 *     header  magic "HMPL" | u16 format version | u16 flags (0) | u32 n | id (n bytes, UTF-16LE)
 *             | u32 CRC-32 of everything before it
 *     record  u32 CRC-32 of the rest of the record | u32 kind << 24 | payload length
 *             | u64 second | payload
 *
 * All integers are little-endian. A record's CRC covers its kind, length, second and payload,
 * so a region of zeros (a file extended but never written, as a crash can leave it) fails the
 * check: the CRC-32 of twelve or more zero bytes is not zero. Two kinds of record exist: a
 * point (the newest point record for a second is the live one) and a floor (every point record
 * of an earlier second is dead: retention), so pruning survives a restart without rewriting.
 *
 * Scanning stops at the first record that does not check out; everything before it is the valid
 * prefix. A record cut short by the end of the file is a torn tail (a crash mid-append: the
 * expected damage, truncated away); a complete record that fails its CRC or carries an
 * impossible field is corruption (reported; the store keeps the rest aside). The id is kept in
 * the header in UTF-16LE, which round-trips any JavaScript string, so the store can check that
 * a file sits under the name its id maps to (file-name.ts).
 */
import { crc32 } from 'node:zlib'
import { DecodeError } from '../../metad/index.js'

/** The file's first four bytes, "HMPL" (heatmesh point log). */
export const POINT_LOG_MAGIC = Uint8Array.of(0x48, 0x4d, 0x50, 0x4c)

/** The format version this code writes and reads; a file of any other version is left alone. */
export const POINT_LOG_VERSION = 1

/** Bytes of a record before its payload: CRC, kind and length, second. */
export const RECORD_HEADER_BYTES = 16

/**
 * Largest record, header included: 16 MiB - 1, so that a record's size fits in 24 bits (the
 * store packs offset and size into one number) and a corrupted length cannot ask for gigabytes.
 */
export const MAX_RECORD_BYTES = 2 ** 24 - 1

/** Largest payload of a point record. */
export const MAX_PAYLOAD_BYTES = MAX_RECORD_BYTES - RECORD_HEADER_BYTES

/** Longest instrumentation id, in UTF-16 code units (heatmesh's ids are 16 hex digits). */
export const MAX_ID_LENGTH = 4096

/** Latest second a record can carry: the seconds are JavaScript safe integers. */
const SECOND_HIGH_MAX = Math.floor(Number.MAX_SAFE_INTEGER / 2 ** 32)

/** What a record says. */
export type RecordKind = typeof RECORD_POINT | typeof RECORD_FLOOR
/** A record holding the payload of one point, for its second. */
export const RECORD_POINT = 0
/** A record saying that every point of a second before its own is dead (retention). */
export const RECORD_FLOOR = 1

/** Encodes the header of the log of instrumentation `id`. */
export function encodeHeader (id: string): Buffer {
  const idBytes = Buffer.from(id, 'utf16le')
  const header = Buffer.alloc(16 + idBytes.length)
  header.set(POINT_LOG_MAGIC, 0)
  header.writeUInt16LE(POINT_LOG_VERSION, 4)
  header.writeUInt16LE(0, 6)
  header.writeUInt32LE(idBytes.length, 8)
  idBytes.copy(header, 12)
  header.writeUInt32LE(crc32(header.subarray(0, 12 + idBytes.length)), 12 + idBytes.length)
  return header
}

/** A decoded header: the instrumentation's id and where the first record starts. */
export interface LogHeader {
  readonly id: string
  readonly length: number
}

/**
 * Decodes a file's header. Throws DecodeError (naming `what`) when the magic or the version is
 * not ours, the header is cut short, or its CRC does not match; never anything else.
 */
export function decodeHeader (bytes: Uint8Array, what: string): LogHeader {
  const b = asBuffer(bytes)
  if (b.length < 4 || !POINT_LOG_MAGIC.every((x, i) => b[i] === x)) throw new DecodeError(what, 'unknown magic: not a heatmesh point log')
  if (b.length < 12) throw new DecodeError(what, 'header cut short')
  const version = b.readUInt16LE(4)
  if (version !== POINT_LOG_VERSION) throw new DecodeError(what, `unsupported format version ${version} (this heatmesh reads ${POINT_LOG_VERSION})`)
  const flags = b.readUInt16LE(6)
  if (flags !== 0) throw new DecodeError(what, `unknown header flags 0x${flags.toString(16)}`)
  const n = b.readUInt32LE(8)
  if (n % 2 !== 0 || n > 2 * MAX_ID_LENGTH) throw new DecodeError(what, `impossible id length ${n}`)
  if (b.length < 16 + n) throw new DecodeError(what, 'header cut short')
  if (b.readUInt32LE(12 + n) !== crc32(b.subarray(0, 12 + n))) throw new DecodeError(what, 'header CRC mismatch')
  return { id: b.toString('utf16le', 12, 12 + n), length: 16 + n }
}

/** Bytes a point record with a payload of `payloadLength` bytes takes on disk. */
export function recordSize (payloadLength: number): number {
  return RECORD_HEADER_BYTES + payloadLength
}

/**
 * Encodes a record into `target` at `at` and returns its size. The caller has checked the
 * arguments: `second` a non-negative safe integer, the payload at most MAX_PAYLOAD_BYTES, and
 * a floor record without payload.
 */
export function encodeRecordInto (target: Buffer, at: number, kind: RecordKind, second: number, payload: Uint8Array): number {
  const size = RECORD_HEADER_BYTES + payload.length
  target.writeUInt32LE(((kind << 24) | payload.length) >>> 0, at + 4)
  const high = Math.floor(second / 2 ** 32)
  target.writeUInt32LE(second - high * 2 ** 32, at + 8)
  target.writeUInt32LE(high, at + 12)
  target.set(payload, at + RECORD_HEADER_BYTES)
  target.writeUInt32LE(crc32(target.subarray(at + 4, at + size)), at)
  return size
}

/** How a scan ended before the end of the bytes. */
export interface LogDamage {
  /** `torn`: the last record is cut short (a crash mid-append); `corrupt`: a complete record is wrong. */
  readonly kind: 'torn' | 'corrupt'
  /** Where the first bad record starts (= the end of the valid prefix). */
  readonly offset: number
  readonly reason: string
}

/** Result of {@link scanRecords}. */
export interface LogScan {
  /** End of the valid prefix: the offset just past the last good record. */
  readonly end: number
  /** Why the scan stopped short of the end of the bytes, if it did. */
  readonly damage: LogDamage | undefined
}

/**
 * Walks the records of a log from `start` (the end of its header), calling `visit` for each
 * good one in file order, and stops at the first that is not good. Never throws on bad bytes:
 * the damage is part of the result.
 */
export function scanRecords (
  bytes: Uint8Array,
  start: number,
  visit: (kind: RecordKind, second: number, offset: number, size: number) => void
): LogScan {
  const b = asBuffer(bytes)
  let at = start
  while (at < b.length) {
    const left = b.length - at
    if (left < RECORD_HEADER_BYTES) return { end: at, damage: { kind: 'torn', offset: at, reason: `partial record header (${left} of ${RECORD_HEADER_BYTES} bytes)` } }
    const word = b.readUInt32LE(at + 4)
    const kind = word >>> 24
    const length = word & 0xffffff
    if (kind !== RECORD_POINT && kind !== RECORD_FLOOR) return { end: at, damage: { kind: 'corrupt', offset: at, reason: `unknown record kind ${kind}` } }
    if (length > MAX_PAYLOAD_BYTES) return { end: at, damage: { kind: 'corrupt', offset: at, reason: `impossible payload length ${length}` } }
    const size = RECORD_HEADER_BYTES + length
    if (size > left) return { end: at, damage: { kind: 'torn', offset: at, reason: `partial record (${left} of ${size} bytes)` } }
    if (b.readUInt32LE(at) !== crc32(b.subarray(at + 4, at + size))) return { end: at, damage: { kind: 'corrupt', offset: at, reason: 'record CRC mismatch' } }
    const high = b.readUInt32LE(at + 12)
    if (high > SECOND_HIGH_MAX) return { end: at, damage: { kind: 'corrupt', offset: at, reason: 'second beyond the safe integers' } }
    if (kind === RECORD_FLOOR && length !== 0) return { end: at, damage: { kind: 'corrupt', offset: at, reason: 'floor record with a payload' } }
    visit(kind as RecordKind, high * 2 ** 32 + b.readUInt32LE(at + 8), at, size)
    at += size
  }
  return { end: at, damage: undefined }
}

/** A Buffer view of the same memory (no copy), for its little-endian readers. */
function asBuffer (bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
