/**
 * The simulator's scale curve: 100, 1,000 and 10,000 nodes, no faults, 5 instrumentations, the
 * whole protocol (MeshCore and MergeCore on every node, as `heatmesh sim` runs it) and its
 * membership part alone (no aggregation layer): wall seconds, virtual-to-real ratio, peak RSS,
 * CPU per node-second. 600 simulated seconds for 100 and 1,000 nodes; 60 for 10,000 with the
 * merge layer and 120 without (HEATMESH_BENCH_SIM_FULL=1 runs the full 600 s: ~25 s for the
 * membership part, 20-35 minutes for the whole protocol: the steady state after the first minute
 * costs ~1.1-1.2x the first minute per simulated second, so the scaled-down row's x10 is a floor).
 * Baseline, measured in the same run: the core's test harness (node/core/cluster.ts: one private
 * interner per node, a binary heap of event objects, the simplest network model) on the same
 * nodes and seconds, at 100 and 1,000 nodes; the ratios say how much faster the simulator's
 * binding is.
 * A second baseline says where the whole protocol's time goes: the merge cores alone, in their
 * own test harness (node/merge/cluster.ts: objects, no membership, a heap of events, scalar
 * values, the cheapest shape) on 1,000 nodes with the same 5 instrumentations; the simulator's
 * merge layer (whole protocol minus membership) against it says how much the binding adds, and
 * its CPU per node-second times 10,000 x 600 node-seconds is a floor for the whole run with
 * today's merge core, whatever the simulator does.
 * A third says how much of the budget any merge core could have: the merge floor (bench/_merge-floor.ts:
 * every value moved up a tree each second on the simulator's queue, network model and value math,
 * and nothing else) at 1,000 and 10,000 nodes; at 10,000 x 600 s the membership part's wall plus
 * the floor's is what the simulator would take with a merge core that cost nothing beyond it.
 * Every measurement runs in a child process of its own, so that each peak RSS is its own.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createCluster } from '../node/core/index.js'
import { createMergeCluster } from '../node/merge/index.js'
import { createMergeLayer, DEFAULT_SIM_OPTIONS, runSimulation } from '../sim/index.js'
import { runMergeFloor } from './_merge-floor.js'

type What = 'sim' | 'mesh' | 'cluster' | 'merge' | 'floor'

interface Measure {
  readonly what: What
  readonly nodes: number
  readonly seconds: number
  readonly wall: number
  readonly cpu: number
  readonly rssMb: number
}

const CHILD = 'HEATMESH_BENCH_SIM_CHILD'
const LABEL: Record<What, string> = { sim: 'sim (whole protocol)', mesh: 'sim (membership only)', cluster: 'core harness', merge: 'merge cores alone', floor: 'merge floor' }

/** In a child: one measurement, printed as a JSON line. */
function measure (what: What, nodes: number, seconds: number): Measure {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  if (what === 'floor') {
    const { points, counted } = runMergeFloor(nodes, seconds)
    if (counted !== points * nodes) throw new Error(`merge floor: ${counted} contributions in ${points} points of ${nodes} nodes`)
  } else if (what === 'merge') {
    const spec = { shape: 'scalar', granularity: 1, retentionTime: 600, persistData: false, valueScope: 'interval', expectedSources: nodes } as const
    const instrumentations = Array.from({ length: 5 }, (_, k) => ({ id: `bench-${k}`, spec }))
    const c = createMergeCluster({ seed: 'bench', nodes, instrumentations, localValue: (i, t) => ({ type: 'scalar', n: 1 + ((i + t) % 5) }), wire: 'objects' })
    c.runFor(seconds * 1000)
  } else if (what === 'cluster') {
    // The harness as the core's tests use it: cold start (joins through node 0), one interner per node.
    const c = createCluster({ seed: 'bench', nodes, wire: 'objects', interner: 'private' })
    c.runFor(seconds * 1000)
  } else {
    const options = { ...DEFAULT_SIM_OPTIONS, nodes, duration: seconds, seed: 'bench', progress: false }
    runSimulation(options, what === 'sim' ? { aggregation: createMergeLayer({ nodes }) } : {})
  }
  const wall = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  return { what, nodes, seconds, wall, cpu: (cpu.user + cpu.system) / 1e6, rssMb: process.resourceUsage().maxRSS / 1024 }
}

