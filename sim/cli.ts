/**
 * `heatmesh sim`: the simulator's command line. Thin: parse the arguments, run, print the
 * summary (and write the report when asked); errors in the arguments name the flag at fault.
 * node/cli.ts dispatches `heatmesh sim ...` here. With --calibrate the run is asynchronous (real
 * libp2p nodes, sim/calibrate.ts, loaded only then: a plain simulation does not load libp2p).
 */
import { readFileSync } from 'node:fs'
import { HeatmeshError } from '../metad/index.js'
import { parseSimArgs, SIM_HELP, type SimOptions } from './options.js'
import { createProgress, type ProgressSink } from './progress.js'
import { createMergeLayer } from './merge-layer.js'
import { recoveryText, rootLoadText, writeReport } from './report.js'
import { runSimulation } from './run.js'

/** Where the command reads and writes. */
export interface SimCliIo {
  readonly stdout: { write: (text: string) => unknown }
  readonly stderr: ProgressSink
  readonly readFile: (path: string) => string
}

/**
 * Runs `heatmesh sim` with `argv` (the words after `sim`); returns the exit code, or a promise
 * of it with --calibrate.
 */
export function runSimCli (argv: readonly string[], io: SimCliIo = { stdout: process.stdout, stderr: process.stderr, readFile: (p) => readFileSync(p, 'utf8') }): number | Promise<number> {
  let options
  try {
    options = parseSimArgs(argv, io.readFile)
  } catch (err) {
    if (!(err instanceof HeatmeshError)) throw err
    io.stderr.write(`heatmesh sim: ${err.message}\n`)
    return 2
  }
  if (options === 'help') {
    io.stdout.write(SIM_HELP)
    return 0
  }
  if (options.calibrate === true) return runCalibrateCli(options, io)
  const progress = options.progress ? createProgress(io.stderr, options.duration, `sim ${options.nodes} nodes`) : undefined
  const result = runSimulation(options, { onSecond: (s) => progress?.update(s), aggregation: createMergeLayer({ nodes: options.nodes }) })
  progress?.done()
  const s = result.summary
  io.stdout.write([
    `heatmesh sim: ${s.nodes} nodes, ${s.simulated_seconds} simulated s in ${s.wall_seconds} s (${s.virtual_to_real}x real time), peak RSS ${s.peak_rss_mb} MB`,
    `definition convergence: p50 ${s.definition_convergence_s.p50 ?? 'n/a'} s, p99 ${s.definition_convergence_s.p99 ?? 'n/a'} s, max ${s.definition_convergence_s.max ?? 'n/a'} s (${s.definitions_missing} missing)`,
    `traffic per node: ${s.bytes_per_node_per_s.mean ?? 'n/a'} B/s mean, ${s.bytes_per_node_per_s.p99 ?? 'n/a'} p99, ${s.bytes_per_node_per_s.max ?? 'n/a'} max; ${s.messages_per_node_per_s.mean ?? 'n/a'} messages/s`,
    `merge tree: freshness p50 ${s.freshness_s?.p50 ?? 'n/a'} s, p99 ${s.freshness_s?.p99 ?? 'n/a'} s; complete p99 ${s.completion_s?.p99 ?? 'n/a'} s, max ${s.completion_s?.max ?? 'n/a'} s; coverage min ${s.coverage_min ?? 'n/a'}; double counts ${s.double_counts ?? 'n/a'}, missing contributions ${s.missing_contributions ?? 'n/a'}`,
    `root load: ${rootLoadText(s)}`,
    `recovery: failure detection ${recoveryText(s, 'failure_detection')} | merge ${s.recovery_s.merge === null ? 'n/a' : `${s.recovery_s.merge} s`} | rejoin ${recoveryText(s, 'rejoin')} | partition heal ${recoveryText(s, 'partition_heal')}`,
    ''
  ].join('\n'))
  if (options.report !== undefined) {
    const files = writeReport(options.report, result)
    io.stdout.write(`heatmesh sim: report in ${options.report} (${files.length} files)\n`)
  }
  return 0
}

/** `heatmesh sim --calibrate ...`: runs the calibration, prints the comparison, writes the report when asked. */
async function runCalibrateCli (options: SimOptions, io: SimCliIo): Promise<number> {
  const { runCalibration, formatCalibration, writeCalibrationReport } = await import('./calibrate.js')
  let report
  try {
    report = await runCalibration(options, { progress: options.progress ? (text) => { io.stderr.write(`calibrate: ${text}\n`) } : undefined })
  } catch (err) {
    if (!(err instanceof HeatmeshError)) throw err
    io.stderr.write(`heatmesh sim --calibrate: ${err.message}\n`)
    return 1
  }
  io.stdout.write(formatCalibration(report))
  if (options.report !== undefined) {
    const files = writeCalibrationReport(options.report, report)
    io.stdout.write(`heatmesh sim --calibrate: report in ${options.report} (${files.length} files)\n`)
  }
  return 0
}
