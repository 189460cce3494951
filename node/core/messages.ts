/**
 * The mesh's wire messages: what nodes say to each other point to point (membership probes and
 * gossip, anti-entropy) and on the `definitions` gossipsub topic; their size limits; a JSON codec
 * with a version; and the validating decoders that turn bytes from a peer into typed messages.
 *
 * THEORY. A message is a discriminated union on `type`. On the wire it is the UTF-8 JSON of the
 * message object with one more key, `"v": WIRE_VERSION`. JSON rather than a binary format: the
 * steady-state messages are a few dozen bytes either way, the bulk (member records, definitions)
 * is strings that a binary format would not shrink, and a peer's bytes can be read in a log.
 * The decoder is the only way bytes from outside become a message, and it is strict: every key
 * known, every string and array bounded, every number an integer in range, the whole message at
 * most MAX_MESSAGE_BYTES. Anything else is a DecodeError naming the offending path; the decoder
 * never throws anything else (a bug inside it surfaces as a DecodeError too, and the fuzz tests
 * would catch it). Messages built by the core itself are typed and bounded by construction.
 */
import { DecodeError } from '../../metad/index.js'
import { DIGEST_BUCKETS, hash53, type BucketSummary } from './digest.js'
import { HLC_LOGICAL_MAX } from './hlc.js'

// ---- limits ----------------------------------------------------------------------------------

/** The wire format's version; a message with another `v` is rejected. */
export const WIRE_VERSION = 1
/** Largest encoded message, in bytes (also the largest gossipsub message we publish). */
export const MAX_MESSAGE_BYTES = 64 * 1024
/** Longest peer id (libp2p's are 52 characters in base58). */
export const MAX_PEER_ID_LENGTH = 128
/** Longest member name (a hostname is at most 253). */
export const MAX_NAME_LENGTH = 255
/** Most addresses a member advertises, and the longest one. */
export const MAX_ADDRESSES = 16
export const MAX_ADDRESS_LENGTH = 256
/** Largest member `meta` record (backends, capabilities), as JSON bytes, and its deepest nesting. */
export const MAX_META_BYTES = 1024
export const MAX_META_DEPTH = 4
/** Most membership updates piggy-backed on one message. */
export const MAX_UPDATES_PER_MESSAGE = 64
/** Most member entries in one anti-entropy chunk. */
export const MAX_MEMBERS_PER_CHUNK = 256
/** Most definition entries in one anti-entropy chunk or one topic message. */
export const MAX_DEFINITIONS_PER_CHUNK = 64
/** Largest definition (canonical instrumentation JSON), in UTF-8 bytes. */
export const MAX_DEFINITION_BYTES = 16 * 1024
/** Largest idle-max a definition may carry, in seconds (CA's: one week). */
export const MAX_IDLE_MAX_SECONDS = 604800

// ---- vocabulary --------------------------------------------------------------------------------

/** A peer's id (libp2p's, as a string): opaque to the core, printable ASCII. */
export type PeerId = string

/** A mesh-wide instrumentation id: 64 random bits as 16 lowercase hex digits. */
export type DefinitionId = string

/** A JSON value as the core passes it through without reading it. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue }

/** A JSON object (a member's meta). */
export type JsonObject = { readonly [key: string]: JsonValue }

/** A member's card, as every node knows it: who, where, what it can measure, which incarnation. */
export interface MemberRecord {
  readonly id: PeerId
  /** Human name (the hostname by default). */
  readonly name: string
  /** Where the binding can reach it (multiaddrs; opaque to the core). */
  readonly addresses: readonly string[]
  /** Backends and capabilities, for the instrumentation layer; opaque and bounded. */
  readonly meta: JsonObject
  /** Bumped by the member itself to refute a suspicion or to change its card. */
  readonly incarnation: number
}

/** What a node believes of a member. */
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left'

