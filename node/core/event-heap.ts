/**
 * A binary min-heap of timed events by (at, seq), so that ties resolve in scheduling order:
 * the event queue of the virtual-time harnesses (node/core/cluster.ts, node/merge/cluster.ts).
 */

/** What the heap orders: a time and a sequence number that breaks ties. */
export interface TimedEvent {
  readonly at: number
  readonly seq: number
}

function before (a: TimedEvent, b: TimedEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

/** A min-heap of events; pop() returns the earliest, the first scheduled among equals. */
export class EventHeap<E extends TimedEvent> {
  readonly #heap: E[] = []

  get size (): number { return this.#heap.length }

  peek (): E | undefined { return this.#heap[0] }

  push (e: E): void {
    const h = this.#heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }

  pop (): E | undefined {
    const h = this.#heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last !== undefined) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && before(h[l]!, h[m]!)) m = l
        if (r < h.length && before(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}
