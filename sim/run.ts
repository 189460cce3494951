/**
 * One simulation run, start to summary: builds the simulator from the options, runs it, and
 * turns its measurements into the summary (summary.json's content) and the series behind the
 * plots. The summary is the same for the same seed and options, apart from the fields that
 * measure the machine (wall_seconds, virtual_to_real, peak_rss_mb).
 */
import { NO_AGGREGATION } from './aggregation.js'
import { GOSSIPSUB } from './gossipsub.js'
import { formatLatency } from './network.js'
import type { RecoveryRecord } from './observer.js'
import { optionsJson, type SimOptions } from './options.js'
import { mean, quantile, round, sortedCopy } from './quantiles.js'
import { createSimulator, type SimHooks, type Simulator } from './simulator.js'

/** A distribution across nodes. */
export interface Spread {
  readonly mean: number | null
  readonly p50: number | null
  readonly p99: number | null
  readonly max: number | null
}

/** A node's traffic per second of uptime, both ways. */
export interface NodeLoad {
  readonly bytes_in_per_s: number
  readonly bytes_out_per_s: number
  readonly messages_in_per_s: number
  readonly messages_out_per_s: number
}

/**
 * The load on the merge tree's roots: the nodes that are some instrumentation's root at the end
 * (their traffic over the whole run), against the mean node's. The fan-in bounds the messages a
 * root receives; their bytes grow with the mesh (each partial carries its contributor set).
 */
export interface RootLoad {
  /** Distinct root nodes. */
  readonly roots: number
  /** Most instrumentations rooted at one node. */
  readonly instrumentations_per_root_max: number
  /** Mean over the roots. */
  readonly root_mean: NodeLoad
  /** The busiest root (most bytes in and out). */
  readonly root_max: NodeLoad
  /** Mean over every node. */
  readonly node_mean: NodeLoad
}

/** summary.json (docs/SIMULATOR.md describes every field). */
export interface SimSummary {
  readonly nodes: number
  readonly simulated_seconds: number
  readonly wall_seconds: number
  readonly virtual_to_real: number
  readonly peak_rss_mb: number
  readonly seed: string
  readonly definition_convergence_s: { readonly p50: number | null, readonly p99: number | null, readonly max: number | null }
  readonly definitions_missing: number
  readonly freshness_s: { readonly p50: number, readonly p99: number } | null
  readonly completion_s: { readonly p50: number, readonly p99: number, readonly max: number } | null
  readonly coverage_min: number | null
  readonly double_counts: number | null
  readonly missing_contributions: number | null
  readonly bytes_per_node_per_s: Spread
  readonly messages_per_node_per_s: Spread
  readonly gossipsub_bytes_per_node_per_s: Spread
  readonly recovery_s: {
    readonly failure_detection: number | null
    readonly rejoin: number | null
    readonly partition_heal: number | null
    /** After each crash: until every survivor's value reaches the root again (coverage 1 from then on); the worst crash. */
    readonly merge: number | null
  }
  /** Every membership recovery measurement (crash, restart, heal): when, how long, or after how long the next fault cut it short. */
  readonly recovery_measures: readonly RecoveryRecord[]
  /** null without an aggregation layer. */
  readonly root_load: RootLoad | null
  readonly membership_whole_final: number | null
  readonly definitions: ReadonlyArray<{ id: string, created_s: number, all_s: number | null, missing: number }>
  readonly gossipsub: Record<string, number>
  readonly network: Record<string, number>
  readonly aggregation: string
  readonly options: Record<string, unknown>
}

/** Series for the plots. */
export interface SimSeries {
  /** Convergence delays (s) of every (definition, node), ascending. */
  readonly convergence: Float64Array
  /** Bytes sent per node per second of being up, ascending over nodes. */
  readonly bandwidth: Float64Array
  /** Per simulated second: mean bytes sent per node up, fraction of nodes with a whole view, coverage. */
  readonly bytesPerNode: readonly number[]
  readonly whole: readonly number[]
  readonly coverage: ReadonlyArray<number | null>
}

/** The outcome of a run. */
export interface SimResult {
  readonly summary: SimSummary
  readonly series: SimSeries
  /** What the report states about the model. */
  readonly model: readonly string[]
}

