/**
 * The synthetic workload: for a (seed, hostname, second), the events of that second, as a pure
 * function, so the simulator's oracle and tests can compute the exact truth the synthetic
 * backend reports for any host and second.
 *
 * Model: each key of the profile (an operation class such as 'read') has a mean rate in events
 * per second and a log-normal latency (median, sigma). Each host scales every rate and every
 * median by its own factors exp(hostSpread x z), z standard normal drawn from (seed, hostname),
 * so hosts differ steadily (a slow host stays slow). Each second, a key's count is
 * Poisson(rate) and its latencies are log-normal, drawn from (seed, hostname, second, key):
 * changing one key of a profile leaves the others' events as they were.
 */
import { InvalidFieldError } from '../../../metad/index.js'
import { normal, normals, poisson, seededUniform } from './prng.js'

/** One operation class of a synthetic workload. */
export interface SyntheticKey {
  /** The `key` field's value, e.g. 'read'. */
  readonly key: string
  /** Mean events per second (before the host's factor). */
  readonly rate: number
  /** Median latency in ns (before the host's factor). */
  readonly medianNs: number
  /** Standard deviation of ln(latency): 0 gives one latency, 1 spreads over ~2 decades. */
  readonly sigma: number
}

/** A synthetic workload. */
export interface SyntheticProfile {
  readonly keys: readonly SyntheticKey[]
  /** Standard deviation of the hosts' ln(factor) on rates and medians; 0: all hosts alike. */
  readonly hostSpread: number
}

/** The default: three operation classes, ~550 events a second a host, medians 5 us .. 200 us. */
export const DEFAULT_SYNTHETIC_PROFILE: SyntheticProfile = Object.freeze({
  keys: Object.freeze([
    Object.freeze({ key: 'read', rate: 300, medianNs: 20_000, sigma: 0.8 }),
    Object.freeze({ key: 'write', rate: 100, medianNs: 200_000, sigma: 1.0 }),
    Object.freeze({ key: 'stat', rate: 150, medianNs: 5_000, sigma: 0.5 })
  ]),
  hostSpread: 0.25
})

/** One key's events in one second. */
export interface SyntheticEvents {
  readonly key: string
  /** One latency (ns, a positive integer) per event. */
  readonly latencies: readonly number[]
}

/** Limits of parseSyntheticProfile, so a profile cannot make a second cost unbounded work. */
export const SYNTHETIC_MAX_KEYS = 64
export const SYNTHETIC_MAX_RATE = 100_000
export const SYNTHETIC_MAX_MEDIAN_NS = 1e12
export const SYNTHETIC_MAX_SIGMA = 5
export const SYNTHETIC_MAX_KEY_LENGTH = 128

/**
 * Validates a profile from outside (a config file): 1..64 keys, each a distinct non-empty key
 * of at most 128 characters without NUL, a rate in [0, 100000], a median in [1, 1e12] ns, a
 * sigma in [0, 5]; hostSpread in [0, 2] (default 0.25).
 * @throws InvalidFieldError naming the offending part.
 */
export function parseSyntheticProfile (input: unknown, field = 'profile'): SyntheticProfile {
  const fail = (reason: string): never => { throw new InvalidFieldError(field, input, reason) }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return fail('must be an object')
  const o = input as Record<string, unknown>
  const keys = o.keys
  if (!Array.isArray(keys) || keys.length < 1 || keys.length > SYNTHETIC_MAX_KEYS) return fail(`"keys" must be an array of 1 to ${SYNTHETIC_MAX_KEYS} keys`)
  const seen = new Set<string>()
  const num = (v: unknown, at: string, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) return fail(`${at} must be a number from ${min} to ${max}`)
    return v
  }
  const parsed = keys.map((k: unknown, i): SyntheticKey => {
    if (typeof k !== 'object' || k === null) return fail(`keys[${i}] must be an object`)
    const e = k as Record<string, unknown>
    if (typeof e.key !== 'string' || e.key === '' || e.key.length > SYNTHETIC_MAX_KEY_LENGTH || e.key.includes('\u0000')) {
      return fail(`keys[${i}].key must be a non-empty string of at most ${SYNTHETIC_MAX_KEY_LENGTH} characters without NUL`)
    }
    if (seen.has(e.key)) return fail(`keys[${i}].key ${JSON.stringify(e.key)} is given twice`)
    seen.add(e.key)
    return Object.freeze({
      key: e.key,
      rate: num(e.rate, `keys[${i}].rate`, 0, SYNTHETIC_MAX_RATE),
      medianNs: num(e.medianNs, `keys[${i}].medianNs`, 1, SYNTHETIC_MAX_MEDIAN_NS),
      sigma: num(e.sigma, `keys[${i}].sigma`, 0, SYNTHETIC_MAX_SIGMA)
    })
  })
  const hostSpread = o.hostSpread === undefined ? DEFAULT_SYNTHETIC_PROFILE.hostSpread : num(o.hostSpread, '"hostSpread"', 0, 2)
  return Object.freeze({ keys: Object.freeze(parsed), hostSpread })
}

/** A host's steady factors on rates and medians. */
function hostFactors (seed: number, hostname: string, spread: number): { rate: number, latency: number } {
  const u = seededUniform(seed, 'host', hostname)
  return { rate: Math.exp(spread * normal(u)), latency: Math.exp(spread * normal(u)) }
}

/**
 * The events of `second` on `hostname` under `seed` and `profile` (trusted: parse outside input
 * with parseSyntheticProfile), one entry per profile key, in profile order. Pure.
 *
 * @example
 * const truth = syntheticWorkload(1, 'node-17', 1_700_000_000)
 * // [{ key: 'read', latencies: [18234, 25110, ...] }, { key: 'write', ... }, { key: 'stat', ... }]
 */
export function syntheticWorkload (seed: number, hostname: string, second: number, profile: SyntheticProfile = DEFAULT_SYNTHETIC_PROFILE): readonly SyntheticEvents[] {
  const host = hostFactors(seed, hostname, profile.hostSpread)
  return profile.keys.map((k) => {
    const u = seededUniform(seed, hostname, second, k.key)
    const n = poisson(u, k.rate * host.rate)
    const median = k.medianNs * host.latency
    const z = normals(u)
    const latencies = new Array<number>(n)
    for (let i = 0; i < n; i++) {
      latencies[i] = Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, Math.round(median * Math.exp(k.sigma * z()))))
    }
    return { key: k.key, latencies }
  })
}
