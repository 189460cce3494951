/**
 * /proc/pressure/{cpu,memory,io}: pressure stall information (PSI, Linux 4.20+, when the kernel
 * has CONFIG_PSI and was not booted with psi=0). Each file has a `some` line (the share of time
 * at least one task was stalled on the resource, averaged over 10, 60 and 300 s, in percent) and,
 * for memory and io (cpu too since 5.13), a `full` line (all non-idle tasks stalled at once).
 */
import { DecodeError } from '../../../metad/index.js'
import { clip, counter } from './counter.js'

/** The resources PSI reports on, which are memory.pressure's `resource` values. */
export const PRESSURE_RESOURCES = ['cpu', 'memory', 'io'] as const
export type PressureResource = typeof PRESSURE_RESOURCES[number]
/** The averaging windows, memory.pressure's `window` values. */
export const PRESSURE_WINDOWS = ['avg10', 'avg60', 'avg300'] as const
export type PressureWindow = typeof PRESSURE_WINDOWS[number]

/** One line of a pressure file. */
export interface PressureLine {
  readonly avg10: number
  readonly avg60: number
  readonly avg300: number
  /** Total stall time in microseconds. */
  readonly total: number
}

export interface Pressure {
  readonly some: PressureLine
  readonly full?: PressureLine
}

/**
 * One pressure file. `file` names it in errors.
 * @throws DecodeError when the `some` line is missing, or a line is garbled or truncated.
 */
export function parsePressure (text: string, file = '/proc/pressure'): Pressure {
  const lines: Partial<Record<'some' | 'full', PressureLine>> = {}
  const rows = text.split('\n')
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!
    if (row.trim() === '') continue
    const m = /^(some|full) avg10=(\d{1,3}\.\d\d) avg60=(\d{1,3}\.\d\d) avg300=(\d{1,3}\.\d\d) total=(\S+)\s*$/.exec(row)
    if (m === null) throw new DecodeError(file, `line ${i + 1}: ${JSON.stringify(clip(row))} is not "some|full avg10=.. avg60=.. avg300=.. total=.."`)
    const kind = m[1] as 'some' | 'full'
    if (lines[kind] !== undefined) throw new DecodeError(file, `line ${i + 1}: a second "${kind}" line`)
    const avg = (s: string): number => Math.min(100, Number(s))
    lines[kind] = { avg10: avg(m[2]!), avg60: avg(m[3]!), avg300: avg(m[4]!), total: counter(m[5], file, `line ${i + 1} total`) }
  }
  if (lines.some === undefined) throw new DecodeError(file, 'no "some" line')
  return lines.full === undefined ? { some: lines.some } : { some: lines.some, full: lines.full }
}
