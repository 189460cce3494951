/**
 * Calibration: how far the simulator's model is from the real stack. `heatmesh sim --calibrate`
 * runs one scenario twice, on N real mesh nodes in this process (real-mesh.ts: the daemon's
 * MeshHost, binding and MeshCore over libp2p's memory transport) and on the model
 * (runSimulation), and reports each figure side by side with the model's error.
 *
 * THEORY. The scenario is the simulator's: a formed mesh of N nodes, the same definitions
 * (sim/instrumentations.ts) created by one random node each at the same times relative to the
 * start of the measurement (instrumentationTimes), for `duration` seconds, no faults.
 * - Real side. The mesh is formed first (real-mesh.ts: every pair connected, cores started warm
 *   from a snapshot, settled until in service), then the one-hop latency is probed, then the
 *   measurement runs in real time: definitions are created through the origin's core at their
 *   times, every node's `definition` outputs are timed, and each node's traffic counters are read
 *   at its start and end.
 * - Model side. The same nodes, duration, seed and definition times, on the network the real
 *   side had: the memory transport's fixed one-way latency, plus the model's default per-message
 *   jitter (0.5 ms, about what the real stack adds to a hop when the process is not loaded:
 *   p50 0.35-0.8 ms over the transport's 2 ms at 12-75 nodes), and gossipsub peers = every other
 *   node (connections = 2(N - 1): each node dials all others), as on the real side. No merge
 *   tree. The CPU of a definition's delivery is the real side's, measured (process CPU over a
 *   spread, per delivery), on one CPU all the model's nodes share, as the real nodes share one
 *   thread; the model is run a second time as a fleet (each node its own CPU) for the figure a
 *   fleet would show. The probed one-hop latency is reported, not fed to the model: under a
 *   loaded process it measures the event loop's queue (p50 55-86 ms at 100 nodes), which the
 *   CPU per delivery accounts for.
 * - Figures (both sides counted alike): definition convergence over (definition, node) pairs,
 *   from the creation to the node's core reporting it (p50, p99, max; the origin counts, at 0);
 *   bytes sent per node per second over the measurement, in the core's encoding and in
 *   gossipsub RPC frames, before any transport framing; messages (core messages plus gossipsub
 *   frames) per node per second. Error = model - real; relative error = (model - real) / real.
 * Bounded: the formation has a budget (FORMATION_BUDGET), the measurement lasts `duration`, and
 * every node is stopped at the end, on error too.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRng } from '../node/core/index.js'
import { simInstrumentation } from './instrumentations.js'
import { Observer } from './observer.js'
import { DEFAULT_SIM_OPTIONS, instrumentationTimes, type SimOptions } from './options.js'
import { mean, quantile, round, sortedCopy } from './quantiles.js'
import { startRealMesh, type Formation, type NodeTraffic, type RealMesh } from './real-mesh.js'
import { runSimulation, type SimSummary, type Spread } from './run.js'

/** Time budget of forming the real mesh: a base plus a share per connection, ms. */
export const FORMATION_BUDGET = Object.freeze({ baseMs: 60_000, perConnectionMs: 100 })

/** Probes of the one-hop latency. */
const HOP_PROBES = 40

/** Files a calibration writes with --report. */
export const CALIBRATION_FILES = ['calibration.json', 'calibration.md'] as const

