/**
 * The simulator's event queue: a calendar queue over virtual milliseconds, with the events
 * themselves stored as numbers in typed arrays, so that the tens of millions of events of a
 * 10,000-node run allocate nothing and cost O(1) to schedule.
 *
 * THEORY. Events are ordered by (time, sequence number): the sequence number is the order in
 * which they were scheduled, so ties resolve the same way on every run (determinism). A ring of
 * RING_MS buckets, one per millisecond, holds the events of the next RING_MS ms, unsorted; later
 * events wait in a binary heap and move into the ring as it advances. When the loop reaches a
 * millisecond, that bucket's events are sorted into the `ready` run; an event scheduled into the
 * millisecond being drained is inserted into the run in order.
 *
 * Layout. An event's time, sequence number and two integer arguments sit side by side in one
 * Float64Array (32 bytes), and a bucket keeps its events in chunks of CHUNK consecutive slots
 * (a chunk is 256 bytes), appended as events arrive: draining a millisecond reads its events
 * from a few runs of adjacent memory, where a linked list through slots scattered over the whole
 * pool cost a cache miss per event to follow and another to read. A slot is an event's place in
 * its chunk; the chunks of a millisecond go back to the pool when the next one is drained, so a
 * popped event must be read before the next pop (or peekTime). Kinds and payloads have arrays of
 * their own (payloads are rare: messages).
 */
import { EventHeap, type TimedEvent } from '../node/core/index.js'

/** Milliseconds the ring covers (a power of two): the probe period and message latencies fit. */
const RING_MS = 8192
const RING_MASK = RING_MS - 1

/** Doubles per slot in the record array: time, sequence, a, b. */
const STRIDE = 4

/** Slots per chunk (a power of two), and its log. */
const CHUNK = 8
const CHUNK_SHIFT = 3

/** Kinds are 0..KIND_MASK; the kind byte's top bit says the slot holds a payload. */
const KIND_MASK = 0x7f
const HAS_PAYLOAD = 0x80

/**
 * A bucket of at most this many events is sorted in place by insertion; larger ones (a flood of
 * gossip can put thousands in one millisecond) by a merge sort over copies of their keys.
 */
const INSERTION_SORT_MAX = 48

/** An event beyond the ring, waiting in the heap (rare: the run's actions and far timers). */
interface FarEvent extends TimedEvent {
  readonly kind: number
  readonly a: number
  readonly b: number
  readonly payload: unknown
}

/** A pool of events with a calendar-queue order over them. */
export class EventQueue {
  /** Per slot: time, sequence, a, b (see the module doc). */
  #rec = new Float64Array(256 * CHUNK * STRIDE)
  /** Per slot: the event kind (the caller's codes, below 128; the top bit marks a payload) and the payload. */
  #kind = new Uint8Array(256 * CHUNK)
  #payload: unknown[] = new Array<unknown>(256 * CHUNK).fill(undefined)
  /** Per chunk: the next chunk of its list (-1: the last) and how many of its slots are used. */
  #chunkNext = new Int32Array(256)
  #chunkFill = new Uint8Array(256)
  #chunks = 0
  /** Chunks to reuse, the last freed on top (likely still in cache). */
  readonly #freeChunks: number[] = []
  #seq = 0

  /** Per ring bucket: its first and last chunk (-1: empty). */
  readonly #head = new Int32Array(RING_MS).fill(-1)
  readonly #tail = new Int32Array(RING_MS).fill(-1)
  /** Events in the ring (not counting the ready run or the heap). */
  #inRing = 0
  /** The millisecond being drained (its events are in the ready run); the ring holds (#base, #base + RING_MS). */
  #base: number
  /** The chunks of the millisecond being drained (and of events scheduled into it), freed at the next. */
  #drainHead = -1
  #drainTail = -1
  /** Sorted events of millisecond #base not yet popped: #ready[#readyAt .. #readyEnd). */
  #ready = new Int32Array(256)
  #readyAt = 0
  #readyEnd = 0
  /** Scratch for the merge sort: keys (time, sequence) and slots, and a second set to merge into. */
  #keyAt = new Float64Array(256)
  #keySeq = new Float64Array(256)
  #keySlot = new Int32Array(256)
  #keyAt2 = new Float64Array(256)
  #keySeq2 = new Float64Array(256)
  #keySlot2 = new Int32Array(256)
  /** Events beyond the ring, a binary min-heap by (at, seq). */
  readonly #heap = new EventHeap<FarEvent>()
  #size = 0