/**
 * Runs a simulation.
 *
 * @example
 * const { summary } = runSimulation({ ...DEFAULT_SIM_OPTIONS, nodes: 200, duration: 60 })
 * console.log(summary.definition_convergence_s.p99)
 */
export function runSimulation (options: SimOptions, hooks: SimHooks = {}): SimResult {
  const started = performance.now()
  const sim = createSimulator(options, hooks)
  sim.run()
  const wall = (performance.now() - started) / 1000
  const n = options.nodes
  const perSecond = (counter: Float64Array): Float64Array => {
    const out: number[] = []
    for (let i = 0; i < n; i++) {
      const up = (sim.nodes[i]?.upMs ?? 0) / 1000
      if (up > 0) out.push((counter[i] as number) / up)
    }
    return sortedCopy(out)
  }
  const bandwidth = perSecond(sim.bytesSent)
  const aggregation = (hooks.aggregation ?? NO_AGGREGATION).summary()
  const convergence = sim.observer.convergenceSummary()
  let meshDegree = 0
  for (let i = 0; i < n; i++) meshDegree += sim.gossip.mesh(i).length
  const summary: SimSummary = {
    nodes: n,
    simulated_seconds: options.duration,
    wall_seconds: round(wall) as number,
    virtual_to_real: round(options.duration / Math.max(wall, 1e-6), 2) as number,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    seed: options.seed,
    definition_convergence_s: { p50: convergence.p50, p99: convergence.p99, max: convergence.max },
    definitions_missing: convergence.missing,
    freshness_s: aggregation.freshness_s,
    completion_s: aggregation.completion_s,
    coverage_min: aggregation.coverage_min,
    double_counts: aggregation.double_counts,
    missing_contributions: aggregation.missing_contributions,
    bytes_per_node_per_s: spread(bandwidth),
    messages_per_node_per_s: spread(perSecond(sim.messagesSent)),
    gossipsub_bytes_per_node_per_s: spread(perSecond(sim.gossipBytesSent)),
    recovery_s: { ...sim.observer.recoverySummary(), merge: mergeRecovery(options, aggregation.coverage) },
    recovery_measures: sim.observer.recoveryRecords(),
    root_load: rootLoad(sim, aggregation.roots),
    membership_whole_final: round(sim.observer.wholePerSecond.at(-1) ?? null),
    definitions: sim.observer.definitions(),
    gossipsub: { ...sim.gossip.counters, mean_mesh_degree: round(meshDegree / n, 2) as number },
    network: { lost: sim.network.lost, retransmits: sim.network.retransmits, partitioned: sim.network.cut, to_nodes_down: sim.droppedDown },
    aggregation: hooks.aggregation?.name ?? 'none',
    options: optionsJson(options)
  }
  return {
    summary,
    series: {
      convergence: sim.observer.convergenceDelays(),
      bandwidth,
      bytesPerNode: sim.observer.bytesPerSecond.map((b, s) => b / Math.max(1, sim.observer.upPerSecond[s] as number)),
      whole: sim.observer.wholePerSecond,
      coverage: aggregation.coverage
    },
    model: modelStatement(options)
  }
}

/** The model, in words, for report.md. */
export function modelStatement (o: SimOptions): string[] {
  return [
    `${o.nodes} nodes, each running the daemon's protocol core (MeshCore: SWIM membership with Lifeguard, the replicated definitions) with its default settings; warm start (the mesh is formed at t = 0).`,
    `Links: one-way latency ${formatLatency(o.latency)} ms drawn once per link, plus up to ${o.jitterMs} ms jitter per message; loss ${o.loss}; uplink ${o.bandwidth === undefined ? 'unlimited' : `${o.bandwidth} B/s per node`}.`,
    `Definitions topic: gossipsub with ${o.connections} peers per node, D = ${GOSSIPSUB.D} (${GOSSIPSUB.Dlo}..${GOSSIPSUB.Dhi}), heartbeat ${GOSSIPSUB.heartbeatMs} ms, IHAVE to max(D_lazy = ${GOSSIPSUB.Dlazy}, gossipFactor ${GOSSIPSUB.gossipFactor} × peers outside the mesh), flood publishing, message-id dedup; ${o.gossipCpuMs} ms of CPU per message received first, before it is forwarded and delivered (${o.gossipCpuShared === true ? 'one CPU shared by all nodes' : 'each node its own CPU'}).`,
    'Messages are counted in the bytes of their encoding (the core\'s JSON codec; gossipsub frames with their envelope), before transport framing (yamux, noise).',
    'A crashed node\'s connections close at once; a restarted node resumes from its persisted state and joins through 3 live nodes.'
  ]
}

