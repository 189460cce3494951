/**
 * The merge tree on loopback: N daemons (default 20) as real processes, one instrumentation:
 * syscall latency by execname (bpftrace) when eBPF works here, else the synthetic workload
 * decomposed by key and latency (said in the output; HEATMESH_BENCH_PAYLOAD=synthetic forces it).
 * - freshness: for each second t, the time from the end of t until a non-root node's raw value
 *   for t is complete (minreporting = nsources), polled every 25 ms; p50 / p99;
 * - CPU per node (utime + stime from /proc) while merging, and the same daemons idle before
 *   the instrumentation existed: the baseline of the ratio;
 * - merge bytes per node per second (the binding's payload, before libp2p framing);
 * - query latency of a 60 s raw window from a non-root node, against the same query at the
 *   root (which answers from its own ring): p50 / p99 and the ratio; the same for a 60 s
 *   heatmap image (600x300, the issue's API figure).
 * HEATMESH_BENCH_NODES overrides N (for a loaded machine).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { api, isRunning, keygen, startMesh, tempDir, waitFor, type Daemon, type Teardown } from '../test/e2e/harness.js'

const NODES = Number(process.env.HEATMESH_BENCH_NODES ?? 20)
const WINDOW_S = 20
const QUERIES = 100

function cpuTicks (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return Number(fields[11]) + Number(fields[12])
}

function quantile (sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

function pct (values: number[]): { p50: number, p99: number } {
  const sorted = [...values].sort((a, b) => a - b)
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) }
}

async function cpuPercent (mesh: readonly Daemon[], ms: number): Promise<number> {
  const before = mesh.map((d) => cpuTicks(d.child.pid!))
  await new Promise((resolve) => setTimeout(resolve, ms))
  const after = mesh.map((d) => cpuTicks(d.child.pid!))
  const ticks = after.reduce((s, a, i) => s + a - before[i]!, 0) / mesh.length
  return ticks / 100 / (ms / 1000) * 100 // USER_HZ = 100
}

async function mergeSentBytes (mesh: readonly Daemon[]): Promise<number> {
  let sum = 0
  for (const d of mesh) sum += ((await api(d, 'GET', '/debug/state')).body.mergeBinding as { sentBytes: number }).sentBytes
  return sum
}

export default async function bench (): Promise<void> {
  const cleanups: Array<() => Promise<void> | void> = []
  const scope: Teardown = { teardown: (fn) => { cleanups.push(fn) } }
  try {
    const dir = await tempDir(scope, 'bench-merge')
    const key = join(dir, 'network.key')
    await keygen(key)
    const mesh = await startMesh(scope, NODES, { key, dir, concurrency: 2, startTimeoutMs: 120_000 })
    await waitFor(`${NODES} alive members everywhere`, 120_000, async () => {
      for (const d of mesh) {
        const { body } = await api(d, 'GET', '/debug/state')
        if ((body.members as Array<{ state: string }>).filter((m) => m.state === 'alive').length !== NODES) return false
      }
      return true
    }, 500)
    const idleCpu = await cpuPercent(mesh, 10_000)

    const ca = (await api(mesh[0]!, 'GET', '/ca')).body as { metrics: Array<{ module: string, stat: string }> }
    // HEATMESH_BENCH_PAYLOAD=synthetic forces the synthetic workload: N bpftrace processes
    // compiling at once on one small machine measure the machine, not the merge tree.
    const ebpf = process.env.HEATMESH_BENCH_PAYLOAD !== 'synthetic' && ca.metrics.some((m) => m.module === 'syscall' && m.stat === 'syscalls')
    const definition = ebpf
      ? { module: 'syscall', stat: 'syscalls', decomposition: ['execname', 'latency'] }
      : { module: 'synthetic', stat: 'ops', decomposition: ['key', 'latency'] }
    console.log(`${NODES} daemons; payload: ${definition.module}.${definition.stat} by ${definition.decomposition.join(', ')}${ebpf ? ' (bpftrace)' : process.env.HEATMESH_BENCH_PAYLOAD === 'synthetic' ? ' (synthetic, as asked)' : ' (synthetic: no eBPF here)'}`)
    const created = await api(mesh[0]!, 'POST', '/ca/instrumentations', definition)
    if (created.status !== 201) throw new Error(`create: ${JSON.stringify(created.body)}`)
    const id = created.body.id as string
    const state = (await api(mesh[0]!, 'GET', '/debug/state')).body.merge.instrumentations[id] as { holders: string[] }
    const root = mesh.find((d) => d.peerId === state.holders[0])!
    const asker = mesh.find((d) => !state.holders.includes(d.peerId))!
    const nsources = async (): Promise<number> => (await api(asker, 'GET', `/ca/instrumentations/${id}`)).body.nsources as number
    // nsources counts members still starting it (bpftrace compiles for seconds): wait for
    // every node's own measurement to run, then for a first complete second.
    try {
      await waitFor('every node runs it', 180_000, async () => await nsources() === NODES &&
        (await Promise.all(mesh.map(async (d) => await isRunning(d, id)))).every(Boolean), 1000)
    } catch (err) {
      for (const d of mesh) {
        const inst = ((await api(d, 'GET', '/ca/instrumentations')).body as Array<{ id: string, 'node-status': unknown }>).find((i) => i.id === id)
        console.log(`${d.name}: ${JSON.stringify(inst?.['node-status'])}`)
      }
      throw err
    }
    await waitFor('a complete second', 60_000, async () => {
      const s = Math.floor(Date.now() / 1000) - 2
      const [p] = (await api(asker, 'GET', `/ca/instrumentations/${id}/value/raw?start_time=${s}&duration=1&ndatapoints=1&timeout=0`)).body as Array<{ minreporting: number }>
      return p !== undefined && p.minreporting >= NODES
    }, 500)

    // Freshness: when does each second become complete at a non-root node?
    const fresh: number[] = []
    const bytes0 = await mergeSentBytes(mesh)
    const cpuWindow = cpuPercent(mesh, WINDOW_S * 1000)
    const t0 = Math.floor(Date.now() / 1000) + 1
    let incomplete = 0
    /** minreporting/nsources of the seconds that never completed. */
    const seen: string[] = []
    for (let second = t0; second < t0 + WINDOW_S; second++) {
      const end = (second + 1) * 1000
      while (Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 5))
      for (;;) {
        const [p] = (await api(asker, 'GET', `/ca/instrumentations/${id}/value/raw?start_time=${second}&duration=1&ndatapoints=1&timeout=0`)).body as Array<{ minreporting: number, nsources: number }>
        if (p !== undefined && p.minreporting >= NODES) { fresh.push(Date.now() - end); break }
        if (Date.now() - end > 5000) { incomplete++; seen.push(`${p?.minreporting ?? '-'}/${p?.nsources ?? '-'}`); break }
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    }
    const busyCpu = await cpuWindow
    const bytes = (await mergeSentBytes(mesh)) - bytes0
    const f = fresh.length > 0 ? pct(fresh) : { p50: NaN, p99: NaN }
    console.log(`freshness (end of t -> complete at a non-root node): p50 ${f.p50} ms, p99 ${f.p99} ms over ${fresh.length} seconds; ${incomplete} not complete within 5 s${seen.length > 0 ? ` (minreporting/nsources: ${seen.join(' ')})` : ''}`)
    console.log(`CPU per node: ${busyCpu.toFixed(1)} % merging vs ${idleCpu.toFixed(1)} % idle before (ratio ${(busyCpu / Math.max(idleCpu, 0.01)).toFixed(2)}x)`)
    console.log(`merge payload: ${(bytes / NODES / WINDOW_S).toFixed(0)} B per node per second for one instrumentation`)

    // Query p99 of a 60 s window: a non-root node (fetches from the root) vs the root itself.
    const start = Math.floor(Date.now() / 1000) - 60
    const time = async (d: Daemon, resource = 'raw'): Promise<number[]> => {
      const out: number[] = []
      for (let i = 0; i < QUERIES; i++) {
        const t = performance.now()
        const r = await api(d, 'GET', `/ca/instrumentations/${id}/value/${resource}?start_time=${start}&duration=60&timeout=0`)
        if (r.status !== 200) throw new Error(`query: ${JSON.stringify(r.body)}`)
        out.push(performance.now() - t)
      }
      return out
    }
    const remote = pct(await time(asker))
    const local = pct(await time(root))
    const heatRemote = pct(await time(asker, 'heatmap/image'))
    const heatLocal = pct(await time(root, 'heatmap/image'))
    console.log(`60 s heatmap image (600x300): non-root p50 ${heatRemote.p50.toFixed(1)} ms, p99 ${heatRemote.p99.toFixed(1)} ms; at the root p50 ${heatLocal.p50.toFixed(1)} ms, p99 ${heatLocal.p99.toFixed(1)} ms (ratio p99 ${(heatRemote.p99 / heatLocal.p99).toFixed(2)}x)`)
    console.log(`60 s raw window: non-root p50 ${remote.p50.toFixed(1)} ms, p99 ${remote.p99.toFixed(1)} ms; at the root p50 ${local.p50.toFixed(1)} ms, p99 ${local.p99.toFixed(1)} ms (ratio p99 ${(remote.p99 / local.p99).toFixed(2)}x; target <= 50 ms)`)
  } finally {
    for (const fn of cleanups.reverse()) await fn()
  }
}
