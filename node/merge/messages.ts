/**
 * The merge tree's wire messages, their binary codec and its limits.
 *
 *   partial          child -> parent: a node's merged contribution for (id, second)
 *   replica          root -> replicas: everything the root merged into its ring, as it merges it
 *   history-request  a new holder -> the other holders: send me [from, to)
 *   history          the answer, in chunks; the last one says done
 *   query            any node -> a holder: the points of [from, to)
 *   query-reply      the answer, and whether the answering node is a holder in its own view
 *   ack              parent -> child: the answer to a partial that asked for one (the child
 *                    watches its parents: a silent one is routed around, merge-core.ts)
 *   ack-request      child -> a parent it routes around for silence: answer if you are there;
 *                    or one it no longer sends to that holds unacked partials (with the
 *                    number the child's next partial to it will carry: the tail it never got
 *                    is a gap too)
 *   nack             parent -> child: a partial refused here that another node may take (its
 *                    sender, a contributor or its definition is not known here yet): send it again
 *
 * FORMAT, version 1. uv is an unsigned LEB128 varint (shortest form, <= 2^53 - 1, at most 8
 * bytes); bytes = uv length, then the bytes; an id is 1..128 bytes of printable ASCII.
 *
 *   message          = version:u8 (= 1)  type:u8  body
 *   1 partial         id second:uv contributors flags:u8 (bit0 late, bit1 has value, bit2 asks
 *                     for an ack, bit3 resent, bit4 its first parent only went silent, bit5
 *                     has seq) [seq:uv] [value:bytes]
 *   2 replica         id second:uv contributors nsources:uv value:bytes
 *   3 history-request id from:uv to:uv
 *   4 history         id done:u8 n:uv point*n
 *   5 query           requestId:uv id from:uv to:uv
 *   6 query-reply     requestId:uv id holder:u8 n:uv point*n
 *   7 ack             [n:uv (from:uv to:uv)*n [upTo:uv]] (gaps in the child's partials:
 *                     [from, to), ascending, apart, at most MAX_GAPS; upTo: the number below
 *                     which the ask it answers covers)
 *   8 ack-request     [next:uv] (the sender's next partial number to this parent)
 *   9                 (unused: a copy of a resent piece the root held, until session 15)
 *   10 nack           id second:uv contributors (the refused partial's)
 *   point            = second:uv minreporting:uv nsources:uv flags:u8 (bit0 truncated,
 *                      bit1 contributors, bit2 seconds, bit3 pieces) [contributors] [n:uv
 *                      (reporting:uv has:u8 [contributors])*n] [n:uv (contributors
 *                      value:bytes)*n] value:bytes
 *                      (pieces: history of an open second, what the value sums, point-ring.ts)
 *   contributors     = see contributors.ts (count, then gaps)
 *   value            = metad's encodeValue bytes
 *
 * UNTRUSTED INPUT. decodeMergeMessage takes bytes from a peer and the receiver's expectation of
 * each instrumentation's values (decodeValue checks shape and bucketing). It throws
 * FieldDecodeError, and nothing else, naming the field at fault and saying whether the bytes are
 * malformed, name an instrumentation the receiver does not know, or carry a value of the wrong
 * shape; the core counts each kind apart. Every count is checked against the bytes left before
 * anything is allocated from it, and the whole message is at most MAX_MERGE_MESSAGE_BYTES.
 * Invariants a peer could break are checked too: a partial has a value exactly when it names
 * contributors, a replica names contributors, windows have from <= to, points come in
 * increasing order. Messages the core builds are valid by construction.
 */
import { DecodeError, decodeValue, encodedValueLength, encodeValue, type DecodeExpectation, type Value } from '../../metad/index.js'
import { contributorsLength, contributorsSizeBound, MAX_CONTRIBUTORS, readContributors, writeContributors, type ContributorSet } from './contributors.js'
import type { PointPiece, SecondCoverage, StoredPoint } from './point-ring.js'
import { ByteReader, ByteWriter, FieldDecodeError, isPrintableAscii, uvLength } from './wire.js'

