/**
 * The mesh on loopback: 20 daemons as real processes (the e2e harness starts them).
 * - create -> every node instrumenting, and delete -> gone from every node: p50 / p99 / max
 *   over 20 trials (each trial creates on another node and polls every node's API until its own
 *   measurement runs, then deletes on a third node and polls until every node has dropped it);
 * - idle daemon: CPU (utime + stime from /proc over a quiet window) and RSS;
 * - traffic per node per second while idle, two ways: the payload the binding hands to the mesh
 *   (core messages sent and gossip published, before any framing), and every byte the daemon
 *   writes to its sockets (/proc/<pid>/io wchar: libp2p's framing, noise and pnet included; the
 *   window holds no HTTP call and no file write);
 * - a node killed while definitions change, then restarted: time until its list matches.
 * Bounded: about two minutes on 2 cores, most of it starting 20 processes.
 * HEATMESH_BENCH_NODES overrides the mesh size (5 for the five-node figures).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { api, isRunning, keygen, listIds, startDaemon, startMesh, tempDir, waitFor, type Daemon, type Teardown } from '../test/e2e/harness.js'

/** Mesh size (HEATMESH_BENCH_NODES overrides, for a loaded machine). */
const NODES = Number(process.env.HEATMESH_BENCH_NODES ?? 20)
const TRIALS = 20
const IDLE_WINDOW_MS = 20_000

function cpuTicks (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return Number(fields[11]) + Number(fields[12]) // utime, stime (fields 14 and 15)
}

function rssKb (pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1])
}

/** Bytes the process has written through write-like calls (sockets, pipes, files). */
function writtenBytes (pid: number): number {
  return Number(/^wchar:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1])
}

function quantile (sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
}

function summary (times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b)
  return `p50 ${quantile(sorted, 0.5).toFixed(0)} ms, p99 ${quantile(sorted, 0.99).toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`
}

interface Counters { sentBytes: number, publishedBytes: number, sent: number, published: number }

async function counters (d: Daemon): Promise<Counters> {
  return (await api(d, 'GET', '/debug/state')).body.binding as Counters
}

