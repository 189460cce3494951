/**
 * The report of a run, written to --report DIR: summary.json (the machine-readable figures),
 * report.md (the same for a human, with the model stated), and PNG plots drawn with render/:
 * the convergence of definitions and the spread of traffic over nodes as quantile plots (the
 * y axis carries the unit; x runs over nodes from the best to the worst, 0 to 100 %), traffic
 * and membership over simulated time, and coverage over time once an aggregation layer runs.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { renderLineChart, type LineSeries, type ValueUnit } from '../render/index.js'
import { quantile } from './quantiles.js'
import type { RecoveryRecord } from './observer.js'
import type { NodeLoad, SimResult, SimSummary } from './run.js'

/** Files written, relative to the report directory. */
export const REPORT_FILES = ['summary.json', 'report.md', 'convergence.png', 'bandwidth.png', 'traffic.png', 'membership.png'] as const

/** Writes the report of `result` into `dir` (created if missing); returns the paths written. */
export function writeReport (dir: string, result: SimResult): string[] {
  mkdirSync(dir, { recursive: true })
  const written: string[] = []
  const write = (name: string, data: string | Buffer): void => {
    const path = join(dir, name)
    writeFileSync(path, data)
    written.push(path)
  }
  write('summary.json', `${JSON.stringify(result.summary, null, 2)}\n`)
  const plots = renderPlots(result)
  for (const [name, png] of plots) write(name, png)
  write('report.md', reportMarkdown(result, plots.map(([name]) => name)))
  return written
}

/** The plots of a run, as [file name, PNG]. */
export function renderPlots (result: SimResult): Array<[string, Buffer]> {
  const s = result.series
  const out: Array<[string, Buffer]> = []
  const quantilePlot = (values: ArrayLike<number>, label: string, scale: number, unit: ValueUnit): Buffer => {
    const qs = Array.from({ length: 100 }, (_, k) => {
      const v = quantile(values, (k + 1) / 100)
      return v === null ? null : v * scale
    })
    return renderLineChart({ base: 0, step: 1, ncolumns: 100 }, [{ label, values: qs }], { width: 600, height: 300, axes: true, legend: true, unit }).png
  }
  out.push(['convergence.png', quantilePlot(s.convergence, 'arrival', 1e9, 'ns')])
  out.push(['bandwidth.png', quantilePlot(s.bandwidth, 'B/s sent', 1, 'bytes')])
  const seconds = Math.max(1, s.bytesPerNode.length)
  const overTime = (series: LineSeries[], unit: ValueUnit, ymax?: number): Buffer =>
    renderLineChart({ base: 1, step: 1, ncolumns: seconds }, series, { width: 600, height: 300, axes: true, legend: true, unit, ...(ymax === undefined ? {} : { ymax }) }).png
  out.push(['traffic.png', overTime([{ label: 'B/s per node', values: [...s.bytesPerNode] }], 'bytes')])
  out.push(['membership.png', overTime([{ label: '% whole view', values: s.whole.map((w) => w * 100) }], 'count', 100)])
  if (s.coverage.some((c) => c !== null)) {
    out.push(['coverage.png', overTime([{ label: '% coverage', values: s.coverage.map((c) => (c === null ? null : c * 100)) }], 'count', 100)])
  }
  return out
}

/** What starts each kind of recovery measurement. */
const EVENT_OF: Record<RecoveryRecord['kind'], string> = { failure_detection: 'crash', rejoin: 'restart', partition_heal: 'heal' }

/**
 * A membership recovery figure as text: the worst measurement that ended, and each one that did
 * not (the next fault came first, or the run ended), so that an operator reads why, not 'n/a'.
 */
export function recoveryText (s: SimSummary, kind: RecoveryRecord['kind']): string {
  const parts: string[] = []
  const worst = s.recovery_s[kind]
  if (worst !== null) parts.push(`${worst} s`)
  s.recovery_measures.forEach((m, k) => {
    if (m.kind !== kind || m.took_s !== null) return
    const next = s.recovery_measures[k + 1]
    parts.push(m.interrupted_after_s !== null && next !== undefined
      ? `still not whole at ${next.at_s} s (from ${m.at_s} s; a ${EVENT_OF[next.kind]} began a new measurement then)`
      : `still not whole at the end (from ${m.at_s} s)`)
  })
  return parts.length === 0 ? 'n/a' : parts.join('; ')
}

