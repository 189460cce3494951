/**
 * The member table: what one node holds about every member it knows, compact. One Int32 slot
 * per member number (from the node's peer interner): the handle of the member's record (the
 * record itself is shared, in the interner) and its state; the time it entered that state; and
 * the bucketed digest of the whole table (anti-entropy), kept in step with every change. Also
 * member snapshots, from which many tables start with the same view, and the dense number set
 * that membership keeps its dead members in.
 *
 * THEORY. At 10,000 simulated nodes of 10,000 members each, a Map entry and an object per
 * member cost ~160 bytes, 16 GB in all. Here a member costs 4 bytes (handle and state in one
 * slot) plus 8 for the time of its last change, and less while nothing changes:
 * - A table loaded from a snapshot shares the snapshot's slots until its first change, then
 *   copies them (copy on write): 10,000 nodes of a formed mesh share one array, and a node pays
 *   for its own only once its view differs.
 * - Times are written only for members that changed (0 stands for the load's time), so the
 *   pages of the time array that nothing touched are never even mapped.
 * Fresh memory is what costs: on a machine where a page fault takes ~25 µs, 2 GB of
 * per-node arrays take ~12 s to touch. Storage only: which state a member is in, and why, is
 * membership.ts's business (one file owns the machine's transitions).
 */
import type { TypedArena } from './arena.js'
import { HashedDigest } from './hashed-digest.js'
import type { MemberRecord, MemberState } from './messages.js'
import { digestClass, grow, type PeerInterner } from './peer-interner.js'
import { randomInt, type Rng } from './rng.js'

/** States by code, as stored in a slot's top bits. */
const STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left']
const CODES: Readonly<Record<MemberState, number>> = { alive: 0, suspect: 1, dead: 2, left: 3 }
/** A slot: handle in the low 29 bits, state code above (0: no member). */
const HANDLE_MASK = 0x1fffffff
const STATE_SHIFT = 29

/** A set of member numbers with O(1) add, delete, has and uniform random pick (swap-remove). */
export class NumberSet {
  #items: Int32Array
  /** Index in #items plus one; 0: not in the set (so a fresh zeroed array is an empty set). */
  #pos: Int32Array
  #size = 0

  constructor (capacity = 16, arena?: TypedArena) {
    const cap = Math.max(16, capacity)
    this.#items = arena?.int32(cap) ?? new Int32Array(cap)
    this.#pos = arena?.int32(cap) ?? new Int32Array(cap)
  }