/** The real side's measurements. */
export interface RealSide {
  readonly formation: Formation
  /** The memory transport's delay per chunk, ms. */
  readonly transport_latency_ms: number
  /** One-hop latency through the whole stack just before the measurement (the process's own load included), ms. */
  readonly hop_latency_ms: { readonly p10: number | null, readonly p50: number | null, readonly p90: number | null, readonly max: number | null }
  /** Wall seconds the measurement lasted (the scenario's duration, give or take timer lag). */
  readonly window_s: number
  /** CPU of the whole process during the measurement, % of one core. */
  readonly cpu_percent: number
  readonly definition_convergence_s: { readonly p50: number | null, readonly p99: number | null, readonly max: number | null }
  readonly definitions_missing: number
  readonly definitions: ReadonlyArray<{ id: string, created_s: number, all_s: number | null, missing: number }>
  readonly bytes_per_node_per_s: Spread
  readonly core_bytes_per_node_per_s: Spread
  readonly gossipsub_bytes_per_node_per_s: Spread
  readonly messages_per_node_per_s: Spread
  /**
   * `suspected` member outputs of the cores over the measurement, per node per minute: a member
   * this node began to suspect (false suspicions: no node failed).
   */
  readonly suspicions_per_node_per_minute: number
  /** Core messages accepted over the measurement, by type, all nodes. */
  readonly core_received: Readonly<Record<string, number>>
  /**
   * Gossipsub frames sent over the measurement, all nodes: with messages, and control only; then
   * the frames carrying each kind of control (a frame may carry several).
   */
  readonly gossipsub_frames: Readonly<Record<'message_frames' | 'message_bytes' | 'messages' | 'control_frames' | 'control_bytes' | 'with_ihave' | 'with_iwant' | 'with_graft' | 'with_prune' | 'with_idontwant' | 'with_subscriptions', number>>
  /**
   * CPU of the whole process from a definition's creation until the last node had it, divided
   * by the N - 1 deliveries, ms (mean over the definitions that reached every node): what one
   * delivery costs when the nodes take turns on one thread.
   */
  readonly spread_cpu_ms_per_delivery: number | null
  /** Core messages that could not be sent. */
  readonly core_send_failures: number
  /** Seconds to stop every node. */
  readonly stop_s: number
  /** Peak RSS of the process when the real side ended, MB. */
  readonly peak_rss_mb: number
}

/** The model's run. */
export interface ModelSide {
  readonly latency_ms: number
  readonly jitter_ms: number
  readonly connections: number
  /**
   * CPU per message received first, ms: the real side's spread_cpu_ms_per_delivery (the model's
   * default when the real side measured none), on one CPU all nodes share, as on the real side.
   */
  readonly gossip_cpu_ms: number
  /** As RealSide's, from the model's `suspected` member outputs. */
  readonly suspicions_per_node_per_minute: number
  readonly summary: SimSummary
  /**
   * The same model as a fleet (each node its own CPU): what the real nodes would show on N
   * machines, where the comparison's model shows them on one thread.
   */
  readonly fleet_definition_convergence_s: SimSummary['definition_convergence_s']
}

/** One figure, both sides. */
export interface Comparison {
  readonly figure: string
  readonly unit: string
  readonly real: number | null
  readonly model: number | null
  /** model - real. */
  readonly error: number | null
  /** (model - real) / real; null when real is 0 or either is missing. */
  readonly relative_error: number | null
}

/** calibration.json. */
export interface CalibrationReport {
  readonly nodes: number
  readonly duration_s: number
  readonly seed: string
  /** When the definitions were created, s from the start of the measurement. */
  readonly instrumentations: readonly number[]
  readonly wall_seconds: number
  readonly real: RealSide
  readonly model: ModelSide
  readonly comparison: readonly Comparison[]
  /**
   * Core messages per node per second by type, both sides: real, those the cores accepted
   * (def-update and def-access arrive by gossipsub and are left out); model, those the cores
   * sent. With nothing lost the two count the same messages; this says where core bytes differ.
   */
  readonly core_messages_by_type: ReadonlyArray<{ readonly type: string, readonly real: number, readonly model: number }>
  /** What differs between the two sides, in words, with this run's values. */
  readonly differences: readonly string[]
}

/** What a calibration run is told about. */
export interface CalibrationIo {
  /** One line per step (formation, measurement, model). @default ignore */
  readonly progress?: (text: string) => void
}

/**
 * Runs a calibration (see the module doc): `options` as parseSimArgs gives them with
 * --calibrate (nodes, duration, seed, definition times, `latency` the memory transport's fixed
 * delay). Stops every real node before it resolves or rejects.
 */
