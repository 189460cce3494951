/**
 * The point ring: what a holder (root or replica) keeps of one instrumentation's history. Pure
 * state (no I/O, no clock: the caller passes the current second), bounded in memory.
 *
 * THEORY. Points are keyed by slot start, ptime(t) = t - (t mod g) (CA-REFERENCE §1.3), and the
 * ring keeps retention-time seconds of them, dropping older slots on sweep(). Contributions
 * arrive per second: (second, contributor set, value, nsources).
 * - interval scope: the slot's value is the sum of every contribution to any of its seconds;
 * - point scope: the slot's value is that of its first second that has data (a contribution to
 *   an earlier second replaces it, to the same second adds, to a later second is ignored for the
 *   value but still counted as reporting);
 * - after every merge the value is limited to maxKeys keys (limitValue): totals stay exact, and
 *   a point whose value was folded says `truncated: true`;
 * - minreporting of a slot is the minimum over its seconds of how many contributors were merged
 *   for that second; a second with no data at all counts (as 0) only once the slot is past,
 *   i.e. once the ring holds data for a later second; nsources is the maximum seen.
 *
 * EXACTLY ONCE. Each second of a slot keeps the set of contributors merged for it while the
 * second is within the late window (lateWindowSeconds): a contribution whose set meets it is a
 * duplicate and is refused whole, unless it holds every piece it meets (HISTORY). Older seconds
 * are closed: their sets are dropped (memory) and nothing more is merged into them (too-late).
 * A restored point without sets is closed likewise.
 *
 * HISTORY. mergePoint() takes a whole point from another holder (history) or the disk (restore).
 * Per second, two coverages merge when their contributor sets are known and disjoint (or one side
 * has nothing for that second). A value cannot be split by contributor, but at granularity 1 an
 * open second keeps the pieces it was summed from (each merge's contributors and value): when
 * every piece that meets the point's set lies inside it, the point takes their place and the
 * others stay, exactly (a child's piece re-sent after a partition and merged here, then the
 * cut-off side's point that already holds it). Otherwise, or at granularity > 1, a conflict
 * keeps the point with more contributors (summed over its seconds). merge() takes a
 * contribution that holds pieces the same way (a parent thought dead forwarding, late, what its
 * child had re-sent past it).
 */
import { HeatmeshError, limitValue, mergeValues, type Value } from '../../metad/index.js'
import { disjoint, isContributorSet, isSubset, NO_CONTRIBUTORS, sameContributors, union, type ContributorSet } from './contributors.js'
import type { ValueScope } from './spec.js'

/** The ring's parameters. */
export interface RingConfig {
  readonly granularity: number
  readonly retentionTime: number
  readonly valueScope: ValueScope
  readonly lateWindowSeconds: number
  readonly maxKeys: number
}

/** One second of a slot of granularity > 1: how many were merged and, while open, who. */
export interface SecondCoverage {
  readonly reporting: number
  /** Present while the second is within the late window (its contributors can still be checked). */
  readonly contributors?: ContributorSet
}

/**
 * One point of an instrumentation's history, as holders exchange it and the store persists it.
 * Coverage (contributors, seconds) is present only where the sender knows it.
 */
export interface StoredPoint {
  /** Slot start (a multiple of the granularity), Unix seconds. */
  readonly second: number
  readonly value: Value
  readonly minreporting: number
  readonly nsources: number
  /** Keys were folded into OTHER_KEY (the cardinality bound). */
  readonly truncated?: boolean
  /** Granularity 1: the contributors merged, while within the late window. */
  readonly contributors?: ContributorSet
  /** Granularity > 1: per second of the slot, in order (length = granularity). */
  readonly seconds?: readonly SecondCoverage[]
  /**
   * Granularity 1, in history while the second is open: the pieces the value is the sum of
   * (disjoint, their union the contributors). A ring merges them one by one, so that a piece
   * it already holds inside a larger one is refused alone (HISTORY in the header).
   */
  readonly pieces?: readonly PointPiece[]
}

/** What merge() did with a contribution ('overflow': a count would pass 2^53 - 1, nothing changed). */
export type RingMergeResult = 'merged' | 'duplicate' | 'too-late' | 'overflow'

/**
 * What mergePoint() did with a point ('replaced': it took the place of what it overlapped, whole
 * or the pieces it holds; 'kept': this ring's point holds more and stays).
 */
export type PointMergeResult = 'adopted' | 'merged' | 'replaced' | 'kept' | 'too-late' | 'invalid'

