/**
 * The merge tree's shape: for one instrumentation, who is the root, who are its replicas, and
 * who is whose parent, derived by every node from its own membership view with no coordination.
 *
 * THEORY. Every member p has a key x_p = hash53(peer id), a 53-bit integer, computed once when it
 * joins the view. Every instrumentation I has a key h_I = hash53(I). The score s(I, p) mixes
 * x_p with h_I through murmur3's 32-bit finalizer (no string hashing per recompute): rendezvous
 * hashing. The r + 1 highest scores are the holders of I: holders[0] is the root, the others its
 * replicas. Roots of different instrumentations are independent draws, so they spread over the
 * fleet.
 *
 * Below the root the members hang in a trie over the bits of x_p, read most significant first in
 * digits of log2(k) bits (k = fan-in, a power of two): a prefix of l digits is the set of
 * members whose keys start with it. Each prefix gets one leader, chosen greedily in descending
 * score order: a member leads the shallowest prefix on its path that no higher-scoring member
 * leads ("the leader is promoted out of its subtries": the root leads the empty prefix, the best
 * of the rest of each 1-digit prefix leads that prefix, and so on). Equivalently, the leader of
 * prefix P is the highest-scoring member of P that leads none of P's ancestors. A member's parent
 * is the leader of the parent prefix of the prefix it leads; its children are the leaders of the
 * child prefixes of the prefix it leads; its depth is the length of that prefix.
 *
 * We chose this variant over "parent = leader of the smallest enclosing prefix it does not lead"
 * because the fan-in is bounded: a node has at most k children (one per child prefix), where the
 * other variant gives the root (k - 1) children per trie level, about 50 at 10,000 members with
 * k = 16, and the root is the busiest node already. Depth stays about ceil(log_k N) + 1.
 *
 * STABILITY. A join changes the leaders along one chain of prefixes only: the newcomer takes the
 * shallowest prefix it wins, the leader it displaces moves one level down its own path and
 * displaces that prefix's leader, and so on (a leave is the same chain upwards). Each prefix
 * whose leader changes re-parents at most its k children and its leader, and the chain is at most
 * as long as the trie is deep: O(k * depth) parent relations change, never O(N). Members whose
 * scores are above the newcomer's are not affected at all.
 *
 * COST. treePosition computes one node's parent, children, depth and holders in O(N) with small
 * constants: one pass that computes every score into a scratch array (and the holders), then
 * arg-max scans over the nested ranges of the node's own path (N + N/k + ...), then over the
 * child prefixes of the prefix it leads. The member keys are kept sorted, so every prefix is a
 * contiguous range found by binary search. buildTree gives every member's parent at once (the
 * greedy itself, O(N log N)) for tests and the simulator's oracle.
 *
 * DEMOTED MEMBERS. A member known to be slow would delay its whole subtree by its slowness at
 * every second. A caller may demote it: unless it is the root, it then ranks below every other
 * member (its score becomes s / 2^32 where the others' are s + 1) and leads nothing. Its subtrie
 * is led by the best of the rest, as after a leave; a prefix where only demoted members are left
 * has no leader, and its demoted members hang as leaves below the leader of the prefix above
 * (two slow members that share a prefix must not wait for each other), so a leader may have
 * more than k children, the demoted ones beyond k. Holders are chosen from the scores before
 * demotion, so demotions never move a root or a replica (a demoted replica still holds, it only
 * leads nothing): nodes that disagree about who is demoted agree on the holders and differ in a
 * few parent relations (a change of demotion moves what a leave and a join move). Such views
 * never make a cycle as long as no node demotes itself (merge-core.ts, "Slow members"). A slow
 * root cannot be helped: every second ends there.
 *
 * Two members whose keys collide (probability ~N^2/2^54) share every prefix; the one that does
 * not win their common full-key prefix hangs below the one that does (contributors.ts says why
 * the collision never double-counts).
 */
import { fmix32, hash53Parts } from '../core/digest.js'
import type { PeerId } from '../core/messages.js'

/** Bits of a member key. */
export const KEY_BITS = 53

/**
 * A membership view as the tree reads it: member ids ordered by key (ties by id), with each key
 * and its high 21 and low 32 bits. Immutable: withMember/withoutMember return new sets, so one
 * set can be shared by every core that has the same view (the simulator).
 */
export interface MemberSet {
  readonly ids: readonly PeerId[]
  /** x_p of ids[i], ascending. */
  readonly keys: Float64Array
  readonly hi: Uint32Array
  readonly lo: Uint32Array
}