  constructor (start: number) {
    // The millisecond before the start has been drained: events at the start go to the ring.
    this.#base = Math.floor(start) - 1
  }

  /** Events scheduled and not yet popped. */
  get size (): number {
    return this.#size
  }

  /** The time of the event in slot `s`. */
  time (s: number): number {
    return this.#rec[s * STRIDE] as number
  }

  /** The kind of the event in slot `s`. */
  kind (s: number): number {
    return (this.#kind[s] as number) & KIND_MASK
  }

  /** The first integer argument of the event in slot `s`. */
  a (s: number): number {
    return this.#rec[s * STRIDE + 2] as number
  }

  /** The second integer argument of the event in slot `s`. */
  b (s: number): number {
    return this.#rec[s * STRIDE + 3] as number
  }

  /** The payload of the event in slot `s` (undefined once freed). */
  payload (s: number): unknown {
    return ((this.#kind[s] as number) & HAS_PAYLOAD) === 0 ? undefined : this.#payload[s]
  }

  /** Schedules an event; `at` must not be before the last popped event's time. */
  push (kind: number, at: number, a: number, b: number, payload: unknown): void {
    if (!(kind >= 0 && kind <= KIND_MASK)) throw new RangeError(`event queue: kind ${kind} out of 0..${KIND_MASK}`)
    this.#size++
    this.#place(kind, at, ++this.#seq, a, b, payload, false)
  }

  /** The slot of the earliest event, removed from the order (read it before the next pop), or -1. */
  pop (): number {
    for (;;) {
      if (this.#readyAt < this.#readyEnd) {
        this.#size--
        return this.#ready[this.#readyAt++] as number
      }
      if (this.#size === 0) return -1
      this.#advance()
    }
  }

  /** The time of the earliest event, or Infinity when there is none. */
  peekTime (): number {
    for (;;) {
      if (this.#readyAt < this.#readyEnd) return this.time(this.#ready[this.#readyAt] as number)
      if (this.#size === 0) return Infinity
      this.#advance()
    }
  }

  /** Done with slot `s`: drops its payload reference (the slot itself is reused with its chunk). */
  free (s: number): void {
    if (((this.#kind[s] as number) & HAS_PAYLOAD) !== 0) {
      this.#payload[s] = undefined
      this.#kind[s] = 0
    }
  }

  /**
   * Puts an event where it belongs: the run being drained, a ring bucket, or the heap. An event
   * moving from the heap (`refill`) always goes to its bucket: #advance drains that next.
   */
  #place (kind: number, at: number, seq: number, a: number, b: number, payload: unknown, refill: boolean): void {
    const ms = Math.floor(at)
    if (ms >= this.#base + RING_MS) {
      this.#heap.push({ kind, at, seq, a, b, payload })
      return
    }
    const draining = !refill && ms <= this.#base
    const s = this.#append(draining ? -1 : ms & RING_MASK)
    const r = s * STRIDE
    const rec = this.#rec
    rec[r] = at
    rec[r + 1] = seq
    rec[r + 2] = a
    rec[r + 3] = b
    if (payload === undefined) this.#kind[s] = kind
    else {
      this.#kind[s] = kind | HAS_PAYLOAD
      this.#payload[s] = payload
    }
    if (draining) this.#insertReady(s) // the millisecond being drained: into the run, in order
    else this.#inRing++
  }

  /** A free slot at the end of bucket `bucket`'s chunks (-1: of the millisecond being drained). */
  #append (bucket: number): number {
    let tail = bucket < 0 ? this.#drainTail : this.#tail[bucket] as number
    if (tail < 0 || this.#chunkFill[tail] === CHUNK) {
      const c = this.#allocChunk()
      if (tail >= 0) this.#chunkNext[tail] = c
      else if (bucket < 0) this.#drainHead = c
      else this.#head[bucket] = c
      if (bucket < 0) this.#drainTail = c
      else this.#tail[bucket] = c
      tail = c
    }
    const used = this.#chunkFill[tail] as number
    this.#chunkFill[tail] = used + 1
    return (tail << CHUNK_SHIFT) + used
  }

  /** Moves to the next non-empty millisecond and sorts its bucket into the ready run. */
  #advance (): void {
    // Every event of the millisecond drained so far has been popped (and read): its chunks go back.
    for (let c = this.#drainHead; c >= 0; c = this.#chunkNext[c] as number) this.#freeChunks.push(c)
    this.#drainHead = -1
    this.#drainTail = -1
    this.#base++
    const far = this.#heap.peek()
    if (this.#inRing === 0 && far !== undefined) {
      // Nothing in the ring: jump straight to the heap's earliest millisecond.
      this.#base = Math.max(this.#base, Math.floor(far.at))
    }
    this.#refill()
    while (this.#head[this.#base & RING_MASK] === -1) {
      if (this.#inRing === 0) {
        const next = this.#heap.peek()
        if (next === undefined) return
        this.#base = Math.max(this.#base + 1, Math.floor(next.at))
        this.#refill()
        continue
      }
      this.#base++
      this.#refill()
    }
    const bucket = this.#base & RING_MASK
    this.#drainHead = this.#head[bucket] as number
    this.#drainTail = this.#tail[bucket] as number
    this.#head[bucket] = -1
    this.#tail[bucket] = -1
    let n = 0
    for (let c = this.#drainHead; c >= 0; c = this.#chunkNext[c] as number) {
      const used = this.#chunkFill[c] as number
      if (n + used > this.#ready.length) this.#ready = growInt32(this.#ready, 2 * (n + used))
      for (let k = 0; k < used; k++) this.#ready[n++] = (c << CHUNK_SHIFT) + k
    }
    this.#inRing -= n
    this.#sortReady(n)
    this.#readyAt = 0
    this.#readyEnd = n
  }

  /** Sorts #ready[0 .. n) by (at, seq). */
  #sortReady (n: number): void {
    if (n > INSERTION_SORT_MAX) {
      this.#mergeSortReady(n)
      return
    }
    const ready = this.#ready
    const rec = this.#rec
    for (let i = 1; i < n; i++) {
      const s = ready[i] as number
      const at = rec[s * STRIDE] as number
      const seq = rec[s * STRIDE + 1] as number
      let j = i - 1
      for (; j >= 0; j--) {
        const o = ready[j] as number
        const oat = rec[o * STRIDE] as number
        if (oat < at || (oat === at && (rec[o * STRIDE + 1] as number) < seq)) break
        ready[j + 1] = o
      }
      ready[j + 1] = s
    }
  }

  /**
   * Sorts #ready[0 .. n) by (at, seq): the keys are copied once into contiguous scratch arrays,
   * sorted there bottom-up (insertion-sorted runs, then merges), and the slots written back.
   */
  #mergeSortReady (n: number): void {
    if (this.#keyAt.length < n) {
      const cap = Math.max(n, 2 * this.#keyAt.length)
      this.#keyAt = new Float64Array(cap); this.#keySeq = new Float64Array(cap); this.#keySlot = new Int32Array(cap)
      this.#keyAt2 = new Float64Array(cap); this.#keySeq2 = new Float64Array(cap); this.#keySlot2 = new Int32Array(cap)
    }
    const rec = this.#rec
    const ready = this.#ready
    let at = this.#keyAt; let seq = this.#keySeq; let slot = this.#keySlot
    let at2 = this.#keyAt2; let seq2 = this.#keySeq2; let slot2 = this.#keySlot2
    for (let i = 0; i < n; i++) {
      const s = ready[i] as number
      at[i] = rec[s * STRIDE] as number
      seq[i] = rec[s * STRIDE + 1] as number
      slot[i] = s
    }
    const RUN = 16
    for (let lo = 0; lo < n; lo += RUN) {
      const hi = Math.min(n, lo + RUN)
      for (let i = lo + 1; i < hi; i++) {
        const a = at[i] as number; const q = seq[i] as number; const s = slot[i] as number
        let j = i - 1
        for (; j >= lo && ((at[j] as number) > a || ((at[j] as number) === a && (seq[j] as number) > q)); j--) {
          at[j + 1] = at[j] as number; seq[j + 1] = seq[j] as number; slot[j + 1] = slot[j] as number
        }
        at[j + 1] = a; seq[j + 1] = q; slot[j + 1] = s
      }
    }
    for (let width = RUN; width < n; width *= 2) {
      for (let lo = 0; lo < n; lo += 2 * width) {
        const mid = Math.min(n, lo + width)
        const hi = Math.min(n, lo + 2 * width)
        let i = lo; let j = mid; let k = lo
        while (i < mid && j < hi) {
          const ai = at[i] as number; const aj = at[j] as number
          if (aj < ai || (aj === ai && (seq[j] as number) < (seq[i] as number))) {
            at2[k] = aj; seq2[k] = seq[j] as number; slot2[k++] = slot[j++] as number
          } else {
            at2[k] = ai; seq2[k] = seq[i] as number; slot2[k++] = slot[i++] as number
          }
        }
        while (i < mid) { at2[k] = at[i] as number; seq2[k] = seq[i] as number; slot2[k++] = slot[i++] as number }
        while (j < hi) { at2[k] = at[j] as number; seq2[k] = seq[j] as number; slot2[k++] = slot[j++] as number }
      }
      const ta = at; at = at2; at2 = ta
      const ts = seq; seq = seq2; seq2 = ts
      const tl = slot; slot = slot2; slot2 = tl
    }
    for (let i = 0; i < n; i++) ready[i] = slot[i] as number
  }

  /** Moves heap events that now fall inside the ring into their buckets. */
  #refill (): void {
    for (let e = this.#heap.peek(); e !== undefined && Math.floor(e.at) < this.#base + RING_MS; e = this.#heap.peek()) {
      this.#heap.pop()
      this.#place(e.kind, e.at, e.seq, e.a, e.b, e.payload, true)
    }
  }

  #insertReady (s: number): void {
    if (this.#readyAt === this.#readyEnd) {
      // Nothing left in the run: restart it with this event.
      this.#readyAt = 0
      this.#readyEnd = 1
      this.#ready[0] = s
      return
    }
    if (this.#readyEnd >= this.#ready.length) this.#ready = growInt32(this.#ready, 2 * this.#ready.length)
    // Binary search for the first ready event after s.
    const rec = this.#rec
    const at = rec[s * STRIDE] as number
    const seq = rec[s * STRIDE + 1] as number
    let lo = this.#readyAt
    let hi = this.#readyEnd
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      const m = this.#ready[mid] as number
      const mat = rec[m * STRIDE] as number
      if (mat < at || (mat === at && (rec[m * STRIDE + 1] as number) < seq)) lo = mid + 1
      else hi = mid
    }
    this.#ready.copyWithin(lo + 1, lo, this.#readyEnd)
    this.#ready[lo] = s
    this.#readyEnd++
  }

  #allocChunk (): number {
    const reused = this.#freeChunks.pop()
    const c = reused ?? this.#chunks++
    if (c >= this.#chunkNext.length) {
      const cap = 2 * this.#chunkNext.length
      const rec = new Float64Array(cap * CHUNK * STRIDE); rec.set(this.#rec); this.#rec = rec
      const kind = new Uint8Array(cap * CHUNK); kind.set(this.#kind); this.#kind = kind
      const payload = new Array<unknown>(cap * CHUNK).fill(undefined)
      for (let i = 0; i < this.#payload.length; i++) payload[i] = this.#payload[i]
      this.#payload = payload
      this.#chunkNext = growInt32(this.#chunkNext, cap)
      const fill = new Uint8Array(cap); fill.set(this.#chunkFill); this.#chunkFill = fill
    }
    this.#chunkNext[c] = -1
    this.#chunkFill[c] = 0
    return c
  }
}

/** Whether far event x comes before y: (at, seq). */
function growInt32 (a: Int32Array, cap: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap)
  b.set(a)
  return b
}
