/**
 * What the procfs backend measures, metric by metric (the analogue of CA's declarative kstat
 * table, CA-REFERENCE §1.8): which files a metric reads, and how two consecutive readings become
 * the records (field values) and weights of one second.
 *
 * Interval metrics (disk, nic) are counter deltas between consecutive readings: nothing on the
 * first reading (the first collect is zero, as in CA), and a counter that went back (a device
 * re-created, a 32-bit wrap) counts nothing for that interval. Point metrics are levels:
 * memory.* from the current reading; cpu.cpus counts 1 per CPU, and its `utilization` (like
 * cpu.usage) is a rate over the last interval, so it needs two readings as well.
 *
 * Sources read through a ProcfsFiles, so they know nothing of where the tree is mounted.
 */
import type { FieldRecord } from '../value-layout.js'
import { CPU_MODES, cpuIntervals, parseProcStat, type CpuTimes } from './stat.js'
import { MEMTYPES, memoryUsage, parseMeminfo } from './meminfo.js'
import { PRESSURE_RESOURCES, PRESSURE_WINDOWS, parsePressure, type Pressure, type PressureResource } from './pressure.js'
import { DISKSTATS_SECTOR_BYTES, isPhysicalDisk, parseDiskstats, type DiskCounters } from './diskstats.js'
import { parseNetDev, type NicCounters } from './net-dev.js'

/** The files a source reads, under the backend's root. */
export interface ProcfsFiles {
  /** The text of `path` (e.g. `/proc/stat`). @throws when it cannot be read. */
  read: (path: string) => string
  /** Names of /sys/block entries backed by hardware (with a `device` link); undefined if unreadable. */
  hardwareDisks: () => ReadonlySet<string> | undefined
}

/** One record of a second and what it weighs (a count, a delta, a level). */
export interface WeightedRecord {
  readonly record: FieldRecord
  readonly weight: number
}

/** How one metric is measured from procfs. */
export interface ProcfsSource<S> {
  readonly metric: string
  /** The fields every record carries (hostname excluded). */
  readonly fields: readonly string[]
  /** The files read, for the probe's report. */
  readonly files: readonly string[]
  /** Reads the current state. @throws DecodeError or a file error. */
  readonly read: (files: ProcfsFiles) => S
  /**
   * The records of the interval from `prev` (undefined on the first reading) to `cur`, or
   * undefined when there is no value yet. `used`: the fields the instrumentation uses.
   */
  readonly records: (prev: S | undefined, cur: S, used: ReadonlySet<string>) => readonly WeightedRecord[] | undefined
}

/** `b - a` for a cumulative counter; 0 when it went back (reset or wrap). */
function delta (a: number, b: number): number {
  return b >= a ? b - a : 0
}

const cpuCpus: ProcfsSource<readonly CpuTimes[]> = {
  metric: 'cpu.cpus',
  fields: ['cpu', 'utilization'],
  files: ['/proc/stat'],
  read: (f) => parseProcStat(f.read('/proc/stat')),
  records: (prev, cur, used) => {
    if (prev !== undefined) return cpuIntervals(prev, cur).map((c) => ({ record: { cpu: c.cpu, utilization: c.utilization }, weight: 1 }))
    if (used.has('utilization')) return undefined
    // Counting CPUs needs one reading; utilization is not used, so its value does not matter.
    return cur.map((t) => ({ record: { cpu: t.cpu, utilization: 0 }, weight: 1 }))
  }
}

const cpuUsage: ProcfsSource<readonly CpuTimes[]> = {
  metric: 'cpu.usage',
  fields: ['cpumode'],
  files: ['/proc/stat'],
  read: (f) => parseProcStat(f.read('/proc/stat')),
  records: (prev, cur) => {
    if (prev === undefined) return undefined
    // Percent of one CPU: each CPU's share of its own interval, summed over the CPUs.
    return cpuIntervals(prev, cur).flatMap((c) => CPU_MODES.map((mode) => ({ record: { cpumode: mode }, weight: c.modes[mode] })))
  }
}

const memoryUsageSource: ProcfsSource<ReturnType<typeof memoryUsage>> = {
  metric: 'memory.usage',
  fields: ['memtype'],
  files: ['/proc/meminfo'],
  read: (f) => memoryUsage(parseMeminfo(f.read('/proc/meminfo'))),
  records: (_prev, cur) => MEMTYPES.map((memtype) => ({ record: { memtype }, weight: cur[memtype] }))
}