/** The version byte this codec writes and the only one it reads. */
export const MERGE_WIRE_VERSION = 1
/** Largest encoded message. */
export const MAX_MERGE_MESSAGE_BYTES = 4 * 1024 * 1024
/** Longest instrumentation id, in bytes. */
export const MAX_ID_LENGTH = 128
/** Most points in one history or query-reply message. */
export const MAX_POINTS_PER_MESSAGE = 3600
/** Largest second (Unix seconds) a message may name: year 2514, far beyond any clock. */
export const MAX_SECOND = 2 ** 34
/** Largest granularity whose per-second coverage a point may carry (one day). */
export const MAX_SECONDS_PER_POINT = 86_400
/** Largest place in a child's sequence of partials to one parent. */
export const MAX_SEQ = 2 ** 53 - 1
/** Most gaps one ack names. */
export const MAX_GAPS = 64
/** Largest request id. */
export const MAX_REQUEST_ID = 2 ** 32 - 1

/** An instrumentation id (the definition id; printable ASCII). */
export type InstrumentationId = string

/** A node's merged contribution for (id, second), child -> parent. */
export interface PartialMessage {
  readonly type: 'partial'
  readonly id: InstrumentationId
  readonly second: number
  /** Who this partial covers; empty when nobody below ran the instrumentation. */
  readonly contributors: ContributorSet
  /** The merged value; present exactly when contributors is not empty. */
  readonly value: Value | undefined
  /** Sent after the sender already forwarded this second (a late addition). */
  readonly late: boolean
  /** The sender asks for an `ack` (it watches whether its parent is still there). */
  readonly ack?: boolean
  /**
   * Re-sent after its first parent went silent or away unacked: it may duplicate a piece that
   * parent did forward, so it travels alone, never combined with others (merge-core.ts).
   */
  readonly resent?: boolean
  /**
   * Resent because its first parent went silent (an overdue ack), not because it is known gone:
   * that parent may be slow and still forward the piece, late and combined with others, so the
   * nodes on its way do not record this one, and that combined piece takes its place in the
   * root's ring (merge-core.ts).
   */
  readonly silentParent?: boolean
  /**
   * How many partials the sender sent this parent before this one, since it began watching it
   * (0 starts a new sequence): the parent's ack says up to where none went missing.
   */
  readonly seq?: number
}

/** Parent -> child: the answer to a partial that asked for one, or to an ack-request. */
export interface AckMessage {
  readonly type: 'ack'
  /**
   * Gaps in the child's sequence (`seq`), each named once: numbers [from, to) that never
   * arrived while a later one did; the child sends those partials again.
   */
  readonly gaps?: ReadonlyArray<readonly [number, number]>
  /**
   * What it answers: the asking partial's number plus one, or the ack-request's `next`. A child
   * whose watch was dropped and started again (the membership's suspicion, refuted) may owe a
   * new ask when the answer to the old one comes: that answer must not confirm what was sent
   * since (a partial lost then was never sent again: 200 nodes, 40 % of attempts lost).
   */
  readonly upTo?: number
}

/**
 * Child -> a parent it routes around for silence (an ack brings it back), or one it no longer
 * sends to that holds partials it has not acked.
 */
export interface AckRequestMessage {
  readonly type: 'ack-request'
  /**
   * The number (PartialMessage.seq) the sender's next partial to this parent will carry: those
   * below it that never arrived are a gap, named in the ack.
   */
  readonly next?: number
}

/** Root -> replicas: one merge into the root's ring (a finalized second or a late addition). */
export interface ReplicaMessage {
  readonly type: 'replica'
  readonly id: InstrumentationId
  readonly second: number
  readonly contributors: ContributorSet
  readonly value: Value
  readonly nsources: number
}

/**
 * Parent -> child: the partial of (id, second) with these contributors was refused here, for a
 * reason another node may not have (its sender or a contributor is not a member here, or its
 * definition has not reached this node yet): the child sends it again (merge-core.ts).
 */
export interface NackMessage {
  readonly type: 'nack'
  readonly id: InstrumentationId
  readonly second: number
  readonly contributors: ContributorSet
}

