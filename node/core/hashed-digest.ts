/**
 * A set digest fed with precomputed hashes: the same bucketed XOR digest as SetDigest
 * (digest.ts, whose THEORY applies unchanged), for a caller that already holds each entry's
 * bucket and fingerprint hash, so an update costs no string hashing. The member table uses it
 * with the hashes its peer interner caches; its root and buckets equal SetDigest's for the same
 * entries (a test checks), so nodes agree whichever of the two they use.
 */
import type { TypedArena } from './arena.js'
import { bucketSummaries, differingBuckets, DIGEST_BUCKETS, type BucketSummary, type DigestRoot } from './digest.js'

/** The arrays of a digest that has no entry yet (all zero, never written: shared). */
const EMPTY = new Uint32Array(DIGEST_BUCKETS)

/** An incrementally maintained bucketed XOR digest over precomputed hashes. */
export class HashedDigest {
  #hi: Uint32Array
  #lo: Uint32Array
  #count: Uint32Array
  /** Whether the arrays are another digest's (copyFrom), to be copied before the first change. */
  #shared = false
  readonly #arena: TypedArena | undefined
  #rootHi = 0
  #rootLo = 0
  #total = 0

  /** An empty digest, its arrays from `arena` if given. */
  constructor (arena?: TypedArena) {
    this.#arena = arena
    // Empty until the first change (a copy shares another's arrays until then).
    this.#hi = EMPTY
    this.#lo = EMPTY
    this.#count = EMPTY
    this.#shared = true
  }

  #array (): Uint32Array {
    return this.#arena?.uint32(DIGEST_BUCKETS) ?? new Uint32Array(DIGEST_BUCKETS)
  }

  /**
   * Adds (delta 1) or removes (delta -1) an entry of bucket `bucket` whose fingerprint hashes to
   * [hi, lo] (hash53Parts of the fingerprint); removing takes the hash it was added with.
   */
  toggle (bucket: number, hi: number, lo: number, delta: 1 | -1): void {
    if (this.#shared) {
      const hiArr = this.#array(); hiArr.set(this.#hi); this.#hi = hiArr
      const loArr = this.#array(); loArr.set(this.#lo); this.#lo = loArr
      const countArr = this.#array(); countArr.set(this.#count); this.#count = countArr
      this.#shared = false
    }
    this.#hi[bucket] = (this.#hi[bucket] as number) ^ hi
    this.#lo[bucket] = (this.#lo[bucket] as number) ^ lo
    this.#count[bucket] = (this.#count[bucket] as number) + delta
    this.#rootHi = (this.#rootHi ^ hi) >>> 0
    this.#rootLo = (this.#rootLo ^ lo) >>> 0
    this.#total += delta
  }

  /**
   * Makes this digest a copy of `other` (a warm start from a shared snapshot), sharing its
   * arrays until this one changes; `other` must not change meanwhile (a snapshot does not).
   */
  copyFrom (other: HashedDigest): void {
    this.#hi = other.#hi
    this.#lo = other.#lo
    this.#count = other.#count
    this.#shared = true
    this.#rootHi = other.#rootHi
    this.#rootLo = other.#rootLo
    this.#total = other.#total
  }

  /** The root: hash and count over every entry. */
  root (): DigestRoot {
    return { hash: this.#rootHi * 4294967296 + this.#rootLo, count: this.#total }
  }

  /** Whether `other` is this digest's root. */
  rootEquals (other: DigestRoot): boolean {
    return other.hash === this.#rootHi * 4294967296 + this.#rootLo && other.count === this.#total
  }

  /** Every non-empty bucket, in index order. */
  buckets (): BucketSummary[] {
    return bucketSummaries(this.#count, this.#hi, this.#lo)
  }

  /** The buckets where `remote` and this digest differ, ascending (as SetDigest's). */
  differingBuckets (remote: readonly BucketSummary[]): number[] {
    return differingBuckets(this.#count, this.#hi, this.#lo, remote)
  }
}
