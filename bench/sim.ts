/**
 * The simulator's scale curve: 100, 1,000 and 10,000 nodes, no faults, 5 instrumentations: wall
 * seconds, virtual-to-real ratio, peak RSS, CPU per node-second. 600 simulated seconds for 100
 * and 1,000 nodes; 120 for 10,000 (HEATMESH_BENCH_SIM_FULL=1 runs the full 600 s, about half a
 * minute on a quiet machine). Baseline, measured in the same run: the core's test harness (node/core/cluster.ts:
 * one private interner per node, a binary heap of event objects, the simplest network model)
 * on the same nodes and seconds, at 100 and 1,000 nodes; the ratios say how much faster the
 * simulator's binding is (and what the shared interner saves in memory).
 * Every measurement runs in a child process of its own, so that each peak RSS is its own.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createCluster } from '../node/core/index.js'
import { DEFAULT_SIM_OPTIONS, runSimulation } from '../sim/index.js'

interface Measure {
  readonly what: 'sim' | 'cluster'
  readonly nodes: number
  readonly seconds: number
  readonly wall: number
  readonly cpu: number
  readonly rssMb: number
}

const CHILD = 'HEATMESH_BENCH_SIM_CHILD'

/** In a child: one measurement, printed as a JSON line. */
function measure (what: 'sim' | 'cluster', nodes: number, seconds: number): Measure {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  if (what === 'sim') {
    runSimulation({ ...DEFAULT_SIM_OPTIONS, nodes, duration: seconds, seed: 'bench', progress: false })
  } else {
    // The harness as the core's tests use it: cold start (joins through node 0), one interner per node.
    const c = createCluster({ seed: 'bench', nodes, wire: 'objects', interner: 'private' })
    c.runFor(seconds * 1000)
  }
  const wall = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  return { what, nodes, seconds, wall, cpu: (cpu.user + cpu.system) / 1e6, rssMb: process.resourceUsage().maxRSS / 1024 }
}

function inChild (what: 'sim' | 'cluster', nodes: number, seconds: number): Measure {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, [CHILD]: JSON.stringify({ what, nodes, seconds }) },
    encoding: 'utf8',
    maxBuffer: 1 << 20
  })
  if (r.status !== 0) throw new Error(`bench child failed (${what} ${nodes}): ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Measure
}

function line (m: Measure): string {
  const perNodeSecond = m.cpu * 1e6 / (m.nodes * m.seconds)
  return `${m.what === 'sim' ? 'sim    ' : 'cluster'} ${String(m.nodes).padStart(6)} nodes x ${String(m.seconds).padStart(3)} s: wall ${m.wall.toFixed(1).padStart(6)} s, ` +
    `${(m.seconds / m.wall).toFixed(1).padStart(6)}x real time, CPU ${perNodeSecond.toFixed(2)} us/node-s, peak RSS ${m.rssMb.toFixed(0)} MB`
}

export default async function bench (): Promise<void> {
  const full = process.env.HEATMESH_BENCH_SIM_FULL === '1'
  const curve: Array<[number, number]> = [[100, 600], [1000, 600], [10_000, full ? 600 : 120]]
  const sims: Measure[] = []
  for (const [nodes, seconds] of curve) {
    const m = inChild('sim', nodes, seconds)
    sims.push(m)
    console.log(line(m) + (seconds < 600 ? ' (scaled down from 600 s; HEATMESH_BENCH_SIM_FULL=1 for all of it)' : ''))
  }
  for (const [nodes, seconds] of [[100, 600], [1000, 120]] as const) {
    const base = inChild('cluster', nodes, seconds)
    console.log(line(base) + (nodes === 1000 ? ' (cold start: the first ~15 s are the join)' : ''))
    const sim = sims.find((m) => m.nodes === nodes) as Measure
    const simRate = sim.seconds / sim.wall
    const baseRate = base.seconds / base.wall
    console.log(`  ratio at ${nodes} nodes: the simulator runs ${(simRate / baseRate).toFixed(1)}x the harness's virtual seconds per wall second`)
  }
  const big = sims.at(-1) as Measure
  console.log(`10,000 nodes x 600 s ${full ? 'took' : 'would take'} ~${(big.wall * 600 / big.seconds).toFixed(0)} s wall (target <= 60 s), peak RSS ${big.rssMb.toFixed(0)} MB (target <= 8192 MB)`)
}

const child = process.env[CHILD]
if (child !== undefined) {
  const { what, nodes, seconds } = JSON.parse(child) as { what: 'sim' | 'cluster', nodes: number, seconds: number }
  process.stdout.write(`${JSON.stringify(measure(what, nodes, seconds))}\n`)
}
