/**
 * Set digests for anti-entropy: a summary of a replicated set (members, definitions) small
 * enough to exchange often, that tells two replicas whether they agree and, when they do not,
 * which part of the set differs, so only that part is sent.
 *
 * THEORY. Every entry has a key (its id) and a fingerprint (a string naming its current state,
 * e.g. id + version). The digest splits the key space into DIGEST_BUCKETS buckets by a hash of
 * the key; each bucket keeps the count of its entries and the XOR of the 53-bit hashes of their
 * fingerprints, and the root is the XOR and count over all buckets. XOR makes every update O(1)
 * (adding and removing an entry are the same operation) and the digest independent of insertion
 * order, so two replicas holding the same entries have the same digest whatever their history.
 * Two different sets collide only if their fingerprint hashes XOR to the same value with the same
 * counts: about 2^-53 per comparison, and a collision only delays repair to the next change.
 *
 * Reconciliation (used by membership.ts and definitions.ts, messages in messages.ts):
 *   A -> B  sync-root    A's root and count
 *   B -> A  sync-buckets B's root and its non-empty buckets (nothing more when the roots agree)
 *   A -> B  sync-entries A's entries in the buckets that differ, and `want`: those buckets
 *   B -> A  sync-entries B's entries in the wanted buckets
 * Four messages of which the first two are small; at 10,000 members a differing bucket holds
 * about 40 entries.
 */

/** Number of buckets of a digest (a power of two). */
export const DIGEST_BUCKETS = 256

/** One non-empty bucket as exchanged on the wire: [index, count, hash]. */
export type BucketSummary = readonly [index: number, count: number, hash: number]

/** The root of a digest: the XOR of every fingerprint hash, and the number of entries. */
export interface DigestRoot {
  readonly hash: number
  readonly count: number
}

/**
 * cyrb53 (bryc, public domain): a fast 53-bit string hash, returned as its high 21 bits and low
 * 32 bits so that XOR can work on each half (JavaScript's ^ is 32-bit).
 */
export function hash53Parts (text: string, seed = 0): [hi: number, lo: number] {
  let h1 = 0xdeadbeef ^ seed
  let h2 = 0x41c6ce57 ^ seed
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507)
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507)
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return [(h2 & 0x1fffff) >>> 0, h1 >>> 0]
}

/** cyrb53 as one non-negative safe integer. */
export function hash53 (text: string, seed = 0): number {
  const [hi, lo] = hash53Parts(text, seed)
  return hi * 4294967296 + lo
}

