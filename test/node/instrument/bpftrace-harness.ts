/**
 * What the bpftrace test files share: registration that skips only where eBPF is truly absent
 * (saying why), child-process workloads started on cue, and collection of a measurement's values.
 */
import test, { type ExecutionContext } from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import type { Value } from '../../../metad/index.js'
import { createBpftraceBackend } from '../../../node/instrument/bpftrace/index.js'
import type { Measurement } from '../../../node/instrument/index.js'

export const probed = await createBpftraceBackend({ log: () => {} }).probe()

/** Registers a serial test that needs eBPF; without it, a skip that names the missing capability. */
export const ebpf = (title: string, fn: (t: ExecutionContext) => Promise<void>): void => {
  if (probed.available) test.serial(title, fn)
  else test.skip(`${title} (eBPF unavailable: ${probed.detail})`, fn)
}

export const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

export interface Workload {
  readonly child: ChildProcess
  readonly pid: number
  /** Starts the work; resolves when the child printed "done". */
  go: () => Promise<void>
  kill: () => void
}

/** A Node child that waits for "go" on stdin, runs `body` (CommonJS, may await), says "done" and exits. */
export async function workload (body: string): Promise<Workload> {
  const code = `const fs = require('node:fs'); const net = require('node:net'); const cp = require('node:child_process');
process.stdin.once('data', async () => { ${body}; process.stdout.write('done\\n'); process.exit(0) }); process.stdout.write('waiting\\n')`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  const seen = async (word: string): Promise<void> => {
    for (let i = 0; i < 600 && !out.includes(word); i++) {
      if (child.exitCode !== null) throw new Error(`the workload exited before saying "${word}"`)
      await sleep(50)
    }
    if (!out.includes(word)) throw new Error(`the workload did not say "${word}" within 30 s`)
  }
  await seen('waiting')
  return {
    child,
    pid: child.pid!,
    go: async () => { child.stdin!.write('go\n'); await seen('done') },
    kill: () => { child.kill('SIGKILL') }
  }
}

/** Collects `m` every 250 ms until `enough(values)` or `ms` have passed. */
export async function gather (m: Measurement, ms: number, enough: (v: readonly Value[]) => boolean = () => false): Promise<Value[]> {
  const values: Value[] = []
  const until = performance.now() + ms
  while (performance.now() < until) {
    await sleep(250)
    values.push(m.collect())
    if (enough(values)) break
  }
  return values
}

export function keyTotals (values: readonly Value[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const v of values) {
    if (v.type === 'decomposition') for (const [k, n] of v.keys) out.set(k, (out.get(k) ?? 0) + n)
    if (v.type === 'decomposed-distribution') for (const [k, d] of v.keys) out.set(k, (out.get(k) ?? 0) + d.total)
  }
  return out
}
