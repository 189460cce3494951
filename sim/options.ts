/**
 * The simulator's options: their defaults, the `heatmesh sim` flags that set them, and the help
 * text. parseSimArgs validates everything from the command line (and the scenario file it
 * names) once; the simulator trusts the result.
 */
import { InvalidFieldError } from '../metad/index.js'
import { formatLatency, parseLatency, type LatencyModel } from './network.js'
import {
  checkScenario, EMPTY_SCENARIO, parseCrashFlag, parseLossBurstFlag, parsePartitionFlag, parseScenario, parseSlowFlag,
  type Scenario
} from './scenario.js'

/** Everything a simulation run is made of. */
export interface SimOptions {
  /** Simulated nodes. @default 1000 */
  readonly nodes: number
  /** Simulated seconds. @default 60 */
  readonly duration: number
  /** Seed of every random draw: the same seed and options give the same run. @default '1' */
  readonly seed: string
  /** Where to write summary.json, report.md and the plots; undefined: print the summary only. */
  readonly report?: string
  /** One-way link latency. @default uniform 1..5 ms */
  readonly latency: LatencyModel
  /** Per-message jitter added to a link's latency, ms. @default 0.5 */
  readonly jitterMs: number
  /**
   * CPU a node spends on each gossipsub message it receives first (decoding, signature check,
   * validation, its core's work) before forwarding and delivering it, ms; one at a time per node.
   * @default 2 (the real stack's, as the calibration measures it: 1.7-3.2 ms per delivery)
   */
  readonly gossipCpuMs: number
  /**
   * All nodes take turns on one CPU for that work, as the calibration's real nodes do on one
   * thread. No flag: the calibration sets it. @default absent (each node has its own CPU)
   */
  readonly gossipCpuShared?: true
  /** Probability that a message is lost. @default 0 */
  readonly loss: number
  /** Uplink bytes per second per node; undefined: unlimited. @default undefined */
  readonly bandwidth?: number
  /** gossipsub peers (connections) per node. @default 32 */
  readonly connections: number
  /** Merge tree fan-in (passed to the aggregation layer). @default 16 */
  readonly fanIn: number
  /** Merge tree replicas per instrumentation (passed to the aggregation layer). @default 2 */
  readonly replicas: number
  /** Instrumentations created during the run (when the scenario does not list them). @default 5 */
  readonly instrumentations: number
  readonly scenario: Scenario
  /** Progress on stderr: a bar on a terminal, a line per 10 % otherwise; or none. @default true */
  readonly progress: boolean
  /**
   * Calibration mode (`--calibrate`, sim/calibrate.ts): the run on real libp2p nodes in this
   * process, then on the model, compared. `latency` is then the memory transport's fixed delay.
   * @default absent (a simulation)
   */
  readonly calibrate?: true
}

/** The defaults. */
export const DEFAULT_SIM_OPTIONS: SimOptions = Object.freeze({
  nodes: 1000,
  duration: 60,
  seed: '1',
  latency: Object.freeze({ kind: 'uniform', min: 1, max: 5 }) as LatencyModel,
  jitterMs: 0.5,
  gossipCpuMs: 2,
  loss: 0,
  connections: 32,
  fanIn: 16,
  replicas: 2,
  instrumentations: 5,
  scenario: EMPTY_SCENARIO,
  progress: true
})

/** Most simulated nodes (memory: ~30 bytes per node pair). */
export const MAX_SIM_NODES = 50_000

/** Real nodes of a calibration run when --nodes is not given. */
export const DEFAULT_CALIBRATE_NODES = 50
/**
 * Most real nodes of a calibration run: every pair is connected (a daemon mesh's steady state),
 * so the connections, and the CPU and memory they cost, grow with the square. On a 2-core
 * machine one process keeps its mesh in service up to ~75 nodes (docs/SIMULATOR.md,
 * "Calibration"); beyond, the run says how far it got.
 */
export const MAX_CALIBRATE_NODES = 200
/** Longest calibration run, s: its measurement runs in real time. */
export const MAX_CALIBRATE_DURATION = 600
/**
 * Largest memory-transport delay, ms: the transport delays a connection's chunks one after
 * another, so a connection carries at most 1000 / MS chunks a second each way.
 */
export const MAX_CALIBRATE_LATENCY_MS = 100
/** The memory transport's delay in a calibration run when --latency-ms is not given. */
export const DEFAULT_CALIBRATE_LATENCY: LatencyModel = Object.freeze({ kind: 'fixed', ms: 2 })

/** Flags that have no meaning in a calibration run (its model takes them from the real side, or it has no faults). */
const NOT_CALIBRATION = new Set(['--jitter-ms', '--gossip-cpu-ms', '--loss', '--bandwidth', '--connections', '--fan-in', '--replicas', '--crash', '--partition', '--loss-burst', '--slow', '--skew-ms'])