/** murmur3's 32-bit finalizer: full avalanche, a bijection on 32 bits. */
export function fmix32 (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** The bucket of key `key`. */
export function bucketOf (key: string): number {
  // A different seed from the fingerprint hash, so bucket and fingerprint bits are unrelated.
  return hash53Parts(key, 0x5bd1e995)[1] & (DIGEST_BUCKETS - 1)
}

/**
 * Non-empty buckets a SetDigest keeps as a short list before it switches to arrays over every
 * bucket (a replica of a few definitions needs a few; 10,000 simulated nodes each holding three
 * 256-entry arrays spent a tenth of their start-up allocating them).
 */
const SPARSE_BUCKETS = 32

/** An incrementally maintained bucketed XOR digest of a set. */
export class SetDigest {
  /** While few buckets are non-empty: [bucket, count, hi, lo] per bucket, by bucket; undefined once dense. */
  #sparse: number[] | undefined = []
  /** Once dense: count, hi and lo of every bucket, at b, DIGEST_BUCKETS + b, 2 DIGEST_BUCKETS + b. */
  #dense: Uint32Array | undefined
  #rootHi = 0
  #rootLo = 0
  #total = 0

  /** Adds the entry `key` in the state named by `fingerprint`. */
  add (key: string, fingerprint: string): void {
    this.#toggle(key, fingerprint, 1)
  }

  /** Removes the entry `key` in the state named by `fingerprint` (which it must have been added with). */
  remove (key: string, fingerprint: string): void {
    this.#toggle(key, fingerprint, -1)
  }

  #toggle (key: string, fingerprint: string, delta: 1 | -1): void {
    const b = bucketOf(key)
    const [hi, lo] = hash53Parts(fingerprint)
    const sparse = this.#sparse
    if (sparse !== undefined) {
      let i = 0
      while (i < sparse.length && (sparse[i] as number) < b) i += 4
      if (i < sparse.length && sparse[i] === b) {
        const count = (sparse[i + 1] as number) + delta
        // An emptied bucket's hashes have cancelled out: drop it.
        if (count === 0) sparse.splice(i, 4)
        else {
          sparse[i + 1] = count
          sparse[i + 2] = ((sparse[i + 2] as number) ^ hi) >>> 0
          sparse[i + 3] = ((sparse[i + 3] as number) ^ lo) >>> 0
        }
      } else {
        sparse.splice(i, 0, b, delta, hi, lo)
        if (sparse.length > 4 * SPARSE_BUCKETS) this.#densify()
      }
    } else {
      const dense = this.#dense as Uint32Array
      dense[b] = (dense[b] as number) + delta
      dense[DIGEST_BUCKETS + b] = (dense[DIGEST_BUCKETS + b] as number) ^ hi
      dense[2 * DIGEST_BUCKETS + b] = (dense[2 * DIGEST_BUCKETS + b] as number) ^ lo
    }
    this.#rootHi = (this.#rootHi ^ hi) >>> 0
    this.#rootLo = (this.#rootLo ^ lo) >>> 0
    this.#total += delta
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
    const [count, hi, lo] = this.#arrays()
    return bucketSummaries(count, hi, lo)
  }

  /**
   * The indices of the buckets where `remote` (another replica's non-empty buckets) and this
   * digest differ, ascending. A bucket empty on one side and not on the other differs.
   */
  differingBuckets (remote: readonly BucketSummary[]): number[] {
    const [count, hi, lo] = this.#arrays()
    return differingBuckets(count, hi, lo, remote)
  }

  /** The count, hi and lo arrays over every bucket (made from the list while sparse: a rare call). */
  #arrays (): [Uint32Array, Uint32Array, Uint32Array] {
    let dense = this.#dense
    if (dense === undefined) {
      dense = new Uint32Array(3 * DIGEST_BUCKETS)
      const sparse = this.#sparse as number[]
      for (let i = 0; i < sparse.length; i += 4) {
        const b = sparse[i] as number
        dense[b] = sparse[i + 1] as number
        dense[DIGEST_BUCKETS + b] = sparse[i + 2] as number
        dense[2 * DIGEST_BUCKETS + b] = sparse[i + 3] as number
      }
    }
    return [dense.subarray(0, DIGEST_BUCKETS), dense.subarray(DIGEST_BUCKETS, 2 * DIGEST_BUCKETS), dense.subarray(2 * DIGEST_BUCKETS)]
  }

  #densify (): void {
    const [count] = this.#arrays()
    this.#dense = new Uint32Array(count.buffer)
    this.#sparse = undefined
  }
}

/** Every non-empty bucket of a digest's arrays, in index order (SetDigest and HashedDigest). */
export function bucketSummaries (count: Uint32Array, hi: Uint32Array, lo: Uint32Array): BucketSummary[] {
  const out: BucketSummary[] = []
  for (let i = 0; i < DIGEST_BUCKETS; i++) {
    const n = count[i] as number
    if (n > 0) out.push([i, n, (hi[i] as number) * 4294967296 + (lo[i] as number)])
  }
  return out
}

/** The buckets where `remote` and a digest's arrays differ, ascending (SetDigest and HashedDigest). */
export function differingBuckets (count: Uint32Array, hi: Uint32Array, lo: Uint32Array, remote: readonly BucketSummary[]): number[] {
  const theirs: Array<BucketSummary | undefined> = new Array(DIGEST_BUCKETS)
  for (const s of remote) theirs[s[0]] = s
  const out: number[] = []
  for (let i = 0; i < DIGEST_BUCKETS; i++) {
    const n = count[i] as number
    const other = theirs[i]
    if (n === 0 && other === undefined) continue
    const hash = (hi[i] as number) * 4294967296 + (lo[i] as number)
    if (other === undefined || other[1] !== n || other[2] !== hash) out.push(i)
  }
  return out
}
