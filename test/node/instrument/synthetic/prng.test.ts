import test from 'ava'
import { hash128, logGamma, normal, normals, poisson, seededUniform, sfc32 } from '../../../../node/instrument/synthetic/prng.js'

test('the same key gives the same stream, a different key another', (t) => {
  const a = seededUniform(1, 'host-a', 100)
  const b = seededUniform(1, 'host-a', 100)
  const c = seededUniform(1, 'host-a', 101)
  const xs = [a(), a(), a()]
  t.deepEqual([b(), b(), b()], xs)
  t.notDeepEqual([c(), c(), c()], xs)
})

test('sfc32 gives the reference implementation\'s outputs (bryc\'s, after 15 discarded)', (t) => {
  const u = sfc32(1, 2, 3, 4)
  t.deepEqual([u(), u(), u()].map((x) => x * 2 ** 32), [2485495983, 2930900262, 828499831])
})

test('a seeded stream is pinned, so workloads stay the same across releases', (t) => {
  const u = seededUniform(1, 'node-1', 1_700_000_000, 'read')
  t.deepEqual([u(), u()].map((x) => x * 2 ** 32), [609949737, 2025581641])
})

test('hash128 gives four unsigned 32-bit words and separates near keys', (t) => {
  const h = hash128('seed\u0000host\u00001')
  t.is(h.length, 4)
  for (const w of h) t.true(Number.isInteger(w) && w >= 0 && w < 2 ** 32)
  t.notDeepEqual(hash128('a'), hash128('b'))
  t.notDeepEqual(hash128(''), hash128('\u0000'))
})

test('sfc32 draws lie in [0, 1) and fill ten equal bins evenly (chi-square, 9 degrees of freedom)', (t) => {
  const u = sfc32(1, 2, 3, 4)
  const bins = new Array<number>(10).fill(0)
  const n = 100_000
  let lo = 1
  let hi = 0
  for (let i = 0; i < n; i++) {
    const x = u()
    lo = Math.min(lo, x)
    hi = Math.max(hi, x)
    bins[Math.floor(x * 10)]!++
  }
  t.true(lo >= 0 && hi < 1, `draws span [${lo}, ${hi}]`)
  const chi2 = bins.reduce((s, b) => s + (b - n / 10) ** 2 / (n / 10), 0)
  t.true(chi2 < 27.9, `chi-square ${chi2.toFixed(1)} (p = 0.001 at 27.9)`)
})

test('normal deviates have mean 0 and standard deviation 1, singly and in pairs', (t) => {
  for (const next of [(u: () => number) => () => normal(u), normals]) {
    const z = next(seededUniform('normal'))
    const n = 50_000
    let s = 0
    let s2 = 0
    for (let i = 0; i < n; i++) { const x = z(); s += x; s2 += x * x }
    const mean = s / n
    t.true(Math.abs(mean) < 0.03, `mean ${mean}`)
    t.true(Math.abs(Math.sqrt(s2 / n - mean * mean) - 1) < 0.03)
  }
})

test('logGamma matches ln((x - 1)!) and ln Gamma(1/2)', (t) => {
  t.is(logGamma(1), 0)
  t.is(logGamma(2), 0)
  t.true(Math.abs(logGamma(10) - Math.log(362880)) < 1e-12)
  t.true(Math.abs(logGamma(0.5) - Math.log(Math.sqrt(Math.PI))) < 1e-12)
  t.true(Math.abs(logGamma(171) - 706.5730622457874) < 1e-9) // ln(170!)
})

test('poisson deviates have the mean and variance asked for, by the product method and by PTRS', (t) => {
  for (const lambda of [0, 3, 9.5, 10, 300, 1234.5]) {
    const u = seededUniform('poisson', lambda)
    const n = 4000
    let s = 0
    let s2 = 0
    for (let i = 0; i < n; i++) { const k = poisson(u, lambda); s += k; s2 += k * k }
    const mean = s / n
    const variance = s2 / n - mean * mean
    t.true(Math.abs(mean - lambda) <= 4 * Math.sqrt(lambda / n) + 1e-9, `lambda ${lambda}: mean ${mean}`)
    t.true(Math.abs(variance - lambda) <= 0.1 * lambda + 1e-9, `lambda ${lambda}: variance ${variance}`)
  }
})

test('poisson deviates at mean 20 follow the Poisson probabilities (chi-square over 0..40)', (t) => {
  const lambda = 20
  const n = 20_000
  const u = seededUniform('pmf')
  const seen = new Array<number>(41).fill(0)
  for (let i = 0; i < n; i++) seen[Math.min(40, poisson(u, lambda))]!++
  let chi2 = 0
  let cells = 0
  for (let k = 5; k <= 35; k++) { // cells with an expected count of at least ~10
    const expected = n * Math.exp(-lambda + k * Math.log(lambda) - logGamma(k + 1))
    chi2 += (seen[k]! - expected) ** 2 / expected
    cells++
  }
  t.true(chi2 < 60, `chi-square ${chi2.toFixed(1)} over ${cells} cells (p = 0.001 at ~59.7 for 30 degrees of freedom)`)
})

test('poisson refuses a mean that is negative or not finite', (t) => {
  t.throws(() => poisson(seededUniform('x'), -1), { instanceOf: RangeError })
  t.throws(() => poisson(seededUniform('x'), Number.POSITIVE_INFINITY), { instanceOf: RangeError })
})
