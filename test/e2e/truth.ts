/**
 * The oracle of the end-to-end merge tests: what a set of daemons' synthetic backends measured
 * in a second, computed from the same deterministic workload the daemons run (seed 1, the
 * daemon's name as the host), so a fleet-wide value can be checked exactly.
 */
import { catalog, mergeValues, parsePredicate, valueToCa, type CaValue, type Decomposition, type Value } from '../../metad/index.js'
import { createValueAccumulator, DEFAULT_SYNTHETIC_PROFILE, syntheticWorkload, valueLayout } from '../../node/instrument/index.js'

const metric = catalog.metrics.get('synthetic.ops')!
/** The seed of the daemon's synthetic backend (createSyntheticBackend's default). */
const DAEMON_SEED = 1

/** The value the hosts' synthetic workloads give for `second`, merged. */
export function syntheticTruth (hosts: readonly string[], second: number, decomposition: Decomposition, predicate: unknown = {}): Value {
  const layout = valueLayout(metric, decomposition)
  const parsed = parsePredicate(predicate, metric)
  let total: Value | undefined
  for (const host of hosts) {
    const acc = createValueAccumulator(layout, parsed)
    for (const { key, latencies } of syntheticWorkload(DAEMON_SEED, host, second, DEFAULT_SYNTHETIC_PROFILE)) {
      for (const latency of latencies) acc.add({ key, latency })
    }
    const v = acc.take()
    total = total === undefined ? v : mergeValues(total, v)
  }
  if (total === undefined) throw new RangeError('no hosts')
  return total
}

/** The same, in the form CA's raw values API returns. */
export function syntheticTruthCa (hosts: readonly string[], second: number, decomposition: Decomposition, predicate: unknown = {}): CaValue {
  return valueToCa(syntheticTruth(hosts, second, decomposition, predicate))
}

/**
 * Whether `measured` (CA form of a decomposed distribution or decomposition) never exceeds
 * `truth` in any key or bucket: what a merge that never double-counts guarantees even when
 * contributions are missing. Returns the first excess found, or undefined.
 */
export function excessOver (measured: CaValue, truth: CaValue): string | undefined {
  if (typeof measured === 'number' || typeof truth === 'number') {
    return typeof measured === 'number' && typeof truth === 'number' && measured <= truth ? undefined : `${JSON.stringify(measured)} > ${JSON.stringify(truth)}`
  }
  if (Array.isArray(measured)) return bucketExcess(measured, Array.isArray(truth) ? truth : [], '')
  const t = truth as Record<string, unknown>
  for (const [key, v] of Object.entries(measured)) {
    const tv = t[key]
    if (tv === undefined) return `key ${JSON.stringify(key)} is not in the truth`
    if (typeof v === 'number') {
      if (typeof tv !== 'number' || v > tv) return `key ${JSON.stringify(key)}: ${v} > ${String(tv)}`
    } else {
      const e = bucketExcess(v as Array<[[number, number], number]>, tv as Array<[[number, number], number]>, `key ${JSON.stringify(key)}: `)
      if (e !== undefined) return e
    }
  }
  return undefined
}

function bucketExcess (m: ReadonlyArray<readonly [readonly [number, number], number]>, t: ReadonlyArray<readonly [readonly [number, number], number]>, prefix: string): string | undefined {
  const truth = new Map(t.map(([[lo], n]) => [lo, n]))
  for (const [[lo, hi], n] of m) {
    const tn = truth.get(lo) ?? 0
    if (n > tn) return `${prefix}bucket [${lo}, ${hi}]: ${n} > ${tn}`
  }
  return undefined
}
