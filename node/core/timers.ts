/**
 * Timers as data (quinn's `TimerTable`): a protocol machine names its timer kinds in a string
 * union and keeps their deadlines here; nothing is ever scheduled with setTimeout. The binding
 * arms one real timer at the machine's `nextDeadline()` and calls its `tick(now)` when it
 * fires; the simulator jumps its virtual clock straight there.
 *
 * A timer is identified by its kind and an optional subject (the member a suspicion is about,
 * the probe a relay serves), so per-subject timers of one kind coexist. Setting a timer that
 * exists moves it. Deadlines are milliseconds on the caller's clock.
 */

/** One armed timer. */
export interface Timer<K extends string> {
  readonly kind: K
  /** Which instance of the kind ('' for the singleton timers). */
  readonly subject: string
  readonly at: number
}

/** A table of named deadlines with set, stop, next and due. */
export class TimerTable<K extends string> {
  readonly #timers = new Map<string, Timer<K>>()
  /** Cached earliest deadline; undefined when unknown (recomputed lazily by next()). */
  #earliest: Timer<K> | undefined
  #earliestValid = true

  /** Arms (or moves) timer `kind`/`subject` to fire at `at`. */
  set (kind: K, at: number, subject = ''): void {
    const timer: Timer<K> = { kind, subject, at }
    const key = `${kind}\u0000${subject}`
    const old = this.#timers.get(key)
    this.#timers.set(key, timer)
    if (old !== undefined && this.#earliest === old) this.#earliestValid = false
    else if (this.#earliestValid && (this.#earliest === undefined || at < this.#earliest.at)) this.#earliest = timer
  }

  /** Disarms timer `kind`/`subject`; a no-op when it is not armed. */
  stop (kind: K, subject = ''): void {
    const key = `${kind}\u0000${subject}`
    const old = this.#timers.get(key)
    if (old === undefined) return
    this.#timers.delete(key)
    if (this.#earliest === old) this.#earliestValid = false
  }

  /** Whether timer `kind`/`subject` is armed. */
  has (kind: K, subject = ''): boolean {
    return this.#timers.has(`${kind}\u0000${subject}`)
  }

  /** The deadline of timer `kind`/`subject`, if armed. */
  get (kind: K, subject = ''): number | undefined {
    return this.#timers.get(`${kind}\u0000${subject}`)?.at
  }

  /** The earliest armed timer, if any. */
  next (): Timer<K> | undefined {
    if (!this.#earliestValid) {
      let best: Timer<K> | undefined
      for (const t of this.#timers.values()) if (best === undefined || t.at < best.at) best = t
      this.#earliest = best
      this.#earliestValid = true
    }
    return this.#earliest
  }

  /**
   * Removes and returns every timer due at `now` (deadline <= now), earliest first; timers with
   * equal deadlines come in the order they were armed, so a run is deterministic.
   */
  due (now: number): Array<Timer<K>> {
    const first = this.next()
    if (first === undefined || first.at > now) return []
    const out: Array<Timer<K>> = []
    for (const [key, t] of this.#timers) {
      if (t.at <= now) {
        out.push(t)
        this.#timers.delete(key)
      }
    }
    this.#earliestValid = false
    // Array.prototype.sort is stable: equal deadlines keep insertion order.
    return out.sort((x, y) => x.at - y.at)
  }

  /** Number of armed timers. */
  get size (): number {
    return this.#timers.size
  }

  /** Disarms everything. */
  clear (): void {
    this.#timers.clear()
    this.#earliest = undefined
    this.#earliestValid = true
  }
}