/** A node that became a holder asks another holder for [from, to). */
export interface HistoryRequestMessage {
  readonly type: 'history-request'
  readonly id: InstrumentationId
  readonly from: number
  readonly to: number
}

/** One chunk of the answer to a history-request; `done` on the last. */
export interface HistoryMessage {
  readonly type: 'history'
  readonly id: InstrumentationId
  readonly points: readonly StoredPoint[]
  readonly done: boolean
}

/** Any node asks a holder for the points of [from, to). */
export interface QueryMessage {
  readonly type: 'query'
  readonly requestId: number
  readonly id: InstrumentationId
  readonly from: number
  readonly to: number
}

/** The answer to a query; `holder` says whether the answering node is a holder in its view. */
export interface QueryReplyMessage {
  readonly type: 'query-reply'
  readonly requestId: number
  readonly id: InstrumentationId
  readonly points: readonly StoredPoint[]
  readonly holder: boolean
}

/** Every merge-tree message, told apart by `type`. */
export type MergeMessage = PartialMessage | ReplicaMessage | HistoryRequestMessage | HistoryMessage | QueryMessage | QueryReplyMessage | AckMessage | AckRequestMessage | NackMessage

const TYPE_CODE: Record<MergeMessage['type'], number> = {
  partial: 1, replica: 2, 'history-request': 3, history: 4, query: 5, 'query-reply': 6, ack: 7, 'ack-request': 8, nack: 10
}

/** Why bytes from a peer were refused (FieldDecodeError.kind). */
export type DecodeFailure = 'malformed' | 'unknown-instrumentation' | 'wrong-shape'

/** What an undecodable message named: its type and id, and a partial's second and contributors. */
export interface DecodeSubject {
  readonly type: MergeMessage['type']
  readonly id: InstrumentationId
  readonly second?: number
  readonly contributors?: ContributorSet
}

/** FieldDecodeError with the kind of failure, for the core's drop counters. */
export class MergeDecodeError extends FieldDecodeError {
  readonly kind: DecodeFailure
  /** For unknown-instrumentation: what the message named (a partial's sender is answered with a nack). */
  readonly subject: DecodeSubject | undefined
  constructor (field: string, reason: string, kind: DecodeFailure, subject?: DecodeSubject) {
    super(field, reason)
    this.kind = kind
    this.subject = subject
  }
}

// ---- encoding ------------------------------------------------------------------------------------

function writeId (w: ByteWriter, id: string): void {
  if (!isPrintableAscii(id, MAX_ID_LENGTH)) throw new RangeError(`instrumentation id ${JSON.stringify(id)} is not 1..${MAX_ID_LENGTH} printable ASCII characters`)
  w.ascii(id)
}

function writePoint (w: ByteWriter, p: StoredPoint): void {
  w.uv(p.second)
  w.uv(p.minreporting)
  w.uv(p.nsources)
  w.u8((p.truncated === true ? 1 : 0) | (p.contributors !== undefined ? 2 : 0) | (p.seconds !== undefined ? 4 : 0) | (p.pieces !== undefined ? 8 : 0))
  if (p.contributors !== undefined) writeContributors(w, p.contributors)
  if (p.seconds !== undefined) {
    w.uv(p.seconds.length)
    for (const s of p.seconds) {
      w.uv(s.reporting)
      w.u8(s.contributors === undefined ? 0 : 1)
      if (s.contributors !== undefined) writeContributors(w, s.contributors)
    }
  }
  if (p.pieces !== undefined) {
    w.uv(p.pieces.length)
    for (const piece of p.pieces) { writeContributors(w, piece.contributors); w.bytes(encodeValue(piece.value)) }
  }
  w.bytes(encodeValue(p.value))
}

function writePoints (w: ByteWriter, points: readonly StoredPoint[]): void {
  if (points.length > MAX_POINTS_PER_MESSAGE) throw new RangeError(`${points.length} points exceed the limit ${MAX_POINTS_PER_MESSAGE}`)
  w.uv(points.length)
  for (const p of points) writePoint(w, p)
}

