/**
 * The protocol core's randomness: an injected, seeded source of uniform 32-bit words, and the few
 * draws the core needs from it (an integer below n, a shuffle, a sample, 64 random bits).
 *
 * The core never calls Math.random: the daemon seeds an Rng from the operating system's entropy
 * once at start, the simulator and the tests from a seed, so the same seed gives the same run
 * (quinn's `rng_seed`). The generator is xoshiro128** (Blackman and Vigna, 2018; public domain),
 * seeded through splitmix32 so that any seed, including 0, gives a well-mixed non-zero state.
 * Not cryptographic: nothing in the core needs unpredictability, only spread and uniqueness.
 */

/** A source of uniform random 32-bit unsigned integers. */
export interface Rng {
  /** The next uniform integer in [0, 2^32). */
  uint32 (): number
}

/**
 * A seeded xoshiro128** generator. Seeds are hashed, so nearby seeds (node 1, node 2) give
 * unrelated streams.
 *
 * @example
 * const rng = createRng('sim:42:node-7')
 * randomInt(rng, 10) // 0..9, the same on every run
 */
export function createRng (seed: number | string): Rng {
  let h = 0x9e3779b9
  const text = String(seed)
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x85ebca6b) ^ (h >>> 13)
  let x = h >>> 0
  const splitmix32 = (): number => {
    x = (x + 0x9e3779b9) >>> 0
    let z = x
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = splitmix32()
  let b = splitmix32()
  let c = splitmix32()
  let d = splitmix32()
  return {
    uint32 (): number {
      const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0
      const t = b << 9
      c ^= a
      d ^= b
      b ^= c
      a ^= d
      c ^= t
      d = rotl(d, 11)
      return result
    }
  }
}

function rotl (x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

/** A uniform double in [0, 1). */
export function randomFloat (rng: Rng): number {
  return rng.uint32() / 4294967296
}

/** A uniform integer in [0, n); n must be a positive safe integer below 2^32. */
export function randomInt (rng: Rng, n: number): number {
  if (!(n > 0 && n <= 4294967296 && Number.isInteger(n))) throw new RangeError(`randomInt: bad bound ${n}`)
  // Rejection sampling removes the modulo bias of uint32 % n.
  const limit = 4294967296 - (4294967296 % n)
  for (;;) {
    const x = rng.uint32()
    if (x < limit) return x % n
  }
}

/** Shuffles `items` in place (Fisher-Yates) and returns it. */
export function shuffle<T> (rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1)
    const tmp = items[i] as T
    items[i] = items[j] as T
    items[j] = tmp
  }
  return items
}

/**
 * Up to `k` distinct items of `items` that pass `accept`, chosen uniformly. Cost O(k) draws when
 * most items pass (the common case: live members), falling back to one filtered pass otherwise,
 * so a caller may use it on a 10,000-member list many times a second.
 */
export function sample<T> (rng: Rng, items: readonly T[], k: number, accept: (item: T) => boolean): T[] {
  const out: T[] = []
  if (k <= 0 || items.length === 0) return out
  const chosen = new Set<number>()
  for (let tries = 0; tries < 4 * k + 8 && out.length < k && chosen.size < items.length; tries++) {
    const i = randomInt(rng, items.length)
    if (chosen.has(i)) continue
    chosen.add(i)
    const item = items[i] as T
    if (accept(item)) out.push(item)
  }
  if (out.length >= k) return out
  // Few items pass, or the list is small: take the rest from a filtered, shuffled copy.
  const rest = items.filter((item, i) => !chosen.has(i) && accept(item))
  shuffle(rng, rest)
  for (const item of rest) {
    if (out.length >= k) break
    out.push(item)
  }
  return out
}

/** 64 random bits as 16 lowercase hexadecimal digits. */
export function random64Hex (rng: Rng): string {
  return rng.uint32().toString(16).padStart(8, '0') + rng.uint32().toString(16).padStart(8, '0')
}
