/**
 * The wire form of a Value (metad/value.ts): compact bytes for partials between nodes.
 *
 * FORMAT, version 1. `uv` is an unsigned LEB128 varint of at most 8 bytes holding an integer
 * <= 2^53 - 1, in its shortest form; `zz` is zigzag over uv (for lquantize's signed bounds).
 *
 *   value        = version:u8 (= 1)  tag:u8  body
 *   tag 1  scalar                   num
 *   tag 2  decomposition            folded:uv  nkeys:uv  (key num)*nkeys
 *   tag 3  distribution             bucketing  dist
 *   tag 4  decomposed-distribution  bucketing  folded:uv  nkeys:uv  (key dist)*nkeys
 *   num          = 0 uv (integer >= 0) | 1 uv (integer -uv, uv >= 1) | 2 f64le (finite, not a safe integer)
 *   bucketing    = 1 base:uv low:uv high:uv nsteps:uv (llquantize) | 2 low:zz high:zz step:uv (lquantize)
 *   dist         = n:uv (gap:uv count:uv)*n     bucket index = previous index + 1 + gap (first: gap)
 *   key          = length:uv utf8-bytes         keys strictly increasing in UTF-16 code-unit order
 *
 * A latency partial of 2,000 events (about 240 buckets, small gaps and counts) takes about two
 * bytes a bucket: 485 bytes, against 4,011 for DDSketch's protobuf and 1,340 for HdrHistogram's
 * compressed form (bench/distributions.ts). Every value has exactly one encoding: the decoder accepts only what the encoder
 * writes (shortest varints, integers never as f64, sorted keys, gaps that make indices strictly
 * increasing, non-zero counts, OTHER_KEY present exactly when folded > 0), so
 * `encodeValue(decodeValue(bytes))` returns `bytes` for every input that decodes.
 *
 * UNTRUSTED INPUT. `decodeValue` takes bytes from peers: it rejects every malformed input with
 * DecodeError (truncated, trailing bytes, unknown version or tag, invalid bucketing, bucket index
 * out of range, zero or oversized counts, totals above 2^53 - 1, invalid UTF-8, repeated or
 * unsorted keys) and never throws anything else. Every length is checked against the bytes left
 * before anything is allocated from it, so a 10-byte message cannot ask for a gigabyte.
 */
import { DecodeError, InvalidFieldError } from './errors.js'
import { distributionFromBucketArrays, type Distribution } from './distribution.js'
import { bucketCount, describeBucketing, parseBucketing, sameBucketing, type Bucketing } from './quantize.js'
import { OTHER_KEY, type Value, type ValueShape } from './value.js'

/** The version byte this encoder writes and the only one the decoder reads. */
export const WIRE_VERSION = 1

const TAG: Record<ValueShape, number> = { scalar: 1, decomposition: 2, distribution: 3, 'decomposed-distribution': 4 }
const SHAPE_OF_TAG: Array<ValueShape | undefined> = [undefined, 'scalar', 'decomposition', 'distribution', 'decomposed-distribution']
const MAX_SAFE = Number.MAX_SAFE_INTEGER
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

const utf8 = new TextEncoder()
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

// ---- encoding ------------------------------------------------------------------------------

/** Bytes the unsigned LEB128 varint of `v` (a safe non-negative integer) takes. */
function varintLength (v: number): number {
  if (v < 0x80) return 1
  if (v < 0x4000) return 2
  if (v < 0x200000) return 3
  if (v < 0x10000000) return 4
  let n = 4
  v = Math.floor(v / 0x10000000)
  while (v >= 1) { n++; v = Math.floor(v / 0x80) }
  return n
}

class Writer {
  readonly bytes: Uint8Array
  pos = 0
  constructor (size: number) { this.bytes = new Uint8Array(size) }

  u8 (v: number): void { this.bytes[this.pos++] = v }

  uv (v: number): void {
    const b = this.bytes
    let p = this.pos
    while (v >= 0x80000000) { b[p++] = (v % 0x80) | 0x80; v = Math.floor(v / 0x80) }
    while (v >= 0x80) { b[p++] = (v & 0x7f) | 0x80; v >>>= 7 }
    b[p++] = v
    this.pos = p
  }

  f64 (v: number): void {
    new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).setFloat64(0, v, true)
    this.pos += 8
  }

  raw (v: Uint8Array): void { this.bytes.set(v, this.pos); this.pos += v.length }
}

