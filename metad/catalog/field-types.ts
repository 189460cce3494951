/**
 * The field types (CA-REFERENCE §3.1), with heatmesh's default bucketing per numeric type.
 *
 * Bucketing defaults follow CA's catalog (§3.3, §3.4):
 * - time (ns): llquantize(10, 3, 11, 100), CA's bucketing for every latency, runtime and cputime:
 *   under 1 us, then 90 buckets a decade up to 1000 s, then overflow.
 * - size (bytes): llquantize(10, 0, 11, 100), CA's bucketing for node.socket_ops sizes: exact
 *   below 100 B, two significant digits up to 1 TB. (CA's disk.physio_ops size used
 *   llquantize(10, 3, 11, 100); that metric overrides it, see its file.)
 * - number (counts): llquantize(10, 0, 11, 100), the same log-linear layout over plain counts
 *   (CA's kstat counters used a JS log-linear bucketizer from 10^0 with 100 steps).
 * - percent: lquantize(0, 101, 1), CA's linear step-1 bucketizer (`lin1`) for utilization:
 *   one bucket per whole percent, 0..100 inclusive, so a fully busy CPU (100) is not overflow.
 * - subsecond (ms within the second): lquantize(0, 1000, 10), CA's 10 ms bins.
 */
import { LATENCY_BUCKETING } from '../quantize.js'
import type { FieldTypeDescription } from './types.js'

export const FIELD_TYPES = [
  { name: 'number', arity: 'numeric', unit: '', integer: true, bucketing: { kind: 'llquantize', base: 10, low: 0, high: 11, nsteps: 100 } },
  { name: 'percent', arity: 'numeric', unit: 'percent', abbr: '%', minmax: 100, integer: false, bucketing: { kind: 'lquantize', low: 0, high: 101, step: 1 } },
  { name: 'size', arity: 'numeric', unit: 'bytes', abbr: 'B', base: 2, integer: true, bucketing: { kind: 'llquantize', base: 10, low: 0, high: 11, nsteps: 100 } },
  { name: 'string', arity: 'discrete', unit: '' },
  { name: 'subsecond', arity: 'numeric', unit: 'seconds', abbr: 's', base: 10, power: -3, integer: true, bucketing: { kind: 'lquantize', low: 0, high: 1000, step: 10 } },
  { name: 'time', arity: 'numeric', unit: 'seconds', abbr: 's', base: 10, power: -9, integer: true, bucketing: LATENCY_BUCKETING }
] as const satisfies readonly FieldTypeDescription[]
