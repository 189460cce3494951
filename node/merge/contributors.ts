/**
 * Contributor sets: which nodes a partial covers, so that no node is ever counted twice for a
 * second (exactly once, DESIGN.md "Merge tree").
 *
 * A contributor is named by its member key x_p = hash53(peer id) (tree.ts), a 53-bit integer, so
 * a set is a sorted array of distinct safe integers: disjointness and union are one linear merge
 * walk, and the wire form is compact: the count, then the first key and the gaps between
 * consecutive keys (minus one, so that strictly increasing is the only thing the bytes can say),
 * each an unsigned varint. At 10,000 members the gaps are about 2^53 / 10^4 and take 6-7 bytes.
 *
 * COLLISIONS. Two peer ids hash to the same key with probability about N^2 / 2^54 (10^-8 at
 * N = 10,000). Both nodes then look like one contributor: the second one's contribution is
 * rejected as a duplicate wherever both meet. A collision therefore makes a contribution
 * missing (minreporting is one short), never doubled: the exactly-once promise holds.
 */
import { ByteReader, ByteWriter, uvLength } from './wire.js'

/** A set of contributors: member keys, strictly increasing. Treat as immutable. */
export type ContributorSet = readonly number[]

/** Most contributors one set may hold on the wire (a mesh is planned for 10,000 nodes). */
export const MAX_CONTRIBUTORS = 131_072

/** The empty set. */
export const NO_CONTRIBUTORS: ContributorSet = Object.freeze([])

/** The set of the given keys (any order, repeats allowed). */
export function contributorsOf (keys: Iterable<number>): ContributorSet {
  const sorted = [...keys].sort((a, b) => a - b)
  const out: number[] = []
  for (const k of sorted) {
    if (!Number.isSafeInteger(k) || k < 0) throw new RangeError(`contributor ${k} is not a 53-bit member key`)
    if (out.length === 0 || out[out.length - 1] !== k) out.push(k)
  }
  return out
}

/** Whether `s` is a valid set: safe non-negative integers, strictly increasing. */
export function isContributorSet (s: readonly number[]): boolean {
  let prev = -1
  for (const k of s) {
    if (!Number.isSafeInteger(k) || k <= prev) return false
    prev = k
  }
  return true
}

/** Number of contributors. */
export function contributorCount (s: ContributorSet): number {
  return s.length
}

/** Whether `key` is in `s` (binary search). */
export function hasContributor (s: ContributorSet, key: number): boolean {
  let lo = 0
  let hi = s.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const v = s[mid]!
    if (v === key) return true
    if (v < key) lo = mid + 1
    else hi = mid
  }
  return false
}

/** Whether `a` and `b` are the same set. */
export function sameContributors (a: ContributorSet, b: ContributorSet): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Whether `a` and `b` share no contributor. */
export function disjoint (a: ContributorSet, b: ContributorSet): boolean {
  if (a.length === 0 || b.length === 0) return true
  // Cheap rejection of the common case: ranges that do not overlap.
  if (a[a.length - 1]! < b[0]! || b[b.length - 1]! < a[0]!) return true
  if (a.length === 1) return !hasContributor(b, a[0]!)
  if (b.length === 1) return !hasContributor(a, b[0]!)
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    const x = a[i]!
    const y = b[j]!
    if (x === y) return false
    if (x < y) i++
    else j++
  }
  return true
}

/** Whether every contributor of `a` is in `b`. */
export function isSubset (a: ContributorSet, b: ContributorSet): boolean {
  if (a.length > b.length) return false
  let j = 0
  for (const x of a) {
    while (j < b.length && b[j]! < x) j++
    if (j === b.length || b[j] !== x) return false
    j++
  }
  return true
}

/** The union of `a` and `b` (returns an input when the other is empty). */
export function union (a: ContributorSet, b: ContributorSet): ContributorSet {
  if (b.length === 0) return a
  if (a.length === 0) return b
  if (a[a.length - 1]! < b[0]!) return [...a, ...b]
  if (b[b.length - 1]! < a[0]!) return [...b, ...a]
  const out = new Array<number>(a.length + b.length)
  let i = 0
  let j = 0
  let k = 0
  while (i < a.length && j < b.length) {
    const x = a[i]!
    const y = b[j]!
    if (x < y) { out[k++] = x; i++ } else if (y < x) { out[k++] = y; j++ } else { out[k++] = x; i++; j++ }
  }
  while (i < a.length) out[k++] = a[i++]!
  while (j < b.length) out[k++] = b[j++]!
  out.length = k
  return out
}

/** The upper bound of the bytes writeContributors takes for `s` (8 per key plus the count). */
export function contributorsSizeBound (s: ContributorSet): number {
  return 3 + 8 * s.length
}

/** Writes `s` (count, first key, gaps minus one). */
export function writeContributors (w: ByteWriter, s: ContributorSet): void {
  w.uv(s.length)
  let prev = -1
  for (const k of s) {
    w.uv(k - prev - 1)
    prev = k
  }
}

/** Bytes writeContributors writes for `s`. */
export function contributorsLength (s: ContributorSet): number {
  let n = uvLength(s.length)
  let prev = -1
  for (const k of s) {
    n += uvLength(k - prev - 1)
    prev = k
  }
  return n
}

/** Reads a set written by writeContributors, checking count, order and range; names `field` on failure. */
export function readContributors (r: ByteReader, field: string): ContributorSet {
  const n = r.uv(field)
  if (n > MAX_CONTRIBUTORS) r.fail(field, `${n} contributors exceed the limit ${MAX_CONTRIBUTORS}`)
  if (n > r.left) r.fail(field, `${n} contributors need at least ${n} bytes, ${r.left} left`)
  const out = new Array<number>(n)
  let prev = -1
  for (let i = 0; i < n; i++) {
    const gap = r.uv(field)
    // Checked before adding, so the sum is never rounded past 2^53.
    if (gap > Number.MAX_SAFE_INTEGER - prev - 1) r.fail(field, 'contributor key exceeds 2^53 - 1')
    const k = prev + 1 + gap
    out[i] = k
    prev = k
  }
  return out
}

/** The wire form of one set on its own (for tests and the store). */
export function encodeContributors (s: ContributorSet): Uint8Array {
  const w = new ByteWriter(contributorsSizeBound(s))
  writeContributors(w, s)
  return w.finish()
}

/** Decodes encodeContributors' bytes; throws FieldDecodeError('contributors', ...) for anything else. */
export function decodeContributors (bytes: Uint8Array): ContributorSet {
  const r = new ByteReader(bytes)
  const s = readContributors(r, 'contributors')
  r.end('contributors')
  return s
}