function numLength (v: number): number {
  if (!Number.isFinite(v)) throw new RangeError(`cannot encode ${v}: values must be finite`)
  if (!Number.isSafeInteger(v)) return 9
  return 1 + varintLength(Math.abs(v))
}

function writeNum (w: Writer, v: number): void {
  if (!Number.isSafeInteger(v)) { w.u8(2); w.f64(v) } else if (v >= 0) { w.u8(0); w.uv(v) } else { w.u8(1); w.uv(-v) }
}

function zigzag (v: number): number { return v >= 0 ? 2 * v : -2 * v - 1 }
function unzigzag (v: number): number { return v % 2 === 0 ? v / 2 : -(v + 1) / 2 }

function bucketingLength (b: Bucketing): number {
  return b.kind === 'llquantize'
    ? 1 + varintLength(b.base) + varintLength(b.low) + varintLength(b.high) + varintLength(b.nsteps)
    : 1 + varintLength(zigzag(b.low)) + varintLength(zigzag(b.high)) + varintLength(b.step)
}

function writeBucketing (w: Writer, b: Bucketing): void {
  if (b.kind === 'llquantize') { w.u8(1); w.uv(b.base); w.uv(b.low); w.uv(b.high); w.uv(b.nsteps) } else { w.u8(2); w.uv(zigzag(b.low)); w.uv(zigzag(b.high)); w.uv(b.step) }
}

function distLength (d: Distribution): number {
  const { index, count } = d
  let n = varintLength(index.length)
  let prev = -1
  for (let k = 0; k < index.length; k++) {
    const i = index[k]!
    const gap = i - prev - 1
    const c = count[k]!
    n += (gap < 0x80 ? 1 : varintLength(gap)) + (c < 0x80 ? 1 : varintLength(c))
    prev = i
  }
  return n
}

function writeDist (w: Writer, d: Distribution): void {
  const { index, count } = d
  w.uv(index.length)
  const b = w.bytes
  let prev = -1
  for (let k = 0; k < index.length; k++) {
    const i = index[k]!
    const gap = i - prev - 1
    const c = count[k]!
    if (gap < 0x80) b[w.pos++] = gap
    else w.uv(gap)
    if (c < 0x80) b[w.pos++] = c
    else w.uv(c)
    prev = i
  }
}

function keyBytes (k: string): Uint8Array {
  if (LONE_SURROGATE.test(k)) throw new InvalidFieldError('key', k, 'is not well-formed Unicode (a lone surrogate cannot be sent as UTF-8)')
  return utf8.encode(k)
}

function checkFolded (v: { keys: ReadonlyMap<string, unknown>, folded: number }): void {
  if (!Number.isSafeInteger(v.folded) || v.folded < 0) throw new RangeError(`folded ${v.folded} is not a non-negative integer`)
  if (v.keys.has(OTHER_KEY) !== (v.folded > 0)) throw new RangeError('OTHER_KEY must be present exactly when folded > 0')
}

/**
 * The wire bytes of `v` (see the format above).
 * @throws RangeError for a value that breaks the Value invariants (a caller bug: non-finite
 *   numbers, OTHER_KEY without folded), InvalidFieldError for a key that is not well-formed Unicode.
 */
export function encodeValue (v: Value): Uint8Array {
  const w = new Writer(encodedValueLength(v))
  switch (v.type) {
    case 'scalar':
      w.u8(WIRE_VERSION); w.u8(TAG.scalar); writeNum(w, v.n)
      break
    case 'decomposition': {
      checkFolded(v)
      const keys = [...v.keys.keys()].sort()
      w.u8(WIRE_VERSION); w.u8(TAG.decomposition); w.uv(v.folded); w.uv(keys.length)
      for (const k of keys) { const raw = keyBytes(k); w.uv(raw.length); w.raw(raw); writeNum(w, v.keys.get(k)!) }
      break
    }
    case 'distribution':
      w.u8(WIRE_VERSION); w.u8(TAG.distribution); writeBucketing(w, v.dist.bucketing); writeDist(w, v.dist)
      break
    case 'decomposed-distribution': {
      checkFolded(v)
      const keys = [...v.keys.keys()].sort()
      w.u8(WIRE_VERSION); w.u8(TAG['decomposed-distribution']); writeBucketing(w, v.bucketing); w.uv(v.folded); w.uv(keys.length)
      for (const k of keys) {
        const d = v.keys.get(k)!
        if (!sameBucketing(d.bucketing, v.bucketing)) throw new RangeError(`key ${JSON.stringify(k)} has a distribution of another bucketing`)
        const raw = keyBytes(k)
        w.uv(raw.length); w.raw(raw); writeDist(w, d)
      }
      break
    }
  }
  return w.bytes
}