export default async function bench (): Promise<void> {
  const cleanups: Array<() => Promise<void> | void> = []
  const scope: Teardown = { teardown: (fn) => { cleanups.push(fn) } }
  try {
    const dir = await tempDir(scope, 'bench-mesh')
    const key = join(dir, 'network.key')
    await keygen(key)
    let t0 = performance.now()
    const mesh = await startMesh(scope, NODES, { key, dir, concurrency: 2, startTimeoutMs: 120_000 })
    console.log(`started ${NODES} daemons in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    t0 = performance.now()
    // Live = alive or suspect (a loaded machine makes probes late; suspicion is not failure).
    await waitFor('all members live everywhere', 180_000, async () => {
      for (const d of mesh) {
        const members = (await api(d, 'GET', '/debug/state')).body.members as Array<{ state: string }>
        if (members.filter((m) => m.state === 'alive' || m.state === 'suspect').length !== NODES) return false
      }
      return true
    }, 1000)
    console.log(`membership complete on every node ${((performance.now() - t0) / 1000).toFixed(1)} s after the last start`)

    const created: number[] = []
    const deleted: number[] = []
    for (let i = 0; i < TRIALS; i++) {
      const origin = mesh[i % NODES]!
      let start = performance.now()
      const { body } = await api(origin, 'POST', '/ca/instrumentations', { module: 'cpu', stat: 'cpus', decomposition: ['utilization'] })
      const id = body.id as string
      const pending = new Set(mesh)
      await waitFor('instrumenting everywhere', 30_000, async () => {
        await Promise.all([...pending].map(async (d) => { if (await isRunning(d, id)) pending.delete(d) }))
        return pending.size === 0
      })
      created.push(performance.now() - start)
      start = performance.now()
      await api(mesh[(i + 7) % NODES]!, 'DELETE', `/ca/instrumentations/${id}`)
      const holding = new Set(mesh)
      await waitFor('deleted everywhere', 30_000, async () => {
        await Promise.all([...holding].map(async (d) => { if (!(await listIds(d)).includes(id)) holding.delete(d) }))
        return holding.size === 0
      })
      deleted.push(performance.now() - start)
    }
    console.log(`create -> all ${NODES} instrumenting (${TRIALS} trials, HTTP polling included): ${summary(created)}`)
    console.log(`delete -> gone from all ${NODES} (${TRIALS} trials, HTTP polling included): ${summary(deleted)}`)

    // Idle: nothing asked of the mesh for a while, then a quiet window with no HTTP call in it.
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const pids = mesh.map((d) => d.child.pid!)
    const c0 = await Promise.all(mesh.map(counters))
    const ticks0 = pids.map(cpuTicks)
    const wrote0 = pids.map(writtenBytes)
    const w0 = performance.now()
    await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS))
    const window = (performance.now() - w0) / 1000
    const ticks1 = pids.map(cpuTicks)
    const wrote1 = pids.map(writtenBytes)
    const c1 = await Promise.all(mesh.map(counters))
    const cpu = ticks1.map((t, i) => (t - ticks0[i]!) / 100 / window * 100) // % of one core (USER_HZ 100)
    const rss = pids.map(rssKb)
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
    console.log(`idle daemon CPU (${(IDLE_WINDOW_MS / 1000).toFixed(0)} s window): mean ${mean(cpu).toFixed(2)} % of a core, max ${Math.max(...cpu).toFixed(2)} %`)
    console.log(`idle daemon RSS: mean ${(mean(rss) / 1024).toFixed(0)} MiB, max ${(Math.max(...rss) / 1024).toFixed(0)} MiB`)
    const sent = c1.map((c, i) => (c.sentBytes - c0[i]!.sentBytes) / window)
    const msgs = c1.map((c, i) => (c.sent - c0[i]!.sent) / window)
    const gossip = c1.map((c, i) => (c.publishedBytes - c0[i]!.publishedBytes) / window)
    const wire = wrote1.map((w, i) => (w - wrote0[i]!) / window)
    console.log(`membership + anti-entropy payload sent per node: mean ${mean(sent).toFixed(0)} B/s (${mean(msgs).toFixed(2)} messages/s), max ${Math.max(...sent).toFixed(0)} B/s`)
    console.log(`definitions gossip published per node (idle): mean ${mean(gossip).toFixed(1)} B/s`)
    console.log(`bytes written to sockets per node (idle, all framing included): mean ${mean(wire).toFixed(0)} B/s, max ${Math.max(...wire).toFixed(0)} B/s`)

    // A node down while definitions change, then restarted through the first node.
    const [a, b] = mesh as [Daemon, Daemon]
    const victim = mesh[NODES - 1]!
    await victim.kill()
    const kept = (await api(a, 'POST', '/ca/instrumentations', { module: 'memory', stat: 'usage' })).body.id as string
    const gone = (await api(b, 'POST', '/ca/instrumentations', { module: 'cpu', stat: 'cpus' })).body.id as string
    // Deleted on another node than its creator, once that node has it (a delete of an id not yet
    // known there is a 404).
    await waitFor('the second definition on the first node', 30_000, async () => (await listIds(a)).includes(gone), 20)
    if ((await api(a, 'DELETE', `/ca/instrumentations/${gone}`)).status !== 204) throw new Error(`delete of ${gone} failed`)
    const restarted = await startDaemon(scope, { name: victim.name, dataDir: victim.dataDir, key, bootstrap: a.addresses, startTimeoutMs: 120_000 })
    const converged = await waitFor('restarted node converged', 60_000, async () => JSON.stringify(await listIds(restarted)) === JSON.stringify([kept]) && await isRunning(restarted, kept), 20)
    mesh[NODES - 1] = restarted
    console.log(`restart -> converged (its list and measurement, after its ready line): ${converged.toFixed(0)} ms`)

    t0 = performance.now()
    await Promise.all(mesh.map(async (d) => { await d.stop() }))
    console.log(`graceful stop of ${NODES} daemons (concurrently): ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  } finally {
    for (const fn of cleanups.reverse()) await fn()
  }
}
