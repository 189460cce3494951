/**
 * Timers as data (quinn's `TimerTable`): a protocol machine names its timer kinds in a string
 * union and keeps their deadlines here; nothing is ever scheduled with setTimeout. The binding
 * arms one real timer at the machine's `nextDeadline()` and calls its `tick(now)` when it
 * fires; the simulator jumps its virtual clock straight there.
 *
 * A timer is identified by its kind and an optional subject (the member a suspicion is about,
 * the probe a relay serves), so per-subject timers of one kind coexist. Setting a timer that
 * exists moves it. Deadlines are milliseconds on the caller's clock.
 *
 * THEORY (cost). The simulator sets a timer ~2 times per node and simulated second, 10^4 nodes
 * at once, so a set must neither build and hash a string key nor allocate an object that lives
 * until the next set (objects that live ~1 s of simulated time are promoted to the old
 * generation, and collecting them was a tenth of a run). So the singleton timers (subject '')
 * live in slots, one per kind: a kind finds its slot by identity in a short list of kinds
 * (string constants compare by pointer), which a machine can give at construction, shared by all
 * its instances. Timers with a subject keep a Map per kind, keyed by subject.
 *
 * The cached earliest deadline and every slot's deadline and arming order are numbers in one
 * region of a Float64Array: at 10,000 simulated nodes a table is rarely in cache, and each
 * separate array (or double field, which V8 boxes) would cost one more miss per call. With an
 * arena (the simulator's), the region is carved from an array shared by many tables, next to
 * what its machine carved just before (MeshCore's clock), so reading it costs one miss or none.
 */
import type { TypedArena } from './arena.js'

/** One armed timer. */
export interface Timer<K extends string> {
  readonly kind: K
  /** Which instance of the kind ('' for the singleton timers). */
  readonly subject: string
  readonly at: number
}

/** Construction options. */
export interface TimerTableOptions {
  /** Carve the table's numbers from this arena (see the module doc). @default a private array */
  readonly arena?: TypedArena
}

/** A timer with a subject, as kept in its kind's Map. */
interface SubjectTimer {
  at: number
  /** Arming order: taken when the timer is armed while unarmed, kept when it moves. */
  readonly order: number
}

/** The deadline of a slot that is not armed. */
const UNARMED = Infinity

/** Where the cached earliest deadline sits in a table's region; slot k's deadline and arming order follow at 1 + 2k, 2 + 2k. */
const EARLIEST = 0

/** A table of named deadlines with set, stop, next and due. */
export class TimerTable<K extends string> {
  /** The array holding the table's numbers (maybe shared with other tables) and where they start. */
  #array: Float64Array
  #base: number
  /** Kind of each slot; shared between tables when given to the constructor. */
  #kinds: K[]
  /** Whether #kinds is this table's own (kinds met at run time are appended to it). */
  #ownKinds: boolean
  /** Per slot: the timers of that kind that have a subject; made at the first. */
  #subjects: Array<Map<string, SubjectTimer> | undefined> | undefined
  /** Timers with a subject, all kinds. */
  #subjectCount = 0
  #armed = 0
  #orders = 0
  /** Whether the number at EARLIEST is the earliest deadline (Infinity: none). */
  #earliestValid = true
  /** The Timer object next() last returned, while it is still the earliest. */
  #earliest: Timer<K> | undefined