/** Bytes of `k` in UTF-8 (a lone surrogate counts as U+FFFD would; keyBytes refuses it when encoding). */
function utf8Length (k: string): number {
  let n = k.length
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) n += 1
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < k.length && (k.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 2; i++ } else n += 2
  }
  return n
}

/**
 * encodeValue(v).byteLength without encoding (the simulator counts the bytes of every value it
 * carries). It does not check what encodeValue checks: encodeValue throws for such a value.
 */
export function encodedValueLength (v: Value): number {
  switch (v.type) {
    case 'scalar': return 2 + numLength(v.n)
    case 'decomposition': {
      let size = 2 + varintLength(v.folded) + varintLength(v.keys.size)
      for (const [k, n] of v.keys) { const b = utf8Length(k); size += varintLength(b) + b + numLength(n) }
      return size
    }
    case 'distribution': return 2 + bucketingLength(v.dist.bucketing) + distLength(v.dist)
    case 'decomposed-distribution': {
      let size = 2 + bucketingLength(v.bucketing) + varintLength(v.folded) + varintLength(v.keys.size)
      for (const [k, d] of v.keys) { const b = utf8Length(k); size += varintLength(b) + b + distLength(d) }
      return size
    }
    default: {
      const never: never = v
      throw new RangeError(`unknown value ${String(never)}`)
    }
  }
}

// ---- decoding ------------------------------------------------------------------------------

class Reader {
  private readonly bytes: Uint8Array
  pos = 0
  constructor (bytes: Uint8Array) { this.bytes = bytes }

  get left (): number { return this.bytes.length - this.pos }

  fail (reason: string): never { throw new DecodeError('value', `${reason} (at byte ${this.pos})`) }

  u8 (): number {
    if (this.pos >= this.bytes.length) this.fail('truncated')
    return this.bytes[this.pos++]!
  }

  uv (): number {
    const b = this.bytes
    let v = 0
    let mul = 1
    for (let i = 0; i < 8; i++) {
      if (this.pos >= b.length) this.fail('truncated in a varint')
      const x = b[this.pos++]!
      v += (x & 0x7f) * mul
      if (x < 0x80) {
        if (x === 0 && i > 0) this.fail('varint not in its shortest form')
        if (v > MAX_SAFE) this.fail('varint exceeds 2^53 - 1')
        return v
      }
      mul *= 0x80
    }
    return this.fail('varint longer than 8 bytes')
  }

  f64 (): number {
    if (this.left < 8) this.fail('truncated in a float')
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).getFloat64(0, true)
    this.pos += 8
    return v
  }

  key (prev: string | undefined): string {
    const n = this.uv()
    if (n > this.left) this.fail(`key of ${n} bytes but only ${this.left} left`)
    let k: string
    try {
      k = utf8Strict.decode(this.bytes.subarray(this.pos, this.pos + n))
    } catch {
      return this.fail('key is not valid UTF-8')
    }
    this.pos += n
    if (prev !== undefined && !(prev < k)) this.fail(`key ${JSON.stringify(k)} is repeated or out of order`)
    return k
  }

  num (): number {
    const kind = this.u8()
    if (kind === 0) return this.uv()
    if (kind === 1) {
      const m = this.uv()
      if (m === 0) this.fail('negative zero integer')
      return -m
    }
    if (kind === 2) {
      const v = this.f64()
      if (!Number.isFinite(v)) this.fail('number is not finite')
      if (Number.isSafeInteger(v)) this.fail('integer encoded as a float')
      return v
    }
    return this.fail(`unknown number kind ${kind}`)
  }

  bucketing (): Bucketing {
    const kind = this.u8()
    let raw: unknown
    if (kind === 1) raw = { kind: 'llquantize', base: this.uv(), low: this.uv(), high: this.uv(), nsteps: this.uv() }
    else if (kind === 2) raw = { kind: 'lquantize', low: unzigzag(this.uv()), high: unzigzag(this.uv()), step: this.uv() }
    else return this.fail(`unknown bucketing kind ${kind}`)
    try {
      return parseBucketing(raw)
    } catch (e) {
      return this.fail(`invalid bucketing: ${e instanceof InvalidFieldError ? e.reason : String(e)}`)
    }
  }

  dist (bucketing: Bucketing, nbuckets: number): Distribution {
    const n = this.uv()
    if (n > nbuckets) this.fail(`${n} buckets, but ${describeBucketing(bucketing)} has ${nbuckets}`)
    if (2 * n > this.left) this.fail(`${n} buckets need at least ${2 * n} bytes, ${this.left} left`)
    const buffer = new ArrayBuffer(n * 12) // both arrays in one allocation, counts 8-byte aligned
    const count = new Float64Array(buffer, 0, n)
    const index = new Uint32Array(buffer, n * 8, n)
    const b = this.bytes
    let prev = -1
    let total = 0
    for (let k = 0; k < n; k++) {
      let gap: number
      if (this.pos < b.length && b[this.pos]! < 0x80) gap = b[this.pos++]!
      else gap = this.uv()
      const i = prev + 1 + gap
      if (i >= nbuckets) this.fail(`bucket index ${i} out of range (${describeBucketing(bucketing)} has ${nbuckets})`)
      let c: number
      if (this.pos < b.length && b[this.pos]! < 0x80) c = b[this.pos++]!
      else c = this.uv()
      if (c === 0) this.fail('bucket with a zero count')
      total += c
      if (total > MAX_SAFE) this.fail('total count exceeds 2^53 - 1')
      index[k] = i
      count[k] = c
      prev = i
    }
    return distributionFromBucketArrays(bucketing, index, count)
  }
}

