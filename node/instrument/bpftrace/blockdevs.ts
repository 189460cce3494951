/**
 * Block device numbers to disk names, for the `disk` field. Block tracepoints carry the
 * kernel's internal dev_t, MAJOR << 20 | MINOR (measured: 266338304 = 254:0), not the user-space
 * encoding; /sys/dev/block/MAJ:MIN/uevent names the device (DEVNAME=vda). Names are cached; a
 * number that names no device is looked up again at most once per `retryMs` (a disk hot-added
 * later gets its name), and meanwhile prints as "MAJ:MIN".
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** Default for BlockDevicesInit.retryMs. */
export const BLOCKDEV_RETRY_MS = 5000

export interface BlockDevicesInit {
  /** Where `dev/block` is. @default '/sys' */
  readonly sysfs?: string
  /** @default BLOCKDEV_RETRY_MS */
  readonly retryMs?: number
  /** Monotonic milliseconds. @default performance.now */
  readonly now?: () => number
}

/** Resolves kernel dev_t numbers (as printed: decimal) to disk names. */
export interface BlockDevices {
  /** The disk's name, or "MAJ:MIN" when no device has that number; undefined if `dev` is not a dev_t. */
  name: (dev: string) => string | undefined
  /**
   * The kernel dev_t of the disk named `name` (from /sys/class/block/<name>/dev), for
   * predicates; undefined when there is no such disk or `name` is no device name.
   */
  device: (name: string) => number | undefined
}

/** The (major, minor) of a kernel dev_t, or undefined if `dev` is not one (decimal, < 2^32). */
export function splitKernelDev (dev: string): { major: number, minor: number } | undefined {
  if (!/^[0-9]{1,10}$/.test(dev)) return undefined
  const n = Number(dev)
  if (n >= 2 ** 32) return undefined
  return { major: Math.floor(n / 2 ** 20), minor: n % 2 ** 20 }
}

/** DEVNAME from the text of a uevent file, or undefined. */
export function ueventDevName (uevent: string): string | undefined {
  const m = /^DEVNAME=(.+)$/m.exec(uevent)
  return m?.[1]
}

/** Creates the resolver. */
export function createBlockDevices (init: BlockDevicesInit = {}): BlockDevices {
  const sysfs = init.sysfs ?? '/sys'
  const retryMs = init.retryMs ?? BLOCKDEV_RETRY_MS
  const now = init.now ?? (() => performance.now())
  const names = new Map<string, string>()
  const missedAt = new Map<string, number>()

  return {
    name (dev) {
      const known = names.get(dev)
      if (known !== undefined) return known
      const mm = splitKernelDev(dev)
      if (mm === undefined) return undefined
      const fallback = `${mm.major}:${mm.minor}`
      const missed = missedAt.get(dev)
      if (missed !== undefined && now() - missed < retryMs) return fallback
      let name: string | undefined
      try {
        name = ueventDevName(readFileSync(join(sysfs, 'dev/block', fallback, 'uevent'), 'utf8'))
      } catch {
        name = undefined
      }
      if (name === undefined) {
        missedAt.set(dev, now())
        return fallback
      }
      missedAt.delete(dev)
      names.set(dev, name)
      return name
    },
    device (name) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$/.test(name)) return undefined
      let text: string
      try {
        text = readFileSync(join(sysfs, 'class/block', name, 'dev'), 'utf8')
      } catch {
        return undefined
      }
      const m = /^([0-9]{1,4}):([0-9]{1,7})\s*$/.exec(text)
      if (m === null) return undefined
      const major = Number(m[1])
      const minor = Number(m[2])
      if (minor >= 2 ** 20 || major >= 2 ** 12) return undefined
      const dev = major * 2 ** 20 + minor
      names.set(String(dev), name)
      return dev
    }
  }
}
