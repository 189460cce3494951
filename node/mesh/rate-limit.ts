/**
 * Token buckets keyed by peer: how the host bounds the rate of gossip each author may make this
 * node validate and forward.
 *
 * THEORY. A bucket holds up to `burst` tokens and refills at `perSecond` tokens a second; a
 * message takes one token or is over the rate. A key whose bucket is full behaves exactly as a
 * key never seen, so full buckets may be forgotten at any time: that is how the map stays bounded
 * (`maxKeys`) when many peers come and go. Only when more than `maxKeys` keys are all busy at once
 * (a flood from that many identities, each needing the network key) are the oldest forgotten
 * early, which hands them a fresh bucket: the bound on memory wins over the bound on rate.
 *
 * Time is an argument (`now`, milliseconds, never going back for a given key), so the rule is
 * tested without a clock.
 */

/** A rate: `perSecond` on average, with bursts of up to `burst`. */
export interface RatePolicy {
  /** Sustained rate, tokens per second (> 0). */
  readonly perSecond: number
  /** Bucket size: how many may come at once after a quiet period (>= 1). */
  readonly burst: number
}

interface Bucket {
  tokens: number
  /** When `tokens` was last brought up to date, ms. */
  at: number
}

/** Token buckets, one per key (see the module comment). */
export class TokenBuckets {
  readonly policy: RatePolicy
  readonly #maxKeys: number
  readonly #buckets = new Map<string, Bucket>()

  /** Throws RangeError for a policy that could never let anything through, or a bound below 1. */
  constructor (policy: RatePolicy, maxKeys = 4096) {
    if (!(Number.isFinite(policy.perSecond) && policy.perSecond > 0)) throw new RangeError(`rate limit: perSecond must be a positive number, got ${policy.perSecond}`)
    if (!(Number.isFinite(policy.burst) && policy.burst >= 1)) throw new RangeError(`rate limit: burst must be at least 1, got ${policy.burst}`)
    if (!(Number.isInteger(maxKeys) && maxKeys >= 1)) throw new RangeError(`rate limit: maxKeys must be a positive integer, got ${maxKeys}`)
    this.policy = policy
    this.#maxKeys = maxKeys
  }

  /** Keys currently tracked (busy buckets, and full ones not yet forgotten). */
  get size (): number { return this.#buckets.size }

  /** Takes a token from `key`'s bucket at time `now`: true if there was one, false if over the rate. */
  take (key: string, now: number): boolean {
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#forget(now)
      bucket = { tokens: this.policy.burst, at: now }
      this.#buckets.set(key, bucket)
    } else {
      this.#refill(bucket, now)
    }
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  #refill (bucket: Bucket, now: number): void {
    const elapsed = Math.max(0, now - bucket.at)
    bucket.tokens = Math.min(this.policy.burst, bucket.tokens + elapsed * this.policy.perSecond / 1000)
    bucket.at = Math.max(bucket.at, now)
  }

  /** Drops full buckets; if the map is still at its bound, the oldest half (see the module comment). */
  #forget (now: number): void {
    for (const [key, bucket] of this.#buckets) {
      this.#refill(bucket, now)
      if (bucket.tokens >= this.policy.burst) this.#buckets.delete(key)
    }
    if (this.#buckets.size < this.#maxKeys) return
    // Insertion order is age order (a key is never re-inserted while present).
    let excess = this.#buckets.size - Math.floor(this.#maxKeys / 2)
    for (const key of this.#buckets.keys()) {
      if (excess-- <= 0) break
      this.#buckets.delete(key)
    }
  }
}
