/**
 * Bucketing: how a numeric field's values map to the ranges a distribution counts.
 * (Placeholder types fixed by the project lead; the distributions helper fills in the functions.)
 */

/** DTrace's llquantize(value, base, low, high, nsteps) or lquantize(value, low, high, step). */
export type Bucketing =
  | { readonly kind: 'llquantize', readonly base: number, readonly low: number, readonly high: number, readonly nsteps: number }
  | { readonly kind: 'lquantize', readonly low: number, readonly high: number, readonly step: number }

/** CA's time bucketing: llquantize(10, 3, 11, 100) over nanoseconds (1 us .. 1000 s, 90 buckets a decade). */
export const LATENCY_BUCKETING: Bucketing = Object.freeze({ kind: 'llquantize', base: 10, low: 3, high: 11, nsteps: 100 })
