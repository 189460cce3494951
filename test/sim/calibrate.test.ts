/**
 * The calibration mode: real mesh nodes in this process against the model. The comparison rows
 * and their errors from literal figures; a real mesh that stops cleanly, and one that runs out
 * of its formation budget; and one CI-sized calibration end to end through the command line
 * (12 real nodes, 20 s), whose report must show both sides converged on every definition.
 */
import test from 'ava'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HeatmeshError } from '../../metad/index.js'
import { CALIBRATION_FILES, compare, compareSides, type CalibrationReport } from '../../sim/calibrate.js'
import { runSimCli } from '../../sim/cli.js'
import { startRealMesh } from '../../sim/real-mesh.js'

function tempDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'heatmesh-calibrate-test-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

/** Timers of the process (libp2p's dial and request timeouts run out within seconds of a stop). */
function timers (): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}

/** Waits until the process has no more timers than `baseline`, up to `ms`; returns the count left. */
async function timersBackTo (baseline: number, ms: number): Promise<number> {
  const until = performance.now() + ms
  while (timers() > baseline && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 200))
  return timers()
}

const spread = (mean: number): { mean: number, p50: number, p99: number, max: number } => ({ mean, p50: mean, p99: mean * 2, max: mean * 3 })

test('an error is the model minus the real figure, relative to the real one', (t) => {
  t.deepEqual(compare('x', 's', 0.05, 0.01), { figure: 'x', unit: 's', real: 0.05, model: 0.01, error: -0.04, relative_error: -0.8 })
  t.deepEqual(compare('x', 'B/s', 100, 110), { figure: 'x', unit: 'B/s', real: 100, model: 110, error: 10, relative_error: 0.1 })
})

test('an error is missing when either side is, and the relative error when the real figure is zero', (t) => {
  t.like(compare('x', 's', null, 0.01), { error: null, relative_error: null })
  t.like(compare('x', 's', 0.01, null), { error: null, relative_error: null })
  t.like(compare('x', 'pairs', 0, 3), { error: 3, relative_error: null })
})

test('the comparison covers convergence, bytes by kind and messages, the model\'s core bytes being its total minus gossipsub', (t) => {
  const rows = compareSides({
    definition_convergence_s: { p50: 0.04, p99: 0.1, max: 0.12 },
    definitions_missing: 0,
    bytes_per_node_per_s: spread(600),
    core_bytes_per_node_per_s: spread(90),
    gossipsub_bytes_per_node_per_s: spread(510),
    messages_per_node_per_s: spread(5)
  }, {
    definition_convergence_s: { p50: 0.003, p99: 0.004, max: 0.005 },
    definitions_missing: 0,
    bytes_per_node_per_s: spread(580),
    gossipsub_bytes_per_node_per_s: spread(490),
    messages_per_node_per_s: spread(4)
  })
  t.deepEqual(rows.map((r) => r.figure), [
    'definition convergence p50', 'definition convergence p99', 'definition convergence max', 'definitions missing',
    'bytes sent per node, mean', 'bytes sent per node, p99', 'gossipsub bytes per node, mean',
    'core (membership, anti-entropy) bytes per node, mean', 'messages sent per node, mean'
  ])
  t.like(rows[7], { real: 90, model: 90, error: 0, relative_error: 0 })
  t.like(rows[5], { real: 1200, model: 1160, error: -40 })
  t.like(rows[0], { error: -0.037, relative_error: -0.925 })
})

test.serial('a real mesh forms with every pair connected and stops every node', async (t) => {
  const baseline = timers()
  const mesh = await startRealMesh({ nodes: 4, latencyMs: 1, seed: 'stop', formationBudgetMs: 60_000, settleMs: 200 })
  try {
    t.is(mesh.formation.connections, 6)
    for (const node of mesh.nodes) {
      t.is(node.host.peers().length, 3)
      t.is(node.core.liveCount, 4)
    }
    const hops = await mesh.probeHopLatency(4)
    t.is(hops.length, 4)
    t.true(hops.every((ms) => Number.isFinite(ms) && ms > 0), `every probe arrived: ${hops.join(', ')} ms`)
  } finally {
    await mesh.stop()
  }
  await mesh.stop() // idempotent
  for (const node of mesh.nodes) {
    t.true(node.host.debugState().stopped)
    t.deepEqual(node.host.peers(), [])
  }
  t.true(await timersBackTo(baseline, 8000) <= baseline, 'no timer of the mesh outlives it')
})