/** A membership rumour, piggy-backed on probes and spread by gossip (SWIM's updates). */
export type MemberUpdate =
  | { readonly type: 'alive', readonly member: MemberRecord }
  /**
   * A refutation: alive@incarnation with the card the receiver already holds, if that card's
   * fingerprint (cardFingerprint) is `card`. A third of a full alive's bytes, for what a
   * suspicion's refutation (or any bump of an unchanged card) is.
   */
  | { readonly type: 'refute', readonly id: PeerId, readonly incarnation: number, readonly card: number }
  | { readonly type: 'suspect', readonly id: PeerId, readonly incarnation: number, readonly from: PeerId }
  | { readonly type: 'dead', readonly id: PeerId, readonly incarnation: number, readonly from: PeerId }
  | { readonly type: 'left', readonly id: PeerId, readonly incarnation: number }

/** One member as exchanged in anti-entropy: its card and the sender's belief. */
export interface MemberEntry {
  readonly member: MemberRecord
  readonly state: MemberState
}

/** The version of a definition entry: a hybrid logical timestamp and the peer that made it. */
export interface Version {
  readonly wall: number
  readonly logical: number
  readonly origin: PeerId
}

/** One entry of the replicated definition map: a definition, or the tombstone of a deleted one. */
export type DefinitionEntry =
  | {
    readonly id: DefinitionId
    readonly version: Version
    readonly state: 'live'
    /** Canonical instrumentation JSON (metad's canonicalInstrumentationJson), opaque but bounded. */
    readonly definition: string
    /** Creation time, ms since the epoch (CA's `crtime`). */
    readonly crtime: number
  }
  | { readonly id: DefinitionId, readonly version: Version, readonly state: 'deleted' }

/** Which replicated set an anti-entropy exchange is about. */
export type SyncSet = 'members' | 'definitions'

/** A message sent to one peer (over the binding's stream protocol). */
export type PeerMessage =
  /** SWIM probe: answer with an ack carrying the same seq. */
  | { readonly type: 'ping', readonly seq: number, readonly updates: readonly MemberUpdate[] }
  /** Indirect probe: ping `target` for me and relay its ack (or a nack) with my seq. */
  | { readonly type: 'ping-req', readonly seq: number, readonly target: PeerId, readonly updates: readonly MemberUpdate[] }
  | { readonly type: 'ack', readonly seq: number, readonly updates: readonly MemberUpdate[] }
  /** Lifeguard: the relay got no ack from the target in time (so the relay, at least, is alive). */
  | { readonly type: 'nack', readonly seq: number }
  /** A gossip round: membership updates with no probe attached. */
  | { readonly type: 'spread', readonly updates: readonly MemberUpdate[] }
  /** Anti-entropy, step 1: my digest's root. */
  | { readonly type: 'sync-root', readonly set: SyncSet, readonly hash: number, readonly count: number }
  /** Anti-entropy, step 2: my root and non-empty buckets (no buckets when the roots agree). */
  | { readonly type: 'sync-buckets', readonly set: SyncSet, readonly hash: number, readonly count: number, readonly buckets: readonly BucketSummary[] }
  /** Anti-entropy, steps 3-4 for members: entries of differing buckets; `want` asks for the peer's. */
  | { readonly type: 'sync-members', readonly entries: readonly MemberEntry[], readonly want?: readonly number[] }
  /**
   * Anti-entropy, steps 3-4 for definitions; `accessed` carries the sender's last-access times
   * ([id, ms]) of the live ones, for idle-max.
   */
  | {
    readonly type: 'sync-definitions'
    readonly entries: readonly DefinitionEntry[]
    readonly accessed: ReadonlyArray<readonly [DefinitionId, number]>
    readonly want?: readonly number[]
  }

/** The gossipsub topic the definition replica publishes on. */
export const DEFINITIONS_TOPIC = 'definitions'

/** A message published on the definitions topic. */
export type TopicMessage =
  /** New versions of entries (a create, update or delete). */
  | { readonly type: 'def-update', readonly entries: readonly DefinitionEntry[] }
  /** An instrumentation was accessed through the API at `at` (for idle-max). */
  | { readonly type: 'def-access', readonly id: DefinitionId, readonly at: number }

