/**
 * Instrumenter benchmark, non-eBPF backends (procfs, process, synthetic):
 *   1. start-to-first-value: create the backend, probe it, instrument one metric and collect the
 *      first value; and stop: the measurement's stop(). Median and max of RUNS runs each, after
 *      a warm-up run, per backend and metric;
 *   2. steady cost of one collect() per backend and metric (median over many);
 *   3. event-loop delay sampling: CPU time (process.cpuUsage) of this process idling for
 *      IDLE_MS with nothing, with perf_hooks.monitorEventLoopDelay at 10 ms, and with the
 *      process backend's own sampler at 10 ms (which node.eventloop_delay uses, because it yields
 *      each sample exactly); the ratio says what the own sampler costs against Node's.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { catalog, parsePredicate, type Decomposition } from '../metad/index.js'
import { createProcessBackend, createProcfsBackend, createSyntheticBackend, type Backend } from '../node/instrument/index.js'
import { eventLoopSource } from '../node/instrument/process/eventloop.js'

const RUNS = 20
const COLLECTS = 200
const IDLE_MS = 2000

interface Case {
  readonly label: string
  readonly create: () => Backend
  readonly metric: string
  readonly decomposition: Decomposition
}

let tick = 1_700_000_000
const CASES: readonly Case[] = [
  { label: 'procfs', create: () => createProcfsBackend(), metric: 'cpu.cpus', decomposition: ['cpu', 'utilization'] },
  { label: 'procfs', create: () => createProcfsBackend(), metric: 'memory.usage', decomposition: ['memtype'] },
  { label: 'procfs', create: () => createProcfsBackend(), metric: 'disk.physio_ops', decomposition: ['disk', 'optype'] },
  { label: 'procfs', create: () => createProcfsBackend(), metric: 'nic.bytes', decomposition: ['nic'] },
  { label: 'process', create: () => createProcessBackend(), metric: 'node.httpd_ops', decomposition: ['http_path', 'latency'] },
  { label: 'process', create: () => createProcessBackend(), metric: 'node.eventloop_delay', decomposition: ['latency'] },
  { label: 'process', create: () => createProcessBackend(), metric: 'node.gc_ops', decomposition: ['gctype', 'latency'] },
  { label: 'synthetic', create: () => createSyntheticBackend({ hostname: 'bench', second: () => tick++ }), metric: 'synthetic.ops', decomposition: ['key', 'latency'] }
]

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]!
}

function fmt (ms: number): string {
  return ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} us`
}

async function startAndStop (c: Case): Promise<{ first: number, stop: number }> {
  const metric = catalog.metrics.get(c.metric)!
  const t0 = performance.now()
  const backend = c.create()
  const status = await backend.probe()
  if (!status.available) throw new Error(`${c.label} unavailable: ${status.detail}`)
  const m = await backend.instrument({ id: 'bench', metric, predicate: parsePredicate({}, metric), decomposition: c.decomposition })
  m.collect()
  const t1 = performance.now()
  await m.stop()
  return { first: t1 - t0, stop: performance.now() - t1 }
}

async function collectCost (c: Case): Promise<number> {
  const metric = catalog.metrics.get(c.metric)!
  const m = await c.create().instrument({ id: 'bench', metric, predicate: parsePredicate({}, metric), decomposition: c.decomposition })
  const times: number[] = []
  for (let i = 0; i < COLLECTS; i++) {
    const t0 = performance.now()
    m.collect()
    times.push(performance.now() - t0)
  }
  await m.stop()
  return median(times)
}

/** CPU ms this process uses over IDLE_MS of idling with `arm` active. */
async function idleCpu (arm: () => () => void): Promise<number> {
  const disarm = arm()
  const before = process.cpuUsage()
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
  const used = process.cpuUsage(before)
  disarm()
  return (used.user + used.system) / 1000
}

export default async function (): Promise<void> {
  console.log(`start-to-first-value (create + probe + instrument + first collect) and stop, median / max of ${RUNS} runs:`)
  for (const c of CASES) {
    await startAndStop(c) // warm-up
    const runs: Array<{ first: number, stop: number }> = []
    for (let i = 0; i < RUNS; i++) runs.push(await startAndStop(c))
    const first = runs.map((r) => r.first)
    const stop = runs.map((r) => r.stop)
    console.log(`  ${c.label.padEnd(9)} ${`${c.metric} by ${c.decomposition.join(',')}`.padEnd(42)} first value ${fmt(median(first)).padStart(9)} (max ${fmt(Math.max(...first))}), stop ${fmt(median(stop)).padStart(8)} (max ${fmt(Math.max(...stop))})`)
  }

  console.log(`\none collect(), median of ${COLLECTS}:`)
  for (const c of CASES) {
    console.log(`  ${c.label.padEnd(9)} ${`${c.metric} by ${c.decomposition.join(',')}`.padEnd(42)} ${fmt(await collectCost(c)).padStart(9)}`)
  }

  console.log(`\nevent-loop delay sampling at 10 ms, CPU time over ${IDLE_MS / 1000} s of idle loop (process.cpuUsage), baseline measured in the same run:`)
  let samples = 0
  const rounds: Array<{ idle: number, native: number, own: number }> = []
  for (let r = 0; r < 3; r++) {
    const idle = await idleCpu(() => () => {})
    const native = await idleCpu(() => {
      const h = monitorEventLoopDelay({ resolution: 10 })
      h.enable()
      return () => { h.disable() }
    })
    const own = await idleCpu(() => eventLoopSource({ resolutionMs: 10 }).start({ event: () => { samples++ } }))
    rounds.push({ idle, native, own })
  }
  const idle = median(rounds.map((r) => r.idle))
  const native = median(rounds.map((r) => r.native))
  const own = median(rounds.map((r) => r.own))
  const perSample = (cpu: number): string => `${(((cpu - idle) / (IDLE_MS / 10)) * 1000).toFixed(1)} us/sample`
  console.log(`  nothing                          ${idle.toFixed(1)} ms`)
  console.log(`  monitorEventLoopDelay            ${native.toFixed(1)} ms  (${perSample(native)} above idle)`)
  console.log(`  own sampler (node.eventloop_delay) ${own.toFixed(1)} ms  (${perSample(own)} above idle; ${(samples / rounds.length / (IDLE_MS / 1000)).toFixed(0)} samples/s)`)
  console.log(`  own / native CPU above idle: ${((own - idle) / Math.max(0.001, native - idle)).toFixed(2)}x; own sampler costs ${(((own - idle) / IDLE_MS) * 100).toFixed(3)}% of one CPU`)
}