export async function runCalibration (options: SimOptions, io: CalibrationIo = {}): Promise<CalibrationReport> {
  if (options.latency.kind !== 'fixed') throw new RangeError('calibration: the memory transport takes a fixed latency')
  const started = performance.now()
  const progress = io.progress ?? (() => {})
  const n = options.nodes
  const times = instrumentationTimes(options)
  let onSeen: ((node: number, id: string, at: number) => void) | undefined
  let onSuspected: (() => void) | undefined
  const mesh = await startRealMesh({
    nodes: n,
    latencyMs: options.latency.ms,
    seed: options.seed,
    formationBudgetMs: FORMATION_BUDGET.baseMs + FORMATION_BUDGET.perConnectionMs * n * (n - 1) / 2,
    onProgress: (text) => { progress(`real: ${text}`) },
    onOutput: (i, o, at) => {
      if (o.type === 'definition' && o.change !== 'deleted') onSeen?.(i, o.id, at)
      else if (o.type === 'member' && o.change === 'suspected') onSuspected?.()
    }
  })
  let real: RealSide
  try {
    const hops = sortedCopy(await mesh.probeHopLatency(HOP_PROBES))
    progress(`real: one-hop latency p50 ${quantile(hops, 0.5)?.toFixed(2) ?? 'n/a'} ms; measuring ${options.duration} s`)
    const t0 = performance.now()
    const observer = new Observer(n, t0)
    let suspicions = 0
    onSuspected = () => { suspicions++ }
    const measured = await measure(mesh, options, times, observer, t0, progress, (watch) => { onSeen = watch })
    onSuspected = undefined
    const stopStart = performance.now()
    await mesh.stop()
    real = realSide(mesh.formation, options.latency.ms, hops, observer, measured, suspicions, (performance.now() - stopStart) / 1000)
  } finally {
    await mesh.stop()
  }
  progress('model: running the same scenario')
  const modelOptions: SimOptions = {
    ...options,
    calibrate: undefined,
    report: undefined,
    progress: false,
    latency: options.latency,
    jitterMs: DEFAULT_SIM_OPTIONS.jitterMs,
    gossipCpuMs: real.spread_cpu_ms_per_delivery ?? DEFAULT_SIM_OPTIONS.gossipCpuMs,
    gossipCpuShared: true,
    loss: 0,
    bandwidth: undefined,
    connections: 2 * (n - 1),
    scenario: { ...options.scenario, instrumentations: times }
  }
  const modelSent: Record<string, number> = {}
  let modelSuspicions = 0
  const { summary } = runSimulation(modelOptions, {
    onOutput: (_node, o) => {
      if (o.type === 'send' || o.type === 'send-address') modelSent[o.message.type] = (modelSent[o.message.type] ?? 0) + 1
      else if (o.type === 'member' && o.change === 'suspected') modelSuspicions++
    }
  })
  const { gossipCpuShared: _shared, ...fleetOptions } = modelOptions
  const fleet = runSimulation(fleetOptions).summary
  const model: ModelSide = {
    latency_ms: options.latency.ms,
    jitter_ms: modelOptions.jitterMs,
    connections: modelOptions.connections,
    gossip_cpu_ms: modelOptions.gossipCpuMs,
    suspicions_per_node_per_minute: round(modelSuspicions / n / (options.duration / 60), 2) as number,
    summary,
    fleet_definition_convergence_s: fleet.definition_convergence_s
  }
  return {
    nodes: n,
    duration_s: options.duration,
    seed: options.seed,
    instrumentations: times,
    wall_seconds: round((performance.now() - started) / 1000, 1) as number,
    real,
    model,
    comparison: [...compareSides(real, summary), compare('suspicions per node', '1/min', real.suspicions_per_node_per_minute, model.suspicions_per_node_per_minute)],
    core_messages_by_type: byType(real.core_received, real.window_s, modelSent, options.duration, n),
    differences: differences(real, model, n)
  }
}

