/**
 * The synthetic workload's randomness: a seeded, portable pseudo-random generator, so that the
 * same (seed, hostname, second) gives the same events on every machine and in the simulator.
 * Not cryptographic; never Math.random.
 *
 * A string key is hashed to 128 bits with cyrb128 (bryc's public-domain hash, four multiplicative
 * 32-bit lanes mixed at the end), which seeds sfc32 (Chris Doty-Humphrey's Small Fast Counting
 * generator, PractRand-clean at 32 bits), discarding its first 15 outputs as its author advises.
 */

/** cyrb128: four 32-bit words hashing `text`. */
export function hash128 (text: string): [number, number, number, number] {
  // Seeds as int32 (| 0) so that V8 keeps the lanes unboxed through the loop.
  let h1 = 1779033703 | 0
  let h2 = 3144134277 | 0
  let h3 = 1013904242 | 0
  let h4 = 2773480762 | 0
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i)
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067)
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233)
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213)
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179)
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067)
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233)
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213)
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179)
  h1 ^= (h2 ^ h3 ^ h4)
  h2 ^= h1
  h3 ^= h1
  h4 ^= h1
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0]
}

/** A stream of uniform doubles in [0, 1). */
export type Uniform = () => number

/** sfc32 seeded with four 32-bit words. */
export function sfc32 (a0: number, b0: number, c0: number, d0: number): Uniform {
  // State kept as int32 (| 0), which V8 holds unboxed; only the output is made unsigned.
  let a = a0 | 0
  let b = b0 | 0
  let c = c0 | 0
  let d = d0 | 0
  const next = (): number => {
    d = (d + 1) | 0
    const t = (((a + b) | 0) + d) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = ((c << 21) | (c >>> 11)) + t | 0
    return (t >>> 0) / 4294967296
  }
  for (let i = 0; i < 15; i++) next()
  return next
}

/**
 * The generator for a key made of `parts` (joined with NUL, which no part contains in practice;
 * numbers in their shortest decimal form), e.g. `seededUniform(seed, hostname, second, 'read')`.
 */
export function seededUniform (...parts: ReadonlyArray<string | number>): Uniform {
  const [a, b, c, d] = hash128(parts.map(String).join('\u0000'))
  return sfc32(a, b, c, d)
}

/**
 * Standard normal deviates (Box-Muller), both of each pair used: a deviate stream over `u`.
 * Each call of the returned function gives the next deviate.
 */
export function normals (u: Uniform): () => number {
  let spare = Number.NaN
  return () => {
    if (!Number.isNaN(spare)) {
      const z = spare
      spare = Number.NaN
      return z
    }
    const r = Math.sqrt(-2 * Math.log(1 - u())) // 1 - u in (0, 1]: log(0) is never taken
    const theta = 2 * Math.PI * u()
    spare = r * Math.sin(theta)
    return r * Math.cos(theta)
  }
}

/** A standard normal deviate (one Box-Muller draw; use normals() for many). */
export function normal (u: Uniform): number {
  return normals(u)()
}

/**
 * A Poisson deviate of mean `lambda`: Knuth's product method below 10 (exact, O(lambda)), and
 * Hormann's transformed rejection with squeeze (PTRS, 1993; numpy's method) from 10 up, which
 * takes a few uniforms whatever the mean.
 */
export function poisson (u: Uniform, lambda: number): number {
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new RangeError(`Poisson mean ${lambda} is not a finite non-negative number`)
  if (lambda < 10) {
    const limit = Math.exp(-lambda)
    let n = 0
    let p = u()
    while (p > limit) { n++; p *= u() }
    return n
  }
  const slam = Math.sqrt(lambda)
  const loglam = Math.log(lambda)
  const b = 0.931 + 2.53 * slam
  const a = -0.059 + 0.02483 * b
  const invalpha = 1.1239 + 1.1328 / (b - 3.4)
  const vr = 0.9277 - 3.6224 / (b - 2)
  for (;;) {
    const U = u() - 0.5
    const V = u()
    const us = 0.5 - Math.abs(U)
    const k = Math.floor((2 * a / us + b) * U + lambda + 0.43)
    if (us >= 0.07 && V <= vr) return k
    if (k < 0 || (us < 0.013 && V > us)) continue
    if (Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logGamma(k + 1)) return k
  }
}

/** Stirling's series coefficients B(2k) / (2k (2k - 1)), k = 1..10. */
const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400, 43867 / 244188, -174611 / 125400]

/** ln Gamma(x) for x > 0: Stirling's series, shifted up to x >= 7 where it converges fast. */
export function logGamma (x: number): number {
  if (x === 1 || x === 2) return 0
  const n = x < 7 ? Math.floor(7 - x) : 0
  let x0 = x + n
  const x2 = 1 / (x0 * x0)
  let series = STIRLING[9]!
  for (let k = 8; k >= 0; k--) series = series * x2 + STIRLING[k]!
  let gl = series / x0 + 0.5 * Math.log(2 * Math.PI) + (x0 - 0.5) * Math.log(x0) - x0
  for (let k = 1; k <= n; k++) { gl -= Math.log(x0 - 1); x0 -= 1 }
  return gl
}