/**
 * encodeMergeMessage(m).byteLength, without encoding a partial or an ack (the simulator counts
 * the bytes of every message it carries: ~5 partials and ~1 ack per node per second).
 */
export function mergeMessageByteLength (m: MergeMessage): number {
  switch (m.type) {
    case 'partial': {
      let n = 2 + uvLength(m.id.length) + m.id.length + uvLength(m.second) + contributorsLength(m.contributors) + 1
      if (m.seq !== undefined) n += uvLength(m.seq)
      if (m.value !== undefined) {
        const v = encodedValueLength(m.value)
        n += uvLength(v) + v
      }
      return n
    }
    case 'ack': {
      if (m.gaps === undefined && m.upTo === undefined) return 2
      const gaps = m.gaps ?? []
      const n = gaps.reduce((n, [from, to]) => n + uvLength(from) + uvLength(to), 2 + uvLength(gaps.length))
      return m.upTo === undefined ? n : n + uvLength(m.upTo)
    }
    case 'ack-request':
      return m.next === undefined ? 2 : 2 + uvLength(m.next)
    default:
      return encodeMergeMessage(m).byteLength
  }
}

/**
 * The wire bytes of `m`.
 * @throws RangeError for a message that breaks the format's limits (a caller bug).
 */
export function encodeMergeMessage (m: MergeMessage): Uint8Array {
  const w = new ByteWriter(256)
  w.u8(MERGE_WIRE_VERSION)
  w.u8(TYPE_CODE[m.type])
  switch (m.type) {
    case 'partial':
      writeId(w, m.id); w.uv(m.second); writeContributors(w, m.contributors)
      w.u8((m.late ? 1 : 0) | (m.value !== undefined ? 2 : 0) | (m.ack === true ? 4 : 0) | (m.resent === true ? 8 : 0) | (m.silentParent === true ? 16 : 0) | (m.seq !== undefined ? 32 : 0))
      if (m.seq !== undefined) w.uv(m.seq)
      if (m.value !== undefined) w.bytes(encodeValue(m.value))
      break
    case 'replica':
      writeId(w, m.id); w.uv(m.second); writeContributors(w, m.contributors); w.uv(m.nsources); w.bytes(encodeValue(m.value))
      break
    case 'history-request':
      writeId(w, m.id); w.uv(m.from); w.uv(m.to)
      break
    case 'nack':
      writeId(w, m.id); w.uv(m.second); writeContributors(w, m.contributors)
      break
    case 'history':
      writeId(w, m.id); w.u8(m.done ? 1 : 0); writePoints(w, m.points)
      break
    case 'query':
      w.uv(m.requestId); writeId(w, m.id); w.uv(m.from); w.uv(m.to)
      break
    case 'query-reply':
      w.uv(m.requestId); writeId(w, m.id); w.u8(m.holder ? 1 : 0); writePoints(w, m.points)
      break
    case 'ack':
      if (m.gaps !== undefined || m.upTo !== undefined) {
        w.uv(m.gaps?.length ?? 0)
        for (const [from, to] of m.gaps ?? []) { w.uv(from); w.uv(to) }
      }
      if (m.upTo !== undefined) w.uv(m.upTo)
      break
    case 'ack-request':
      if (m.next !== undefined) w.uv(m.next)
      break
    default: {
      const never: never = m
      throw new RangeError(`unknown message ${JSON.stringify(never)}`)
    }
  }
  if (w.length > MAX_MERGE_MESSAGE_BYTES) throw new RangeError(`a ${m.type} message of ${w.length} bytes exceeds the limit ${MAX_MERGE_MESSAGE_BYTES}`)
  return w.finish()
}

/**
 * An upper bound of the bytes `p` takes in a message (8 bytes per contributor and per varint,
 * 11 per bucket), cheap enough to cut history into chunks without encoding it twice.
 */