/** What the receiver expects; a value of another shape or bucketing is rejected as DecodeError. */
export interface DecodeExpectation {
  readonly shape?: ValueShape
  readonly bucketing?: Bucketing
}

/**
 * Decodes wire bytes from outside into a Value, or throws DecodeError (and nothing else).
 * @param expect optional shape and bucketing the value must have.
 */
export function decodeValue (bytes: Uint8Array, expect: DecodeExpectation = {}): Value {
  const r = new Reader(bytes)
  const version = r.u8()
  if (version !== WIRE_VERSION) r.fail(`unknown version ${version} (this node reads version ${WIRE_VERSION})`)
  const tag = r.u8()
  const shape = SHAPE_OF_TAG[tag]
  if (shape === undefined) return r.fail(`unknown value tag ${tag}`)
  if (expect.shape !== undefined && expect.shape !== shape) r.fail(`a ${shape} value where a ${expect.shape} value was expected`)
  const checkBucketing = (b: Bucketing): Bucketing => {
    if (expect.bucketing !== undefined && !sameBucketing(b, expect.bucketing)) {
      r.fail(`bucketing ${describeBucketing(b)} where ${describeBucketing(expect.bucketing)} was expected`)
    }
    return b
  }
  let v: Value
  switch (shape) {
    case 'scalar':
      v = { type: 'scalar', n: r.num() }
      break
    case 'decomposition': {
      const folded = r.uv()
      const nkeys = r.uv()
      if (nkeys > r.left) r.fail(`${nkeys} keys but only ${r.left} bytes left`)
      const keys = new Map<string, number>()
      let prev: string | undefined
      for (let i = 0; i < nkeys; i++) {
        const k = r.key(prev)
        keys.set(k, r.num())
        prev = k
      }
      if (keys.has(OTHER_KEY) !== (folded > 0)) r.fail('the other key must be present exactly when keys were folded')
      v = { type: 'decomposition', keys, folded }
      break
    }
    case 'distribution': {
      const b = checkBucketing(r.bucketing())
      v = { type: 'distribution', dist: r.dist(b, bucketCount(b)) }
      break
    }
    case 'decomposed-distribution': {
      const b = checkBucketing(r.bucketing())
      const nbuckets = bucketCount(b)
      const folded = r.uv()
      const nkeys = r.uv()
      if (nkeys > r.left) r.fail(`${nkeys} keys but only ${r.left} bytes left`)
      const keys = new Map<string, Distribution>()
      let prev: string | undefined
      for (let i = 0; i < nkeys; i++) {
        const k = r.key(prev)
        keys.set(k, r.dist(b, nbuckets))
        prev = k
      }
      if (keys.has(OTHER_KEY) !== (folded > 0)) r.fail('the other key must be present exactly when keys were folded')
      v = { type: 'decomposed-distribution', bucketing: b, keys, folded }
      break
    }
  }
  if (r.left !== 0) r.fail(`${r.left} trailing bytes`)
  return v
}