function inChild (what: What, nodes: number, seconds: number): Measure {
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
  return `${LABEL[m.what].padEnd(21)} ${String(m.nodes).padStart(6)} nodes x ${String(m.seconds).padStart(3)} s: wall ${m.wall.toFixed(1).padStart(6)} s, ` +
    `${(m.seconds / m.wall).toFixed(1).padStart(6)}x real time, CPU ${perNodeSecond.toFixed(2)} us/node-s, peak RSS ${m.rssMb.toFixed(0)} MB`
}

export default async function bench (): Promise<void> {
  const full = process.env.HEATMESH_BENCH_SIM_FULL === '1'
  const measured: Measure[] = []
  for (const what of ['sim', 'mesh'] as const) {
    const big = full ? 600 : what === 'sim' ? 60 : 120
    for (const [nodes, seconds] of [[100, 600], [1000, 600], [10_000, big]] as const) {
      const m = inChild(what, nodes, seconds)
      measured.push(m)
      console.log(line(m) + (seconds < 600 ? ' (scaled down from 600 s; HEATMESH_BENCH_SIM_FULL=1 for all of it)' : ''))
    }
  }
  for (const [nodes, seconds] of [[100, 600], [1000, 120]] as const) {
    const base = inChild('cluster', nodes, seconds)
    console.log(line(base) + (nodes === 1000 ? ' (cold start: the first ~15 s are the join)' : ''))
    const mesh = measured.find((m) => m.what === 'mesh' && m.nodes === nodes) as Measure
    console.log(`  ratio at ${nodes} nodes: the simulator runs ${((mesh.seconds / mesh.wall) / (base.seconds / base.wall)).toFixed(1)}x the harness's virtual seconds per wall second (membership only)`)
  }
  const merge = inChild('merge', 1000, 120)
  console.log(line(merge))
  const sim1k = measured.find((m) => m.what === 'sim' && m.nodes === 1000) as Measure
  const mesh1k = measured.find((m) => m.what === 'mesh' && m.nodes === 1000) as Measure
  const perNodeSecond = (m: Measure): number => m.cpu * 1e6 / (m.nodes * m.seconds)
  const layer = perNodeSecond(sim1k) - perNodeSecond(mesh1k)
  console.log(`  at 1000 nodes the simulator's merge layer (whole protocol minus membership) costs ${layer.toFixed(1)} us/node-s, ` +
    `${(layer / perNodeSecond(merge)).toFixed(2)}x the merge cores alone; the cores alone at 10,000 x 600 node-seconds: >= ${(perNodeSecond(merge) * 6e6 / 1e6).toFixed(0)} s of CPU`)
  const floor1k = inChild('floor', 1000, 120)
  const floor10k = inChild('floor', 10_000, full ? 600 : 60)
  console.log(line(floor1k))
  console.log(line(floor10k))
  const mesh10k = measured.find((m) => m.what === 'mesh' && m.nodes === 10_000) as Measure
  const meshWall = mesh10k.wall * 600 / mesh10k.seconds
  const floorWall = floor10k.wall * 600 / floor10k.seconds
  console.log(`  10,000 x 600 s with a merge core that cost nothing beyond the floor: membership ~${meshWall.toFixed(0)} s + floor ~${floorWall.toFixed(0)} s = ` +
    `~${(meshWall + floorWall).toFixed(0)} s of one thread (target <= 60 s wall on 2 cores); at 1000 nodes the simulator's merge layer costs ${(layer / perNodeSecond(floor1k)).toFixed(1)}x the floor`)
  for (const what of ['sim', 'mesh'] as const) {
    const big = measured.find((m) => m.what === what && m.nodes === 10_000) as Measure
    const mesh = what === 'sim' ? measured.find((m) => m.what === 'mesh' && m.nodes === 10_000) as Measure : undefined
    const measuredFor = full ? '' : ` after ${big.seconds} s`
    console.log(`10,000 nodes x 600 s, ${LABEL[what]}: ${full ? 'took' : 'would take at least'} ~${(big.wall * 600 / big.seconds).toFixed(0)} s wall (target <= 60 s), ` +
      `peak RSS ${big.rssMb.toFixed(0)} MB${measuredFor} (target <= 8192 MB)` +
      (mesh === undefined ? '' : `; CPU per node-second ${((big.cpu / big.seconds) / (mesh.cpu / mesh.seconds)).toFixed(1)}x the membership part's`))
  }
}

const child = process.env[CHILD]
if (child !== undefined) {
  const { what, nodes, seconds } = JSON.parse(child) as { what: What, nodes: number, seconds: number }
  process.stdout.write(`${JSON.stringify(measure(what, nodes, seconds))}\n`)
}
