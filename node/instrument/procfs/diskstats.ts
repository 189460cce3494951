/**
 * /proc/diskstats (Documentation/admin-guide/iostats.rst): one line per block device and
 * partition, `major minor name` and then at least 11 counters (15 since Linux 4.18 with
 * discards, 17 since 5.5 with flushes). heatmesh reads reads and writes completed and sectors
 * read and written; a sector here is always 512 bytes, whatever the device's sector size.
 *
 * WHICH DEVICES ARE DISKS. disk.physio_* count physical disk I/O, so each I/O must be counted
 * once, on the device that did it. The rule: a disk is a whole block device backed by hardware,
 * i.e. an entry of /sys/block (which lists whole devices, never partitions) that has a `device`
 * link (which virtual devices lack: loop, ram, zram, dm-*, md*, nbd). Partitions would count
 * their disk's I/O twice, and stacked or memory-backed devices count I/O that a physical disk
 * counts again (or none at all). Where /sys/block cannot be read, a name rule stands in: the
 * default exclusion of Prometheus' node_exporter (ram, zram, loop, fd, and partitions of sd, hd,
 * vd, xvd, nvme and mmcblk disks) plus dm-* and md* (stacked). This matches what the block-layer
 * tracepoints see, which fire for request-based (physical) devices.
 */
import { DecodeError } from '../../../metad/index.js'
import { clip, counter } from './counter.js'

const FILE = '/proc/diskstats'

/** One device's cumulative counters. */
export interface DiskCounters {
  readonly major: number
  readonly minor: number
  readonly name: string
  readonly readsCompleted: number
  readonly sectorsRead: number
  readonly writesCompleted: number
  readonly sectorsWritten: number
}

/** Bytes per /proc/diskstats sector: always 512 (block/genhd.c shifts by 9). */
export const DISKSTATS_SECTOR_BYTES = 512

/**
 * Every line of /proc/diskstats, in file order.
 * @throws DecodeError when a line is garbled or has fewer than 14 columns (truncated).
 */
export function parseDiskstats (text: string): readonly DiskCounters[] {
  const out: DiskCounters[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.trim() === '') continue
    const parts = line.trim().split(/\s+/)
    const where = `line ${i + 1}`
    if (parts.length < 14) throw new DecodeError(FILE, `${where}: ${JSON.stringify(clip(line))} has ${parts.length} columns, expected at least 14`)
    const name = parts[2]!
    out.push({
      major: counter(parts[0], FILE, `${where} major`),
      minor: counter(parts[1], FILE, `${where} minor`),
      name,
      readsCompleted: counter(parts[3], FILE, `${where} (${name} reads completed)`),
      sectorsRead: counter(parts[5], FILE, `${where} (${name} sectors read)`),
      writesCompleted: counter(parts[7], FILE, `${where} (${name} writes completed)`),
      sectorsWritten: counter(parts[9], FILE, `${where} (${name} sectors written)`)
    })
    // The remaining columns are checked too, so a garbled tail is not mistaken for a good line.
    for (let k = 3; k < parts.length; k++) counter(parts[k], FILE, `${where} (${name} column ${k + 1})`)
  }
  return out
}

const NOT_A_DISK_BY_NAME = /^(?:z?ram\d+|loop\d+|fd\d+|dm-\d+|md\d+|(?:h|s|v|xv)d[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+)$/

/**
 * Whether `name` is a physical disk (see the module header). `hardware` is the set of /sys/block
 * entries with a `device` link, or undefined when /sys/block could not be read (then the name
 * rule decides).
 */
export function isPhysicalDisk (name: string, hardware: ReadonlySet<string> | undefined): boolean {
  if (hardware !== undefined) return hardware.has(name)
  return !NOT_A_DISK_BY_NAME.test(name)
}