  /**
   * An empty table. `kinds`, the machine's timer kinds, is optional (a kind not listed gets a
   * slot when first set); a frozen list shared by every instance of a machine keeps the lookup
   * in cache.
   */
  constructor (kinds?: readonly K[], options: TimerTableOptions = {}) {
    this.#kinds = kinds === undefined ? [] : kinds as K[]
    this.#ownKinds = kinds === undefined
    const length = 1 + 2 * this.#kinds.length
    const region = options.arena?.float64Region(length)
    this.#array = region?.array ?? new Float64Array(length)
    this.#base = region?.offset ?? 0
    this.#array[this.#base + EARLIEST] = Infinity
    for (let slot = 0; slot < this.#kinds.length; slot++) this.#array[this.#base + 1 + 2 * slot] = UNARMED
  }

  /** Arms (or moves) timer `kind`/`subject` to fire at `at`. */
  set (kind: K, at: number, subject = ''): void {
    const slot = this.#slot(kind)
    const array = this.#array
    const base = this.#base
    let old: number
    if (subject === '') {
      old = array[base + 1 + 2 * slot] as number
      if (old === UNARMED) {
        array[base + 2 + 2 * slot] = ++this.#orders
        this.#armed++
      }
      array[base + 1 + 2 * slot] = at
    } else {
      const subjects = this.#subjects ??= []
      while (subjects.length <= slot) subjects.push(undefined)
      const timers = subjects[slot] ??= new Map()
      const t = timers.get(subject)
      if (t === undefined) {
        old = UNARMED
        timers.set(subject, { at, order: ++this.#orders })
        this.#armed++
        this.#subjectCount++
      } else {
        old = t.at
        t.at = at
      }
    }
    if (!this.#earliestValid) return
    const earliest = array[base + EARLIEST] as number
    if (at < earliest) {
      array[base + EARLIEST] = at
      this.#earliest = undefined
    } else if (old === earliest && at !== old) {
      // The earliest may have moved later: find it again when asked.
      this.#earliestValid = false
    } else if (at === earliest) {
      // A tie with the earliest: which comes first depends on arming order, found when asked.
      this.#earliest = undefined
    }
  }

  /** Disarms timer `kind`/`subject`; a no-op when it is not armed. */
  stop (kind: K, subject = ''): void {
    const slot = this.#find(kind)
    if (slot < 0) return
    const at = this.#base + 1 + 2 * slot
    let old: number
    if (subject === '') {
      old = this.#array[at] as number
      if (old === UNARMED) return
      this.#array[at] = UNARMED
    } else {
      const timers = this.#subjects?.[slot]
      const t = timers?.get(subject)
      if (t === undefined) return
      old = t.at
      ;(timers as Map<string, SubjectTimer>).delete(subject)
      this.#subjectCount--
    }
    this.#armed--
    if (this.#earliestValid && old === this.#array[this.#base + EARLIEST]) this.#earliestValid = false
  }

  /** Whether timer `kind`/`subject` is armed. */
  has (kind: K, subject = ''): boolean {
    return this.get(kind, subject) !== undefined
  }

  /** The deadline of timer `kind`/`subject`, if armed. */
  get (kind: K, subject = ''): number | undefined {
    const slot = this.#find(kind)
    if (slot < 0) return undefined
    if (subject !== '') return this.#subjects?.[slot]?.get(subject)?.at
    const at = this.#array[this.#base + 1 + 2 * slot] as number
    return at === UNARMED ? undefined : at
  }

  /** The earliest deadline, or undefined when nothing is armed (next()?.at without the object). */
  nextAt (): number | undefined {
    if (!this.#earliestValid) this.#findEarliest()
    const at = this.#array[this.#base + EARLIEST] as number
    return at === Infinity ? undefined : at
  }

  /** The earliest armed timer (the first armed among equal deadlines), if any. */
  next (): Timer<K> | undefined {
    if (!this.#earliestValid) this.#findEarliest()
    const at = this.#array[this.#base + EARLIEST] as number
    if (at === Infinity) return undefined
    if (this.#earliest === undefined) this.#earliest = this.#first(at)
    return this.#earliest
  }

  /**
   * Removes and returns every timer due at `now` (deadline <= now), earliest first; timers with
   * equal deadlines come in the order they were armed (a timer that moved keeps its place), so a
   * run is deterministic.
   */
  due (now: number): Array<Timer<K>> {
    if (!this.#earliestValid) this.#findEarliest()
    const array = this.#array
    const base = this.#base
    if ((array[base + EARLIEST] as number) > now) return []
    const out: Array<Timer<K>> = []
    const orders: number[] = []
    const kinds = this.#kinds
    for (let slot = 0; slot < kinds.length; slot++) {
      const at = array[base + 1 + 2 * slot] as number
      if (at <= now) {
        insertTimer(out, orders, { kind: kinds[slot] as K, subject: '', at }, array[base + 2 + 2 * slot] as number)
        array[base + 1 + 2 * slot] = UNARMED
        this.#armed--
      }
      if (this.#subjectCount === 0) continue
      const timers = this.#subjects?.[slot]
      if (timers === undefined || timers.size === 0) continue
      for (const [subject, t] of timers) {
        if (t.at > now) continue
        insertTimer(out, orders, { kind: kinds[slot] as K, subject, at: t.at }, t.order)
        timers.delete(subject)
        this.#armed--
        this.#subjectCount--
      }
    }
    this.#earliestValid = false
    return out
  }

  /** Number of armed timers. */
  get size (): number {
    return this.#armed
  }

  /** Disarms everything. */
  clear (): void {
    for (let slot = 0; slot < this.#kinds.length; slot++) this.#array[this.#base + 1 + 2 * slot] = UNARMED
    for (const timers of this.#subjects ?? []) timers?.clear()
    this.#armed = 0
    this.#subjectCount = 0
    this.#array[this.#base + EARLIEST] = Infinity
    this.#earliest = undefined
    this.#earliestValid = true
  }

  /** The slot of `kind`, -1 if it never had one. */
  #find (kind: K): number {
    const kinds = this.#kinds
    for (let i = 0; i < kinds.length; i++) if (kinds[i] === kind) return i
    return -1
  }

  /** The slot of `kind`, made if new (the numbers move to a private, larger array). */
  #slot (kind: K): number {
    const found = this.#find(kind)
    if (found >= 0) return found
    if (!this.#ownKinds) {
      this.#kinds = [...this.#kinds]
      this.#ownKinds = true
    }
    this.#kinds.push(kind)
    const length = 1 + 2 * this.#kinds.length
    const array = new Float64Array(length)
    array.set(this.#array.subarray(this.#base, this.#base + length - 2))
    array[length - 2] = UNARMED
    this.#array = array
    this.#base = 0
    return this.#kinds.length - 1
  }

  #findEarliest (): void {
    const array = this.#array
    const base = this.#base
    let best = Infinity
    for (let slot = 0; slot < this.#kinds.length; slot++) {
      const at = array[base + 1 + 2 * slot] as number
      if (at < best) best = at
    }
    if (this.#subjectCount > 0) {
      for (const timers of this.#subjects ?? []) {
        if (timers === undefined) continue
        for (const t of timers.values()) if (t.at < best) best = t.at
      }
    }
    array[base + EARLIEST] = best
    this.#earliest = undefined
    this.#earliestValid = true
  }

  /** The first armed of the timers due at exactly `at`. */
  #first (at: number): Timer<K> {
    let best: Timer<K> | undefined
    let bestOrder = Infinity
    const kinds = this.#kinds
    const array = this.#array
    const base = this.#base
    for (let slot = 0; slot < kinds.length; slot++) {
      if (array[base + 1 + 2 * slot] === at && (array[base + 2 + 2 * slot] as number) < bestOrder) {
        best = { kind: kinds[slot] as K, subject: '', at }
        bestOrder = array[base + 2 + 2 * slot] as number
      }
      const timers = this.#subjects?.[slot]
      if (timers === undefined) continue
      for (const [subject, t] of timers) {
        if (t.at === at && t.order < bestOrder) {
          best = { kind: kinds[slot] as K, subject, at }
          bestOrder = t.order
        }
      }
    }
    return best as Timer<K>
  }
}

/** Inserts `timer` (arming order `order`) into `out`, kept sorted by (at, order); `orders` runs alongside. */
function insertTimer<K extends string> (out: Array<Timer<K>>, orders: number[], timer: Timer<K>, order: number): void {
  // Usually one timer is due: an insertion by hand, without splice's call.
  let i = out.length
  out.push(timer)
  orders.push(order)
  while (i > 0) {
    const prev = out[i - 1] as Timer<K>
    if (prev.at < timer.at || (prev.at === timer.at && (orders[i - 1] as number) < order)) break
    out[i] = prev
    orders[i] = orders[i - 1] as number
    i--
  }
  out[i] = timer
  orders[i] = order
}