/** `heatmesh sim --help`. */
export const SIM_HELP = `usage: heatmesh sim [options]

Runs the daemon's protocol core (membership, definition replica, merge tree) on every simulated
node over a simulated network, in virtual time, and reports definition convergence, every
second's aggregate at the root against an oracle (coverage, freshness, double counts), failure
detection and recovery, traffic per node and the roots' load. The same seed and options give
the same results.

run:
  --nodes N                 simulated nodes (default 1000, at most ${MAX_SIM_NODES})
  --duration SECONDS        simulated seconds (default 60)
  --seed S                  seed of every random draw (default 1)
  --report DIR              write summary.json, report.md and PNG plots to DIR
  --no-progress             no progress on stderr
network model:
  --latency-ms SPEC         one-way link latency: MIN,MAX (uniform), lognormal:MEDIAN,SIGMA or
                            fixed:MS, drawn once per link (default 1,5)
  --jitter-ms MS            per-message jitter on top of the link's latency (default 0.5)
  --gossip-cpu-ms MS        CPU per gossipsub message a node receives first, before it forwards
                            and delivers it; one at a time per node (default 2)
  --loss P                  probability that a message is lost (default 0)
  --bandwidth RATE          uplink per node, bytes/s, with k, M or G (10^3), or bits with a
                            "bit" suffix: 10M, 100Mbit (default unlimited)
  --connections N           gossipsub peers per node (default 32)
merge tree (for the aggregation layer):
  --fan-in K                fan-in (default 16)
  --replicas R              replicas per instrumentation (default 2)
  --instrumentations N      instrumentations created during the run (default 5)
calibration (docs/SIMULATOR.md, "Calibration"):
  --calibrate               run the scenario on real libp2p nodes in this process (memory
                            transport, every pair connected), then on the model, and print both
                            with the model's error; takes --nodes (default ${DEFAULT_CALIBRATE_NODES}, at most
                            ${MAX_CALIBRATE_NODES}), --duration (real seconds, at most ${MAX_CALIBRATE_DURATION}), --seed,
                            --instrumentations, --report, --no-progress, and --latency-ms fixed:MS
                            (the memory transport's delay per chunk, default 2); no faults
faults (flags add to the scenario file's):
  --scenario FILE           a JSON scenario (docs/SIMULATOR.md)
  --crash F@T[,restart@T2][,silent]
                            a fraction F of the nodes crash at T s (restart at T2 s);
                            silent: their hosts go down too (connections do not reset)
  --partition F@T..T2       a fraction F is cut off from T to T2 s
  --slow F[:MS]             a fraction F handles every message MS ms late (default 100)
  --skew-ms MS              each node's clock is off by up to +-MS ms
  --loss-burst P@T..T2      loss P from T to T2 s
`

/**
 * Parses `heatmesh sim` arguments (after the `sim` word); 'help' for --help.
 * @throws InvalidFieldError naming the flag at fault.
 */
export function parseSimArgs (argv: readonly string[], readFile: (path: string) => string): SimOptions | 'help' {
  const o: { -readonly [K in keyof SimOptions]: SimOptions[K] } = { ...DEFAULT_SIM_OPTIONS }
  let scenario: Scenario = EMPTY_SCENARIO
  const crashes: Scenario['crashes'][number][] = []
  const partitions: Scenario['partitions'][number][] = []
  const bursts: Scenario['lossBursts'][number][] = []
  let slow: Scenario['slow']
  let skewMs: number | undefined
  const given = new Set<string>()
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k] as string
    if (arg === '--help' || arg === '-h') return 'help'
    if (arg === '--no-progress') { o.progress = false; continue }
    if (arg === '--calibrate') { o.calibrate = true; continue }
    const eq = arg.indexOf('=')
    const flag = eq > 0 ? arg.slice(0, eq) : arg
    given.add(flag)
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1)
      const v = argv[++k]
      if (v === undefined) throw new InvalidFieldError(flag, undefined, 'needs a value')
      return v
    }
    switch (flag) {
      case '--nodes': o.nodes = integer(value(), flag, 2, MAX_SIM_NODES); break
      case '--duration': o.duration = real(value(), flag, 1, 86_400); break
      case '--seed': o.seed = value(); break
      case '--report': o.report = value(); break
      case '--latency-ms': o.latency = parseLatency(value()); break
      case '--jitter-ms': o.jitterMs = real(value(), flag, 0, 10_000); break
      case '--gossip-cpu-ms': o.gossipCpuMs = real(value(), flag, 0, 1000); break
      case '--loss': o.loss = real(value(), flag, 0, 1); break
      case '--bandwidth': o.bandwidth = parseRate(value()); break
      case '--connections': o.connections = integer(value(), flag, 1, 1000); break
      case '--fan-in': o.fanIn = integer(value(), flag, 2, 1024); break
      case '--replicas': o.replicas = integer(value(), flag, 0, 16); break
      case '--instrumentations': o.instrumentations = integer(value(), flag, 0, 1000); break
      case '--scenario': {
        const path = value()
        let parsed: unknown
        try {
          parsed = JSON.parse(readFile(path))
        } catch (err) {
          throw new InvalidFieldError('--scenario', path, err instanceof Error ? err.message : String(err))
        }
        scenario = parseScenario(parsed)
        break
      }
      case '--crash': crashes.push(parseCrashFlag(value())); break
      case '--partition': partitions.push(parsePartitionFlag(value())); break
      case '--loss-burst': bursts.push(parseLossBurstFlag(value())); break
      case '--slow': slow = parseSlowFlag(value()); break
      case '--skew-ms': skewMs = real(value(), flag, 0, 1e7); break
      default: throw new InvalidFieldError(flag, arg, 'unknown option (see heatmesh sim --help)')
    }
  }
  const merged: Scenario = {
    ...scenario,
    crashes: [...scenario.crashes, ...crashes],
    partitions: [...scenario.partitions, ...partitions],
    lossBursts: [...scenario.lossBursts, ...bursts],
    skewMs: skewMs ?? scenario.skewMs,
    ...(slow === undefined ? {} : { slow })
  }
  o.scenario = checkScenario(merged, o.duration)
  if (o.calibrate === true) checkCalibration(o, given)
  return o
}