/** Memory held by a ring (ringStats). */
export interface RingStats {
  readonly points: number
  readonly approxBytes: number
}

interface Slot {
  readonly start: number
  value: Value
  /** Offset of the first second with data (point scope keeps that second's value). */
  first: number
  nsources: number
  /** Contributors merged per second of the slot. */
  readonly reporting: number[]
  /** Per second: the contributor set while open, undefined once closed. */
  readonly sets: Array<ContributorSet | undefined>
  /** Granularity 1, while open and known: what the value is the sum of (HISTORY in the header). */
  pieces: PointPiece[] | undefined
}

/** One merge into an open second: its contributors and its value. */
export interface PointPiece {
  readonly contributors: ContributorSet
  readonly value: Value
}

function folded (v: Value): boolean {
  return (v.type === 'decomposition' || v.type === 'decomposed-distribution') && v.folded > 0
}

/** A rough byte count of a value in memory (for ringStats). */
function valueBytes (v: Value): number {
  switch (v.type) {
    case 'scalar': return 16
    case 'distribution': return 64 + 12 * v.dist.index.length
    case 'decomposition': {
      let n = 64
      for (const k of v.keys.keys()) n += 40 + 2 * k.length
      return n
    }
    case 'decomposed-distribution': {
      let n = 64
      for (const [k, d] of v.keys) n += 96 + 2 * k.length + 12 * d.index.length
      return n
    }
    default: {
      const never: never = v
      throw new Error(`unhandled value ${String(never)}`)
    }
  }
}

/** a + b, or undefined when a count would pass 2^53 - 1 (metad refuses to round it). */
function addValues (a: Value, b: Value): Value | undefined {
  try {
    return mergeValues(a, b)
  } catch (err) {
    if (err instanceof HeatmeshError && err.code === 'ECA_INVAL') return undefined
    throw err
  }
}

function firstWithData (reporting: readonly number[]): number {
  const i = reporting.findIndex((r) => r > 0)
  return i < 0 ? 0 : i
}

/** Points of one instrumentation (see the module header). */
export class PointRing {
  #config: RingConfig
  readonly #slots = new Map<number, Slot>()
  /** Slot starts, ascending. */
  readonly #starts: number[] = []
  /** The latest second with data (decides which slots are past). */
  #newest = -Infinity
  /** Seconds before this were closed by an earlier sweep. */
  #sweptBefore = -Infinity

  constructor (config: RingConfig) {
    if (!Number.isSafeInteger(config.granularity) || config.granularity < 1) throw new RangeError(`granularity ${config.granularity} is not a positive integer`)
    this.#config = config
  }

