/**
 * View sharing: how the simulator's merge cores derive their membership views (MergeCore's
 * ViewChanges hook) so that cores holding views with the same content hold one MemberSet.
 * A MemberSet of 10,000 members is ~240 KB; 10,000 private copies would be 2.4 GB.
 *
 * - Memo. A join applied to a set is computed once: every core that holds the same set and
 *   learns the same join gets the same derived set.
 * - Interning by content. Cores drop departed members in batches (MergeCore keeps them marked
 *   gone until there are many), and after a crash storm each has learned the deaths in its own
 *   order, so its batches differ from the others' although all end at the same content. Every
 *   derived set is therefore looked up by a hash of its content (an order-independent sum of
 *   its members' mixed keys, kept per set and updated per change in O(changed members)) and, if
 *   an equal set is known, that one is returned instead.
 * - Tree sharing (createTreeSharing, MergeCore's sharedTrees hook): cores that hold one set read
 *   their tree positions off one WholeTree per (set, instrumentation) instead of each scanning it.
 * The tables are bounded (they start afresh past a limit), so they never hold more than a few
 * hundred sets that no core holds. (WeakRefs would not do: their targets live until the end of
 * the synchronous job, which is the whole run.)
 */
import { fmix32, type PeerId } from '../node/core/index.js'
import {
  indexOfMember, memberCount, treePosition, WholeTree, withMember, withoutMembers, type InstrumentationKey, type MemberSet, type SharedTrees, type TreePosition,
  type TreeShape, type ViewChanges
} from '../node/merge/index.js'

/** Derivations (and interned sets) each table keeps before it starts afresh (~240 KB a set at 10,000 members). */
const LIMIT = 256

/** A member's share of a set's content hash. */
function memberMix (hi: number, lo: number): number {
  return fmix32(lo ^ Math.imul(hi, 0x9e3779b1))
}

/** Whether two sets have the same members (keys and ids, in order). */
function sameContent (a: MemberSet, b: MemberSet): boolean {
  const n = memberCount(a)
  if (n !== memberCount(b)) return false
  for (let i = 0; i < n; i++) if (a.keys[i] !== b.keys[i] || a.ids[i] !== b.ids[i]) return false
  return true
}

/** Counters of a ViewSharing (tests, and the figures in docs/SIMULATOR.md). */
export interface ViewSharingStats {
  /** Joins answered by the memo. */
  memoHits: number
  /** Derived sets replaced by an equal interned one. */
  interned: number
  /** Sets derived (copied). */
  derived: number
}

/** ViewChanges that share derived sets between cores, with their counters. */
export interface ViewSharing extends ViewChanges {
  readonly stats: ViewSharingStats
}

/** A fresh ViewSharing for one run. */
export function createViewSharing (): ViewSharing {
  const stats: ViewSharingStats = { memoHits: 0, interned: 0, derived: 0 }
  /** Content hashes of the sets seen (a WeakMap: an entry dies with its set). */
  const hashes = new WeakMap<MemberSet, number>()
  let interned = new Map<number, MemberSet>()

  const hashOf = (set: MemberSet): number => {
    let h = hashes.get(set)
    if (h === undefined) {
      h = 0
      for (let i = 0; i < memberCount(set); i++) h = (h + memberMix(set.hi[i]!, set.lo[i]!)) >>> 0
      hashes.set(set, h)
      // A set from outside (the warm start's shared view) is interned too: a crash and its
      // restart lead back to its content.
      if (!interned.has(h)) interned.set(h, set)
    }
    return h
  }

  /** The interned set equal to `derived` (whose hash is `h`), or `derived`, now interned. */
  const intern = (derived: MemberSet, h: number): MemberSet => {
    const known = interned.get(h)
    if (known !== undefined && sameContent(known, derived)) {
      stats.interned++
      return known
    }
    if (interned.size >= LIMIT) interned = new Map()
    interned.set(h, derived)
    hashes.set(derived, h)
    return derived
  }

  let joins = new WeakMap<MemberSet, Map<PeerId, MemberSet>>()
  let joinsSize = 0
  const joined = (set: MemberSet, id: PeerId): MemberSet => {
    let bySet = joins.get(set)
    if (bySet === undefined) { bySet = new Map(); joins.set(set, bySet) }
    let next = bySet.get(id)
    if (next !== undefined) {
      stats.memoHits++
      return next
    }
    next = withMember(set, id)
    if (next !== set) {
      stats.derived++
      const i = indexOfMember(next, id)
      next = intern(next, (hashOf(set) + memberMix(next.hi[i]!, next.lo[i]!)) >>> 0)
    }
    if (++joinsSize > LIMIT) {
      joins = new WeakMap()
      joinsSize = 0
    } else {
      bySet.set(id, next)
    }
    return next
  }

  const left = (set: MemberSet, ids: readonly PeerId[]): MemberSet => {
    let h = hashOf(set)
    for (const id of ids) {
      const i = indexOfMember(set, id)
      if (i >= 0) h = (h - memberMix(set.hi[i]!, set.lo[i]!)) >>> 0
    }
    const next = withoutMembers(set, ids)
    if (next === set) return set
    stats.derived++
    return intern(next, h)
  }
  return { withMember: joined, withoutMembers: left, stats }
}

/** Counters of a TreeSharing. */
export interface TreeSharingStats {
  /** Whole trees built. */
  built: number
  /** Positions read off a whole tree. */
  shared: number
  /** Positions computed by treePosition alone (the first request for a view and instrumentation). */
  alone: number
}

/** SharedTrees for the cores of one run, with their counters. */
export interface TreeSharing extends SharedTrees {
  readonly stats: TreeSharingStats
}

/** Whole trees kept before the table starts afresh (~120 KB each at 10,000 members). */
const TREE_LIMIT = 64

/**
 * SharedTrees over WholeTrees: a (view, instrumentation, shape) asked for a second time gets a
 * whole tree, which answers every later core holding that view (at the warm start, all of
 * them); the first request is answered by treePosition alone, so a view only one core holds
 * (one core's order of events in a storm) costs no more than before.
 */
export function createTreeSharing (): TreeSharing {
  const stats: TreeSharingStats = { built: 0, shared: 0, alone: 0 }
  /** Per view, per instrumentation and shape: the whole tree, or true once it was asked for. */
  let trees = new WeakMap<MemberSet, Map<string, WholeTree | true>>()
  let kept = 0
  let scratch = new Float64Array(0)
  const position = (set: MemberSet, inst: InstrumentationKey, self: PeerId, shape: TreeShape): TreePosition => {
    let bySet = trees.get(set)
    if (bySet === undefined) { bySet = new Map(); trees.set(set, bySet) }
    const key = `${inst.hi}:${inst.lo}:${shape.fanIn}:${shape.replicas}`
    let tree = bySet.get(key)
    if (tree === undefined) {
      bySet.set(key, true)
      stats.alone++
      if (scratch.length < memberCount(set)) scratch = new Float64Array(2 * memberCount(set))
      return treePosition(set, inst, self, shape, scratch)
    }
    if (tree === true) {
      if (++kept > TREE_LIMIT) {
        trees = new WeakMap()
        bySet = new Map()
        trees.set(set, bySet)
        kept = 1
      }
      tree = new WholeTree(set, inst, shape)
      bySet.set(key, tree)
      stats.built++
    }
    const i = indexOfMember(set, self)
    if (i < 0) throw new RangeError(`${self} is not a member of the view`)
    stats.shared++
    return tree.position(i)
  }
  return { position, stats }
}