/** The measurement's raw results. */
interface Measured {
  readonly before: readonly NodeTraffic[]
  readonly after: readonly NodeTraffic[]
  readonly received: Readonly<Record<string, number>>
  readonly windowS: number
  readonly cpuPercent: number
  /** Per definition that reached every node: process CPU from its creation to its last arrival, ms. */
  readonly spreadCpuMs: readonly number[]
}

/**
 * Runs the measurement: the definitions at their times, counters at both ends. `watch` is handed
 * the function to call with every node's `definition` output.
 */
async function measure (
  mesh: RealMesh, options: SimOptions, times: readonly number[], observer: Observer, t0: number, progress: (text: string) => void,
  watch: (onSeen: (node: number, id: string, at: number) => void) => void
): Promise<Measured> {
  const n = options.nodes
  const rng = createRng(`calibrate:${options.seed}`)
  const cpuNow = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1000 }
  const spreads = new Map<string, { cpu: number, seen: Set<number> }>()
  const spreadCpuMs: number[] = []
  watch((i, id, at) => {
    observer.definitionSeen(i, id, at)
    const s = spreads.get(id)
    if (s === undefined || s.seen.has(i)) return
    s.seen.add(i)
    if (s.seen.size === n) spreadCpuMs.push(cpuNow() - s.cpu)
  })
  const before = mesh.traffic()
  const received0 = mesh.received()
  const cpu0 = process.cpuUsage()
  const timers: NodeJS.Timeout[] = []
  try {
    times.forEach((t, k) => {
      timers.push(setTimeout(() => {
        const origin = rng.uint32() % n
        mesh.createDefinition(origin, simInstrumentation(k), (id, at) => {
          observer.definitionCreated(id, at, origin, () => true)
          spreads.set(id, { cpu: cpuNow(), seen: new Set() })
        })
      }, Math.max(0, t0 + t * 1000 - performance.now())))
    })
    const end = t0 + options.duration * 1000
    let reported = 0
    for (let now = performance.now(); now < end; now = performance.now()) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, end - now)))
      const tenth = Math.floor((performance.now() - t0) / (options.duration * 100))
      if (tenth > reported && tenth < 10) { reported = tenth; progress(`real: measuring, ${tenth * 10} %`) }
    }
  } finally {
    for (const t of timers) clearTimeout(t)
  }
  const after = mesh.traffic()
  const received1 = mesh.received()
  const windowS = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const received = Object.fromEntries(Object.entries(received1).map(([type, count]) => [type, count - (received0[type] ?? 0)]).filter(([, count]) => (count as number) > 0))
  return { before, after, received, windowS, cpuPercent: (cpu.user + cpu.system) / 1e6 / windowS * 100, spreadCpuMs }
}

