/**
 * The peer interner: the immutable, shareable half of member tables. It gives every peer id a
 * dense member number (0, 1, 2, ...) and keeps member records (cards) once, under handles with
 * reference counts, together with what is costly to recompute about them: the id's digest
 * bucket, the fingerprint hash of each record in each digest state, and the record's encoded
 * size.
 *
 * THEORY. A member table (member-table.ts) is typed arrays indexed by member number: a record
 * handle, a state, a timestamp. What it would otherwise hold per member, a Map entry, an
 * object, strings, lives here once. The daemon gives each node a private interner; the
 * simulator shares one across all its nodes, so that 10,000 nodes that each know 10,000
 * members hold 10^8 table slots of a few bytes and 10,000 records, not 10^8 objects.
 * - Numbers are never reused: a peer id keeps its number for the interner's life (about 130
 *   bytes per peer id ever seen; a daemon meeting 100,000 distinct peers in its life spends
 *   13 MB), so a number held anywhere (a probe list, a forget queue) cannot come to mean another
 *   peer.
 * - Records are deduplicated by content, not only by identity: a record that arrives decoded
 *   from bytes on each of many nodes is one handle. Two records are the same when they have the
 *   same id, incarnation and card (name, addresses, meta). A handle is freed when its last table
 *   releases it, so a long-lived daemon holds only the records its table refers to.
 * - Nothing here is protocol: the membership machine decides what its table holds; the
 *   interner only stores. It is not safe to share between threads (there are none).
 */
import { TypedArena } from './arena.js'
import { bucketOf, hash53Parts } from './digest.js'
import { jsonByteLength, memberRecordBytes, type MemberRecord, type MemberState, type PeerId } from './messages.js'

/** Digest state class of a member: alive and suspect are one (suspicion is local), dead, left. */
export type DigestClass = 0 | 1 | 2

/** The digest class of a member state. */
export function digestClass (state: MemberState): DigestClass {
  return state === 'alive' || state === 'suspect' ? 0 : state === 'dead' ? 1 : 2
}

const CLASS_NAMES = ['alive', 'dead', 'left'] as const

/** Construction options. */
export interface PeerInternerOptions {
  /**
   * Let the member tables built on this interner carve their arrays from a shared arena
   * (arena.ts): what a simulator of thousands of nodes wants, not a daemon. @default false
   */
  readonly arena?: boolean
}

/** Dense member numbers for peer ids and reference-counted member records (see the module doc). */
export class PeerInterner {
  /** Where member tables on this interner allocate their arrays, if they share one. */
  readonly arena: TypedArena | undefined
  readonly #ids: PeerId[] = []
  readonly #numbers = new Map<PeerId, number>()
  #buckets = new Uint16Array(64)
  /** JSON length of each peer id as a string, 0 until first asked. */
  #idBytes = new Uint16Array(64)
  /** Per member number, the first handle of its chain of records (0: none). */
  #chainHead = new Int32Array(64)

  // Records, by handle (1-based; 0 means "no record").
  readonly #records: Array<MemberRecord | undefined> = [undefined]
  #owner = new Int32Array(64)
  #refs = new Uint32Array(64)
  #next = new Int32Array(64)
  /** Fingerprint hashes per handle and digest class: [hi, lo] x 3; valid when #hashed is set. */
  #fingerprints = new Uint32Array(64 * 6)
  #hashed = new Uint8Array(64)
  /** Encoded size of the record (memberRecordBytes), 0 until first asked. */
  #recordBytes = new Uint32Array(64)
  readonly #free: number[] = []
  #liveHandles = 0

  constructor (options: PeerInternerOptions = {}) {
    this.arena = options.arena === true ? new TypedArena() : undefined
  }

  /** Number of peer ids interned (the member numbers are 0 .. size - 1). */
  get size (): number {
    return this.#ids.length
  }

  /** Number of records held (handles in use). */
  get records (): number {
    return this.#liveHandles
  }

  /** The member number of `id`, interning it if new. */
  number (id: PeerId): number {
    const known = this.#numbers.get(id)
    if (known !== undefined) return known
    const n = this.#ids.length
    this.#ids.push(id)
    this.#numbers.set(id, n)
    if (n >= this.#buckets.length) {
      const cap = this.#buckets.length * 2
      this.#buckets = grow(this.#buckets, cap)
      this.#idBytes = grow(this.#idBytes, cap)
      this.#chainHead = grow(this.#chainHead, cap)
    }
    this.#buckets[n] = bucketOf(id)
    return n
  }

  /** The member number of `id`, or -1 if it was never interned. */
  lookup (id: PeerId): number {
    return this.#numbers.get(id) ?? -1
  }

  /** The peer id of member number `n`. */
  id (n: number): PeerId {
    return this.#ids[n] as PeerId
  }

  /** The digest bucket of member number `n` (digest.ts's bucketOf, cached). */
  bucket (n: number): number {
    return this.#buckets[n] as number
  }

