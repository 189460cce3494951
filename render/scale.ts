/**
 * The vertical scale of a heatmap: CA's autoscale (node-timeseries-heatmap, CA-REFERENCE §8.2)
 * and the limits CA put on `ymin`/`ymax`.
 *
 * Autoscale picks a round number a little above the data's maximum: the first of
 * `(floor(max / r) + 1) * r` for r = 10^p, 10^p / 5, 10^p / 10, 10^p / 50, ... (p = the number
 * of decimal digits of max, at most 2p tries) that stays below `1.25 max`; if none does,
 * max itself. So 9 -> 10, 10 -> 12, 101 -> 120, 5100 -> 6000, 123456 -> 140000.
 */

/** CA's upper bound for `ymin` and `ymax`: 10^12 ns = 1000 s, the top of the latency buckets. */
export const YMAX_LIMIT = 1e12

/** CA's autoscale of a data maximum (exclusive upper bound), uncapped. */
export function autoscale (max: number): number {
  if (!(max > 0) || !Number.isFinite(max)) return max
  const p = Math.floor(Math.log10(max)) + 1
  const ceiling = max * 1.25
  let round = Math.pow(10, p)
  for (let i = 0; i < 2 * p; i++) {
    const candidate = (Math.floor(max / round) + 1) * round
    if (candidate < ceiling) return candidate
    round /= i % 2 === 0 ? 5 : 2
  }
  return max
}

/**
 * The `ymax` a heatmap uses when none is given: the autoscale of the data's maximum, capped at
 * {@link YMAX_LIMIT}. Beyond CA, which could return a maximum at or below `ymin` (0 for a window
 * without data, so every later division was by zero): when the data end at or below `ymin`, the
 * scale is that of `ymin + 1`, so the range is never empty.
 */
export function autoYmax (dataMax: number, ymin: number): number {
  const max = autoscale(dataMax > ymin ? dataMax : ymin + 1)
  return max > YMAX_LIMIT && ymin < YMAX_LIMIT ? YMAX_LIMIT : max
}