/** The real side's figures from its measurement. */
function realSide (formation: Formation, latencyMs: number, hops: Float64Array, observer: Observer, m: Measured, suspicions: number, stopS: number): RealSide {
  const perNode = (f: (a: NodeTraffic, b: NodeTraffic) => number): Spread => spread(sortedCopy(m.after.map((a, i) => f(a, m.before[i] as NodeTraffic) / m.windowS)))
  const coreBytes = (a: NodeTraffic, b: NodeTraffic): number => a.coreBytes - b.coreBytes
  const gossipBytes = (a: NodeTraffic, b: NodeTraffic): number => a.gossip.bytes - b.gossip.bytes
  const sum = (f: (a: NodeTraffic, b: NodeTraffic) => number): number => m.after.reduce((s, a, i) => s + f(a, m.before[i] as NodeTraffic), 0)
  const convergence = observer.convergenceSummary()
  return {
    formation,
    transport_latency_ms: latencyMs,
    hop_latency_ms: { p10: round(quantile(hops, 0.1)), p50: round(quantile(hops, 0.5)), p90: round(quantile(hops, 0.9)), max: round(quantile(hops, 1)) },
    window_s: round(m.windowS) as number,
    cpu_percent: round(m.cpuPercent, 1) as number,
    definition_convergence_s: { p50: convergence.p50, p99: convergence.p99, max: convergence.max },
    definitions_missing: convergence.missing,
    definitions: observer.definitions(),
    bytes_per_node_per_s: perNode((a, b) => coreBytes(a, b) + gossipBytes(a, b)),
    core_bytes_per_node_per_s: perNode(coreBytes),
    gossipsub_bytes_per_node_per_s: perNode(gossipBytes),
    messages_per_node_per_s: perNode((a, b) => a.coreMessages - b.coreMessages + a.gossip.frames - b.gossip.frames),
    gossipsub_frames: {
      message_frames: sum((a, b) => a.gossip.messageFrames - b.gossip.messageFrames),
      message_bytes: sum((a, b) => a.gossip.messageBytes - b.gossip.messageBytes),
      messages: sum((a, b) => a.gossip.messages - b.gossip.messages),
      control_frames: sum((a, b) => a.gossip.controlFrames - b.gossip.controlFrames),
      control_bytes: sum((a, b) => a.gossip.controlBytes - b.gossip.controlBytes),
      with_ihave: sum((a, b) => a.gossip.withIhave - b.gossip.withIhave),
      with_iwant: sum((a, b) => a.gossip.withIwant - b.gossip.withIwant),
      with_graft: sum((a, b) => a.gossip.withGraft - b.gossip.withGraft),
      with_prune: sum((a, b) => a.gossip.withPrune - b.gossip.withPrune),
      with_idontwant: sum((a, b) => a.gossip.withIdontwant - b.gossip.withIdontwant),
      with_subscriptions: sum((a, b) => a.gossip.withSubscriptions - b.gossip.withSubscriptions)
    },
    spread_cpu_ms_per_delivery: m.spreadCpuMs.length === 0 ? null : round((mean(m.spreadCpuMs) as number) / Math.max(1, m.after.length - 1)),
    core_received: m.received,
    suspicions_per_node_per_minute: round(suspicions / m.after.length / (m.windowS / 60), 2) as number,
    core_send_failures: sum((a, b) => a.coreFailures - b.coreFailures),
    stop_s: round(stopS) as number,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024)
  }
}

/**
 * The figures side by side (see the module doc). The model's core bytes are its total minus its
 * gossipsub bytes, per node on average (exact for means).
 */
export function compareSides (real: Pick<RealSide, 'definition_convergence_s' | 'definitions_missing' | 'bytes_per_node_per_s' | 'core_bytes_per_node_per_s' | 'gossipsub_bytes_per_node_per_s' | 'messages_per_node_per_s'>, model: Pick<SimSummary, 'definition_convergence_s' | 'definitions_missing' | 'bytes_per_node_per_s' | 'gossipsub_bytes_per_node_per_s' | 'messages_per_node_per_s'>): Comparison[] {
  const minus = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : round(a - b, 1))
  return [
    compare('definition convergence p50', 's', real.definition_convergence_s.p50, model.definition_convergence_s.p50),
    compare('definition convergence p99', 's', real.definition_convergence_s.p99, model.definition_convergence_s.p99),
    compare('definition convergence max', 's', real.definition_convergence_s.max, model.definition_convergence_s.max),
    compare('definitions missing', '(definition, node) pairs', real.definitions_missing, model.definitions_missing),
    compare('bytes sent per node, mean', 'B/s', real.bytes_per_node_per_s.mean, model.bytes_per_node_per_s.mean),
    compare('bytes sent per node, p99', 'B/s', real.bytes_per_node_per_s.p99, model.bytes_per_node_per_s.p99),
    compare('gossipsub bytes per node, mean', 'B/s', real.gossipsub_bytes_per_node_per_s.mean, model.gossipsub_bytes_per_node_per_s.mean),
    compare('core (membership, anti-entropy) bytes per node, mean', 'B/s', real.core_bytes_per_node_per_s.mean, minus(model.bytes_per_node_per_s.mean, model.gossipsub_bytes_per_node_per_s.mean)),
    compare('messages sent per node, mean', '1/s', real.messages_per_node_per_s.mean, model.messages_per_node_per_s.mean)
  ]
}

