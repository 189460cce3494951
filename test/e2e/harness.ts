/**
 * The multi-process test harness: starts heatmesh daemons as real processes on loopback (free
 * ports, each its own data directory), waits until each has printed where it listens, and
 * always stops them: each test registers a teardown, and a process exit hook SIGKILLs whatever
 * is left if the test runner dies first.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
/** Time budget of a daemon's start (tsx compiles on first load; 2 cores are shared). */
const START_TIMEOUT_MS = 30_000

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** A daemon process, once it has printed its listeners. */
export interface Daemon {
  readonly name: string
  readonly dataDir: string
  readonly url: string
  readonly peerId: string
  readonly addresses: readonly string[]
  readonly child: ChildProcess
  /** Everything it printed (stdout and stderr). */
  readonly output: () => string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop: (graceMs?: number) => Promise<void>
  /** SIGKILL (a crash); resolves when it has exited. */
  kill: () => Promise<void>
}

export interface DaemonOptions {
  readonly name: string
  readonly dataDir: string
  readonly key: string
  readonly bootstrap?: readonly string[]
  /** The address to listen on for the mesh. @default 127.0.0.1 */
  readonly ip?: string
  /** The address of the HTTP API. @default `ip` */
  readonly httpIp?: string
  /** A network namespace to run in (`ip netns exec`). */
  readonly netns?: string
  /** How long it may take to print `ready`. @default START_TIMEOUT_MS */
  readonly startTimeoutMs?: number
  /** Extra arguments for node before the script (e.g. `--cpu-prof`, for profiling one daemon). @default [] */
  readonly nodeArgs?: readonly string[]
  /** Extra options of `heatmesh start` (e.g. `--fan-in 2`). @default [] */
  readonly args?: readonly string[]
}

/** Something that can register cleanups (ava's t, or test.after's). */
export interface Teardown { teardown: (fn: () => Promise<void> | void) => void }

/** A fresh temporary directory, removed at teardown. */
export async function tempDir (t: Teardown, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `heatmesh-${prefix}-`))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** Writes a new network key with `heatmesh keygen`. */
export async function keygen (file: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './node/shim.ts', 'node/cli.ts', 'keygen', file], { cwd: ROOT, stdio: 'ignore' })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`heatmesh keygen exited with ${String(code)}`)
}

/** Starts one daemon and waits for its `ready` line. */
export async function startDaemon (t: Teardown, options: DaemonOptions): Promise<Daemon> {
  const ip = options.ip ?? '127.0.0.1'
  const args = [
    ...(options.nodeArgs ?? []),
    '--import', 'tsx', '--import', './node/shim.ts', 'node/cli.ts', 'start',
    '--http', `${options.httpIp ?? ip}:0`, '--listen', `/ip4/${ip}/tcp/0`, '--data-dir', options.dataDir, '--key', options.key, '--name', options.name,
    ...(options.bootstrap ?? []).flatMap((b) => ['--bootstrap', b]),
    ...(options.args ?? [])
  ]
  // The daemon's configuration is its flags only: no HEATMESH_* variable of the runner leaks in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HEATMESH_')))
  const [command, argv] = options.netns === undefined ? [process.execPath, args] : ['ip', ['netns', 'exec', options.netns, process.execPath, ...args]]
  const child = spawn(command, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env })
  running.add(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => { running.delete(child); resolve() }))
  const stop = async (graceMs = 3000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }
  t.teardown(async () => { await stop() })
  let out = ''
  child.stdout!.setEncoding('utf8')
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (s: string) => { out += s })
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (s: string) => {
      out += s
      if (/^heatmesh: ready$/m.test(out)) resolve()
    })
    void exited.then(() => { reject(new Error(`daemon ${options.name} exited before it was ready:\n${out}`)) })
    const limit = options.startTimeoutMs ?? START_TIMEOUT_MS
    setTimeout(() => { reject(new Error(`daemon ${options.name} not ready within ${limit} ms:\n${out}`)) }, limit).unref()
  })
  await ready
  const url = /^heatmesh: http (\S+)$/m.exec(out)![1]!
  const peerId = /^heatmesh: node \S+ peer (\S+)/m.exec(out)![1]!
  const addresses = [...out.matchAll(/^heatmesh: listening (\S+)$/mg)].map((m) => m[1]!)
  return {
    name: options.name,
    dataDir: options.dataDir,
    url,
    peerId,
    addresses,
    child,
    output: () => out,
    stop,
    async kill () {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exited
    }
  }
}

/**
 * Starts `n` daemons sharing one network key: the first alone, the others (concurrently)
 * bootstrapping through it. Names are A, B, C, ...
 */
export async function startMesh (t: Teardown, n: number, options: { key: string, dir: string, ip?: (i: number) => string, concurrency?: number, startTimeoutMs?: number, args?: readonly string[] }): Promise<Daemon[]> {
  const name = (i: number): string => i < 26 ? String.fromCharCode(65 + i) : `N${i}`
  const startTimeoutMs = options.startTimeoutMs
  const args = options.args
  const first = await startDaemon(t, { name: name(0), dataDir: join(options.dir, name(0)), key: options.key, ip: options.ip?.(0), startTimeoutMs, args })
  const out = [first]
  // Starting a daemon is mostly compiling TypeScript: a few at a time keep 2 cores from thrashing.
  const batch = options.concurrency ?? 4
  for (let k = 1; k < n; k += batch) {
    out.push(...await Promise.all(Array.from({ length: Math.min(batch, n - k) }, async (_, j) => await startDaemon(t, {
      name: name(k + j), dataDir: join(options.dir, name(k + j)), key: options.key, bootstrap: first.addresses, ip: options.ip?.(k + j), startTimeoutMs, args
    }))))
  }
  return out
}

/** Polls `check` until it returns true; returns the time it took, or throws after `timeoutMs`. */
export async function waitFor (what: string, timeoutMs: number, check: () => Promise<boolean>, intervalMs = 50): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - started
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** One API call; the JSON body (or null for an empty one) and the status. */
export async function api (daemon: Daemon, method: string, path: string, body?: unknown): Promise<{ status: number, body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(`${daemon.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000)
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text) }
}

/** Ids of the instrumentations `daemon` lists. */
export async function listIds (daemon: Daemon): Promise<string[]> {
  const { body } = await api(daemon, 'GET', '/ca/instrumentations')
  return (body as Array<{ id: string }>).map((i) => i.id).sort()
}

/** Whether `daemon` lists `id` and its own measurement of it is running. */
export async function isRunning (daemon: Daemon, id: string): Promise<boolean> {
  const { body } = await api(daemon, 'GET', '/ca/instrumentations')
  const inst = (body as Array<{ id: string, 'node-status': { state: string } }>).find((i) => i.id === id)
  return inst?.['node-status'].state === 'running'
}
