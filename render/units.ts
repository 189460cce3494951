/**
 * Human units for axis labels: latencies in ns shown as ns/us/ms/s, sizes in bytes as
 * B/KiB/MiB/GiB/TiB, plain counts with k/M/G, and times of day (UTC) for the time axis; plus
 * "nice" tick positions (1, 2, 5 times a power of ten).
 */

/** The unit of a numeric axis. `ns`: nanoseconds (latency fields); `bytes`; `count`: plain. */
export type ValueUnit = 'ns' | 'bytes' | 'count'

const TIME_UNITS: ReadonlyArray<readonly [number, string]> = [[1e9, 's'], [1e6, 'ms'], [1e3, 'us'], [1, 'ns']]
const BYTE_UNITS: ReadonlyArray<readonly [number, string]> = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB'], [1, 'B']]
const COUNT_UNITS: ReadonlyArray<readonly [number, string]> = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k'], [1, '']]

/** Formats `value` in the largest unit not above it, with at most 3 significant digits. */
export function formatValue (value: number, unit: ValueUnit): string {
  const table = unit === 'ns' ? TIME_UNITS : unit === 'bytes' ? BYTE_UNITS : COUNT_UNITS
  if (value === 0) return unit === 'count' ? '0' : `0 ${table[table.length - 1]![1]}`
  const abs = Math.abs(value)
  let [div, name] = table[table.length - 1]!
  for (const [d, n] of table) if (abs >= d) { div = d; name = n; break }
  const text = trimNumber(value / div)
  return name === '' ? text : `${text} ${name}`
}

/** A number with at most 3 significant digits (no exponent for the magnitudes used here). */
function trimNumber (x: number): string {
  const abs = Math.abs(x)
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2
  return String(Number(x.toFixed(digits)))
}

/** `HH:MM:SS` (UTC) of a Unix time in seconds; `HH:MM` when `seconds` is false. */
export function formatTimeOfDay (t: number, seconds = true): string {
  const day = ((Math.floor(t) % 86400) + 86400) % 86400
  const hh = Math.floor(day / 3600)
  const mm = Math.floor((day % 3600) / 60)
  const ss = day % 60
  const two = (n: number): string => String(n).padStart(2, '0')
  return seconds ? `${two(hh)}:${two(mm)}:${two(ss)}` : `${two(hh)}:${two(mm)}`
}

/**
 * Tick values in `[min, max]`, about `target` of them, at a step of 1, 2 or 5 times a power of
 * ten (of two for bytes above 1 KiB, so labels read 512 KiB rather than 500 KiB).
 */
export function niceTicks (min: number, max: number, target: number, unit: ValueUnit = 'count'): number[] {
  if (!(max > min) || target < 1) return [min]
  const raw = (max - min) / target
  let step: number
  if (unit === 'bytes' && raw >= 1024) {
    step = 2 ** Math.ceil(Math.log2(raw))
  } else {
    const mag = Math.pow(10, Math.floor(Math.log10(raw)))
    const f = raw / mag
    step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag
  }
  const ticks: number[] = []
  const first = Math.ceil(min / step)
  for (let k = first; k * step <= max * (1 + 1e-12); k++) ticks.push(k * step)
  return ticks
}