test.serial('a real mesh that runs out of its formation budget rejects with ECA_TIMEDOUT and leaves nothing running', async (t) => {
  const baseline = timers()
  const err = await t.throwsAsync(startRealMesh({ nodes: 4, latencyMs: 1, seed: 'budget', formationBudgetMs: 1 }), { instanceOf: HeatmeshError })
  t.is(err?.code, 'ECA_TIMEDOUT')
  t.regex(err?.message ?? '', /formation budget/)
  t.true(await timersBackTo(baseline, 8000) <= baseline)
})

test.serial('heatmesh sim --calibrate runs 12 real nodes and the model, and reports both converged with the error of every figure', async (t) => {
  const dir = tempDir(t)
  const out: string[] = []
  const err: string[] = []
  const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { isTTY: false, write: (s: string) => err.push(s) }, readFile: () => '' }
  const baseline = timers()
  const code = await runSimCli(['--calibrate', '--nodes', '12', '--duration', '20', '--instrumentations', '3', '--seed', 'ci', '--report', dir], io)
  t.is(code, 0, err.join(''))
  t.true(await timersBackTo(baseline, 8000) <= baseline, 'every real node stopped')

  const report = JSON.parse(readFileSync(join(dir, CALIBRATION_FILES[0]), 'utf8')) as CalibrationReport
  t.like(report, { nodes: 12, duration_s: 20, seed: 'ci' })
  t.is(report.instrumentations.length, 3)
  // Both sides: every definition reached every node.
  t.is(report.real.definitions.length, 3)
  t.is(report.model.summary.definitions.length, 3)
  for (const d of [...report.real.definitions, ...report.model.summary.definitions]) {
    t.is(d.missing, 0, d.id)
    t.not(d.all_s, null, d.id)
  }
  t.is(report.real.definitions_missing, 0)
  t.is(report.model.summary.definitions_missing, 0)
  // The real side as formed and measured.
  t.like(report.real.formation, { connections: 66, peers_per_node: 11, dial_failures: 0 })
  t.true(report.real.formation.gossip_mesh_degree >= 4)
  t.true((report.real.hop_latency_ms.p50 ?? 0) >= report.real.transport_latency_ms)
  t.true((report.real.bytes_per_node_per_s.mean ?? 0) > 0)
  t.true(report.real.gossipsub_frames.message_frames >= 3 * 11, 'each definition went to every other node at least once')
  t.true(report.real.core_received.ping > 0 && report.real.core_received.ack > 0)
  // The model ran the same scenario on the network the real side showed.
  t.like(report.model, { latency_ms: 2, jitter_ms: 0.5, connections: 22 })
  // Given the real side's CPU per delivery on one shared CPU; as a fleet, no slower.
  t.is(report.model.gossip_cpu_ms, report.real.spread_cpu_ms_per_delivery ?? 2)
  t.true(report.model.gossip_cpu_ms > 0)
  t.true((report.model.fleet_definition_convergence_s.max ?? Infinity) <= (report.model.summary.definition_convergence_s.max ?? 0))
  t.deepEqual(report.model.summary.definitions.map((d) => d.created_s), report.instrumentations)
  // Every figure compared, with its error where both sides have one.
  t.is(report.comparison.length, 10)
  for (const row of report.comparison) {
    t.not(row.real, null, row.figure)
    t.not(row.model, null, row.figure)
    t.is(row.error, Math.round(((row.model as number) - (row.real as number)) * 1e4) / 1e4, row.figure)
    if (row.real !== 0) t.is(row.relative_error, Math.round(((row.model as number) - (row.real as number)) / (row.real as number) * 1e3) / 1e3, row.figure)
  }
  t.true(report.core_messages_by_type.some((r) => r.type === 'ping' && r.real > 0 && r.model > 0))
  t.true(report.differences.length >= 4)
  // The terminal shows the same table, and the markdown report exists.
  const text = out.join('')
  t.regex(text, /heatmesh sim --calibrate: 12 nodes, 20 s, seed ci/)
  t.regex(text, /definition convergence p50 \(s\)/)
  t.regex(readFileSync(join(dir, CALIBRATION_FILES[1]), 'utf8'), /## What differs/)
})