export function pointSizeBound (p: StoredPoint): number {
  let n = 40
  if (p.contributors !== undefined) n += contributorsSizeBound(p.contributors)
  if (p.seconds !== undefined) for (const s of p.seconds) n += 10 + (s.contributors === undefined ? 0 : contributorsSizeBound(s.contributors))
  if (p.pieces !== undefined) for (const piece of p.pieces) n += 10 + contributorsSizeBound(piece.contributors) + valueSizeBound(piece.value)
  return n + valueSizeBound(p.value)
}

function valueSizeBound (v: Value): number {
  let n = 0
  switch (v.type) {
    case 'scalar': n += 12; break
    case 'distribution': n += 40 + 11 * v.dist.index.length; break
    case 'decomposition': for (const k of v.keys.keys()) n += 20 + 3 * k.length; break
    case 'decomposed-distribution': for (const [k, d] of v.keys) n += 20 + 3 * k.length + 11 * d.index.length; break
  }
  return n
}

// ---- decoding ------------------------------------------------------------------------------------

/** What the receiver expects of an instrumentation's values; undefined: it does not know the id. */
export type ExpectationLookup = (id: InstrumentationId) => DecodeExpectation | undefined

class MessageReader {
  readonly r: ByteReader
  readonly type: MergeMessage['type']
  readonly expectOf: ExpectationLookup
  constructor (bytes: Uint8Array, type: MergeMessage['type'], expectOf: ExpectationLookup) {
    this.r = new ByteReader(bytes)
    this.type = type
    this.expectOf = expectOf
  }

  f (field: string): string { return `${this.type}.${field}` }

  id (): string { return this.r.ascii(this.f('id'), MAX_ID_LENGTH) }

  second (field = 'second'): number { return this.r.uvMax(this.f(field), MAX_SECOND) }

  contributors (field = 'contributors'): ContributorSet { return readContributors(this.r, this.f(field)) }

  /**
   * The expectation for `id`, or a MergeDecodeError of kind unknown-instrumentation naming the
   * message (with a partial's second and contributors; built only then, not per message).
   */
  expectation (id: string, second?: number, contributors?: ContributorSet): DecodeExpectation {
    const e = this.expectOf(id)
    if (e === undefined) {
      const subject: DecodeSubject = second === undefined ? { type: this.type, id } : { type: this.type, id, second, contributors }
      throw new MergeDecodeError(this.f('id'), `unknown instrumentation ${id}`, 'unknown-instrumentation', subject)
    }
    return e
  }

  value (field: string, expect: DecodeExpectation): Value {
    const bytes = this.r.bytes(this.f(field), MAX_MERGE_MESSAGE_BYTES)
    try {
      return decodeValue(bytes, expect)
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err
      // Well-formed but of another shape or bucketing, or not a value at all? Only the rare
      // failure pays for the second decode.
      let wellFormed = true
      try { decodeValue(bytes) } catch { wellFormed = false }
      throw new MergeDecodeError(this.f(field), err.message, wellFormed ? 'wrong-shape' : 'malformed')
    }
  }

