/**
 * What the simulator measures while it runs, from the outside (it knows the truth: which nodes
 * are up, when things happened): definition convergence, recovery after faults, and the
 * per-second series behind the plots. Per-node traffic counters live in the simulator; the
 * observer turns everything into the report's figures at the end.
 *
 * Definitions. A definition created at T by one node converges on node i at the first
 * `definition created` output of i's core for it. Nodes up at T count; a node that crashes
 * before receiving it drops out (it is not live), one still without it at the end is missing.
 *
 * Recovery. After a crash, after restarts and after a partition heals, a measurement runs until
 * the membership is whole again: every node up sees exactly the nodes up as live (its live
 * count, alive or suspect, equals the number of nodes up; after a crash this is the moment
 * the last survivor has declared the last crashed node dead). A measurement still open when
 * the next fault comes is closed as interrupted.
 */
import { mean, quantile, round, sortedCopy } from './quantiles.js'

/** One recovery measurement. */
export interface RecoveryMeasure {
  readonly kind: 'failure_detection' | 'rejoin' | 'partition_heal'
  /** Simulated seconds since the start. */
  readonly start: number
  /** Seconds until whole again; null while open or when interrupted. */
  took: number | null
  /** Seconds from its start until the next fault came while it was still open; null if it did not. */
  interruptedAfter: number | null
}

/** One recovery measurement as summary.json gives it (simulated seconds). */
export interface RecoveryRecord {
  readonly kind: RecoveryMeasure['kind']
  readonly at_s: number
  /** Until whole again; null if interrupted or still open at the end. */
  readonly took_s: number | null
  /** When the next fault came while it was still open, seconds after its start; else null. */
  readonly interrupted_after_s: number | null
}

interface DefinitionTrack {
  readonly id: string
  readonly createdAt: number
  readonly origin: number
  /** Arrival time per node (ms), NaN: not yet. */
  readonly received: Float64Array
  /** Whether node i counts: up at creation and not crashed before receiving. */
  readonly eligible: Uint8Array
}

/** The simulator's measurements (see the module doc). */
export class Observer {
  readonly #n: number
  readonly #start: number
  readonly #defs = new Map<string, DefinitionTrack>()
  readonly measures: RecoveryMeasure[] = []
  /** Per simulated second: fleet bytes and messages sent, nodes up, fraction of them with a whole view. */
  readonly bytesPerSecond: number[] = []
  readonly messagesPerSecond: number[] = []
  readonly upPerSecond: number[] = []
  readonly wholePerSecond: number[] = []

  constructor (nodes: number, start: number) {
    this.#n = nodes
    this.#start = start
  }

  /** A definition was created by node `origin` at `at` (ms); `up(i)` says who is up. */
  definitionCreated (id: string, at: number, origin: number, up: (i: number) => boolean): void {
    const eligible = new Uint8Array(this.#n)
    for (let i = 0; i < this.#n; i++) eligible[i] = up(i) ? 1 : 0
    this.#defs.set(id, { id, createdAt: at, origin, received: new Float64Array(this.#n).fill(NaN), eligible })
  }

  /** Node i's core reported definition `id` at `at` (ms). */
  definitionSeen (i: number, id: string, at: number): void {
    const d = this.#defs.get(id)
    if (d === undefined || d.eligible[i] !== 1 || !Number.isNaN(d.received[i])) return
    d.received[i] = at
  }

  /** Node i crashed at `at`. */
  nodeDown (i: number): void {
    for (const d of this.#defs.values()) if (Number.isNaN(d.received[i])) d.eligible[i] = 0
  }

  /** Opens a recovery measurement at `at` (ms), closing any still open as interrupted. */
  openMeasure (kind: RecoveryMeasure['kind'], at: number): void {
    const now = (at - this.#start) / 1000
    for (const m of this.measures) {
      if (m.took === null && m.interruptedAfter === null) m.interruptedAfter = now - m.start
    }
    this.measures.push({ kind, start: now, took: null, interruptedAfter: null })
  }

  /** Whether a measurement is open. */
  get measuring (): boolean {
    const last = this.measures.at(-1)
    return last !== undefined && last.took === null && last.interruptedAfter === null
  }

  /** The membership is whole at `at` (ms): closes the open measurement. */
  whole (at: number): void {
    const last = this.measures.at(-1)
    if (last !== undefined && last.took === null && last.interruptedAfter === null) last.took = (at - this.#start) / 1000 - last.start
  }

  /** One simulated second's totals. */
  sample (bytes: number, messages: number, up: number, wholeFraction: number): void {
    this.bytesPerSecond.push(bytes)
    this.messagesPerSecond.push(messages)
    this.upPerSecond.push(up)
    this.wholePerSecond.push(wholeFraction)
  }

  /** Convergence delays (s) of every (definition, eligible node) that received it, ascending. */
  convergenceDelays (): Float64Array {
    const out: number[] = []
    for (const d of this.#defs.values()) {
      for (let i = 0; i < this.#n; i++) if (d.eligible[i] === 1 && !Number.isNaN(d.received[i])) out.push(((d.received[i] as number) - d.createdAt) / 1000)
    }
    return sortedCopy(out)
  }

  /** Per definition: when created (s), how long until the last eligible node had it, how many never did. */
  definitions (): Array<{ id: string, created_s: number, all_s: number | null, missing: number }> {
    return [...this.#defs.values()].map((d) => {
      let last = 0
      let missing = 0
      for (let i = 0; i < this.#n; i++) {
        if (d.eligible[i] !== 1) continue
        const r = d.received[i] as number
        if (Number.isNaN(r)) missing++
        else last = Math.max(last, r - d.createdAt)
      }
      return { id: d.id, created_s: round((d.createdAt - this.#start) / 1000) as number, all_s: missing > 0 ? null : round(last / 1000), missing }
    })
  }

  /** definition_convergence_s of the summary. */
  convergenceSummary (): { p50: number | null, p99: number | null, max: number | null, missing: number } {
    const delays = this.convergenceDelays()
    const missing = this.definitions().reduce((s, d) => s + d.missing, 0)
    return { p50: round(quantile(delays, 0.5)), p99: round(quantile(delays, 0.99)), max: round(quantile(delays, 1)), missing }
  }

  /** recovery_s of the summary: the longest completed measurement of each kind, null if none. */
  recoverySummary (): Record<RecoveryMeasure['kind'], number | null> {
    const worst = (kind: RecoveryMeasure['kind']): number | null => {
      const done = this.measures.filter((m) => m.kind === kind && m.took !== null).map((m) => m.took as number)
      return done.length === 0 ? null : round(Math.max(...done))
    }
    return { failure_detection: worst('failure_detection'), rejoin: worst('rejoin'), partition_heal: worst('partition_heal') }
  }

  /** Every recovery measurement in order, for summary.json: says why a null in recoverySummary is null. */
  recoveryRecords (): RecoveryRecord[] {
    return this.measures.map((m) => ({ kind: m.kind, at_s: round(m.start) as number, took_s: round(m.took), interrupted_after_s: round(m.interruptedAfter) }))
  }

  /** Mean fleet bytes per node per second over the run (per node up). */
  meanBytesPerNode (): number | null {
    return mean(this.bytesPerSecond.map((b, s) => b / Math.max(1, this.upPerSecond[s] as number)))
  }
}