// ---- encoding -----------------------------------------------------------------------------------

const utf8Encoder = new TextEncoder()

/** The wire bytes of a peer message. */
export function encodePeerMessage (message: PeerMessage): Uint8Array {
  return utf8Encoder.encode(wireJson(message))
}

/** The wire bytes of a topic message. */
export function encodeTopicMessage (message: TopicMessage): Uint8Array {
  return utf8Encoder.encode(wireJson(message))
}

function wireJson (message: PeerMessage | TopicMessage): string {
  // `{"v":1,` + the message's own JSON without its opening brace: no copy of the object.
  return `{"v":${WIRE_VERSION},${JSON.stringify(message).slice(1)}`
}

/**
 * The exact size in bytes of a message's encoding, computed without building it (the simulator
 * counts bytes of messages it delivers as objects).
 */
export function encodedSize (message: PeerMessage | TopicMessage): number {
  return jsonByteLength(message) + `"v":${WIRE_VERSION},`.length
}

/**
 * The UTF-8 byte length of JSON.stringify(value) for plain data (objects, arrays, strings,
 * finite numbers, booleans, null; undefined members skipped as JSON.stringify skips them).
 */
export function jsonByteLength (value: unknown): number {
  switch (typeof value) {
    case 'string': return stringJsonBytes(value)
    case 'number': return Number.isFinite(value) ? String(value).length : 4
    case 'boolean': return value ? 4 : 5
    case 'object': {
      if (value === null) return 4
      if (Array.isArray(value)) {
        let n = 2 + Math.max(0, value.length - 1)
        for (const item of value) n += item === undefined || typeof item === 'function' ? 4 : jsonByteLength(item)
        return n
      }
      let n = 2
      let members = 0
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key]
        if (item === undefined || typeof item === 'function') continue
        n += stringJsonBytes(key) + 1 + jsonByteLength(item)
        members++
      }
      return n + Math.max(0, members - 1)
    }
    default: return 0
  }
}

/**
 * jsonByteLength of a member record, faster (records are the bulk of joins and push-pulls; key
 * order does not change a JSON text's length).
 */
export function memberRecordBytes (r: MemberRecord): number {
  let n = RECORD_OVERHEAD + stringJsonBytes(r.id) + stringJsonBytes(r.name) + jsonByteLength(r.meta) + String(r.incarnation).length
  for (const a of r.addresses) n += stringJsonBytes(a)
  return n + Math.max(0, r.addresses.length - 1)
}

const RECORD_OVERHEAD = '{"id":,"name":,"addresses":[],"meta":,"incarnation":}'.length

/** The fingerprints of cards already computed, by record (records are immutable and, in a node, interned). */
const fingerprints = new WeakMap<MemberRecord, number>()

/**
 * A 53-bit fingerprint of a record's card (name, addresses, meta; not the incarnation), which a
 * refute update names so that only a receiver holding that very card applies it.
 */
export function cardFingerprint (record: MemberRecord): number {
  let f = fingerprints.get(record)
  if (f === undefined) {
    f = hash53(JSON.stringify([record.name, record.addresses, record.meta]))
    fingerprints.set(record, f)
  }
  return f
}

/** Bytes an alive update adds around its record: `{"type":"alive","member":}`. */
export const ALIVE_UPDATE_OVERHEAD = '{"type":"alive","member":}'.length

function stringJsonBytes (s: string): number {
  let n = 2
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20) n += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6
    else if (c === 0x22 || c === 0x5c) n += 2
    else if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0
      if (d >= 0xdc00 && d <= 0xdfff) { n += 4; i++ } else n += 6 // lone surrogate: \udXXX
    } else if (c >= 0xdc00 && c <= 0xdfff) n += 6
    else n += 3
  }
  return n
}

// ---- decoding -----------------------------------------------------------------------------------

const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