/** One comparison row: the error is model - real, the relative error (model - real) / real. */
export function compare (figure: string, unit: string, real: number | null, model: number | null): Comparison {
  const error = real === null || model === null ? null : model - real
  return {
    figure,
    unit,
    real,
    model,
    error: error === null ? null : round(error, 4),
    relative_error: error === null || real === 0 || real === null ? null : round(error / real, 3)
  }
}

/** Core messages per node per second by type (see CalibrationReport.core_messages_by_type). */
function byType (real: Readonly<Record<string, number>>, realS: number, model: Readonly<Record<string, number>>, modelS: number, n: number): Array<{ type: string, real: number, model: number }> {
  const gossip = new Set(['def-update', 'def-access'])
  const types = [...new Set([...Object.keys(real), ...Object.keys(model)])].filter((t) => !gossip.has(t)).sort()
  return types.map((type) => ({ type, real: round((real[type] ?? 0) / n / realS) as number, model: round((model[type] ?? 0) / n / modelS) as number }))
}

/** What differs between the sides (for the report), with the run's values. */
function differences (real: RealSide, model: ModelSide, n: number): string[] {
  const f = real.formation
  return [
    `Start: the real mesh had every pair connected (${f.connections} connections, ${f.connect_s} s) and its cores started warm from a snapshot of all ${n} members, then ran ${f.settle_s} s until in service (all alive, none suspect, every core channel open, for a few seconds in a row); the model starts warm at t = 0 with gossipsub peers = all other nodes (connections ${model.connections}). Gossipsub mesh degree: real ${f.gossip_mesh_degree}, model ${model.summary.gossipsub.mean_mesh_degree ?? 'n/a'}.`,
    `CPU: the ${n} real nodes share one process (${real.cpu_percent} % of a core during the measurement): a definition's spread costs every node's signature check, decoding and core work one after another on one thread (${real.spread_cpu_ms_per_delivery ?? 'n/a'} ms of CPU per delivery), where a fleet does them in parallel; when the thread falls behind, SWIM's 500 ms probes time out (${real.suspicions_per_node_per_minute} false suspicions per node per minute, each spread as a rumour and refuted). The model gives each message a node receives first that CPU (${model.gossip_cpu_ms} ms) on one CPU all its nodes share, as the rig; the rest of the rig's work (SWIM, anti-entropy) takes no time in it. As a fleet (each node its own CPU) the same model converges in p50 ${model.fleet_definition_convergence_s.p50 ?? 'n/a'} / p99 ${model.fleet_definition_convergence_s.p99 ?? 'n/a'} / max ${model.fleet_definition_convergence_s.max ?? 'n/a'} s.`,
    `Latency: the memory transport delays every chunk by ${real.transport_latency_ms} ms; the one-hop latency through the whole stack just before the measurement was p10 ${real.hop_latency_ms.p10 ?? 'n/a'} / p50 ${real.hop_latency_ms.p50 ?? 'n/a'} / p90 ${real.hop_latency_ms.p90 ?? 'n/a'} ms; the model ran with fixed ${model.latency_ms} ms plus jitter up to ${model.jitter_ms} ms.`,
    'Bytes: real core bytes are the frames the binding handed to the core channel (successful sends only), real gossipsub bytes every RPC frame gossipsub encoded (subscriptions, IHAVE/IWANT/GRAFT/PRUNE/IDONTWANT with their real ids included); the model sizes core messages exactly and gossipsub frames as the protobuf encoding of gossipsub sizes them (frameBytes, checked against its codec). Neither counts length prefixes, yamux, noise, pnet, identify or ping.',
    'Cards: real members advertise /memory/... addresses and real Ed25519 peer ids; the model\'s advertise /ip4/10.x.y.z/tcp/4001/p2p/... addresses, so member records differ by a few bytes.',
    'Real nodes also persist their state (state.json, fsync) on every definition change, and run with the connection monitor off (a daemon pings each connection every 30 s); the model has no disk.'
  ]
}

