/**
 * Wire sizes of the mesh core's messages, which the simulator delivers as objects without
 * encoding them: the exact length of the encoding (encodedSize, the JSON codec of
 * node/core/messages.ts), computed from the message's parts with the sizes of member records
 * cached, because records are shared between messages and the bulk of every large one. A test
 * checks equality with encodedSize over the messages of a whole run.
 */
import {
  ALIVE_UPDATE_OVERHEAD, encodedSize, jsonByteLength, memberRecordBytes, type MemberRecord, type MemberUpdate, type PeerMessage,
  type TopicMessage
} from '../node/core/index.js'

/** `"v":1,` that the encoding adds to every message. */
const VERSION_BYTES = encodedSize({ type: 'nack', seq: 0 }) - jsonByteLength({ type: 'nack', seq: 0 })
const PING = jsonByteLength({ type: 'ping', seq: 0, updates: [] }) - 1
const ACK = jsonByteLength({ type: 'ack', seq: 0, updates: [] }) - 1
const PING_REQ = jsonByteLength({ type: 'ping-req', seq: 0, target: '', updates: [] }) - 1 - 2
const SPREAD = jsonByteLength({ type: 'spread', updates: [] })
const SYNC_MEMBERS = jsonByteLength({ type: 'sync-members', entries: [] })
/** The suspect, dead and left updates without their ids and incarnation. */
const SUSPECT = jsonByteLength({ type: 'suspect', id: '', incarnation: 0, from: '' }) - 5
const DEAD = jsonByteLength({ type: 'dead', id: '', incarnation: 0, from: '' }) - 5
const LEFT = jsonByteLength({ type: 'left', id: '', incarnation: 0 }) - 3
const REFUTE = jsonByteLength({ type: 'refute', id: '', incarnation: 0, card: 0 }) - 4
/** `{"member":,"state":""}` around a record and its state name. */
const ENTRY = jsonByteLength({ member: null, state: '' }) - 4

/** Exact encoded sizes of core messages, with a per-record cache. */
export class MessageSizer {
  readonly #records = new WeakMap<MemberRecord, number>()
  /** JSON lengths of peer ids (strings), which recur in every suspect and dead update. */
  readonly #ids = new Map<string, number>()

  /** encodedSize(message), fast. */
  peer (m: PeerMessage): number {
    switch (m.type) {
      case 'ping': return VERSION_BYTES + PING + digits(m.seq) + this.#updates(m.updates)
      case 'ack': return VERSION_BYTES + ACK + digits(m.seq) + this.#updates(m.updates)
      case 'ping-req': return VERSION_BYTES + PING_REQ + digits(m.seq) + jsonByteLength(m.target) + this.#updates(m.updates)
      case 'spread': return VERSION_BYTES + SPREAD + this.#updates(m.updates)
      case 'sync-members': {
        let n = VERSION_BYTES + SYNC_MEMBERS + Math.max(0, m.entries.length - 1)
        for (const e of m.entries) n += ENTRY + this.record(e.member) + e.state.length
        if (m.want !== undefined) n += jsonByteLength(m.want) + ',"want":'.length
        return n
      }
      default: return encodedSize(m)
    }
  }

  /** encodedSize of a topic message. */
  topic (m: TopicMessage): number {
    return encodedSize(m)
  }

  /** memberRecordBytes(record), cached per record object. */
  record (r: MemberRecord): number {
    let n = this.#records.get(r)
    if (n === undefined) {
      n = memberRecordBytes(r)
      this.#records.set(r, n)
    }
    return n
  }

  /** Bytes of an updates array's elements and separators (its brackets are in the fixed part). */
  #updates (updates: readonly MemberUpdate[]): number {
    if (updates.length === 0) return 0
    let n = updates.length - 1
    for (const u of updates) {
      switch (u.type) {
        case 'alive': n += this.record(u.member) + ALIVE_UPDATE_OVERHEAD; break
        case 'suspect': n += SUSPECT + this.#id(u.id) + digits(u.incarnation) + this.#id(u.from); break
        case 'dead': n += DEAD + this.#id(u.id) + digits(u.incarnation) + this.#id(u.from); break
        case 'left': n += LEFT + this.#id(u.id) + digits(u.incarnation); break
        case 'refute': n += REFUTE + this.#id(u.id) + digits(u.incarnation) + digits(u.card); break
        default: {
          const never: never = u
          throw new Error(`message-size: unhandled update ${JSON.stringify(never)}`)
        }
      }
    }
    return n
  }

  #id (id: string): number {
    let n = this.#ids.get(id)
    if (n === undefined) {
      n = jsonByteLength(id)
      this.#ids.set(id, n)
    }
    return n
  }
}

function digits (x: number): number {
  return x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : x < 10000 ? 4 : x < 100000 ? 5 : String(x).length
}