/** Decodes and validates a peer message; throws DecodeError, and only DecodeError. */
export function decodePeerMessage (bytes: Uint8Array): PeerMessage {
  return decodeWith('peer message', bytes, readPeerMessage)
}

/** Decodes and validates a definitions-topic message; throws DecodeError, and only DecodeError. */
export function decodeTopicMessage (bytes: Uint8Array): TopicMessage {
  return decodeWith('topic message', bytes, readTopicMessage)
}

function decodeWith<T> (what: string, bytes: Uint8Array, read: (o: Obj) => T): T {
  try {
    if (!(bytes instanceof Uint8Array)) throw new DecodeError(what, 'not bytes')
    if (bytes.byteLength > MAX_MESSAGE_BYTES) throw new DecodeError(what, `${bytes.byteLength} bytes, more than ${MAX_MESSAGE_BYTES}`)
    let value: unknown
    try {
      value = JSON.parse(utf8Decoder.decode(bytes))
    } catch (err) {
      throw new DecodeError(what, `not UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`)
    }
    const o = new Obj(what, '', value)
    const v = o.field('v')
    if (v !== WIRE_VERSION) throw o.error('v', `unsupported wire version ${JSON.stringify(v) ?? 'none'}`)
    return read(o)
  } catch (err) {
    if (err instanceof DecodeError) throw err
    throw new DecodeError(what, `internal decoder error: ${err instanceof Error ? err.message : String(err)}`)
  }
}

function readPeerMessage (o: Obj): PeerMessage {
  const type = o.string('type', 32)
  switch (type) {
    case 'ping': o.only(['v', 'type', 'seq', 'updates']); return { type, seq: o.seq('seq'), updates: readUpdates(o) }
    case 'ping-req':
      o.only(['v', 'type', 'seq', 'target', 'updates'])
      return { type, seq: o.seq('seq'), target: o.peerId('target'), updates: readUpdates(o) }
    case 'ack': o.only(['v', 'type', 'seq', 'updates']); return { type, seq: o.seq('seq'), updates: readUpdates(o) }
    case 'nack': o.only(['v', 'type', 'seq']); return { type, seq: o.seq('seq') }
    case 'spread': o.only(['v', 'type', 'updates']); return { type, updates: readUpdates(o) }
    case 'sync-root':
      o.only(['v', 'type', 'set', 'hash', 'count'])
      return { type, set: readSet(o), hash: o.integer('hash', 0, Number.MAX_SAFE_INTEGER), count: o.integer('count', 0, 2 ** 32 - 1) }
    case 'sync-buckets': {
      o.only(['v', 'type', 'set', 'hash', 'count', 'buckets'])
      const set = readSet(o)
      const hash = o.integer('hash', 0, Number.MAX_SAFE_INTEGER)
      const count = o.integer('count', 0, 2 ** 32 - 1)
      let last = -1
      const buckets = o.array('buckets', DIGEST_BUCKETS).map((item, i): BucketSummary => {
        const path = `buckets[${i}]`
        if (!Array.isArray(item) || item.length !== 3) throw o.error(path, 'not an [index, count, hash] triple')
        const [index, n, h] = item as unknown[]
        if (!isInt(index, 0, DIGEST_BUCKETS - 1) || index <= last) throw o.error(path, 'bucket index out of range or not ascending')
        if (!isInt(n, 1, 2 ** 32 - 1)) throw o.error(path, 'bucket count out of range')
        if (!isInt(h, 0, Number.MAX_SAFE_INTEGER)) throw o.error(path, 'bucket hash out of range')
        last = index
        return [index, n, h]
      })
      return { type, set, hash, count, buckets }
    }
    case 'sync-members': {
      o.only(['v', 'type', 'entries', 'want'])
      const entries = o.array('entries', MAX_MEMBERS_PER_CHUNK).map((item, i) => readMemberEntry(o.child(`entries[${i}]`, item)))
      const want = readWant(o)
      return want === undefined ? { type, entries } : { type, entries, want }
    }
    case 'sync-definitions': {
      o.only(['v', 'type', 'entries', 'accessed', 'want'])
      const entries = o.array('entries', MAX_DEFINITIONS_PER_CHUNK).map((item, i) => readDefinitionEntry(o.child(`entries[${i}]`, item)))
      const accessed = o.array('accessed', MAX_DEFINITIONS_PER_CHUNK).map((item, i): readonly [DefinitionId, number] => {
        const path = `accessed[${i}]`
        if (!Array.isArray(item) || item.length !== 2) throw o.error(path, 'not an [id, time] pair')
        const [id, at] = item as unknown[]
        if (!isDefinitionId(id)) throw o.error(path, 'not a definition id')
        if (!isInt(at, 0, Number.MAX_SAFE_INTEGER)) throw o.error(path, 'time out of range')
        return [id, at]
      })
      const want = readWant(o)
      return want === undefined ? { type, entries, accessed } : { type, entries, accessed, want }
    }
    default: throw o.error('type', `unknown peer message type ${JSON.stringify(type)}`)
  }
}