  points (expect: DecodeExpectation): StoredPoint[] {
    const r = this.r
    const n = r.uvMax(this.f('points'), MAX_POINTS_PER_MESSAGE)
    if (n * 6 > r.left) r.fail(this.f('points'), `${n} points need at least ${n * 6} bytes, ${r.left} left`)
    const out: StoredPoint[] = []
    let prev = -1
    for (let i = 0; i < n; i++) {
      const at = (field: string): string => `points[${i}].${field}`
      const second = this.second(at('second'))
      if (second <= prev) r.fail(this.f(at('second')), `${second} does not follow ${prev}: points must be in increasing order`)
      prev = second
      const minreporting = r.uvMax(this.f(at('minreporting')), MAX_CONTRIBUTORS)
      const nsources = r.uvMax(this.f(at('nsources')), MAX_CONTRIBUTORS)
      const flags = r.u8(this.f(at('flags')))
      if (flags > 15) r.fail(this.f(at('flags')), `unknown flags ${flags}`)
      const contributors = (flags & 2) !== 0 ? this.contributors(at('contributors')) : undefined
      let seconds: SecondCoverage[] | undefined
      if ((flags & 4) !== 0) {
        const ns = r.uvMax(this.f(at('seconds')), MAX_SECONDS_PER_POINT)
        if (ns * 2 > r.left) r.fail(this.f(at('seconds')), `${ns} seconds need at least ${ns * 2} bytes, ${r.left} left`)
        seconds = []
        for (let k = 0; k < ns; k++) {
          const reporting = r.uvMax(this.f(at(`seconds[${k}].reporting`)), MAX_CONTRIBUTORS)
          const has = r.bool(this.f(at(`seconds[${k}].flags`)))
          if (has) {
            const c = this.contributors(at(`seconds[${k}].contributors`))
            if (c.length !== reporting) r.fail(this.f(at(`seconds[${k}].reporting`)), `${reporting} but ${c.length} contributors`)
            seconds.push({ reporting, contributors: c })
          } else {
            seconds.push({ reporting })
          }
        }
      }
      if (contributors !== undefined && contributors.length !== minreporting) {
        r.fail(this.f(at('minreporting')), `${minreporting} but ${contributors.length} contributors`)
      }
      let pieces: PointPiece[] | undefined
      if ((flags & 8) !== 0) {
        // Whether they add up to the contributors is the ring's to check (point-ring.ts).
        const of = contributors ?? r.fail(this.f(at('pieces')), 'pieces without contributors')
        const np = r.uvMax(this.f(at('pieces')), of.length)
        if (np * 4 > r.left) r.fail(this.f(at('pieces')), `${np} pieces need at least ${np * 4} bytes, ${r.left} left`)
        pieces = []
        for (let k = 0; k < np; k++) pieces.push({ contributors: this.contributors(at(`pieces[${k}].contributors`)), value: this.value(at(`pieces[${k}].value`), expect) })
      }
      const value = this.value(at('value'), expect)
      out.push({
        second, value, minreporting, nsources,
        ...((flags & 1) !== 0 ? { truncated: true } : {}),
        ...(contributors !== undefined ? { contributors } : {}),
        ...(seconds !== undefined ? { seconds } : {}),
        ...(pieces !== undefined ? { pieces } : {})
      })
    }
    return out
  }

  window (): { from: number, to: number } {
    const from = this.second('from')
    const to = this.second('to')
    if (from > to) this.r.fail(this.f('to'), `window ends (${to}) before it starts (${from})`)
    return { from, to }
  }
}

const TYPE_OF_CODE: Array<MergeMessage['type'] | undefined> = [undefined, 'partial', 'replica', 'history-request', 'history', 'query', 'query-reply', 'ack', 'ack-request', undefined, 'nack']

/**
 * Decodes bytes from a peer into a message, validating every field (see the module header).
 * @param expectOf the receiver's expectation of each instrumentation's values.
 * @throws MergeDecodeError (a DecodeError) naming the field, with its kind; nothing else.
 */
export function decodeMergeMessage (bytes: Uint8Array, expectOf: ExpectationLookup): MergeMessage {
  try {
    return decode(bytes, expectOf)
  } catch (err) {
    if (err instanceof MergeDecodeError) throw err
    if (err instanceof FieldDecodeError) throw new MergeDecodeError(err.field, err.reason, 'malformed')
    // A bug in the decoder must not unwind the daemon either: report it as undecodable input.
    throw new MergeDecodeError('message', `decoder failure: ${err instanceof Error ? err.message : String(err)}`, 'malformed')
  }
}

