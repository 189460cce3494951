/**
 * Bucketings and boundary values for the ladder tests (shared by ladder.test.ts, which checks
 * the ladder as data, and accept.test.ts, which runs it inside bpftrace).
 */
import { bucketCount, bucketIndex, bucketRange, LATENCY_BUCKETING, type Bucketing } from '../../../metad/quantize.js'

/** Every bucketing heatmesh uses, and a few that stress the generalization. */
export const LADDER_BUCKETINGS: readonly Bucketing[] = [
  LATENCY_BUCKETING,
  { kind: 'llquantize', base: 10, low: 0, high: 11, nsteps: 100 },
  { kind: 'llquantize', base: 10, low: 7, high: 14, nsteps: 100 },
  { kind: 'llquantize', base: 2, low: 0, high: 25, nsteps: 32 },
  { kind: 'llquantize', base: 10, low: 1, high: 4, nsteps: 10 },
  { kind: 'lquantize', low: 0, high: 101, step: 1 },
  { kind: 'lquantize', low: 0, high: 1000, step: 10 },
  { kind: 'lquantize', low: 5, high: 100, step: 10 }
]

/** The lower bound the script must print for `v`: its bucket's, or 0 for lquantize's underflow. */
export function expectedLo (b: Bucketing, v: number): bigint {
  const i = bucketIndex(b, v)
  if (b.kind === 'lquantize' && i === 0) return 0n
  return BigInt(bucketRange(b, i)[0])
}

/** Each bucket's first and last value (the overflow's first only), and 0, ascending. */
export function boundaryValues (b: Bucketing): number[] {
  const out = new Set<number>([0])
  for (let i = 0; i < bucketCount(b); i++) {
    const [lo, hi] = bucketRange(b, i)
    if (lo >= 0) out.add(lo)
    if (hi >= 0 && hi < 2 ** 53) out.add(hi)
  }
  return [...out].sort((x, y) => x - y)
}