/**
 * Seconds from each crash until the root's coverage is whole (every live node's value merged)
 * for every second from then until the next fault or the run's steady-state end; the largest
 * over the crashes; null without a crash or a coverage series, or when coverage did not recover
 * before the next fault (or the end) after one of them.
 */
export function mergeRecovery (options: SimOptions, coverage: ReadonlyArray<number | null>): number | null {
  const crashes = options.scenario.crashes
  if (crashes.length === 0 || coverage.length === 0) return null
  const faults = [
    ...crashes.flatMap((c) => c.restartAt === undefined ? [c.at] : [c.at, c.restartAt]),
    ...options.scenario.partitions.map((p) => p.from),
    ...options.scenario.lossBursts.map((b) => b.from)
  ]
  let worst: number | null = null
  for (const c of crashes) {
    const next = Math.min(coverage.length, ...faults.filter((f) => f > c.at))
    // The first second after which every measured second up to the next fault is whole.
    let whole = -1
    for (let s = next - 1; s >= Math.floor(c.at); s--) {
      const v = coverage[s]
      if (v === null || v === undefined) continue
      if (v < 1) break
      whole = s
    }
    if (whole < 0) return null
    const r = Math.max(0, whole - c.at)
    worst = worst === null ? r : Math.max(worst, r)
  }
  return round(worst)
}

/** RootLoad of `roots` (node indices, one per instrumentation); null if none. */
function rootLoad (sim: Simulator, roots: readonly number[]): RootLoad | null {
  if (roots.length === 0) return null
  const columns: Record<keyof NodeLoad, Float64Array> = { bytes_in_per_s: sim.bytesReceived, bytes_out_per_s: sim.bytesSent, messages_in_per_s: sim.messagesReceived, messages_out_per_s: sim.messagesSent }
  const upSeconds = (i: number): number => (sim.nodes[i]?.upMs ?? 0) / 1000
  const rate = (field: keyof NodeLoad, i: number): number => (columns[field][i] as number) / upSeconds(i)
  /** The mean per second of uptime over `nodes` (those that were ever up). */
  const meanLoad = (nodes: readonly number[]): NodeLoad => {
    const up = nodes.filter((i) => upSeconds(i) > 0)
    const mean = (field: keyof NodeLoad): number => round(up.length === 0 ? 0 : up.reduce((sum, i) => sum + rate(field, i), 0) / up.length, 1) as number
    return { bytes_in_per_s: mean('bytes_in_per_s'), bytes_out_per_s: mean('bytes_out_per_s'), messages_in_per_s: mean('messages_in_per_s'), messages_out_per_s: mean('messages_out_per_s') }
  }
  const perRoot = new Map<number, number>()
  for (const r of roots) perRoot.set(r, (perRoot.get(r) ?? 0) + 1)
  const distinct = [...perRoot.keys()]
  const traffic = (i: number): number => (upSeconds(i) > 0 ? rate('bytes_in_per_s', i) + rate('bytes_out_per_s', i) : 0)
  const busiest = distinct.reduce((a, b) => (traffic(b) > traffic(a) ? b : a))
  return {
    roots: distinct.length,
    instrumentations_per_root_max: Math.max(...perRoot.values()),
    root_mean: meanLoad(distinct),
    root_max: meanLoad([busiest]),
    node_mean: meanLoad(sim.nodes.map((_, i) => i))
  }
}

function spread (sorted: Float64Array): Spread {
  return { mean: round(mean(sorted), 1), p50: round(quantile(sorted, 0.5), 1), p99: round(quantile(sorted, 0.99), 1), max: round(quantile(sorted, 1), 1) }
}