/** The member key x_p of a peer: hash53 of its id (also its contributor key). */
export function memberKey (id: PeerId): number {
  const [hi, lo] = hash53Parts(id)
  return hi * 4294967296 + lo
}

/** The empty view. */
export const NO_MEMBERS: MemberSet = Object.freeze({ ids: Object.freeze([]), keys: new Float64Array(0), hi: new Uint32Array(0), lo: new Uint32Array(0) })

/** The view of the given ids (any order, repeats ignored). */
export function membersOf (ids: Iterable<PeerId>): MemberSet {
  const entries = [...new Set(ids)].map((id) => {
    const [hi, lo] = hash53Parts(id)
    return { id, hi, lo, key: hi * 4294967296 + lo }
  })
  entries.sort((a, b) => a.key - b.key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const n = entries.length
  const keys = new Float64Array(n)
  const hi = new Uint32Array(n)
  const lo = new Uint32Array(n)
  entries.forEach((e, i) => { keys[i] = e.key; hi[i] = e.hi; lo[i] = e.lo })
  return { ids: entries.map((e) => e.id), keys, hi, lo }
}

/** Number of members. */
export function memberCount (set: MemberSet): number {
  return set.ids.length
}

/** First index in [lo, hi) whose key is >= v. */
function lowerBound (keys: Float64Array, v: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (keys[mid]! < v) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Where `id` (with key `key`) is or would be inserted. */
function slotOf (set: MemberSet, id: PeerId, key: number): { index: number, found: boolean } {
  let i = lowerBound(set.keys, key, 0, set.keys.length)
  while (i < set.keys.length && set.keys[i] === key) {
    const other = set.ids[i]!
    if (other === id) return { index: i, found: true }
    if (other > id) break
    i++
  }
  return { index: i, found: false }
}

/** The index of `id` in `set`, or -1. */
export function indexOfMember (set: MemberSet, id: PeerId): number {
  const { index, found } = slotOf(set, id, memberKey(id))
  return found ? index : -1
}

/** Whether some member has key `key` (binary search). */
export function hasMemberKey (set: MemberSet, key: number): boolean {
  const i = lowerBound(set.keys, key, 0, set.keys.length)
  return i < set.keys.length && set.keys[i] === key
}

/** `set` with `id` added (the same set if it is there already). O(N) copy. */
export function withMember (set: MemberSet, id: PeerId): MemberSet {
  const [h, l] = hash53Parts(id)
  const key = h * 4294967296 + l
  const { index, found } = slotOf(set, id, key)
  if (found) return set
  const n = set.ids.length
  const keys = new Float64Array(n + 1)
  const hi = new Uint32Array(n + 1)
  const lo = new Uint32Array(n + 1)
  keys.set(set.keys.subarray(0, index)); keys[index] = key; keys.set(set.keys.subarray(index), index + 1)
  hi.set(set.hi.subarray(0, index)); hi[index] = h; hi.set(set.hi.subarray(index), index + 1)
  lo.set(set.lo.subarray(0, index)); lo[index] = l; lo.set(set.lo.subarray(index), index + 1)
  const ids = set.ids.slice()
  ids.splice(index, 0, id)
  return { ids, keys, hi, lo }
}

/** `set` without `id` (the same set if it is absent). O(N) copy. */
export function withoutMember (set: MemberSet, id: PeerId): MemberSet {
  const { index, found } = slotOf(set, id, memberKey(id))
  if (!found) return set
  const n = set.ids.length
  const keys = new Float64Array(n - 1)
  const hi = new Uint32Array(n - 1)
  const lo = new Uint32Array(n - 1)
  keys.set(set.keys.subarray(0, index)); keys.set(set.keys.subarray(index + 1), index)
  hi.set(set.hi.subarray(0, index)); hi.set(set.hi.subarray(index + 1), index)
  lo.set(set.lo.subarray(0, index)); lo.set(set.lo.subarray(index + 1), index)
  const ids = set.ids.slice()
  ids.splice(index, 1)
  return { ids, keys, hi, lo }
}

/** `set` without every member of `ids` (absent ones ignored; the same set if none is there). One O(N) pass. */
export function withoutMembers (set: MemberSet, ids: Iterable<PeerId>): MemberSet {
  const drop = new Set<number>()
  for (const id of ids) {
    const i = indexOfMember(set, id)
    if (i >= 0) drop.add(i)
  }
  if (drop.size === 0) return set
  const n = set.ids.length - drop.size
  const keys = new Float64Array(n)
  const hi = new Uint32Array(n)
  const lo = new Uint32Array(n)
  const kept: PeerId[] = new Array<PeerId>(n)
  let j = 0
  for (let i = 0; i < set.ids.length; i++) {
    if (drop.has(i)) continue
    keys[j] = set.keys[i]!; hi[j] = set.hi[i]!; lo[j] = set.lo[i]!; kept[j] = set.ids[i]!
    j++
  }
  return { ids: kept, keys, hi, lo }
}

// ---- scores ------------------------------------------------------------------------------------

/** An instrumentation's key h_I, split as member keys are. */
export interface InstrumentationKey {
  readonly hi: number
  readonly lo: number
}

/** h_I for instrumentation id `id`. */
export function instrumentationKey (id: string): InstrumentationKey {
  const [hi, lo] = hash53Parts(id)
  return { hi, lo }
}


/**
 * s(I, p) from the halves of x_p and h_I: a 32-bit integer. One finalizer over both halves is
 * enough for rendezvous hashing (full avalanche, so the orders for two instrumentations are
 * unrelated); a tie (about N^2 / 2^33 pairs) is broken by member order, the same on every node.
 */
function mix (hi: number, lo: number, ihi: number, ilo: number): number {
  return fmix32((lo ^ ilo) ^ Math.imul(hi ^ ihi, 0x9e3779b1))
}

/** The score of member `index` of `set` for instrumentation `inst`. */
export function treeScore (set: MemberSet, index: number, inst: InstrumentationKey): number {
  return mix(set.hi[index]!, set.lo[index]!, inst.hi, inst.lo)
}

// ---- shape -------------------------------------------------------------------------------------

/** The tree's parameters. */
export interface TreeShape {
  /** Fan-in k: a power of two >= 2. */
  readonly fanIn: number
  /** Replicas r besides the root. */
  readonly replicas: number
}

const POW2: number[] = Array.from({ length: KEY_BITS + 1 }, (_, i) => 2 ** i)

function digitBits (fanIn: number): number {
  const bits = Math.log2(fanIn)
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new RangeError(`fan-in ${fanIn} is not a power of two between 2 and 65536`)
  return bits
}

/** Deepest trie level (single keys). */
function maxLevel (bits: number): number {
  return Math.ceil(KEY_BITS / bits)
}

/** How many low bits a level-l prefix leaves out. */
function shiftOf (level: number, bits: number): number {
  return Math.max(0, KEY_BITS - level * bits)
}

/**
 * Demotes `demoted` (indices, any order) in `scores`, whose members that are not excluded hold
 * s + 1 (excluded: -1): a demoted member other than `root` gets s / 2^32, below every member not
 * demoted and in the same order among the demoted.
 */
function demote (scores: Float64Array, demoted: readonly number[], root: number): void {
  for (const j of demoted) {
    const s = scores[j]!
    if (s >= 1 && j !== root) scores[j] = (s - 1) / 4294967296
  }
}

/** Whether member i beats member j: higher score, then higher index (a total order). */
function beats (scores: Float64Array, i: number, j: number): boolean {
  const a = scores[i]!
  const b = scores[j]!
  return a > b || (a === b && i > j)
}

/** The best member in [lo, hi) by `beats` (lo < hi). Excluded members, and leaders of an ancestor, carry score -1. */
function argmax (scores: Float64Array, lo: number, hi: number): number {
  let best = lo
  let bestScore = scores[lo]!
  for (let i = lo + 1; i < hi; i++) {
    const s = scores[i]!
    if (s >= bestScore) { best = i; bestScore = s }
  }
  return best
}

/** One node's place in one instrumentation's tree. */
export interface TreePosition {
  /** The r + 1 highest-scoring members, best first: the root, then the replicas. */
  readonly holders: readonly PeerId[]
  /** Where this node sends its partials; undefined at the root. */
  readonly parent: PeerId | undefined
  /** The leaders of the prefixes above the one this node leads, root first (parent last). */
  readonly ancestors: readonly PeerId[]
  /** Whose partials this node waits for, at most k. */
  readonly children: readonly PeerId[]
  /** Edges from the root (0 at the root). */
  readonly depth: number
  /** Number of members in the view. */
  readonly members: number
}

/**
 * The place of `self` in instrumentation `inst`'s tree over `set` (see the module header).
 * @param scratch a buffer of at least N doubles to compute in (its contents are overwritten).
 * @param excluded indices into `set`, ascending, of members to leave out: the result is the
 *   position over `set` without them, without copying the set (the merge core routes around
 *   suspected peers this way).
 * @param demoted indices into `set`, any order, of members that lead nothing unless they are
 *   the root (DEMOTED MEMBERS above: the merge core demotes the members the membership found slow).
 * @throws RangeError if `self` is not in `set` or is excluded, or the shape is invalid (caller bugs).
 */
export function treePosition (set: MemberSet, inst: InstrumentationKey, self: PeerId, shape: TreeShape, scratch?: Float64Array, excluded: readonly number[] = [], demoted: readonly number[] = []): TreePosition {
  const bits = digitBits(shape.fanIn)
  const me = indexOfMember(set, self)
  if (me < 0 || excluded.includes(me)) throw new RangeError(`${self} is not a member of the view`)
  const n = set.ids.length
  const { keys, hi: his, lo: los, ids } = set
  const nholders = Math.min(n, shape.replicas + 1)
  // Reusing the caller's buffer matters: a fresh 80 KB array per call (N = 10,000) costs more than the scan.
  const scores = scratch !== undefined && scratch.length >= n ? scratch : new Float64Array(n)
  // Pass 1: every score, and the holders (a small insertion-sorted list, best first).
  const top: number[] = []
  const ihi = inst.hi
  const ilo = inst.lo
  // The score the last holder has: anything below cannot enter (members ascend, so ties enter).
  let floor = -1
  // Excluded members score -1, as members leading an ancestor do: they lead nothing.
  let nextExcluded = excluded.length > 0 ? excluded[0]! : -1
  let e = 0
  for (let i = 0; i < n; i++) {
    if (i === nextExcluded) {
      scores[i] = -1
      nextExcluded = ++e < excluded.length ? excluded[e]! : -1
      continue
    }
    // + 1: demoted members (demote) rank in [0, 1), below all others.
    const s = mix(his[i]!, los[i]!, ihi, ilo) + 1
    scores[i] = s
    if (s >= floor) {
      let k = top.length < nholders ? top.length : top.length - 1
      while (k > 0 && beats(scores, i, top[k - 1]!)) k--
      top.splice(k, 0, i)
      if (top.length > nholders) top.pop()
      if (top.length === nholders) floor = scores[top[nholders - 1]!]!
    }
  }
  const holders = top.map((i) => ids[i]!)
  if (demoted.length > 0) demote(scores, demoted, top[0]!)
  // Pass 2: the leaders of the prefixes on my path, until the one I lead.
  const D = maxLevel(bits)
  const myKey = keys[me]!
  let lo = 0
  let hi = n
  let level = 0
  let leader = top[0]!
  let parent = -1
  const ancestors: PeerId[] = []
  while (leader !== me) {
    parent = leader
    ancestors.push(ids[leader]!)
    scores[leader] = -1 // it leads an ancestor: out of every deeper prefix
    level++
    if (level > D) {
      // My key collides with my parent's: no prefix is left for me.
      return { holders, parent: ids[parent], ancestors, children: [], depth: level, members: n - excluded.length }
    }
    const width = POW2[shiftOf(level, bits)]!
    const start = Math.floor(myKey / width) * width
    lo = lowerBound(keys, start, lo, hi)
    hi = lowerBound(keys, start + width, lo, hi)
    leader = argmax(scores, lo, hi)
    if (scores[leader]! < 1) {
      // Only demoted members are left in my prefix, I among them: it has no leader, and we hang below my parent.
      return { holders, parent: ids[parent], ancestors, children: [], depth: level, members: n - excluded.length }
    }
  }
  // Pass 3: the leaders of my prefix's child prefixes are my children.
  scores[me] = -1
  const children: PeerId[] = []
  if (level === D) {
    // Single-key prefix: only members whose keys collide with mine can be below.
    for (let i = lo; i < hi; i++) if (scores[i]! >= 0) children.push(ids[i]!)
  } else {
    const shiftMine = shiftOf(level, bits)
    const shiftChild = shiftOf(level + 1, bits)
    const base = Math.floor(myKey / POW2[shiftMine]!) * POW2[shiftMine]!
    const width = POW2[shiftChild]!
    const nchild = POW2[shiftMine - shiftChild]!
    let a = lo
    for (let d = 0; d < nchild && a < hi; d++) {
      const b = d === nchild - 1 ? hi : lowerBound(keys, base + (d + 1) * width, a, hi)
      if (b > a) {
        const c = argmax(scores, a, b)
        const best = scores[c]!
        if (best >= 1) children.push(ids[c]!)
        // A prefix of demoted members only has no leader: all of them are my children.
        else if (best >= 0) for (let i = a; i < b; i++) if (scores[i]! >= 0) children.push(ids[i]!)
      }
      a = b
    }
  }
  return { holders, parent: parent < 0 ? undefined : ids[parent], ancestors, children, depth: level, members: n - excluded.length }
}

/**
 * Whether member `id` leaving the view (or being routed around) can change `position`, the
 * place of some other member: only if it is one of its ancestors, children or holders. A leave
 * re-leads one chain of nested prefixes inside the prefix the leaver led (STABILITY above); a
 * node's parent, own prefix and children sit in prefixes that chain can reach only from an
 * ancestor's prefix or a child's. Callers still refresh `members` (estimatedHeight reads it).
 */
export function leaveCanMove (position: TreePosition, id: PeerId): boolean {
  return position.ancestors.includes(id) || position.children.includes(id) || position.holders.includes(id)
}

/**
 * Whether member `id` joining the view (or being routed through again) can change the position
 * of `self` in `inst`'s tree: conservatively, when it would be a holder or its key shares its
 * first digit with self's. A joiner takes the shallowest prefix on its path it wins and the
 * chain of displaced leaders stays inside that prefix; with no digit in common the only prefix
 * on both paths is the root's, which it takes only by outscoring the root (and the root itself,
 * whose children lead the 1-digit prefixes, is always moved).
 */
export function joinCanMove (position: TreePosition, id: PeerId, self: PeerId, inst: InstrumentationKey, shape: TreeShape): boolean {
  const last = position.holders[position.holders.length - 1]
  // The root's children lead the 1-digit prefixes: a joiner anywhere can become one.
  if (position.depth === 0 || last === undefined || position.holders.length < shape.replicas + 1) return true
  const [h, l] = hash53Parts(id)
  const [lh, ll] = hash53Parts(last)
  // Ties between scores are broken by key order: count them as wins.
  if (mix(h, l, inst.hi, inst.lo) >= mix(lh, ll, inst.hi, inst.lo)) return true
  const width = POW2[shiftOf(1, digitBits(shape.fanIn))]!
  return Math.floor((h * 4294967296 + l) / width) === Math.floor(memberKey(self) / width)
}

/** The r + 1 holders of `inst` over `set`, best first (without the rest of treePosition). */
export function holdersOf (set: MemberSet, inst: InstrumentationKey, count: number): PeerId[] {
  const n = set.ids.length
  const scores = new Float64Array(n)
  for (let i = 0; i < n; i++) scores[i] = mix(set.hi[i]!, set.lo[i]!, inst.hi, inst.lo)
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (beats(scores, i, j) ? -1 : 1))
  return order.slice(0, count).map((i) => set.ids[i]!)
}

/**
 * How many forwarding hops to budget below a node before its deadline: 0 for a node with no
 * children, else the expected depth of the tree (ceil(log_k N) + 1: the greedy fills levels
 * 0..ceil(log_k N) - 1 and part of the next) minus its own depth, at least 1.
 */
export function estimatedHeight (position: TreePosition, fanIn: number): number {
  if (position.children.length === 0) return 0
  const n = Math.max(2, position.members)
  const expectedDepth = Math.ceil(Math.log(n) / Math.log(fanIn) - 1e-9) + 1
  return Math.max(1, expectedDepth - position.depth)
}

/** Every member's place at once (buildTree). */
export interface FullTree {
  /** parent[i]: index of member i's parent in the set, -1 at the root. */
  readonly parent: Int32Array
  /** depth[i]: member i's depth (0 at the root). */
  readonly depth: Int32Array
  /** Index of the root (-1 for an empty set). */
  readonly root: number
  /** Every member's index, best score first, before demotion: the first r + 1 are the holders. */
  readonly byScore: readonly number[]
}

/**
 * The whole tree of `inst` over `set`: the greedy of the module header, in O(N log N). The
 * reference for treePosition (they agree for every member, with the same `demoted`).
 */
export function buildTree (set: MemberSet, inst: InstrumentationKey, fanIn: number, demoted: readonly number[] = []): FullTree {
  const bits = digitBits(fanIn)
  const D = maxLevel(bits)
  const n = set.ids.length
  const scores = new Float64Array(n)
  for (let i = 0; i < n; i++) scores[i] = mix(set.hi[i]!, set.lo[i]!, inst.hi, inst.lo) + 1
  const byScore = Array.from({ length: n }, (_, i) => i).sort((i, j) => (beats(scores, i, j) ? -1 : 1))
  let order = byScore
  if (demoted.length > 0 && n > 0) {
    demote(scores, demoted, order[0]!)
    order = [...byScore].sort((i, j) => (beats(scores, i, j) ? -1 : 1))
  }
  const taken: Array<Map<number, number>> = Array.from({ length: D + 1 }, () => new Map())
  const parent = new Int32Array(n).fill(-1)
  const depth = new Int32Array(n)
  for (const i of order) {
    const key = set.keys[i]!
    if (scores[i]! < 1) {
      // Demoted: below the leader of the deepest prefix on its path that has one, leading nothing.
      let level = 1
      while (level <= D && taken[level]!.has(Math.floor(key / POW2[shiftOf(level, bits)]!))) level++
      parent[i] = taken[level - 1]!.get(Math.floor(key / POW2[shiftOf(level - 1, bits)]!))!
      depth[i] = level
      continue
    }
    let placed = false
    for (let level = 0; level <= D; level++) {
      const prefix = Math.floor(key / POW2[shiftOf(level, bits)]!)
      const m = taken[level]!
      if (m.has(prefix)) continue
      m.set(prefix, i)
      if (level > 0) parent[i] = taken[level - 1]!.get(Math.floor(key / POW2[shiftOf(level - 1, bits)]!))!
      depth[i] = level
      placed = true
      break
    }
    if (!placed) {
      parent[i] = taken[D]!.get(key)!
      depth[i] = D + 1
    }
  }
  return { parent, depth, root: order.length > 0 ? order[0]! : -1, byScore }
}

/**
 * Every member's TreePosition in one instrumentation's tree, read off one buildTree: O(N log N)
 * for all members where a treePosition per member is O(N) each, O(N^2) for all (every node of a
 * 10,000-node simulation computing its own: 26 % of a 20-s run's CPU profile).
 * For a process that holds many nodes with one view (the simulator, through SharedTrees); no
 * exclusions, no demotions. position(i) equals treePosition(set, inst, set.ids[i], shape)
 * (tree.test.ts checks every member); positions of one WholeTree share one frozen holders array.
 */
export class WholeTree {
  readonly #set: MemberSet
  readonly #tree: FullTree
  readonly #holders: readonly PeerId[]
  /** Member i's children are #children[#childStart[i] .. #childStart[i + 1]), ascending (treePosition's order). */
  readonly #childStart: Int32Array
  readonly #children: Int32Array

  constructor (set: MemberSet, inst: InstrumentationKey, shape: TreeShape) {
    const n = set.ids.length
    const tree = buildTree(set, inst, shape.fanIn)
    this.#set = set
    this.#tree = tree
    this.#holders = Object.freeze(tree.byScore.slice(0, Math.min(n, shape.replicas + 1)).map((i) => set.ids[i]!))
    const start = new Int32Array(n + 1)
    for (let i = 0; i < n; i++) if (tree.parent[i]! >= 0) start[tree.parent[i]! + 1]++
    for (let i = 0; i < n; i++) start[i + 1] += start[i]!
    const fill = start.slice(0, n)
    const children = new Int32Array(start[n]!)
    for (let i = 0; i < n; i++) {
      const p = tree.parent[i]!
      if (p >= 0) children[fill[p]!++] = i
    }
    this.#childStart = start
    this.#children = children
  }

  /** The position of member `index` of the set. */
  position (index: number): TreePosition {
    const { ids } = this.#set
    const { parent, depth } = this.#tree
    if (!(index >= 0 && index < ids.length)) throw new RangeError(`member ${index} is not in the view`)
    const ancestors: PeerId[] = []
    for (let p = parent[index]!; p >= 0; p = parent[p]!) ancestors.push(ids[p]!)
    ancestors.reverse()
    const children: PeerId[] = []
    for (let c = this.#childStart[index]!; c < this.#childStart[index + 1]!; c++) children.push(ids[this.#children[c]!]!)
    const p = parent[index]!
    return { holders: this.#holders, parent: p < 0 ? undefined : ids[p], ancestors, children, depth: depth[index]!, members: ids.length }
  }
}

/**
 * Where a merge core takes its tree positions from when it leaves no member out and demotes
 * none (MergeCoreInit.sharedTrees): the cores of one process that hold the same view read them
 * off one WholeTree per (view, instrumentation). Must return what treePosition would.
 */
export interface SharedTrees {
  position (set: MemberSet, inst: InstrumentationKey, self: PeerId, shape: TreeShape): TreePosition
}
