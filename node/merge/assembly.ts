/**
 * Assembly: what a node gathers for one (instrumentation, second) before it forwards it. Plain
 * data and the few operations on it; MergeCore (merge-core.ts) owns every transition.
 *
 * A Delta holds pieces gathered but not yet sent. Their values are summed once, when sent (one
 * dense merge of k values costs less than k pairwise ones), and a bound on the magnitude of that
 * sum is checked as each piece joins, so the sum never overflows 2^53 - 1 and a hostile piece
 * whose counts would make it overflow is refused alone. The bound counts fractional numbers too
 * (a sum beyond 2^53 in magnitude is refused whatever it is made of): no metric comes near it.
 */
import type { Value } from '../../metad/index.js'
import type { PeerId } from '../core/messages.js'
import { NO_CONTRIBUTORS, union, type ContributorSet } from './contributors.js'

/** Pieces gathered but not yet sent (see the module header). */
export interface Delta {
  readonly contributors: ContributorSet
  readonly values: readonly Value[]
  readonly magnitude: number
}

/** Nothing gathered. */
export const EMPTY_DELTA: Delta = Object.freeze({ contributors: NO_CONTRIBUTORS, values: Object.freeze([]), magnitude: 0 })

/** Sum of the absolute numbers in `v`: a bound of what it adds to any key or bucket. */
function magnitude (v: Value): number {
  switch (v.type) {
    case 'scalar': return Math.abs(v.n)
    case 'distribution': return v.dist.total
    case 'decomposition': { let m = 0; for (const n of v.keys.values()) m += Math.abs(n); return m }
    case 'decomposed-distribution': { let m = 0; for (const d of v.keys.values()) m += d.total; return m }
    default: {
      const never: never = v
      throw new Error(`unhandled value ${String(never)}`)
    }
  }
}

/** `d` plus one piece, or undefined if their sum could pass 2^53 - 1 (a count overflow). */
export function addDelta (d: Delta, contributors: ContributorSet, value: Value): Delta | undefined {
  const m = d.magnitude + magnitude(value)
  if (!(m <= Number.MAX_SAFE_INTEGER)) return undefined
  return { contributors: union(d.contributors, contributors), values: [...d.values, value], magnitude: m }
}

/** Both deltas as one, or undefined if their sum could pass 2^53 - 1. */
export function joinDeltas (a: Delta, b: Delta): Delta | undefined {
  if (b.values.length === 0) return a
  if (a.values.length === 0) return b
  const m = a.magnitude + b.magnitude
  if (!(m <= Number.MAX_SAFE_INTEGER)) return undefined
  return { contributors: union(a.contributors, b.contributors), values: [...a.values, ...b.values], magnitude: m }
}

/** What a node has gathered for one (instrumentation, second). */
export interface Assembly {
  readonly second: number
  /** contribute() was called for this second. */
  own: boolean
  /** Peers that sent a partial for this second before it went up (made at the first: most nodes are leaves and get none; dropped when it goes up). */
  arrived: Set<PeerId> | undefined
  /** The partial was forwarded (or, at the root, the second finalized). */
  forwarded: boolean
  /** Every contributor merged here for this second: the exactly-once record. */
  merged: ContributorSet
  /** Pieces already merged into this node's ring (while root): replicated at finalization. */
  ringed: Delta
  /** Pieces not in the ring: forwarded to the parent (or merged into the ring if root at flush). */
  unringed: Delta
  /** When it is forwarded at the latest, ms (the node's clock). */
  readonly deadline: number
  /** The deadline is in the core's forwarding heap (only once the second had to wait). */
  scheduled: boolean
  /** Children whose asking partial is merged here, and the ack's upTo (AckMessage): acked once it went up (made at the first). */
  acks?: Array<readonly [PeerId, number | undefined]>
}

/**
 * A node's assemblies of one instrumentation by second, over the window of seconds a core
 * accepts: [now - lateWindowSeconds, now + maxClockSkewSeconds], `span` slots wide or more. Slot
 * second mod span holds the assembly of the latest second set there; an older one is gone when a
 * newer second takes its slot, which, for a span wider than the window, is only once it fell out
 * of the window. Typed slots rather than a Map: every node keeps ~130 seconds of each
 * instrumentation (10,000 nodes x 5 instrumentations x 130 entries), and a Map holds each key, a
 * Unix second beyond 2^30, as a heap number of its own, allocated per entry and traced by every
 * collection (at 3,000 simulated nodes the Maps were 76 of the heap's 376 MB).
 */
export class SecondTable {
  readonly #seconds: Float64Array
  readonly #slots: Array<Assembly | undefined>

  constructor (span: number) {
    if (!Number.isSafeInteger(span) || span < 1) throw new RangeError(`span ${span} is not a positive integer`)
    this.#seconds = new Float64Array(span).fill(NaN)
    this.#slots = new Array<Assembly | undefined>(span).fill(undefined)
  }

  #slot (second: number): number {
    const span = this.#seconds.length
    return ((second % span) + span) % span
  }

  get (second: number): Assembly | undefined {
    const k = this.#slot(second)
    return this.#seconds[k] === second ? this.#slots[k] : undefined
  }

  set (second: number, a: Assembly): void {
    const k = this.#slot(second)
    this.#seconds[k] = second
    this.#slots[k] = a
  }

  /** Drops every second before `cutoff`. */
  forgetBefore (cutoff: number): void {
    const seconds = this.#seconds
    for (let k = 0; k < seconds.length; k++) {
      if (seconds[k]! < cutoff) { seconds[k] = NaN; this.#slots[k] = undefined }
    }
  }

  clear (): void {
    this.#seconds.fill(NaN)
    this.#slots.fill(undefined)
  }

  /** The assemblies held, by ascending second. */
  values (): Assembly[] {
    const held: Array<{ second: number, a: Assembly }> = []
    for (let k = 0; k < this.#seconds.length; k++) {
      const a = this.#slots[k]
      if (a !== undefined) held.push({ second: this.#seconds[k]!, a })
    }
    return held.sort((x, y) => x.second - y.second).map((h) => h.a)
  }
}

/** A fresh assembly for `second`, to be forwarded by `deadline`. */
export function newAssembly (second: number, deadline: number): Assembly {
  return { second, own: false, arrived: undefined, forwarded: false, merged: NO_CONTRIBUTORS, ringed: EMPTY_DELTA, unringed: EMPTY_DELTA, deadline, scheduled: false }
}
