/** The report: summary.json with the fields the issue asks for, report.md, PNG plots; the CLI around it. */
import test from 'ava'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_SIM_OPTIONS, parseSimArgs, recoveryText, REPORT_FILES, reportMarkdown, runSimCli, runSimulation, writeReport, type SimOptions } from '../../sim/index.js'

const PNG = [0x89, 0x50, 0x4e, 0x47]

function parseOptions (argv: string[]): SimOptions {
  const o = parseSimArgs(argv, () => { throw new Error('no scenario files here') })
  if (o === 'help') throw new Error('help')
  return o
}

function tempDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'heatmesh-sim-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

test('a report holds summary.json with every required field, report.md and the plots', (t) => {
  const dir = tempDir(t)
  const result = runSimulation({ ...DEFAULT_SIM_OPTIONS, nodes: 60, duration: 20, seed: 'report', progress: false })
  const files = writeReport(dir, result)
  t.deepEqual(files.map((f) => f.slice(dir.length + 1)).sort(), [...REPORT_FILES].sort())
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown>
  for (const key of ['nodes', 'simulated_seconds', 'wall_seconds', 'peak_rss_mb', 'definition_convergence_s', 'freshness_s', 'completion_s', 'coverage_min', 'double_counts', 'missing_contributions', 'bytes_per_node_per_s', 'recovery_s', 'recovery_measures', 'messages_per_node_per_s']) {
    t.true(key in summary, key)
  }
  t.like(summary, { nodes: 60, simulated_seconds: 20, freshness_s: null, completion_s: null, coverage_min: null, double_counts: null, missing_contributions: null })
  t.deepEqual(Object.keys(summary.definition_convergence_s as object), ['p50', 'p99', 'max'])
  t.deepEqual(Object.keys(summary.bytes_per_node_per_s as object), ['mean', 'p50', 'p99', 'max'])
  for (const png of REPORT_FILES.filter((f) => f.endsWith('.png'))) t.deepEqual([...readFileSync(join(dir, png)).subarray(0, 4)], PNG, png)
  const md = readFileSync(join(dir, 'report.md'), 'utf8')
  t.regex(md, /## Model/)
  t.regex(md, /gossipsub with 32 peers per node, D = 6/)
  t.regex(md, /!\[convergence\.png\]\(convergence\.png\)/)
})

test('heatmesh sim prints help, refuses a bad flag naming it, and writes the report it is asked for', (t) => {
  const dir = tempDir(t)
  const out: string[] = []
  const err: string[] = []
  const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { isTTY: false, write: (s: string) => err.push(s) }, readFile: () => '' }
  t.is(runSimCli(['--help'], io), 0)
  t.regex(out.join(''), /--nodes N/)
  t.is(runSimCli(['--nodes', 'many'], io), 2)
  t.regex(err.join(''), /--nodes/)
  out.length = 0
  err.length = 0
  t.is(runSimCli(['--nodes', '40', '--duration', '10', '--report', join(dir, 'r')], io), 0)
  t.regex(out.join(''), /40 nodes, 10 simulated s/)
  t.true(existsSync(join(dir, 'r', 'summary.json')))
  // Not a terminal: a plain progress line per 10 %.
  t.is(err.filter((line) => /% \(\d+\/10 simulated s/.test(line)).length, 10)
})

test('a recovery cut short by the next fault, or by the end, says so instead of n/a', (t) => {
  // The restart 2 s after the crash begins a new measurement before anyone declared the crashed dead.
  const cli = (argv: string[]): string => {
    const out: string[] = []
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { isTTY: false, write: () => true }, readFile: () => '' }
    t.is(runSimCli([...argv, '--no-progress'], io), 0)
    return out.join('')
  }
  const cut = cli(['--nodes', '60', '--duration', '30', '--seed', 'cut', '--crash', '0.1@10,restart@12'])
  t.regex(cut, /failure detection still not whole at 12 s \(from 10 s; a restart began a new measurement then\) \| merge /)
  t.regex(cut, /rejoin \d+(\.\d+)? s \| partition heal n\/a/)
  const result = runSimulation({ ...parseOptions(['--nodes', '60', '--duration', '30', '--seed', 'cut', '--crash', '0.1@10,restart@12']), progress: false })
  t.like(result.summary.recovery_measures[0], { kind: 'failure_detection', at_s: 10, took_s: null, interrupted_after_s: 2 })
  t.is(result.summary.recovery_s.failure_detection, null)
  t.is(recoveryText(result.summary, 'failure_detection'), 'still not whole at 12 s (from 10 s; a restart began a new measurement then)')
  t.regex(reportMarkdown(result, []), /\| failure detection \(crash until every survivor declared every crashed node dead\) \| still not whole at 12 s/)
  // A crash 2 s before the end: detection takes longer than that.
  const late = runSimulation({ ...parseOptions(['--nodes', '60', '--duration', '20', '--seed', 'cut', '--crash', '0.1@18']), progress: false })
  t.like(late.summary.recovery_measures, [{ kind: 'failure_detection', at_s: 18, took_s: null, interrupted_after_s: null }])
  t.is(recoveryText(late.summary, 'failure_detection'), 'still not whole at the end (from 18 s)')
})