function decode (bytes: Uint8Array, expectOf: ExpectationLookup): MergeMessage {
  if (bytes.length > MAX_MERGE_MESSAGE_BYTES) throw new MergeDecodeError('message', `${bytes.length} bytes exceed the limit ${MAX_MERGE_MESSAGE_BYTES}`, 'malformed')
  const head = new ByteReader(bytes)
  const version = head.u8('version')
  if (version !== MERGE_WIRE_VERSION) head.fail('version', `unknown version ${version} (this node reads ${MERGE_WIRE_VERSION})`)
  const code = head.u8('type')
  const type = TYPE_OF_CODE[code]
  if (type === undefined) return head.fail('type', `unknown message type ${code}`)
  const m = new MessageReader(bytes.subarray(2), type, expectOf)
  const r = m.r
  let out: MergeMessage
  switch (type) {
    case 'partial': {
      const id = m.id()
      const second = m.second()
      const contributors = m.contributors()
      const flags = r.u8(m.f('flags'))
      if (flags > 63) r.fail(m.f('flags'), `unknown flags ${flags}`)
      if ((flags & 24) === 16) r.fail(m.f('flags'), 'a silent parent on a partial not resent')
      const seq = (flags & 32) !== 0 ? r.uvMax(m.f('seq'), MAX_SEQ) : undefined
      const hasValue = (flags & 2) !== 0
      if (hasValue !== (contributors.length > 0)) r.fail(m.f('value'), hasValue ? 'a value without contributors' : 'contributors without a value')
      const value = hasValue ? m.value('value', m.expectation(id, second, contributors)) : undefined
      out = { type, id, second, contributors, value, late: (flags & 1) !== 0, ...((flags & 4) !== 0 ? { ack: true } : {}), ...((flags & 8) !== 0 ? { resent: true } : {}), ...((flags & 16) !== 0 ? { silentParent: true } : {}), ...(seq !== undefined ? { seq } : {}) }
      break
    }
    case 'replica': {
      const id = m.id()
      const second = m.second()
      const contributors = m.contributors()
      if (contributors.length === 0) r.fail(m.f('contributors'), 'a replica names at least one contributor')
      const nsources = r.uvMax(m.f('nsources'), MAX_CONTRIBUTORS)
      const value = m.value('value', m.expectation(id))
      out = { type, id, second, contributors, value, nsources }
      break
    }
    case 'history-request': {
      const id = m.id()
      out = { type, id, ...m.window() }
      break
    }
    case 'nack': {
      const id = m.id()
      const second = m.second()
      out = { type, id, second, contributors: m.contributors() }
      break
    }
    case 'history': {
      const id = m.id()
      const done = r.bool(m.f('done'))
      out = { type, id, points: m.points(m.expectation(id)), done }
      break
    }
    case 'query': {
      const requestId = r.uvMax(m.f('requestId'), MAX_REQUEST_ID)
      const id = m.id()
      out = { type, requestId, id, ...m.window() }
      break
    }
    case 'query-reply': {
      const requestId = r.uvMax(m.f('requestId'), MAX_REQUEST_ID)
      const id = m.id()
      const holder = r.bool(m.f('holder'))
      out = { type, requestId, id, points: m.points(m.expectation(id)), holder }
      break
    }
    case 'ack': {
      if (r.left === 0) { out = { type }; break }
      const n = r.uvMax(m.f('gaps'), MAX_GAPS)
      const gaps: Array<readonly [number, number]> = []
      for (let k = 0; k < n; k++) {
        const from = r.uvMax(m.f(`gaps[${k}].from`), MAX_SEQ)
        const to = r.uvMax(m.f(`gaps[${k}].to`), MAX_SEQ)
        if (to <= from) r.fail(m.f(`gaps[${k}].to`), `a gap [${from}, ${to}) that is empty`)
        if (k > 0 && from <= gaps[k - 1]![1]) r.fail(m.f(`gaps[${k}].from`), `gaps not ascending and apart ([${gaps[k - 1]![0]}, ${gaps[k - 1]![1]}) then [${from}, ${to}))`)
        gaps.push([from, to])
      }
      if (r.left === 0) { out = { type, gaps }; break }
      const upTo = r.uvMax(m.f('upTo'), MAX_SEQ)
      out = n === 0 ? { type, upTo } : { type, gaps, upTo }
      break
    }
    case 'ack-request':
      out = r.left === 0 ? { type } : { type, next: r.uvMax(m.f('next'), MAX_SEQ) }
      break
    default: {
      const never: never = type
      throw new Error(`unhandled type ${String(never)}`)
    }
  }
  r.end(m.f('end'))
  return out
}