  /** jsonByteLength of member number `n`'s peer id (a JSON string), cached. */
  idBytes (n: number): number {
    let b = this.#idBytes[n] as number
    if (b === 0) {
      b = jsonByteLength(this.#ids[n])
      this.#idBytes[n] = b
    }
    return b
  }

  /**
   * The handle of `record` (interning its id and the record if new), with one more reference.
   * Every retain is matched by one release.
   */
  retain (record: MemberRecord): number {
    const n = this.number(record.id)
    let h = this.#chainHead[n] as number
    // Identity first (records travel between simulated nodes as shared objects), then content.
    for (let k = h; k !== 0; k = this.#next[k] as number) {
      if (this.#records[k] === record) { this.#refs[k]++; return k }
    }
    for (let k = h; k !== 0; k = this.#next[k] as number) {
      const r = this.#records[k] as MemberRecord
      if (r.incarnation === record.incarnation && sameCard(r, record)) { this.#refs[k]++; return k }
    }
    h = this.#allocate()
    this.#records[h] = record
    this.#owner[h] = n
    this.#refs[h] = 1
    this.#hashed[h] = 0
    this.#recordBytes[h] = 0
    this.#next[h] = this.#chainHead[n] as number
    this.#chainHead[n] = h
    return h
  }

  /** One more reference to handle `h` (a table copying another's slot). */
  retainHandle (h: number, count = 1): void {
    this.#refs[h] = (this.#refs[h] as number) + count
  }

  /** Drops one reference to handle `h`; the record is forgotten with its last reference. */
  release (h: number): void {
    const refs = (this.#refs[h] as number) - 1
    this.#refs[h] = refs
    if (refs > 0) return
    const n = this.#owner[h] as number
    // Unlink from the member's chain (short: one record per incarnation still referenced).
    if (this.#chainHead[n] === h) this.#chainHead[n] = this.#next[h] as number
    else {
      let k = this.#chainHead[n] as number
      while (k !== 0 && this.#next[k] !== h) k = this.#next[k] as number
      if (k !== 0) this.#next[k] = this.#next[h] as number
    }
    this.#records[h] = undefined
    this.#free.push(h)
    this.#liveHandles--
  }

  /** The record of handle `h`. */
  record (h: number): MemberRecord {
    return this.#records[h] as MemberRecord
  }

  /** The member number a handle's record is about. */
  owner (h: number): number {
    return this.#owner[h] as number
  }

  /** The incarnation of handle `h`'s record. */
  incarnation (h: number): number {
    return (this.#records[h] as MemberRecord).incarnation
  }

  /**
   * The 53-bit fingerprint hash, as [hi, lo] halves in `out`, of handle `h`'s record in digest
   * class `c`: hash53Parts of `id \0 incarnation \0 alive|dead|left`, as membership has always
   * fingerprinted members (so digests agree with nodes that compute them from strings).
   */
  fingerprint (h: number, c: DigestClass, out: Uint32Array): void {
    if (this.#hashed[h] === 0) {
      const r = this.#records[h] as MemberRecord
      for (let k = 0; k < 3; k++) {
        const [hi, lo] = hash53Parts(`${r.id}\u0000${r.incarnation}\u0000${CLASS_NAMES[k] as string}`)
        this.#fingerprints[h * 6 + 2 * k] = hi
        this.#fingerprints[h * 6 + 2 * k + 1] = lo
      }
      this.#hashed[h] = 1
    }
    out[0] = this.#fingerprints[h * 6 + 2 * c] as number
    out[1] = this.#fingerprints[h * 6 + 2 * c + 1] as number
  }

  /** memberRecordBytes of handle `h`'s record, computed once. */
  recordBytes (h: number): number {
    let b = this.#recordBytes[h] as number
    if (b === 0) {
      b = memberRecordBytes(this.#records[h] as MemberRecord)
      this.#recordBytes[h] = b
    }
    return b
  }

  #allocate (): number {
    this.#liveHandles++
    const reused = this.#free.pop()
    if (reused !== undefined) return reused
    const h = this.#records.length
    this.#records.push(undefined)
    if (h >= this.#owner.length) {
      const cap = this.#owner.length * 2
      this.#owner = grow(this.#owner, cap)
      this.#refs = grow(this.#refs, cap)
      this.#next = grow(this.#next, cap)
      this.#hashed = grow(this.#hashed, cap)
      this.#recordBytes = grow(this.#recordBytes, cap)
      this.#fingerprints = grow(this.#fingerprints, cap * 6)
    }
    return h
  }
}

/** Builds an empty interner: private to one node (the daemon) or shared by many (the simulator). */
export function createPeerInterner (options: PeerInternerOptions = {}): PeerInterner {
  return new PeerInterner(options)
}

type TypedArray = Uint8Array | Uint16Array | Int32Array | Uint32Array | Float64Array

/** A copy of `a` with capacity `cap` (>= a.length), zero-filled beyond. */
export function grow<T extends TypedArray> (a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap)
  b.set(a)
  return b
}

/** Whether two records carry the same card (name, addresses, meta). */
export function sameCard (a: MemberRecord, b: MemberRecord): boolean {
  return a.name === b.name && a.addresses.length === b.addresses.length && a.addresses.every((x, i) => x === b.addresses[i]) &&
    (a.meta === b.meta || JSON.stringify(a.meta) === JSON.stringify(b.meta))
}