function readTopicMessage (o: Obj): TopicMessage {
  const type = o.string('type', 32)
  switch (type) {
    case 'def-update': {
      o.only(['v', 'type', 'entries'])
      const entries = o.array('entries', MAX_DEFINITIONS_PER_CHUNK).map((item, i) => readDefinitionEntry(o.child(`entries[${i}]`, item)))
      if (entries.length === 0) throw o.error('entries', 'empty')
      return { type, entries }
    }
    case 'def-access': {
      o.only(['v', 'type', 'id', 'at'])
      const id = o.field('id')
      if (!isDefinitionId(id)) throw o.error('id', 'not a definition id')
      return { type, id, at: o.integer('at', 0, Number.MAX_SAFE_INTEGER) }
    }
    default: throw o.error('type', `unknown topic message type ${JSON.stringify(type)}`)
  }
}

function readSet (o: Obj): SyncSet {
  const set = o.field('set')
  if (set !== 'members' && set !== 'definitions') throw o.error('set', 'not "members" or "definitions"')
  return set
}

function readWant (o: Obj): number[] | undefined {
  if (o.field('want') === undefined) return undefined
  let last = -1
  return o.array('want', DIGEST_BUCKETS).map((b, i) => {
    if (!isInt(b, 0, DIGEST_BUCKETS - 1) || b <= last) throw o.error(`want[${i}]`, 'bucket index out of range or not ascending')
    last = b
    return b
  })
}

function readUpdates (o: Obj): MemberUpdate[] {
  return o.array('updates', MAX_UPDATES_PER_MESSAGE).map((item, i) => readUpdate(o.child(`updates[${i}]`, item)))
}

function readUpdate (o: Obj): MemberUpdate {
  const type = o.field('type')
  switch (type) {
    case 'alive': o.only(['type', 'member']); return { type, member: readMemberRecord(o.child('member', o.field('member'))) }
    case 'suspect':
    case 'dead':
      o.only(['type', 'id', 'incarnation', 'from'])
      return { type, id: o.peerId('id'), incarnation: o.incarnation('incarnation'), from: o.peerId('from') }
    case 'left': o.only(['type', 'id', 'incarnation']); return { type, id: o.peerId('id'), incarnation: o.incarnation('incarnation') }
    case 'refute':
      o.only(['type', 'id', 'incarnation', 'card'])
      return { type, id: o.peerId('id'), incarnation: o.incarnation('incarnation'), card: o.integer('card', 0, Number.MAX_SAFE_INTEGER) }
    default: throw o.error('type', 'not a membership update type')
  }
}

/**
 * A member record built from a local card, checked against the limits peers apply (so our own
 * announcements are never rejected) and with exactly the record's keys. Throws DecodeError
 * (ECA_INVAL) for a card a peer would refuse: a bug in the caller, not peer input.
 */
