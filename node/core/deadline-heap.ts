/**
 * Many deadlines of one timer kind, one per subject (a member number), behind one entry of a
 * machine's TimerTable: a binary min-heap of (deadline, subject) with lazy deletion. The machine
 * arms its timer at the heap's earliest deadline, and when it fires pops what is due and checks
 * each against the subject's current deadline (a moved or cancelled one is skipped).
 *
 * Why: during a crash storm at 10,000 members a node suspects hundreds of members at once, and
 * each confirmation moves a suspicion's deadline. As separate TimerTable entries, every move
 * re-keyed a string and every expiry or move of the earliest rescanned all of them; here a move
 * is one push, an expiry one pop, O(log n).
 */

/** A min-heap of (deadline, subject), ties in the order pushed. */
export class DeadlineHeap {
  #at = new Float64Array(16)
  #subject = new Int32Array(16)
  #seq = new Float64Array(16)
  #size = 0
  #pushed = 0

  get size (): number { return this.#size }

  /** The earliest deadline, or undefined when empty. */
  peek (): number | undefined {
    return this.#size === 0 ? undefined : this.#at[0]
  }

  /** Adds deadline `at` for `subject` (an older one for the same subject stays: the caller skips it). */
  push (at: number, subject: number): void {
    if (this.#size === this.#at.length) {
      const cap = 2 * this.#at.length
      const at2 = new Float64Array(cap); at2.set(this.#at); this.#at = at2
      const s2 = new Int32Array(cap); s2.set(this.#subject); this.#subject = s2
      const q2 = new Float64Array(cap); q2.set(this.#seq); this.#seq = q2
    }
    let i = this.#size++
    const seq = ++this.#pushed
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.#less(at, seq, p)) break
      this.#move(p, i)
      i = p
    }
    this.#at[i] = at
    this.#subject[i] = subject
    this.#seq[i] = seq
  }

  /**
   * Removes the earliest entry if it is due (deadline <= now): calls `fire(subject, at)` and
   * returns true; false when nothing is due.
   */
  popDue (now: number, fire: (subject: number, at: number) => void): boolean {
    if (this.#size === 0 || (this.#at[0] as number) > now) return false
    const at = this.#at[0] as number
    const subject = this.#subject[0] as number
    const last = --this.#size
    if (last > 0) {
      const lastAt = this.#at[last] as number
      const lastSubject = this.#subject[last] as number
      const lastSeq = this.#seq[last] as number
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= last) break
        const r = l + 1
        const c = r < last && this.#lessAt(r, l) ? r : l
        if (!this.#less(this.#at[c] as number, this.#seq[c] as number, -1, lastAt, lastSeq)) break
        this.#move(c, i)
        i = c
      }
      this.#at[i] = lastAt
      this.#subject[i] = lastSubject
      this.#seq[i] = lastSeq
    }
    fire(subject, at)
    return true
  }

  /** Whether (at, seq) comes before entry j (or before (atJ, seqJ) when j is -1). */
  #less (at: number, seq: number, j: number, atJ = this.#at[j] as number, seqJ = this.#seq[j] as number): boolean {
    return at < atJ || (at === atJ && seq < seqJ)
  }

  #lessAt (i: number, j: number): boolean {
    return this.#less(this.#at[i] as number, this.#seq[i] as number, j)
  }

  #move (from: number, to: number): void {
    this.#at[to] = this.#at[from] as number
    this.#subject[to] = this.#subject[from] as number
    this.#seq[to] = this.#seq[from] as number
  }
}