/** The report as text for the terminal: the setup, then one row per figure. */
export function formatCalibration (r: CalibrationReport): string {
  const f = r.real.formation
  const h = r.real.hop_latency_ms
  const num = (x: number | null): string => (x === null ? 'n/a' : String(x))
  const pct = (x: number | null): string => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`)
  const rows = r.comparison.map((c) => [`${c.figure} (${c.unit})`, num(c.real), num(c.model), num(c.error), pct(c.relative_error)])
  const header = ['figure', 'real', 'model', 'error', 'relative']
  const widths = header.map((title, k) => Math.max(title.length, ...rows.map((row) => (row[k] as string).length)))
  const line = (cells: readonly string[]): string => cells.map((c, k) => (k === 0 ? c.padEnd(widths[k] as number) : c.padStart(widths[k] as number))).join('  ')
  return [
    `heatmesh sim --calibrate: ${r.nodes} nodes, ${r.duration_s} s, seed ${r.seed}, definitions at ${r.instrumentations.join(', ')} s; ${r.wall_seconds} s wall`,
    `real:  formed in ${f.total_s} s (${f.connections} connections in ${f.connect_s} s, ${f.peers_per_node} peers and gossipsub mesh degree ${f.gossip_mesh_degree} per node); measured ${r.real.window_s} s at ${r.real.cpu_percent} % of a core; peak RSS ${r.real.peak_rss_mb} MB; stopped in ${r.real.stop_s} s`,
    `       memory transport ${r.real.transport_latency_ms} ms per chunk; one-hop latency p10 ${num(h.p10)}, p50 ${num(h.p50)}, p90 ${num(h.p90)} ms; ${num(r.real.spread_cpu_ms_per_delivery)} ms CPU per definition delivery`,
    `model: fixed ${r.model.latency_ms} ms + jitter up to ${r.model.jitter_ms} ms, connections ${r.model.connections}, mesh degree ${r.model.summary.gossipsub.mean_mesh_degree ?? 'n/a'}, ${r.model.gossip_cpu_ms} ms CPU per message received first on one shared CPU; ${r.model.summary.wall_seconds} s wall`,
    `       as a fleet (each node its own CPU): convergence p50 ${num(r.model.fleet_definition_convergence_s.p50)}, p99 ${num(r.model.fleet_definition_convergence_s.p99)}, max ${num(r.model.fleet_definition_convergence_s.max)} s`,
    `core messages per node per s by type (real / model): ${r.core_messages_by_type.map((t) => `${t.type} ${t.real} / ${t.model}`).join(', ')}`,
    '',
    line(header),
    ...rows.map(line),
    ''
  ].join('\n')
}

/** Writes calibration.json and calibration.md into `dir` (created if missing); returns the paths. */
export function writeCalibrationReport (dir: string, r: CalibrationReport): string[] {
  mkdirSync(dir, { recursive: true })
  const json = join(dir, 'calibration.json')
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`)
  const md = join(dir, 'calibration.md')
  const num = (x: number | null): string => (x === null ? 'n/a' : String(x))
  writeFileSync(md, [
    `# Calibration: ${r.nodes} real nodes against the model`,
    '',
    '```',
    formatCalibration(r).trimEnd(),
    '```',
    '',
    '| figure | unit | real | model | error | relative |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.comparison.map((c) => `| ${c.figure} | ${c.unit} | ${num(c.real)} | ${num(c.model)} | ${num(c.error)} | ${c.relative_error === null ? 'n/a' : `${(c.relative_error * 100).toFixed(1)} %`} |`),
    '',
    '## Core messages per node per second, by type',
    '',
    '| type | real | model |',
    '| --- | --- | --- |',
    ...r.core_messages_by_type.map((t) => `| ${t.type} | ${t.real} | ${t.model} |`),
    '',
    '## What differs',
    '',
    ...r.differences.map((d) => `- ${d}`),
    ''
  ].join('\n'))
  return [json, md]
}

function spread (sorted: Float64Array): Spread {
  return { mean: round(mean(sorted), 1), p50: round(quantile(sorted, 0.5), 1), p99: round(quantile(sorted, 0.99), 1), max: round(quantile(sorted, 1), 1) }
}