  get size (): number { return this.#size }

  has (n: number): boolean {
    return n < this.#pos.length && this.#pos[n] !== 0
  }

  add (n: number): void {
    if (this.has(n)) return
    if (n >= this.#pos.length) this.#pos = grow(this.#pos, Math.max(n + 1, 2 * this.#pos.length))
    if (this.#size >= this.#items.length) this.#items = grow(this.#items, 2 * this.#items.length)
    this.#items[this.#size++] = n
    this.#pos[n] = this.#size
  }

  delete (n: number): void {
    if (!this.has(n)) return
    const i = (this.#pos[n] as number) - 1
    const last = this.#items[--this.#size] as number
    this.#pos[n] = 0
    if (last !== n) {
      this.#items[i] = last
      this.#pos[last] = i + 1
    }
  }

  /** The item at index i (0 <= i < size); the order is arbitrary but deterministic. */
  at (i: number): number {
    return this.#items[i] as number
  }

  /** A uniformly random item (the set must not be empty). */
  random (rng: Rng): number {
    return this.#items[randomInt(rng, this.#size)] as number
  }
}

/**
 * A view of many members as alive, built once and loaded by many tables (the simulator's warm
 * start: every node begins with the formed mesh's view). Holds one reference to each record.
 */
export class MemberSnapshot {
  readonly interner: PeerInterner
  /** Slot per member number (0: not in the snapshot); shared by the tables until they change. */
  readonly slots: Int32Array
  /** How many members it holds. */
  readonly count: number
  readonly digest = new HashedDigest()

  constructor (interner: PeerInterner, records: readonly MemberRecord[]) {
    this.interner = interner
    for (const r of records) interner.number(r.id)
    this.slots = new Int32Array(interner.size)
    const fp = new Uint32Array(2)
    for (const r of records) {
      const n = interner.number(r.id)
      if (this.slots[n] !== 0) throw new RangeError(`member snapshot: ${r.id} twice`)
      const h = interner.retain(r)
      if (h > HANDLE_MASK) throw new RangeError('member snapshot: too many records')
      this.slots[n] = h
      interner.fingerprint(h, 0, fp)
      this.digest.toggle(interner.bucket(n), fp[0] as number, fp[1] as number, 1)
    }
    this.count = records.length
  }
}

/** The slots of a table that holds nothing yet. */
const NO_SLOTS = new Int32Array(0)

/** One node's member table (see the module doc). */
export class MemberTable {
  readonly interner: PeerInterner
  readonly digest: HashedDigest
  #slots: Int32Array
  /** Whether #slots is this table's own (false: a snapshot's, copied before the first change). */
  #own = true
  /** When each member entered its state; 0 stands for #sinceBase. Allocated at the first write. */
  #since: Float64Array | undefined
  #sinceBase = 0
  #count = 0
  /** Members alive or suspect. */
  #live = 0
  readonly #fp = new Uint32Array(2)

  constructor (interner: PeerInterner) {
    this.interner = interner
    // Allocated at the first insert: a table loaded from a snapshot may never need its own.
    this.#slots = NO_SLOTS
    this.digest = new HashedDigest(interner.arena)
  }

  /** Number of members held. */
  get count (): number { return this.#count }

  /** Members held alive or suspect. */
  get liveCount (): number { return this.#live }

  /** Member numbers 0 .. capacity - 1 may be held. */
  get capacity (): number { return this.#slots.length }

  has (n: number): boolean {
    return n < this.#slots.length && this.#slots[n] !== 0
  }

  /** The record handle of member `n` (0: not held). */
  handle (n: number): number {
    return n < this.#slots.length ? (this.#slots[n] as number) & HANDLE_MASK : 0
  }

  /** The record of held member `n`. */
  record (n: number): MemberRecord {
    return this.interner.record((this.#slots[n] as number) & HANDLE_MASK)
  }

  /** The incarnation of held member `n`. */
  incarnation (n: number): number {
    return this.interner.incarnation((this.#slots[n] as number) & HANDLE_MASK)
  }

  state (n: number): MemberState {
    return STATES[(this.#slots[n] as number) >>> STATE_SHIFT] as MemberState
  }

  /** Whether member `n` is held and alive or suspect. */
  isLive (n: number): boolean {
    const slot = n < this.#slots.length ? this.#slots[n] as number : 0
    return slot !== 0 && slot >>> STATE_SHIFT <= 1
  }

  since (n: number): number {
    const raw = this.#since === undefined ? 0 : this.#since[n] as number
    return raw === 0 ? this.#sinceBase : raw
  }

  /** Sets the time member `n` entered its state (the start of this node's run, for itself). */
  setSince (n: number, at: number): void {
    if (this.#since === undefined && at === this.#sinceBase) return // 0 already stands for it
    this.#sinceArray()[n] = at
  }

  /** Holds member `n` (not held yet) with `record` in `state` since `now`. */
  insert (n: number, record: MemberRecord, state: MemberState, now: number): void {
    if (n >= this.#slots.length) this.#grow(n)
    this.#write()
    const h = this.interner.retain(record)
    this.#slots[n] = h | (CODES[state] << STATE_SHIFT)
    this.#sinceArray()[n] = now
    this.#count++
    if (CODES[state] <= 1) this.#live++
    this.#toggle(n, h, state, 1)
  }

  /** Changes held member `n`'s record and state, since `now`. */
  set (n: number, record: MemberRecord, state: MemberState, now: number): void {
    this.#write()
    const slot = this.#slots[n] as number
    const old = slot & HANDLE_MASK
    const oldCode = slot >>> STATE_SHIFT
    this.#toggle(n, old, STATES[oldCode] as MemberState, -1)
    let h = old
    if (this.interner.record(old) !== record) {
      h = this.interner.retain(record)
      this.interner.release(old)
    }
    const code = CODES[state]
    this.#slots[n] = h | (code << STATE_SHIFT)
    this.#sinceArray()[n] = now
    this.#live += (code <= 1 ? 1 : 0) - (oldCode <= 1 ? 1 : 0)
    this.#toggle(n, h, state, 1)
  }

  /** Forgets member `n` (held). */
  remove (n: number): void {
    this.#write()
    const slot = this.#slots[n] as number
    const h = slot & HANDLE_MASK
    this.#toggle(n, h, STATES[slot >>> STATE_SHIFT] as MemberState, -1)
    if (slot >>> STATE_SHIFT <= 1) this.#live--
    this.interner.release(h)
    this.#slots[n] = 0
    if (this.#since !== undefined) this.#since[n] = 0
    this.#count--
  }

  /** Loads `snapshot` into an empty table: its members alive since `now`, sharing its slots. */
  load (snapshot: MemberSnapshot, now: number): void {
    if (this.#count !== 0) throw new Error('member table: load into a non-empty table')
    if (snapshot.interner !== this.interner) throw new Error('member table: snapshot of another interner')
    this.#slots = snapshot.slots
    this.#own = false
    this.#sinceBase = now
    this.#count = snapshot.count
    this.#live = snapshot.count
    this.digest.copyFrom(snapshot.digest)
  }

  /** Every held member number, ascending. */
  * numbers (): Generator<number> {
    const slots = this.#slots
    for (let n = 0; n < slots.length; n++) if (slots[n] !== 0) yield n
  }

  /** Copies shared slots before the first change, taking a reference to each record. */
  #write (): void {
    if (this.#own) return
    const shared = this.#slots
    const own = this.#array(Math.max(shared.length, this.interner.size))
    own.set(shared)
    for (let n = 0; n < shared.length; n++) {
      const slot = shared[n] as number
      if (slot !== 0) this.interner.retainHandle(slot & HANDLE_MASK)
    }
    this.#slots = own
    this.#own = true
  }

  #sinceArray (): Float64Array {
    if (this.#since === undefined || this.#since.length < this.#slots.length) {
      const since = this.interner.arena?.float64(this.#slots.length) ?? new Float64Array(this.#slots.length)
      if (this.#since !== undefined) since.set(this.#since)
      this.#since = since
    }
    return this.#since
  }

  #array (length: number): Int32Array {
    return this.interner.arena?.int32(length) ?? new Int32Array(length)
  }

  #toggle (n: number, h: number, state: MemberState, delta: 1 | -1): void {
    this.interner.fingerprint(h, digestClass(state), this.#fp)
    this.digest.toggle(this.interner.bucket(n), this.#fp[0] as number, this.#fp[1] as number, delta)
  }

  #grow (n: number): void {
    this.#write()
    const cap = Math.max(16, n + 1, this.interner.size, 2 * this.#slots.length)
    if (this.#slots.length === 0) this.#slots = this.#array(cap)
    else this.#slots = grow(this.#slots, cap)
  }
}
