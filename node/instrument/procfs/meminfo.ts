/**
 * /proc/meminfo (proc(5)): `Name:   value kB` lines, and memory.usage's memory types derived
 * from them the way free(1) of procps-ng 4 does: cached = Cached + SReclaimable, used =
 * MemTotal - MemFree - Buffers - cached (or MemTotal - MemFree when that would be negative),
 * swap used = SwapTotal - SwapFree.
 */
import { DecodeError } from '../../../metad/index.js'
import { clip, counter } from './counter.js'

const FILE = '/proc/meminfo'

/**
 * Every line of /proc/meminfo, in bytes (values in kB are multiplied by 1024; the few without a
 * unit, such as HugePages_Total, are kept as they are).
 * @throws DecodeError on a garbled line.
 */
export function parseMeminfo (text: string): ReadonlyMap<string, number> {
  const out = new Map<string, number>()
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.trim() === '') continue
    const m = /^([A-Za-z0-9_()]+):\s+(\S+)(?:\s+(kB))?\s*$/.exec(line)
    if (m === null) throw new DecodeError(FILE, `line ${i + 1}: ${JSON.stringify(clip(line))} is not "Name: value [kB]"`)
    const n = counter(m[2], FILE, `line ${i + 1} (${m[1]!})`)
    out.set(m[1]!, m[3] === 'kB' ? n * 1024 : n)
  }
  return out
}

/** memory.usage's `memtype` values. */
export const MEMTYPES = ['used', 'cached', 'buffers', 'free', 'swap_used'] as const
export type Memtype = typeof MEMTYPES[number]

/**
 * Bytes per memory type.
 * @throws DecodeError when MemTotal, MemFree, Buffers, Cached, SwapTotal or SwapFree is missing
 *   (a truncated file).
 */
export function memoryUsage (meminfo: ReadonlyMap<string, number>): Readonly<Record<Memtype, number>> {
  const need = (name: string): number => {
    const v = meminfo.get(name)
    if (v === undefined) throw new DecodeError(FILE, `no ${name} line`)
    return v
  }
  const total = need('MemTotal')
  const free = need('MemFree')
  const buffers = need('Buffers')
  const cached = need('Cached') + (meminfo.get('SReclaimable') ?? 0)
  const swapTotal = need('SwapTotal')
  const swapFree = need('SwapFree')
  let used = total - free - buffers - cached
  if (used < 0) used = total - free
  return { used, cached, buffers, free, swap_used: Math.max(0, swapTotal - swapFree) }
}