export function memberRecord (card: Omit<MemberRecord, 'incarnation'>, incarnation: number): MemberRecord {
  const record: MemberRecord = { id: card.id, name: card.name, addresses: [...card.addresses], meta: card.meta, incarnation }
  return readMemberRecord(new Obj('member card', '', JSON.parse(JSON.stringify(record))))
}

/** Validates a member record read from outside (a message, or persisted state). */
export function readMemberRecord (o: Obj): MemberRecord {
  o.only(['id', 'name', 'addresses', 'meta', 'incarnation'])
  const id = o.peerId('id')
  const name = o.string('name', MAX_NAME_LENGTH)
  if (/[\u0000-\u001f\u007f]/.test(name)) throw o.error('name', 'contains a control character')
  const addresses = o.array('addresses', MAX_ADDRESSES).map((a, i) => {
    if (typeof a !== 'string' || a.length === 0 || a.length > MAX_ADDRESS_LENGTH || !/^[\x20-\x7e]+$/.test(a)) {
      throw o.error(`addresses[${i}]`, `not a printable ASCII string of 1..${MAX_ADDRESS_LENGTH} characters`)
    }
    return a
  })
  const meta = o.field('meta')
  if (!isPlainObject(meta)) throw o.error('meta', 'not an object')
  const problem = jsonProblem(meta, MAX_META_DEPTH)
  if (problem !== undefined) throw o.error('meta', problem)
  if (jsonByteLength(meta) > MAX_META_BYTES) throw o.error('meta', `more than ${MAX_META_BYTES} bytes of JSON`)
  return { id, name, addresses, meta: meta as JsonObject, incarnation: o.incarnation('incarnation') }
}

function readMemberEntry (o: Obj): MemberEntry {
  o.only(['member', 'state'])
  const state = o.field('state')
  if (state !== 'alive' && state !== 'suspect' && state !== 'dead' && state !== 'left') throw o.error('state', 'not a member state')
  return { member: readMemberRecord(o.child('member', o.field('member'))), state }
}

/** Validates a definition entry read from outside (a message, or persisted state). */
export function readDefinitionEntry (o: Obj): DefinitionEntry {
  const id = o.field('id')
  if (!isDefinitionId(id)) throw o.error('id', 'not a definition id (16 lowercase hex digits)')
  const vo = o.child('version', o.field('version'))
  vo.only(['wall', 'logical', 'origin'])
  const version: Version = {
    wall: vo.integer('wall', 0, Number.MAX_SAFE_INTEGER),
    logical: vo.integer('logical', 0, HLC_LOGICAL_MAX),
    origin: vo.peerId('origin')
  }
  const state = o.field('state')
  if (state === 'deleted') {
    o.only(['id', 'version', 'state'])
    return { id, version, state }
  }
  if (state !== 'live') throw o.error('state', 'not "live" or "deleted"')
  o.only(['id', 'version', 'state', 'definition', 'crtime'])
  const definition = o.string('definition', MAX_DEFINITION_BYTES)
  if (utf8Encoder.encode(definition).byteLength > MAX_DEFINITION_BYTES) throw o.error('definition', `more than ${MAX_DEFINITION_BYTES} bytes`)
  const problem = definitionProblem(definition)
  if (problem !== undefined) throw o.error('definition', problem)
  return { id, version, state, definition, crtime: o.integer('crtime', 0, Number.MAX_SAFE_INTEGER) }
}

/**
 * Why `definition` is not acceptable as a replicated definition, or undefined: it must be a JSON
 * object, and its `idle-max`, which the replica reads for reaping, absent or an integer in
 * 0..MAX_IDLE_MAX_SECONDS. Everything else is the instrumentation layer's to validate.
 */
export function definitionProblem (definition: string): string | undefined {
  let value: unknown
  try {
    value = JSON.parse(definition)
  } catch {
    return 'not JSON'
  }
  if (!isPlainObject(value)) return 'not a JSON object'
  const idleMax = (value as Record<string, unknown>)['idle-max']
  if (idleMax !== undefined && !isInt(idleMax, 0, MAX_IDLE_MAX_SECONDS)) return `idle-max is not an integer in 0..${MAX_IDLE_MAX_SECONDS}`
  return undefined
}

