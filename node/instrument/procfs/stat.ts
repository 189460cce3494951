/**
 * /proc/stat's per-CPU time counters (proc(5)): one `cpuN` line per online CPU with the
 * jiffies (USER_HZ ticks) spent in each mode since boot, and the utilization and per-mode
 * usage derived from two readings.
 *
 * The columns are user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice;
 * kernels older than 2.6.33 print fewer (at least the first four) and the missing ones read 0.
 * guest and guest_nice are already included in user and nice, so they are subtracted there
 * and never counted twice (as procps and htop do).
 */
import { DecodeError } from '../../../metad/index.js'
import { clip, counter } from './counter.js'

const FILE = '/proc/stat'

/** One CPU's counters, in jiffies since boot. */
export interface CpuTimes {
  /** `cpu0`, `cpu1`, ... */
  readonly cpu: string
  readonly user: number
  readonly nice: number
  readonly system: number
  readonly idle: number
  readonly iowait: number
  readonly irq: number
  readonly softirq: number
  readonly steal: number
  readonly guest: number
  readonly guestNice: number
}

const COLUMNS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guestNice'] as const

/**
 * The per-CPU lines of /proc/stat (the aggregate `cpu` line and the other statistics are
 * skipped), in file order.
 * @throws DecodeError when a cpu line is garbled or truncated, or there is none.
 */
export function parseProcStat (text: string): readonly CpuTimes[] {
  const cpus: CpuTimes[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (!line.startsWith('cpu')) continue
    const parts = line.trim().split(/\s+/)
    const name = parts[0]!
    if (name === 'cpu') continue
    if (!/^cpu\d+$/.test(name)) throw new DecodeError(FILE, `line ${i + 1}: ${JSON.stringify(clip(line))} is not a CPU line`)
    if (parts.length < 5) throw new DecodeError(FILE, `line ${i + 1}: ${name} has ${parts.length - 1} columns, expected at least 4`)
    if (parts.length > COLUMNS.length + 1) throw new DecodeError(FILE, `line ${i + 1}: ${name} has ${parts.length - 1} columns, expected at most ${COLUMNS.length}`)
    const t: Record<string, number | string> = { cpu: name }
    COLUMNS.forEach((col, k) => { t[col] = parts[k + 1] === undefined ? 0 : counter(parts[k + 1], FILE, `line ${i + 1} (${name} ${col})`) })
    cpus.push(t as unknown as CpuTimes)
  }
  if (cpus.length === 0) throw new DecodeError(FILE, 'no per-CPU line (cpu0, cpu1, ...)')
  return cpus
}

/**
 * The CPU modes heatmesh reports (cpu.usage's `cpumode`), as sums of /proc/stat columns:
 * user (user + nice, without guest time), kernel (system + irq + softirq), iowait, steal, and
 * guest (guest + guest_nice). Idle time is not usage and is left out.
 */
export const CPU_MODES = ['user', 'kernel', 'iowait', 'steal', 'guest'] as const
export type CpuMode = typeof CPU_MODES[number]

function modeJiffies (t: CpuTimes): Record<CpuMode, number> {
  return {
    user: Math.max(0, t.user - t.guest) + Math.max(0, t.nice - t.guestNice),
    kernel: t.system + t.irq + t.softirq,
    iowait: t.iowait,
    steal: t.steal,
    guest: t.guest + t.guestNice
  }
}

function totalJiffies (t: CpuTimes): number {
  const m = modeJiffies(t)
  return m.user + m.kernel + m.iowait + m.steal + m.guest + t.idle
}

/** One CPU's activity between two readings. */
export interface CpuInterval {
  readonly cpu: string
  /** Percent of the interval not idle (idle and iowait count as idle), 0..100. */
  readonly utilization: number
  /** Percent of the interval in each mode, 0..100 each. */
  readonly modes: Readonly<Record<CpuMode, number>>
}

/**
 * What each CPU present in both readings did between them. A CPU whose counters did not advance
 * (or went back: it was offlined and onlined again) is reported idle over the interval.
 */
export function cpuIntervals (prev: readonly CpuTimes[], cur: readonly CpuTimes[]): CpuInterval[] {
  const before = new Map(prev.map((t) => [t.cpu, t]))
  const out: CpuInterval[] = []
  for (const t of cur) {
    const p = before.get(t.cpu)
    if (p === undefined) continue
    const total = totalJiffies(t) - totalJiffies(p)
    const a = modeJiffies(p)
    const b = modeJiffies(t)
    const modes = {} as Record<CpuMode, number>
    let busy = 0
    for (const mode of CPU_MODES) {
      const d = total > 0 ? Math.max(0, b[mode] - a[mode]) : 0
      modes[mode] = total > 0 ? Math.min(100, (d / total) * 100) : 0
      if (mode !== 'iowait') busy += d
    }
    out.push({ cpu: t.cpu, utilization: total > 0 ? Math.min(100, (busy / total) * 100) : 0, modes })
  }
  return out
}