/** The root load as text: the roots' traffic against the mean node's; 'n/a' without an aggregation layer. */
export function rootLoadText (s: SimSummary): string {
  const r = s.root_load
  if (r === null) return 'n/a'
  const both = (l: NodeLoad): string => `in ${l.bytes_in_per_s} B/s (${l.messages_in_per_s} msg/s), out ${l.bytes_out_per_s} B/s (${l.messages_out_per_s} msg/s)`
  return `${r.roots} root${r.roots === 1 ? '' : 's'} (up to ${r.instrumentations_per_root_max} instrumentation${r.instrumentations_per_root_max === 1 ? '' : 's'} each): ` +
    `mean ${both(r.root_mean)}; busiest ${both(r.root_max)}; the mean node ${both(r.node_mean)}`
}

/** report.md. */
export function reportMarkdown (result: SimResult, plots: readonly string[]): string {
  const s = result.summary
  const f = (x: number | null | undefined, unit = ''): string => (x === null || x === undefined ? 'n/a' : `${x}${unit}`)
  const lines = [
    `# heatmesh simulation: ${s.nodes} nodes, ${s.simulated_seconds} simulated seconds`,
    '',
    `Seed \`${s.seed}\`. Ran in ${s.wall_seconds} s of wall time (${s.virtual_to_real}x real time), peak RSS ${s.peak_rss_mb} MB.`,
    '',
    '## Model',
    '',
    ...result.model.map((m) => `- ${m}`),
    `- Aggregation layer (merge tree): ${s.aggregation === 'none' ? 'none (the merge fields are null until the merge core is plugged in)' : s.aggregation}.`,
    '',
    '## Figures',
    '',
    '| figure | value |',
    '| --- | --- |',
    `| definition convergence p50 / p99 / max | ${f(s.definition_convergence_s.p50, ' s')} / ${f(s.definition_convergence_s.p99, ' s')} / ${f(s.definition_convergence_s.max, ' s')} |`,
    `| definitions never received by a live node | ${s.definitions_missing} |`,
    `| bytes per node per second mean / p99 / max | ${f(s.bytes_per_node_per_s.mean)} / ${f(s.bytes_per_node_per_s.p99)} / ${f(s.bytes_per_node_per_s.max)} |`,
    `| of which gossipsub (mean) | ${f(s.gossipsub_bytes_per_node_per_s.mean)} |`,
    `| messages per node per second mean / p99 / max | ${f(s.messages_per_node_per_s.mean)} / ${f(s.messages_per_node_per_s.p99)} / ${f(s.messages_per_node_per_s.max)} |`,
    `| failure detection (crash until every survivor declared every crashed node dead) | ${recoveryText(s, 'failure_detection')} |`,
    `| merge recovery (crash until every survivor's value reaches the root again, every second after) | ${f(s.recovery_s.merge, ' s')} |`,
    `| rejoin (restart until every node sees every node live) | ${recoveryText(s, 'rejoin')} |`,
    `| partition heal (heal until membership is whole) | ${recoveryText(s, 'partition_heal')} |`,
    `| nodes with a whole membership view at the end | ${f(s.membership_whole_final === null ? null : s.membership_whole_final * 100, ' %')} |`,
    `| freshness p50 / p99 | ${s.freshness_s === null ? 'n/a' : `${s.freshness_s.p50} s / ${s.freshness_s.p99} s`} |`,
    `| complete at the root (second's end until its last piece merged) p50 / p99 / max | ${s.completion_s === null ? 'n/a' : `${s.completion_s.p50} s / ${s.completion_s.p99} s / ${s.completion_s.max} s`} |`,
    `| coverage min | ${f(s.coverage_min)} |`,
    `| double counts / missing contributions | ${f(s.double_counts)} / ${f(s.missing_contributions)} |`,
    `| root load (nodes that are an instrumentation's root at the end, per second of the run) | ${rootLoadText(s)} |`,
    '',
    '## Definitions',
    '',
    '| id | created at | all live nodes had it after | missing |',
    '| --- | --- | --- | --- |',
    ...s.definitions.map((d) => `| ${d.id} | ${d.created_s} s | ${f(d.all_s, ' s')} | ${d.missing} |`),
    '',
    '## gossipsub and network counters',
    '',
    ...Object.entries(s.gossipsub).map(([k, v]) => `- ${k}: ${v}`),
    ...Object.entries(s.network).map(([k, v]) => `- messages ${k.replaceAll('_', ' ')}: ${v}`),
    '',
    '## Plots',
    '',
    'convergence.png: when each (node, definition) pair got the definition, as quantiles (x: 0 to 100 % of the pairs; the x labels, drawn as times, count percent as mm:ss). bandwidth.png: bytes sent per second by each node, the same way over nodes. traffic.png: mean bytes sent per node in each simulated second. membership.png: % of the nodes up whose view is whole (sees exactly the nodes up as live), each second.',
    '',
    ...plots.map((p) => `![${p}](${p})`),
    ''
  ]
  return lines.join('\n')
}
