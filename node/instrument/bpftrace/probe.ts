/**
 * The capability probe: can bpftrace measure on this machine, and if not, what to do about it.
 * In order, each step's failure being the answer:
 *   1. the bpftrace executable (init.path, or the first `bpftrace` on PATH);
 *   2. its version (`bpftrace --version`);
 *   3. privileges (root or not: bpftrace needs CAP_BPF and CAP_PERFMON, which root has);
 *   4. tracefs at /sys/kernel/tracing: every tracepoint fails without it, and it is not mounted at
 *      boot on our machines; when absent and we are root we mount it, and say so;
 *   5. a real attach: a tiny script on tracepoint:raw_syscalls:sys_enter that prints READY from
 *      BEGIN (which runs once every probe is attached) and exits;
 *   6. the kernel release and where cgroup v2 is, for the record.
 */
import { execFile } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { release } from 'node:os'
import { delimiter, join } from 'node:path'
import { spawnBpftrace } from './child.js'

/** Where tracefs lives on current kernels. */
export const TRACEFS = '/sys/kernel/tracing'

/** The attach check's script: one filtered-out tracepoint, READY, exit. */
export const ATTACH_CHECK_SCRIPT = [
  'BEGIN { printf("READY\\n"); exit(); }',
  'tracepoint:raw_syscalls:sys_enter /pid == 0/ { @probe[0] = count(); }',
  'END { clear(@probe); }',
  ''
].join('\n')

export interface ProbeInit {
  /** The bpftrace executable; a bare name is looked up on PATH. @default 'bpftrace' */
  readonly path: string
  readonly env: NodeJS.ProcessEnv
  /** How long the attach check may take. */
  readonly timeoutMs: number
  /** Mount tracefs when it is absent and we are root. */
  readonly mountTracefs: boolean
  /** Where cgroup v2 is, in words (./cgroups.ts). */
  readonly cgroupWhere: string
  readonly signal?: AbortSignal
}

/** What the probe found. */
export interface ProbeResult {
  readonly available: boolean
  readonly detail: string
  /** The executable's absolute path, when found. */
  readonly path?: string
  readonly version?: string
}

/** The absolute path of `name` (a bare name is searched on PATH), or undefined. */
export function findExecutable (name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  const executable = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK)
      return true
    } catch {
      return false
    }
  }
  if (name.includes('/')) return executable(name) ? name : undefined
  for (const dir of pathVar.split(delimiter)) {
    if (dir === '') continue
    const p = join(dir, name)
    if (executable(p)) return p
  }
  return undefined
}

async function run (file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ ok: boolean, out: string }> {
  return await new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      resolve({ ok: err === null, out: `${stdout}${stderr}`.trim() })
    })
  })
}

/** Runs the probe. Never throws except when `signal` aborts. */
export async function probeBpftrace (init: ProbeInit): Promise<ProbeResult> {
  const { signal } = init
  signal?.throwIfAborted()
  const path = findExecutable(init.path, init.env.PATH)
  if (path === undefined) {
    const where = init.path.includes('/') ? `${init.path} is not an executable file` : `bpftrace not found in PATH (${init.env.PATH ?? ''})`
    return { available: false, detail: `${where}; install it (Debian: apt-get install bpftrace) or set the bpftrace path` }
  }
  const v = await run(path, ['--version'], init.env, init.timeoutMs)
  signal?.throwIfAborted()
  const version = /v?\d+\.\d+(\.\d+)?/.exec(v.out)?.[0]
  if (!v.ok || version === undefined) return { available: false, path, detail: `${path} --version failed: ${v.out.slice(0, 300) || 'no output'}` }

  const found: string[] = [`bpftrace ${version} at ${path}`]
  const root = process.getuid?.() === 0
  found.push(root ? 'running as root' : `running as uid ${String(process.getuid?.())} (not root: bpftrace needs CAP_BPF and CAP_PERFMON)`)
  found.push(`kernel ${release()}`)
  found.push(init.cgroupWhere)

  if (!existsSync(join(TRACEFS, 'events'))) {
    if (!root || !init.mountTracefs) {
      return { available: false, path, version, detail: `${found.join('; ')}; tracefs is not mounted at ${TRACEFS}, so no tracepoint can attach: as root run \`mount -t tracefs nodev ${TRACEFS}\`` }
    }
    const m = await run('mount', ['-t', 'tracefs', 'nodev', TRACEFS], init.env, init.timeoutMs)
    signal?.throwIfAborted()
    if (!m.ok || !existsSync(join(TRACEFS, 'events'))) {
      return { available: false, path, version, detail: `${found.join('; ')}; tracefs is not mounted at ${TRACEFS} and mounting it failed: ${m.out || 'no message'}` }
    }
    found.push(`tracefs was not mounted: mounted it at ${TRACEFS}`)
  } else {
    found.push(`tracefs at ${TRACEFS}`)
  }

  const started = performance.now()
  const child = spawnBpftrace({ path, script: ATTACH_CHECK_SCRIPT, env: init.env, onEvent: () => {}, onRejected: () => {} })
  try {
    await child.ready(init.timeoutMs, signal)
  } catch (err) {
    signal?.throwIfAborted()
    const exit = await child.stop()
    const why = exit.stopped ? (err instanceof Error ? err.message : String(err)) : exit.reason
    return { available: false, path, version, detail: `${found.join('; ')}; attaching tracepoint:raw_syscalls:sys_enter failed: ${why}` }
  }
  await child.stop()
  found.push(`attach check on tracepoint:raw_syscalls:sys_enter passed in ${Math.round(performance.now() - started)} ms`)
  return { available: true, path, version, detail: found.join('; ') }
}
