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
  /** Children whose asking partial is merged here: acked once it went up (made at the first). */
  acks?: PeerId[]
}

/** A fresh assembly for `second`, to be forwarded by `deadline`. */
export function newAssembly (second: number, deadline: number): Assembly {
  return { second, own: false, arrived: undefined, forwarded: false, merged: NO_CONTRIBUTORS, ringed: EMPTY_DELTA, unringed: EMPTY_DELTA, deadline, scheduled: false }
}