  /** The ring's parameters. */
  get config (): RingConfig { return this.#config }

  /** Changes retention, late window or key bound (granularity and scope are fixed for a ring). */
  reconfigure (config: RingConfig): void {
    if (config.granularity !== this.#config.granularity || config.valueScope !== this.#config.valueScope) {
      throw new RangeError('a ring keeps its granularity and value scope')
    }
    this.#config = config
  }

  /** ptime(t): the start of the slot holding second t. */
  slotOf (second: number): number {
    const g = this.#config.granularity
    return second - (((second % g) + g) % g)
  }

  /** The contributors merged for `second`: undefined if the second is closed (or too old). */
  coverage (second: number, nowSecond: number): ContributorSet | undefined {
    if (this.#closedAt(second, nowSecond)) return undefined
    const slot = this.#slots.get(this.slotOf(second))
    if (slot === undefined) return NO_CONTRIBUTORS
    return slot.sets[second - slot.start]
  }

  #closedAt (second: number, nowSecond: number): boolean {
    return second < nowSecond - this.#config.lateWindowSeconds || this.slotOf(second) + this.#config.granularity <= nowSecond - this.#config.retentionTime
  }

  /**
   * Merges one contribution for `second` (contributors non-empty, value of the ring's shape).
   * Refused whole as a duplicate if a contributor is already merged for that second (unless, at
   * granularity 1, every piece it meets lies inside it: it takes their place), as too late if
   * the second is closed, as an overflow if a count would pass 2^53 - 1.
   */
  merge (second: number, contributors: ContributorSet, value: Value, nsources: number, nowSecond: number): RingMergeResult {
    if (contributors.length === 0) throw new RangeError('a contribution names at least one contributor')
    if (this.#closedAt(second, nowSecond)) return 'too-late'
    const start = this.slotOf(second)
    const off = second - start
    let slot = this.#slots.get(start)
    if (slot === undefined) {
      slot = this.#newSlot(start, limitValue(value, this.#config.maxKeys), off, nsources, nowSecond)
      slot.sets[off] = contributors
      slot.reporting[off] = contributors.length
      if (this.#config.granularity === 1) slot.pieces = [{ contributors, value }]
      this.#newest = Math.max(this.#newest, second)
      return 'merged'
    }
    const set = slot.sets[off]
    if (set === undefined) return 'too-late'
    if (!disjoint(set, contributors)) return this.#takePlaceOfPieces(slot, contributors, value, nsources) ? 'merged' : 'duplicate'
    // The value first: a merge that overflows leaves the slot untouched.
    if (this.#config.valueScope === 'interval' || (off === slot.first && slot.reporting.some((r) => r > 0))) {
      const merged = addValues(slot.value, value)
      if (merged === undefined) return 'overflow'
      slot.value = limitValue(merged, this.#config.maxKeys)
    } else if (!slot.reporting.some((r) => r > 0) || off < slot.first) {
      slot.value = limitValue(value, this.#config.maxKeys)
      slot.first = off
    } // else a later second of a point-scope slot: counted below, its value is not the slot's
    slot.sets[off] = union(set, contributors)
    slot.reporting[off] = slot.reporting[off]! + contributors.length
    slot.nsources = Math.max(slot.nsources, nsources)
    slot.pieces?.push({ contributors, value })
    this.#newest = Math.max(this.#newest, second)
    return 'merged'
  }

  #newSlot (start: number, value: Value, first: number, nsources: number, nowSecond: number): Slot {
    const g = this.#config.granularity
    const cutoff = nowSecond - this.#config.lateWindowSeconds
    const sets: Array<ContributorSet | undefined> = []
    for (let i = 0; i < g; i++) sets.push(start + i >= cutoff ? NO_CONTRIBUTORS : undefined)
    const slot: Slot = { start, value, first, nsources, reporting: new Array<number>(g).fill(0), sets, pieces: undefined }
    this.#slots.set(start, slot)
    const s = this.#starts
    let i = s.length
    while (i > 0 && s[i - 1]! > start) i--
    s.splice(i, 0, start)
    return slot
  }

  /**
   * Merges a whole point from another holder or from the disk (see HISTORY in the header).
   * 'invalid' for a point that does not fit this ring (misaligned, wrong coverage length).
   */
  mergePoint (p: StoredPoint, nowSecond: number): PointMergeResult {
    const g = this.#config.granularity
    if (!Number.isSafeInteger(p.second) || this.slotOf(p.second) !== p.second) return 'invalid'
    if (!Number.isSafeInteger(p.minreporting) || p.minreporting < 0 || !Number.isSafeInteger(p.nsources) || p.nsources < 0) return 'invalid'
    if (p.seconds !== undefined && p.seconds.length !== g) return 'invalid'
    if (p.contributors !== undefined && (g !== 1 || !isContributorSet(p.contributors))) return 'invalid'
    if (p.second + g <= nowSecond - this.#config.retentionTime) return 'too-late'
    const cutoff = nowSecond - this.#config.lateWindowSeconds
    const open = (i: number, set: ContributorSet | undefined): ContributorSet | undefined => (p.second + i >= cutoff ? set : undefined)
    const rep: number[] = []
    const sets: Array<ContributorSet | undefined> = []
    for (let i = 0; i < g; i++) {
      const c = g === 1 ? { reporting: p.minreporting, contributors: p.contributors } : (p.seconds?.[i] ?? { reporting: p.minreporting })
      if (c.contributors !== undefined && !isContributorSet(c.contributors)) return 'invalid'
      if (!Number.isSafeInteger(c.reporting) || c.reporting < 0) return 'invalid'
      rep.push(c.contributors?.length ?? c.reporting)
      sets.push(open(i, c.contributors))
    }
    if (p.pieces !== undefined) {
      if (g !== 1 || p.contributors === undefined || !arePiecesOf(p.pieces, p.contributors)) return 'invalid'
      if (p.second >= cutoff) return this.#mergePieces(p.second, p.pieces, p.nsources, nowSecond)
    }
    const value = limitValue(p.value, this.#config.maxKeys)
    const mine = this.#slots.get(p.second)
    const last = lastIndexWithData(rep)
    if (last >= 0) this.#newest = Math.max(this.#newest, p.second + last)
    if (mine === undefined) {
      this.#adopt(p, value, rep, sets, nowSecond)
      return 'adopted'
    }
    let conflict = false
    for (let i = 0; i < g && !conflict; i++) {
      if (mine.reporting[i]! === 0 || rep[i]! === 0) continue
      const a = mine.sets[i]
      const b = sets[i]
      if (a === undefined || b === undefined || !disjoint(a, b)) conflict = true
    }
    if (conflict) {
      if (p.contributors !== undefined && this.#takePlaceOfPieces(mine, p.contributors, value, p.nsources)) return 'replaced'
      const total = (r: readonly number[]): number => r.reduce((x, y) => x + y, 0)
      if (total(rep) <= total(mine.reporting)) return 'kept'
      this.#slots.delete(p.second)
      this.#starts.splice(this.#starts.indexOf(p.second), 1)
      this.#adopt(p, value, rep, sets, nowSecond)
      return 'replaced'
    }
    const theirFirst = firstWithData(rep)
    const mineHasData = mine.reporting.some((r) => r > 0)
    const theirsHasData = rep.some((r) => r > 0)
    let merged: Value | undefined
    if (this.#config.valueScope === 'interval' || !theirsHasData || !mineHasData || theirFirst === mine.first) merged = addValues(mine.value, value)
    else merged = theirFirst < mine.first ? value : mine.value
    if (merged === undefined) return 'invalid'
    mine.value = limitValue(merged, this.#config.maxKeys)
    if (this.#config.valueScope === 'point' && theirsHasData && (!mineHasData || theirFirst < mine.first)) mine.first = theirFirst
    for (let i = 0; i < g; i++) {
      const a = mine.sets[i]
      const b = sets[i]
      mine.sets[i] = a !== undefined && b !== undefined ? union(a, b) : mine.reporting[i] === 0 ? b : rep[i] === 0 ? a : undefined
      mine.reporting[i] = mine.reporting[i]! + rep[i]!
    }
    mine.nsources = Math.max(mine.nsources, p.nsources)
    if (mine.pieces !== undefined && rep[0]! > 0) {
      if (mine.sets[0] === undefined || p.contributors === undefined) mine.pieces = undefined
      else mine.pieces.push({ contributors: p.contributors, value: p.value })
    }
    return 'merged'
  }

  /** An open second's point, piece by piece: each merges or is refused on its own. */
  #mergePieces (second: number, pieces: readonly PointPiece[], nsources: number, nowSecond: number): PointMergeResult {
    let merged = false
    for (const piece of pieces) if (this.merge(second, piece.contributors, piece.value, nsources, nowSecond) === 'merged') merged = true
    return merged ? 'merged' : 'kept'
  }

  /** A slot made of point `p` alone. */
  #adopt (p: StoredPoint, value: Value, rep: readonly number[], sets: ReadonlyArray<ContributorSet | undefined>, nowSecond: number): void {
    const g = this.#config.granularity
    const slot = this.#newSlot(p.second, value, firstWithData(rep), p.nsources, nowSecond)
    for (let i = 0; i < g; i++) { slot.reporting[i] = rep[i]!; slot.sets[i] = sets[i] }
    if (g === 1 && sets[0] !== undefined) slot.pieces = rep[0]! > 0 ? [{ contributors: sets[0], value: p.value }] : []
  }

  /**
   * Granularity 1: `contributors` (with `value`) take the place of the pieces of `slot` that meet
   * them, if every one of them lies inside (their counts are in `value` then) and it brings a
   * contributor not merged yet; the other pieces stay. False, and nothing changed, otherwise
   * (a piece straddles the set, nothing is new, or the pieces are not known).
   */
  #takePlaceOfPieces (slot: Slot, contributors: ContributorSet, value: Value, nsources: number): boolean {
    // Nothing new (the same piece again): a duplicate, as ever.
    if (slot.pieces === undefined || slot.sets[0] === undefined || isSubset(contributors, slot.sets[0])) return false
    const rest: PointPiece[] = []
    for (const piece of slot.pieces) {
      if (disjoint(piece.contributors, contributors)) rest.push(piece)
      else if (!isSubset(piece.contributors, contributors)) return false
    }
    let sum: Value | undefined = value
    let set = contributors
    for (const piece of rest) {
      sum = addValues(sum, piece.value)
      if (sum === undefined) return false
      set = union(set, piece.contributors)
    }
    slot.value = limitValue(sum, this.#config.maxKeys)
    slot.first = 0
    slot.sets[0] = set
    slot.reporting[0] = set.length
    slot.nsources = Math.max(slot.nsources, nsources)
    slot.pieces = [{ contributors, value }, ...rest]
    this.#newest = Math.max(this.#newest, slot.start)
    return true
  }

  /**
   * The point of slot `start`, with its coverage (for history and the store) or without
   * (queries), and with the pieces of an open second (history).
   */
  point (start: number, withCoverage: boolean, withPieces = false): StoredPoint | undefined {
    const slot = this.#slots.get(start)
    return slot === undefined ? undefined : this.#export(slot, withCoverage, withPieces)
  }

  /** The points whose slots overlap [from, to) (seconds), oldest first (as point()). */
  points (from: number, to: number, withCoverage: boolean, withPieces = false): StoredPoint[] {
    const g = this.#config.granularity
    const out: StoredPoint[] = []
    for (const start of this.#starts) {
      if (start + g <= from) continue
      if (start >= to) break
      out.push(this.#export(this.#slots.get(start)!, withCoverage, withPieces))
    }
    return out
  }

  #export (slot: Slot, withCoverage: boolean, withPieces: boolean): StoredPoint {
    const g = this.#config.granularity
    const past = slot.start + g <= this.#newest
    let min = Infinity
    for (const r of slot.reporting) if (r > 0 || past) min = Math.min(min, r)
    const base = {
      second: slot.start,
      value: slot.value,
      minreporting: min === Infinity ? 0 : min,
      nsources: slot.nsources,
      ...(folded(slot.value) ? { truncated: true } : {})
    }
    if (!withCoverage) return base
    if (g === 1) {
      if (slot.sets[0] === undefined) return base
      // One piece says no more than the point does.
      const pieces = withPieces && slot.pieces !== undefined && slot.pieces.length > 1 ? slot.pieces.slice() : undefined
      return pieces === undefined ? { ...base, contributors: slot.sets[0] } : { ...base, contributors: slot.sets[0], pieces }
    }
    return { ...base, seconds: slot.reporting.map((reporting, i) => (slot.sets[i] === undefined ? { reporting } : { reporting, contributors: slot.sets[i] })) }
  }

  /**
   * Ages the ring to `nowSecond`: drops slots older than the retention time, and closes (drops the
   * contributor sets of) seconds older than the late window.
   */
  sweep (nowSecond: number): void {
    const g = this.#config.granularity
    const s = this.#starts
    let drop = 0
    while (drop < s.length && s[drop]! + g <= nowSecond - this.#config.retentionTime) this.#slots.delete(s[drop++]!)
    if (drop > 0) s.splice(0, drop)
    // Only slots that reach past the previous sweep's cutoff can still hold open seconds.
    const cutoff = nowSecond - this.#config.lateWindowSeconds
    let k = s.length
    while (k > 0 && s[k - 1]! + g > this.#sweptBefore) k--
    for (; k < s.length; k++) {
      const start = s[k]!
      if (start >= cutoff) break
      const slot = this.#slots.get(start)!
      for (let i = 0; i < g && start + i < cutoff; i++) slot.sets[i] = undefined
      slot.pieces = undefined
    }
    this.#sweptBefore = Math.max(this.#sweptBefore, cutoff)
  }

  /** Number of points and a rough count of the bytes they hold. */
  stats (): RingStats {
    let bytes = 0
    for (const slot of this.#slots.values()) {
      bytes += 96 + valueBytes(slot.value) + 16 * slot.reporting.length
      for (const set of slot.sets) if (set !== undefined) bytes += 8 * set.length
      // A piece's set is shared with the messages it came in; its value is kept for it alone.
      for (const piece of slot.pieces ?? []) bytes += 32 + valueBytes(piece.value)
    }
    return { points: this.#slots.size, approxBytes: bytes }
  }
}

/** Whether `pieces` are non-empty, disjoint sets whose union is `contributors`. */
function arePiecesOf (pieces: readonly PointPiece[], contributors: ContributorSet): boolean {
  let all: ContributorSet = NO_CONTRIBUTORS
  for (const piece of pieces) {
    if (piece.contributors.length === 0 || !isContributorSet(piece.contributors) || !disjoint(all, piece.contributors)) return false
    all = union(all, piece.contributors)
  }
  return sameContributors(all, contributors)
}

function lastIndexWithData (reporting: readonly number[]): number {
  for (let i = reporting.length - 1; i >= 0; i--) if (reporting[i]! > 0) return i
  return -1
}
