/**
 * The byte primitives of the merge tree's wire format: a growing writer and a strict reader of
 * bytes, unsigned varints (LEB128, at most 8 bytes, shortest form, <= 2^53 - 1), length-prefixed
 * byte strings and bounded ASCII strings. Every read failure is a FieldDecodeError naming the
 * field being read, so a rejected message says which of its fields was wrong.
 *
 * Shared by contributors.ts (contributor sets) and messages.ts (the messages): both write into
 * and read from one buffer, so neither owns the primitives.
 */
import { DecodeError } from '../../metad/index.js'

const MAX_SAFE = Number.MAX_SAFE_INTEGER

/**
 * Bytes from a peer do not decode; `field` names the offending field ("partial.second",
 * "history.points[3].value"). The name stays 'DecodeError' so code that branches on it (and
 * `instanceof DecodeError`) treats it like any other undecodable input.
 */
export class FieldDecodeError extends DecodeError {
  readonly field: string
  readonly reason: string
  constructor (field: string, reason: string) {
    super(`merge message field ${field}`, reason)
    this.name = 'DecodeError'
    this.field = field
    this.reason = reason
  }
}

/** Bytes ByteWriter.uv writes for `v` (a safe non-negative integer). */
export function uvLength (v: number): number {
  let n = 1
  while (v >= 0x80) { v = Math.floor(v / 0x80); n++ }
  return n
}

/** An append-only byte buffer that grows by doubling. */
export class ByteWriter {
  #bytes: Uint8Array
  #pos = 0

  constructor (initial = 256) {
    this.#bytes = new Uint8Array(initial)
  }

  /** Bytes written so far. */
  get length (): number { return this.#pos }

  #room (n: number): void {
    if (this.#pos + n <= this.#bytes.length) return
    let size = this.#bytes.length * 2
    while (size < this.#pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.#bytes.subarray(0, this.#pos))
    this.#bytes = next
  }

  /** One byte. */
  u8 (v: number): void {
    this.#room(1)
    this.#bytes[this.#pos++] = v
  }

  /** An unsigned varint; `v` must be a safe non-negative integer (a caller bug otherwise). */
  uv (v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`cannot encode ${v} as a varint`)
    this.#room(8)
    const b = this.#bytes
    let p = this.#pos
    while (v >= 0x80000000) { b[p++] = (v % 0x80) | 0x80; v = Math.floor(v / 0x80) }
    while (v >= 0x80) { b[p++] = (v & 0x7f) | 0x80; v >>>= 7 }
    b[p++] = v
    this.#pos = p
  }

  /** Raw bytes, unprefixed. */
  raw (v: Uint8Array): void {
    this.#room(v.length)
    this.#bytes.set(v, this.#pos)
    this.#pos += v.length
  }

  /** Length-prefixed bytes. */
  bytes (v: Uint8Array): void {
    this.uv(v.length)
    this.raw(v)
  }

  /** A length-prefixed ASCII string (the caller checked it is printable ASCII). */
  ascii (s: string): void {
    this.uv(s.length)
    this.#room(s.length)
    for (let i = 0; i < s.length; i++) this.#bytes[this.#pos++] = s.charCodeAt(i)
  }

  /** The bytes written (a view: the writer must not be used afterwards). */
  finish (): Uint8Array {
    return this.#bytes.subarray(0, this.#pos)
  }
}

/** A strict cursor over bytes from outside. Every method names the field it reads on failure. */
export class ByteReader {
  readonly #bytes: Uint8Array
  #pos = 0

  constructor (bytes: Uint8Array) {
    this.#bytes = bytes
  }

  /** Bytes not yet read. */
  get left (): number { return this.#bytes.length - this.#pos }

  /** Throws FieldDecodeError for `field`, with the position. */
  fail (field: string, reason: string): never {
    throw new FieldDecodeError(field, `${reason} (at byte ${this.#pos})`)
  }

  /** One byte. */
  u8 (field: string): number {
    if (this.#pos >= this.#bytes.length) this.fail(field, 'truncated')
    return this.#bytes[this.#pos++]!
  }

  /** A boolean byte: 0 or 1, nothing else. */
  bool (field: string): boolean {
    const v = this.u8(field)
    if (v > 1) this.fail(field, `boolean byte is ${v}, not 0 or 1`)
    return v === 1
  }

  /** An unsigned varint: shortest form, at most 8 bytes, <= 2^53 - 1. */
  uv (field: string): number {
    const b = this.#bytes
    let v = 0
    let mul = 1
    for (let i = 0; i < 8; i++) {
      if (this.#pos >= b.length) this.fail(field, 'truncated in a varint')
      const x = b[this.#pos++]!
      v += (x & 0x7f) * mul
      if (x < 0x80) {
        if (x === 0 && i > 0) this.fail(field, 'varint not in its shortest form')
        if (v > MAX_SAFE) this.fail(field, 'varint exceeds 2^53 - 1')
        return v
      }
      mul *= 0x80
    }
    return this.fail(field, 'varint longer than 8 bytes')
  }

  /** An unsigned varint no larger than `max`. */
  uvMax (field: string, max: number): number {
    const v = this.uv(field)
    if (v > max) this.fail(field, `${v} exceeds the limit ${max}`)
    return v
  }

  /** Length-prefixed bytes of at most `max` bytes (a view into the input). */
  bytes (field: string, max: number): Uint8Array {
    const n = this.uv(field)
    if (n > max) this.fail(field, `${n} bytes exceed the limit ${max}`)
    if (n > this.left) this.fail(field, `${n} bytes but only ${this.left} left`)
    const out = this.#bytes.subarray(this.#pos, this.#pos + n)
    this.#pos += n
    return out
  }

  /** A length-prefixed string of 1..max printable ASCII characters (0x21..0x7e). */
  ascii (field: string, max: number): string {
    const raw = this.bytes(field, max)
    if (raw.length === 0) this.fail(field, 'is empty')
    let s = ''
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i]!
      if (c < 0x21 || c > 0x7e) this.fail(field, `byte ${c} is not printable ASCII`)
      s += String.fromCharCode(c)
    }
    return s
  }

  /** Fails unless every byte was read. */
  end (field: string): void {
    if (this.left !== 0) this.fail(field, `${this.left} trailing bytes`)
  }
}

/** Whether `s` is 1..max printable ASCII characters (what ByteReader.ascii accepts). */
export function isPrintableAscii (s: string, max: number): boolean {
  if (s.length === 0 || s.length > max) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x21 || c > 0x7e) return false
  }
  return true
}
