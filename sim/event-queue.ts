/**
 * The simulator's event queue: a calendar queue over virtual milliseconds, with the events
 * themselves stored as struct-of-arrays in a pool of slots, so that the tens of millions of
 * events of a 10,000-node run allocate nothing and cost O(1) to schedule.
 *
 * THEORY. Events are ordered by (time, sequence number): the sequence number is the order in
 * which they were scheduled, so ties resolve the same way on every run (determinism). A ring of
 * RING_MS buckets, one per millisecond, holds the events of the next RING_MS ms, unsorted
 * (a linked list through `next`); later events wait in a binary heap and move into the ring as
 * it advances. When the loop reaches a millisecond, that bucket's events are sorted into the
 * `ready` run; an event scheduled into the millisecond being drained is inserted into the run
 * in order. A slot is freed by the caller once it has read the event.
 */

/** Milliseconds the ring covers (a power of two): the probe period and message latencies fit. */
const RING_MS = 8192
const RING_MASK = RING_MS - 1

/** A pool of events with a calendar-queue order over them. */
export class EventQueue {
  /** Per slot: event kind (the caller's codes), time, sequence, two integer arguments, a payload. */
  kind = new Uint8Array(1024)
  at = new Float64Array(1024)
  seq = new Float64Array(1024)
  a = new Int32Array(1024)
  b = new Int32Array(1024)
  payload: unknown[] = new Array<unknown>(1024).fill(undefined)
  #next = new Int32Array(1024)
  #free: number[] = []
  #slots = 0
  #seq = 0

  readonly #head = new Int32Array(RING_MS).fill(-1)
  /** Events in the ring (not counting the ready run or the heap). */
  #inRing = 0
  /** The millisecond being drained (its events are in the ready run); the ring holds (#base, #base + RING_MS). */
  #base: number
  /** Sorted events of millisecond #base not yet popped: #ready[#readyAt .. #readyEnd). */
  #ready = new Int32Array(256)
  #readyAt = 0
  #readyEnd = 0
  /** Events beyond the ring, a binary min-heap of slots by (at, seq). */
  #heap: number[] = []
  #size = 0

  constructor (start: number) {
    // The millisecond before the start has been drained: events at the start go to the ring.
    this.#base = Math.floor(start) - 1
  }

  /** Events scheduled and not yet popped. */
  get size (): number {
    return this.#size
  }

  /** Schedules an event; `at` must not be before the last popped event's time. */
  push (kind: number, at: number, a: number, b: number, payload: unknown): void {
    const s = this.#alloc()
    this.kind[s] = kind
    this.at[s] = at
    this.seq[s] = ++this.#seq
    this.a[s] = a
    this.b[s] = b
    this.payload[s] = payload
    this.#size++
    this.#place(s)
  }

  /** The slot of the earliest event, removed from the order (read it, then free it), or -1. */
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
      if (this.#readyAt < this.#readyEnd) return this.at[this.#ready[this.#readyAt] as number] as number
      if (this.#size === 0) return Infinity
      this.#advance()
    }
  }

  /** Returns slot `s` to the pool (dropping its payload reference). */
  free (s: number): void {
    this.payload[s] = undefined
    this.#free.push(s)
  }

  /** Moves to the next non-empty millisecond and sorts its bucket into the ready run. */
  #advance (): void {
    this.#base++
    if (this.#inRing === 0 && this.#heap.length > 0) {
      // Nothing in the ring: jump straight to the heap's earliest millisecond.
      this.#base = Math.max(this.#base, Math.floor(this.at[this.#heap[0] as number] as number))
    }
    this.#refill()
    while (this.#head[this.#base & RING_MASK] === -1) {
      if (this.#inRing === 0) {
        if (this.#heap.length === 0) return
        this.#base = Math.max(this.#base + 1, Math.floor(this.at[this.#heap[0] as number] as number))
        this.#refill()
        continue
      }
      this.#base++
      this.#refill()
    }
    const bucket = this.#base & RING_MASK
    let n = 0
    for (let s = this.#head[bucket] as number; s !== -1; s = this.#next[s] as number) {
      if (n >= this.#ready.length) this.#ready = growInt32(this.#ready, 2 * this.#ready.length)
      this.#ready[n++] = s
    }
    this.#head[bucket] = -1
    this.#inRing -= n
    const at = this.at
    const seq = this.seq
    this.#ready.subarray(0, n).sort((x, y) => ((at[x] as number) - (at[y] as number)) || ((seq[x] as number) - (seq[y] as number)))
    this.#readyAt = 0
    this.#readyEnd = n
  }

  /** Moves heap events that now fall inside the ring into their buckets. */
  #refill (): void {
    const heap = this.#heap
    while (heap.length > 0 && Math.floor(this.at[heap[0] as number] as number) < this.#base + RING_MS) {
      const s = this.#heapPop()
      this.#toBucket(s, Math.floor(this.at[s] as number))
    }
  }

  #place (s: number): void {
    const ms = Math.floor(this.at[s] as number)
    if (ms <= this.#base) this.#insertReady(s) // the millisecond being drained: into the run, in order
    else if (ms < this.#base + RING_MS) this.#toBucket(s, ms)
    else this.#heapPush(s)
  }

  #toBucket (s: number, ms: number): void {
    const bucket = ms & RING_MASK
    this.#next[s] = this.#head[bucket] as number
    this.#head[bucket] = s
    this.#inRing++
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
    let lo = this.#readyAt
    let hi = this.#readyEnd
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.#before(this.#ready[mid] as number, s)) lo = mid + 1
      else hi = mid
    }
    this.#ready.copyWithin(lo + 1, lo, this.#readyEnd)
    this.#ready[lo] = s
    this.#readyEnd++
  }

  #before (x: number, y: number): boolean {
    const ax = this.at[x] as number
    const ay = this.at[y] as number
    return ax < ay || (ax === ay && (this.seq[x] as number) < (this.seq[y] as number))
  }

  #heapPush (s: number): void {
    const h = this.#heap
    h.push(s)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.#before(h[i] as number, h[p] as number)) break
      const t = h[i] as number; h[i] = h[p] as number; h[p] = t
      i = p
    }
  }

  #heapPop (): number {
    const h = this.#heap
    const top = h[0] as number
    const last = h.pop() as number
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.#before(h[l] as number, h[m] as number)) m = l
        if (r < h.length && this.#before(h[r] as number, h[m] as number)) m = r
        if (m === i) break
        const t = h[i] as number; h[i] = h[m] as number; h[m] = t
        i = m
      }
    }
    return top
  }

  #alloc (): number {
    const reused = this.#free.pop()
    if (reused !== undefined) return reused
    const s = this.#slots++
    if (s >= this.kind.length) {
      const cap = 2 * this.kind.length
      const kind = new Uint8Array(cap); kind.set(this.kind); this.kind = kind
      const at = new Float64Array(cap); at.set(this.at); this.at = at
      const seq = new Float64Array(cap); seq.set(this.seq); this.seq = seq
      this.a = growInt32(this.a, cap)
      this.b = growInt32(this.b, cap)
      this.#next = growInt32(this.#next, cap)
      const payload = new Array<unknown>(cap).fill(undefined)
      for (let i = 0; i < this.payload.length; i++) payload[i] = this.payload[i]
      this.payload = payload
    }
    return s
  }
}

function growInt32 (a: Int32Array, cap: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap)
  b.set(a)
  return b
}
