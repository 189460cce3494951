/**
 * Bucketing in the script: the if/else ladder that turns a measured value into the lower bound
 * of its bucket, so that the kernel aggregates `@s[..., lo] = count()` with no llquantize() of
 * its own (bpftrace 0.17 has none) and prints numbers the runtime maps to metad's buckets.
 *
 * The ladder for CA's latency bucketing was measured (/tmp/bpftrace-facts.md §3: 107 boundary
 * values through a uprobe, 0 mismatches; about 170 verified instructions; its cost is within
 * noise). Here it is generalized to any bucketing, as rungs (data) rendered to text:
 * - llquantize(base, low, high, nsteps): below base^low, the underflow bucket's bound 0; in
 *   order k (below base^(k+1)) `v / w * w` with w = base^(k+1) / nsteps, or `v` itself where
 *   buckets are one wide (base^(k+1) <= nsteps); then the overflow's bound base^(high+1).
 *   base^k is a multiple of w (nsteps is a multiple of base), so `v / w * w` is always the
 *   lower bound of v's bucket.
 * - lquantize(low, high, step), low >= 0: `(v - low) / step * step + low` below
 *   low + levels * step, then the overflow's bound. Values are unsigned, so the underflow bucket
 *   (nominal lower bound INT64_MIN) can only hold 0..low-1, and prints as 0.
 * Values are u64 and bpftrace divides them unsigned, as the measured ladder relies on.
 * Consecutive rungs with the same formula are merged (llquantize(10, 0, 11, 100) is `v` itself
 * below 100).
 */
import type { Bucketing } from '../quantize.js'

/** `v < below` (no `below` on the last rung) -> lo = origin + (v - origin) / width * width, or `constant`. */
export type Rung =
  | { readonly below?: bigint, readonly origin: bigint, readonly width: bigint }
  | { readonly below?: bigint, readonly constant: bigint }

/** The rungs for `b`, in increasing order of `below`; the last has none. */
export function bucketLadder (b: Bucketing): Rung[] {
  const raw: Rung[] = []
  if (b.kind === 'llquantize') {
    const base = BigInt(b.base)
    const nsteps = BigInt(b.nsteps)
    let bottom = base ** BigInt(b.low)
    if (bottom > 1n) raw.push({ below: bottom, constant: 0n })
    for (let k = b.low; k <= b.high; k++) {
      const next = bottom * base
      raw.push({ below: next, origin: 0n, width: next > nsteps ? next / nsteps : 1n })
      bottom = next
    }
    raw.push({ constant: bottom })
  } else {
    if (b.low < 0) throw new Error(`bucketLadder: lquantize with a negative low (${b.low}) cannot bucket unsigned values`)
    const low = BigInt(b.low)
    const step = BigInt(b.step)
    const top = low + BigInt(Math.floor((b.high - b.low) / b.step)) * step
    if (low > 0n) raw.push({ below: low, constant: 0n })
    raw.push({ below: top, origin: low, width: step })
    raw.push({ constant: top })
  }
  const merged: Rung[] = []
  for (const r of raw) {
    const prev = merged[merged.length - 1]
    if (prev !== undefined && sameFormula(prev, r)) merged[merged.length - 1] = r.below === undefined ? withoutBelow(prev) : { ...prev, below: r.below }
    else merged.push(r)
  }
  return merged
}

function sameFormula (a: Rung, b: Rung): boolean {
  if ('constant' in a || 'constant' in b) return 'constant' in a && 'constant' in b && a.constant === b.constant
  return a.origin === b.origin && a.width === b.width
}

function withoutBelow (r: Rung): Rung {
  return 'constant' in r ? { constant: r.constant } : { origin: r.origin, width: r.width }
}

/** What the ladder computes for `v` (unsigned arithmetic, as in the script). */
export function evaluateLadder (rungs: readonly Rung[], v: bigint): bigint {
  for (const r of rungs) {
    if (r.below !== undefined && v >= r.below) continue
    if ('constant' in r) return r.constant
    return r.origin + (v - r.origin) / r.width * r.width
  }
  throw new Error('evaluateLadder: the last rung must have no bound')
}

/** The formula of one rung as bpftrace text, for value variable `v`. */
function formula (r: Rung, v: string): string {
  if ('constant' in r) return r.constant.toString()
  if (r.width === 1n && r.origin === 0n) return v
  if (r.origin === 0n) return `${v} / ${r.width} * ${r.width}`
  if (r.width === 1n) return v
  return `(${v} - ${r.origin}) / ${r.width} * ${r.width} + ${r.origin}`
}

/**
 * The ladder as bpftrace statement lines assigning the bucket's lower bound of `v` to `out`
 * (both variable names, e.g. `$sys_latency` and `$sys_latency_b`).
 */
export function renderLadder (rungs: readonly Rung[], v: string, out: string): string[] {
  if (rungs.length === 1) return [`${out} = ${formula(rungs[0] as Rung, v)};`]
  return rungs.map((r, i) => {
    const body = `{ ${out} = ${formula(r, v)}; }`
    if (i === 0) return `if (${v} < ${String(r.below)}) ${body}`
    if (r.below === undefined) return `else ${body}`
    return `else if (${v} < ${String(r.below)}) ${body}`
  })
}