const memoryPressure: ProcfsSource<ReadonlyMap<PressureResource, Pressure>> = {
  metric: 'memory.pressure',
  fields: ['resource', 'window'],
  files: PRESSURE_RESOURCES.map((r) => `/proc/pressure/${r}`),
  read: (f) => new Map(PRESSURE_RESOURCES.map((r) => [r, parsePressure(f.read(`/proc/pressure/${r}`), `/proc/pressure/${r}`)])),
  records: (_prev, cur) => PRESSURE_RESOURCES.flatMap((resource) =>
    PRESSURE_WINDOWS.map((window) => ({ record: { resource, window }, weight: cur.get(resource)!.some[window] })))
}

function readDisks (f: ProcfsFiles): ReadonlyMap<string, DiskCounters> {
  const all = parseDiskstats(f.read('/proc/diskstats'))
  const hardware = f.hardwareDisks()
  return new Map(all.filter((d) => isPhysicalDisk(d.name, hardware)).map((d) => [d.name, d]))
}

function diskRecords (pick: (d: DiskCounters, op: 'read' | 'write') => number) {
  return (prev: ReadonlyMap<string, DiskCounters> | undefined, cur: ReadonlyMap<string, DiskCounters>): readonly WeightedRecord[] | undefined => {
    if (prev === undefined) return undefined
    const out: WeightedRecord[] = []
    for (const [disk, d] of cur) {
      const p = prev.get(disk)
      if (p === undefined) continue
      for (const optype of ['read', 'write'] as const) out.push({ record: { disk, optype }, weight: delta(pick(p, optype), pick(d, optype)) })
    }
    return out
  }
}

const diskPhysioOps: ProcfsSource<ReadonlyMap<string, DiskCounters>> = {
  metric: 'disk.physio_ops',
  fields: ['disk', 'optype'],
  files: ['/proc/diskstats', '/sys/block'],
  read: readDisks,
  records: diskRecords((d, op) => op === 'read' ? d.readsCompleted : d.writesCompleted)
}

const diskPhysioBytes: ProcfsSource<ReadonlyMap<string, DiskCounters>> = {
  metric: 'disk.physio_bytes',
  fields: ['disk', 'optype'],
  files: ['/proc/diskstats', '/sys/block'],
  read: readDisks,
  records: diskRecords((d, op) => (op === 'read' ? d.sectorsRead : d.sectorsWritten) * DISKSTATS_SECTOR_BYTES)
}

function readNics (f: ProcfsFiles): ReadonlyMap<string, NicCounters> {
  return new Map(parseNetDev(f.read('/proc/net/dev')).map((n) => [n.nic, n]))
}

function nicRecords (received: (n: NicCounters) => number, sent: (n: NicCounters) => number) {
  return (prev: ReadonlyMap<string, NicCounters> | undefined, cur: ReadonlyMap<string, NicCounters>): readonly WeightedRecord[] | undefined => {
    if (prev === undefined) return undefined
    const out: WeightedRecord[] = []
    for (const [nic, n] of cur) {
      const p = prev.get(nic)
      if (p === undefined) continue
      out.push({ record: { nic, direction: 'received' }, weight: delta(received(p), received(n)) })
      out.push({ record: { nic, direction: 'sent' }, weight: delta(sent(p), sent(n)) })
    }
    return out
  }
}

const nicBytes: ProcfsSource<ReadonlyMap<string, NicCounters>> = {
  metric: 'nic.bytes',
  fields: ['nic', 'direction'],
  files: ['/proc/net/dev'],
  read: readNics,
  records: nicRecords((n) => n.rxBytes, (n) => n.txBytes)
}

const nicPackets: ProcfsSource<ReadonlyMap<string, NicCounters>> = {
  metric: 'nic.packets',
  fields: ['nic', 'direction'],
  files: ['/proc/net/dev'],
  read: readNics,
  records: nicRecords((n) => n.rxPackets, (n) => n.txPackets)
}

/** Every metric the procfs backend implements. */
export const PROCFS_SOURCES: ReadonlyArray<ProcfsSource<unknown>> = [
  erase(cpuCpus), erase(cpuUsage), erase(memoryUsageSource), erase(memoryPressure),
  erase(diskPhysioOps), erase(diskPhysioBytes), erase(nicBytes), erase(nicPackets)
]

/** Forgets a source's state type: the state only travels from its own read() to its own records(). */
function erase<S> (source: ProcfsSource<S>): ProcfsSource<unknown> {
  return source as unknown as ProcfsSource<unknown>
}