/** Applies the calibration mode's defaults and bounds to `o` (parsed with `given` flags). */
function checkCalibration (o: { -readonly [K in keyof SimOptions]: SimOptions[K] }, given: ReadonlySet<string>): void {
  for (const flag of given) {
    if (NOT_CALIBRATION.has(flag)) throw new InvalidFieldError(flag, flag, 'has no meaning with --calibrate (see heatmesh sim --help)')
  }
  const s = o.scenario
  if (s.crashes.length + s.partitions.length + s.lossBursts.length > 0 || s.slow !== undefined || s.skewMs !== 0) {
    throw new InvalidFieldError('--scenario', 'faults', 'a calibration run has no faults: its scenario may list instrumentations only')
  }
  if (!given.has('--nodes')) o.nodes = DEFAULT_CALIBRATE_NODES
  if (o.nodes > MAX_CALIBRATE_NODES) throw new InvalidFieldError('--nodes', o.nodes, `a calibration run has at most ${MAX_CALIBRATE_NODES} real nodes`)
  if (o.duration > MAX_CALIBRATE_DURATION) throw new InvalidFieldError('--duration', o.duration, `a calibration run lasts at most ${MAX_CALIBRATE_DURATION} s (it runs in real time)`)
  if (!given.has('--latency-ms')) o.latency = DEFAULT_CALIBRATE_LATENCY
  if (o.latency.kind !== 'fixed' || o.latency.ms > MAX_CALIBRATE_LATENCY_MS) {
    throw new InvalidFieldError('--latency-ms', formatLatency(o.latency), `with --calibrate, the memory transport's delay per chunk: fixed:MS, MS at most ${MAX_CALIBRATE_LATENCY_MS}`)
  }
}

/** When the run's instrumentations are created (s): the scenario's list, or a default schedule. */
export function instrumentationTimes (options: SimOptions): number[] {
  if (options.scenario.instrumentations !== undefined) return [...options.scenario.instrumentations].sort((a, b) => a - b)
  const n = options.instrumentations
  const first = Math.min(5, options.duration * 0.1)
  const spacing = n <= 1 ? 0 : Math.min(10, (options.duration * 0.5 - first) / (n - 1))
  return Array.from({ length: n }, (_, k) => first + k * spacing)
}

/** The options as plain JSON (for the report). */
export function optionsJson (o: SimOptions): Record<string, unknown> {
  return {
    nodes: o.nodes,
    duration: o.duration,
    seed: o.seed,
    latency_ms: formatLatency(o.latency),
    jitter_ms: o.jitterMs,
    gossip_cpu_ms: o.gossipCpuMs,
    gossip_cpu: o.gossipCpuShared === true ? 'shared' : 'per-node',
    loss: o.loss,
    bandwidth: o.bandwidth ?? null,
    connections: o.connections,
    fan_in: o.fanIn,
    replicas: o.replicas,
    instrumentations: instrumentationTimes(o),
    scenario: o.scenario
  }
}

/** `10M`, `12500000`, `100Mbit`: bytes per second. */
export function parseRate (text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKMG]?)(bit|B)?$/.exec(text.trim())
  if (m === null) throw new InvalidFieldError('--bandwidth', text, 'expected a rate such as 10M or 100Mbit')
  const scale = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 }[m[2] as '' | 'k' | 'K' | 'M' | 'G']
  const rate = Number(m[1]) * scale / (m[3] === 'bit' ? 8 : 1)
  if (!(rate >= 1000)) throw new InvalidFieldError('--bandwidth', text, 'must be at least 1000 bytes/s')
  return rate
}

function real (text: string, flag: string, min: number, max: number): number {
  const x = text.trim() === '' ? NaN : Number(text)
  if (!(Number.isFinite(x) && x >= min && x <= max)) throw new InvalidFieldError(flag, text, `must be a number from ${min} to ${max}`)
  return x
}

function integer (text: string, flag: string, min: number, max: number): number {
  const x = real(text, flag, min, max)
  if (!Number.isInteger(x)) throw new InvalidFieldError(flag, text, 'must be an integer')
  return x
}
