/**
 * No bpftrace outlives the daemon. A child Node process plays the daemon: it creates the
 * bpftrace backend, instruments, prints its bpftrace's pid, and then ends in one of three ways:
 * SIGTERM handled with stopAll() (orderly), process.exit() without stopping anything (the 'exit'
 * hook SIGKILLs the child), or SIGKILL (nothing of ours runs: bpftrace dies of SIGPIPE at its
 * next TICK, since its stdout has no reader left). Each case checks that the bpftrace process is
 * gone (exited, or a zombie awaiting its new parent's wait) within a bound.
 *
 * Needs eBPF; where the probe says it is unavailable the tests are registered as skipped with
 * "eBPF unavailable: <probe detail>".
 */
import type { ExecutionContext } from 'ava'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ebpf } from './bpftrace-harness.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

/** The pretend daemon: instruments syscall.syscalls (scalar) with a one-slot script, then `end`. */
function daemonSource (end: 'sigterm' | 'exit' | 'wait'): string {
  const url = (p: string): string => pathToFileURL(join(root, p)).href
  return `
import { catalog, parsePredicate } from ${JSON.stringify(url('metad/index.ts'))}
import { createBpftraceBackend, liveChildPids, stopAll } from ${JSON.stringify(url('node/instrument/bpftrace/index.ts'))}
const script = [
  'BEGIN { printf("READY\\\\n"); }',
  'tracepoint:raw_syscalls:sys_exit { @s0[0] = count(); }',
  'interval:s:1 { printf("TICK\\\\n"); print(@s0); clear(@s0); }',
  'END { print(@s0); clear(@s0); printf("END\\\\n"); }'
].join('\\n')
const backend = createBpftraceBackend({
  generate: (targets) => ({ script, slots: targets.map((t) => ({ slot: t.slot, map: '@s' + t.slot, value: 'count' })) }),
  implementations: [{ metric: 'syscall.syscalls', fields: [] }],
  log: () => {}
})
const metric = catalog.metrics.get('syscall.syscalls')
await backend.instrument({ id: 'd', metric, predicate: parsePredicate({}, metric), decomposition: [] })
if (${JSON.stringify(end)} === 'sigterm') process.once('SIGTERM', () => { void stopAll().then(() => process.exit(0)) })
process.stdout.write('bpftrace ' + liveChildPids().join(',') + '\\n')
if (${JSON.stringify(end)} === 'exit') setTimeout(() => process.exit(0), 200)
else setInterval(() => {}, 1000)
`
}

/** 'alive', 'zombie' or 'gone' for `pid`. */
function life (pid: number): 'alive' | 'zombie' | 'gone' {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z') ? 'zombie' : 'alive'
  } catch {
    return 'gone'
  }
}

/** Runs the pretend daemon until it printed its bpftrace pid; `finish` ends it; returns how long bpftrace outlived it. */
async function outlives (t: ExecutionContext, end: 'sigterm' | 'exit' | 'wait', finish: (pid: number) => void, boundMs: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'heatmesh-reaper-'))
  const file = join(dir, 'daemon.mts')
  writeFileSync(file, daemonSource(end))
  const daemon = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  daemon.stderr.on('data', (d: Buffer) => { err += d.toString() })
  try {
    const bpid = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`the daemon did not report its bpftrace within 20 s: ${err}`)) }, 20_000)
      daemon.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /bpftrace (\d+)\n/.exec(out)
        if (m !== null) { clearTimeout(timer); resolve(Number(m[1])) }
      })
      daemon.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the daemon exited (${String(code)}) early: ${err}`)) })
    })
    t.is(life(bpid), 'alive')
    const daemonGone = new Promise<void>((resolve) => { daemon.once('exit', () => { resolve() }) })
    finish(daemon.pid!)
    await daemonGone
    const since = performance.now()
    while (life(bpid) === 'alive' && performance.now() - since < boundMs + 2000) await new Promise((resolve) => setTimeout(resolve, 20))
    const ms = Math.round(performance.now() - since)
    t.not(life(bpid), 'alive', `bpftrace ${bpid} outlived its daemon by more than ${boundMs + 2000} ms`)
    t.true(ms <= boundMs, `bpftrace outlived its daemon by ${ms} ms`)
    t.log(`bpftrace gone ${ms} ms after its daemon`)
  } finally {
    daemon.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}

ebpf('a daemon that handles SIGTERM with stopAll leaves no bpftrace', async (t) => {
  await outlives(t, 'sigterm', (pid) => { process.kill(pid, 'SIGTERM') }, 500)
})

ebpf('a daemon that exits without stopping anything leaves no bpftrace: the exit hook kills it', async (t) => {
  await outlives(t, 'exit', () => {}, 500)
})

ebpf('a daemon killed with SIGKILL leaves no bpftrace: it dies of SIGPIPE at its next TICK', async (t) => {
  await outlives(t, 'wait', (pid) => { process.kill(pid, 'SIGKILL') }, 2000)
})
