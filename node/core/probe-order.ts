/**
 * The order in which a node probes its members (SWIM's round robin): every round, a fresh
 * pseudo-random permutation of the member numbers, drawn without storing it, so a node probing
 * 10,000 members keeps a few words of state rather than a 40 KB shuffled list.
 *
 * THEORY. A 4-round Feistel network keyed by four random words per round is a bijection on the
 * 2^bits numbers below the next even power of two above the round's member count; walking
 * positions 0, 1, 2, ... and skipping numbers out of range visits every member number once, in
 * an order that looks random (Black and Rogaway's cipher on a domain, by cycle skipping). The
 * caller skips members that are not live. A member that becomes live after its position has
 * passed (or that was not numbered when the round began) joins a small list of newcomers, each
 * put at a uniformly random place among the positions left, so it is probed soon, as before.
 */
import { randomInt, type Rng } from './rng.js'

/** One round's order over member numbers, with newcomers. */
export class ProbeOrder {
  #half = 1
  #mask = 1
  #domain = 0
  #limit = 0
  #index = 0
  /**
   * The round's keys, as int32 fields (small integers live in the object itself; an array would
   * be one more cache miss per probe when 10,000 simulated nodes take turns).
   */
  #k0 = 0
  #k1 = 0
  #k2 = 0
  #k3 = 0
  /** Members that became live after their turn; made at the first. */
  #newcomers: number[] | undefined

  /** Starts a round over member numbers 0 .. limit - 1. */
  startRound (limit: number, rng: Rng): void {
    let bits = 2
    while (2 ** bits < limit) bits += 2
    this.#half = bits / 2
    this.#mask = 2 ** this.#half - 1
    this.#domain = 2 ** bits
    this.#limit = limit
    this.#index = 0
    this.#k0 = rng.uint32() | 0
    this.#k1 = rng.uint32() | 0
    this.#k2 = rng.uint32() | 0
    this.#k3 = rng.uint32() | 0
    if (this.#newcomers !== undefined) this.#newcomers.length = 0
  }

  /** The next member number of the round (not necessarily live), or -1 when the round is over. */
  next (rng: Rng): number {
    for (;;) {
      const left = this.#domain - this.#index
      const newcomers = this.#newcomers
      const waiting = newcomers === undefined ? 0 : newcomers.length
      if (waiting > 0 && randomInt(rng, left + waiting) < waiting) {
        const list = newcomers as number[]
        const k = randomInt(rng, waiting)
        const n = list[k] as number
        list[k] = list[waiting - 1] as number
        list.pop()
        return n
      }
      if (left <= 0) return -1
      const n = this.#permute(this.#index++)
      if (n < this.#limit) return n
    }
  }

  /** Member `n` became live: it is probed in the rest of this round, at a random place. */
  add (n: number): void {
    if (n < this.#limit && this.#inverse(n) >= this.#index) return // its turn is still to come
    const newcomers = this.#newcomers ??= []
    if (!newcomers.includes(n)) newcomers.push(n)
  }

  #f (x: number, r: number): number {
    const key = r === 0 ? this.#k0 : r === 1 ? this.#k1 : r === 2 ? this.#k2 : this.#k3
    let h = (x ^ key) >>> 0
    h ^= h >>> 16
    h = Math.imul(h, 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
    return (h >>> 0) & this.#mask
  }

  #permute (x: number): number {
    let l = Math.floor(x / (this.#mask + 1))
    let r = x & this.#mask
    for (let k = 0; k < 4; k++) {
      const t = r
      r = (l ^ this.#f(r, k)) & this.#mask
      l = t
    }
    return l * (this.#mask + 1) + r
  }

  #inverse (y: number): number {
    let l = Math.floor(y / (this.#mask + 1))
    let r = y & this.#mask
    for (let k = 3; k >= 0; k--) {
      const t = l
      l = (r ^ this.#f(l, k)) & this.#mask
      r = t
    }
    return l * (this.#mask + 1) + r
  }
}
