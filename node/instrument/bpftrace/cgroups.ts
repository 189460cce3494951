/**
 * cgroup v2 ids to paths, for the `cgroup` field. In the kernel a task's cgroup v2 id (bpftrace's
 * `cgroup` builtin) is the inode number of its directory in the cgroup2 filesystem, so user space
 * can map ids to paths by listing that filesystem's directories with their inode numbers
 * (measured: id 44 == inode of unified/heatlab/sub1). bpftrace's own cgroup_path() is no use:
 * on a hybrid v1+v2 host it matches the inode in every hierarchy, and as a map key it makes
 * print() abort (/tmp/bpftrace-facts.md §1, §7).
 *
 * The cgroup2 mount is found in /proc/mounts: /sys/fs/cgroup on a pure v2 host,
 * /sys/fs/cgroup/unified on a hybrid one. Paths are relative to it and start with "/": the root
 * cgroup is "/", a child "/system.slice/ssh.service". The table is scanned once on first use and
 * again when an unknown id turns up, at most once per `rescanMs` (cgroups come and go with
 * containers; a scan of a few thousand directories costs milliseconds, and an id that stays
 * unknown, e.g. a cgroup already removed, must not make us scan on every line).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Default for CgroupPathsInit.rescanMs. */
export const CGROUP_RESCAN_MS = 5000
/** A scan stops after this many directories (a runaway tree costs bounded time). */
export const CGROUP_MAX_DIRS = 100_000

export interface CgroupPathsInit {
  /** The cgroup2 mount point. @default found in /proc/mounts (undefined when there is none) */
  readonly root?: string
  /** @default CGROUP_RESCAN_MS */
  readonly rescanMs?: number
  /** Monotonic milliseconds. @default performance.now */
  readonly now?: () => number
}

/** Resolves cgroup ids (as printed: decimal) to paths. */
export interface CgroupPaths {
  /** The path of cgroup `id`, or undefined if no directory has that inode (after a rescan if due). */
  path: (id: string) => string | undefined
  /**
   * The id of the cgroup at `path` ("/", "/system.slice/ssh.service"), for predicates; undefined
   * when there is no such cgroup (or `path` is not of that form: relative, "..", "//").
   */
  id: (path: string) => bigint | undefined
  /** Where the cgroup2 filesystem is, or why there is none; for the probe's detail. */
  readonly where: string
  debugState: () => unknown
}

/** The first cgroup2 mount point in the text of /proc/mounts, or undefined. */
export function cgroup2Mount (mounts: string): string | undefined {
  for (const line of mounts.split('\n')) {
    const f = line.split(' ')
    // /proc/mounts escapes space, tab, newline and backslash in paths as octal (\040 ...).
    if (f[2] === 'cgroup2' && f[1] !== undefined) return f[1].replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))
  }
  return undefined
}

/** Every directory under `root` by inode number (as a decimal string), relative paths from "/". */
export function scanCgroups (root: string, maxDirs = CGROUP_MAX_DIRS): Map<string, string> {
  const out = new Map<string, string>()
  const stack: string[] = ['']
  while (stack.length > 0 && out.size < maxDirs) {
    const rel = stack.pop()!
    const dir = join(root, rel)
    try {
      out.set(statSync(dir, { bigint: true }).ino.toString(), rel === '' ? '/' : rel)
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) stack.push(`${rel}/${e.name}`)
      }
    } catch {
      // removed while we looked: it simply is not in the table
    }
  }
  return out
}

/** "/" or "/a/b": absolute, no empty, "." or ".." segment (so no path leaves the cgroup tree). */
export function isCgroupPath (path: string): boolean {
  if (path === '/') return true
  if (!path.startsWith('/') || path.length > 4096 || path.includes('\0')) return false
  return path.slice(1).split('/').every((s) => s !== '' && s !== '.' && s !== '..')
}

function defaultRoot (): string | undefined {
  try {
    return cgroup2Mount(readFileSync('/proc/mounts', 'utf8'))
  } catch {
    return undefined
  }
}

/** Creates the resolver (nothing is read until the first lookup). */
export function createCgroupPaths (init: CgroupPathsInit = {}): CgroupPaths {
  const root = 'root' in init ? init.root : defaultRoot()
  const rescanMs = init.rescanMs ?? CGROUP_RESCAN_MS
  const now = init.now ?? (() => performance.now())
  let table = new Map<string, string>()
  let scannedAt: number | undefined
  let scans = 0

  const rescan = (): void => {
    if (root === undefined) return
    table = scanCgroups(root)
    scannedAt = now()
    scans++
  }

  return {
    where: root === undefined ? 'no cgroup2 filesystem mounted (cgroup ids stay numbers)' : `cgroup2 at ${root}`,
    path (id) {
      const known = table.get(id)
      if (known !== undefined) return known
      if (scannedAt === undefined || now() - scannedAt >= rescanMs) {
        rescan()
        return table.get(id)
      }
      return undefined
    },
    id (path) {
      if (root === undefined || !isCgroupPath(path)) return undefined
      try {
        const st = statSync(join(root, path), { bigint: true })
        if (!st.isDirectory()) return undefined
        table.set(st.ino.toString(), path)
        return st.ino
      } catch {
        return undefined
      }
    },
    debugState: () => ({ root, cgroups: table.size, scans, scannedAt })
  }
}