/** The idle-max of a definition that passed definitionProblem, in seconds (0: never reaped). */
export function definitionIdleMax (definition: string): number {
  const idleMax = (JSON.parse(definition) as Record<string, unknown>)['idle-max']
  return typeof idleMax === 'number' ? idleMax : 0
}

// ---- validation helpers ---------------------------------------------------------------------------

/** Whether `x` is a definition id. */
export function isDefinitionId (x: unknown): x is DefinitionId {
  return typeof x === 'string' && /^[0-9a-f]{16}$/.test(x)
}

/** Whether `x` is a peer id: 1..MAX_PEER_ID_LENGTH visible ASCII characters. */
export function isPeerId (x: unknown): x is PeerId {
  return typeof x === 'string' && x.length > 0 && x.length <= MAX_PEER_ID_LENGTH && /^[\x21-\x7e]+$/.test(x)
}

function isInt (x: unknown, min: number, max: number): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= min && x <= max
}

function isPlainObject (x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** Why `value` is not plain JSON data nested at most `depth` deep, or undefined. */
function jsonProblem (value: unknown, depth: number): string | undefined {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return undefined
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'a number is not finite'
  if (typeof value !== 'object') return 'not JSON data'
  if (depth <= 0) return 'nested too deeply'
  const items = Array.isArray(value) ? value : Object.values(value)
  for (const item of items) {
    const problem = jsonProblem(item, depth - 1)
    if (problem !== undefined) return problem
  }
  return undefined
}

/**
 * A JSON object being validated, with the path that leads to it so errors say where. Exported
 * for the persisted-state reader, which validates the same entries.
 */
export class Obj {
  readonly #what: string
  readonly #path: string
  readonly #value: Record<string, unknown>

  constructor (what: string, path: string, value: unknown) {
    this.#what = what
    this.#path = path
    if (!isPlainObject(value)) throw new DecodeError(what, `${path === '' ? 'the message' : path}: not an object`)
    this.#value = value
  }

  /** A DecodeError about key `key` of this object. */
  error (key: string, reason: string): DecodeError {
    return new DecodeError(this.#what, `${this.#path === '' ? '' : `${this.#path}.`}${key}: ${reason}`)
  }

  /** The object under key `key`. */
  child (key: string, value: unknown): Obj {
    return new Obj(this.#what, this.#path === '' ? key : `${this.#path}.${key}`, value)
  }

  /** Rejects any key not in `keys`. */
  only (keys: readonly string[]): void {
    for (const key of Object.keys(this.#value)) {
      if (!keys.includes(key)) throw this.error(key.length > 40 ? `${key.slice(0, 40)}...` : key, 'unknown key')
    }
  }

  /** The raw value under `key` (own properties only). */
  field (key: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.#value, key) ? this.#value[key] : undefined
  }

  string (key: string, max: number): string {
    const s = this.field(key)
    if (typeof s !== 'string' || s.length > max) throw this.error(key, `not a string of at most ${max} characters`)
    return s
  }

  integer (key: string, min: number, max: number): number {
    const n = this.field(key)
    if (!isInt(n, min, max)) throw this.error(key, `not an integer in ${min}..${max}`)
    return n
  }

  seq (key: string): number {
    return this.integer(key, 0, Number.MAX_SAFE_INTEGER)
  }

  incarnation (key: string): number {
    return this.integer(key, 0, Number.MAX_SAFE_INTEGER)
  }

  peerId (key: string): PeerId {
    const id = this.field(key)
    if (!isPeerId(id)) throw this.error(key, `not a peer id (1..${MAX_PEER_ID_LENGTH} visible ASCII characters)`)
    return id
  }

  array (key: string, max: number): unknown[] {
    const a = this.field(key)
    if (!Array.isArray(a)) throw this.error(key, 'not an array')
    if (a.length > max) throw this.error(key, `more than ${max} items`)
    return a
  }
}
