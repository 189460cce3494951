/**
 * The supervisor of the node's one combined bpftrace process: it holds the set of active
 * instrumentations (members, each in a numbered slot of the script), keeps one bpftrace running
 * the script generated for exactly that set, routes each printed slot map to its member's
 * reader, and restarts bpftrace with backoff when it dies.
 *
 * THEORY.
 * - One process for all (the contract's decision, measured: one combined script costs 0.9 us of
 *   BPF time per syscall where five separate ones cost 2.0-2.7 us, and 100 MB RSS where they
 *   take 466 MB). So a change of the set (add, remove) means a new script: SWITCH = stop the old
 *   process (SIGINT: its END prints every slot, which is routed like any second's data), wait for
 *   it to exit, then start the new one and wait for READY. The two never run at once, so no
 *   event is counted twice; the price is a gap of about 0.45 s (0.2 s stop + 0.25 s start)
 *   in which events are not counted, once per change. Starting the new script before stopping
 *   the old would close the gap but count ~0.25 s of events twice, which an exact merge cannot
 *   undo, so we do not.
 * - Switches are serialized: requests set `dirty`, and one loop switches until the running set
 *   is the wanted one, so a burst of changes (a daemon resuming twenty instrumentations) costs
 *   one switch per loop turn, not one per change.
 * - Routing tables belong to a process: a slot number freed by one member and given to another
 *   can never receive the old process's data, because each process routes by its own table.
 * - A member is `fresh` until a process that included it reached READY. If a start fails, the
 *   fresh members are failed with bpftrace's reason (each was validated alone beforehand, so
 *   this is rare: the combination failed) and the others are started again at once; if only
 *   established members were in it, it is an outage: they are 'restarting', and the start is
 *   retried after restartDelay (0.5 s, doubling, at most 30 s; the count of consecutive failures
 *   resets once a process has lived `healthyMs`).
 * - A running process prints TICK every second; none for `stallMs` means bpftrace is stuck: it
 *   is killed and restarted like a crash.
 * - Known undercount, never an overcount: bpftrace's `print(@s); clear(@s)` is not atomic (user
 *   space reads the map, then deletes its keys), so an event that lands on a key between the two
 *   is lost. Measured with 750k syscalls/s: 0.02% lost from a 20-key slot, 0.3% from a slot of a
 *   few hundred keys (execname x latency), the window growing with the keys printed.
 */
import { HeatmeshError, type Value } from '../../../metad/index.js'
import type { MeasurementState } from '../backend.js'
import type { ValueLayout } from '../value-layout.js'
import { spawnBpftrace, type BpftraceChild, type ChildExit } from './child.js'
import type { OutputEvent } from './output.js'
import type { BpftraceTarget, ProgramGenerator, SlotLayout } from './program.js'
import type { SlotReader } from './slot-reader.js'

/** One instrumentation inside the combined script. */
export interface Member {
  /** The instrumentation's id, for logs. */
  readonly id: string
  readonly target: BpftraceTarget
  /** The slot's layout as generated for the target alone; the combined script must agree. */
  readonly slotLayout: SlotLayout
  readonly layout: ValueLayout
  readonly reader: SlotReader
  readonly zero: Value
}

export interface SupervisorInit {
  /** The bpftrace executable (absolute). */
  readonly path: string
  readonly env: NodeJS.ProcessEnv
  readonly generate: ProgramGenerator
  /** A start that has not printed READY after this long fails. */
  readonly readyTimeoutMs: number
  /** First restart delay; it doubles per consecutive failure. */
  readonly restartMinMs: number
  /** Longest restart delay. */
  readonly restartMaxMs: number
  /** A process that lived this long resets the count of consecutive failures. */
  readonly healthyMs: number
  /** No TICK for this long: the process is stuck and is killed. */
  readonly stallMs: number
  readonly maxLineBytes: number
  readonly log: (message: string) => void
}

/** The restart delay after `failures` consecutive failures (1, 2, ...): min * 2^(failures-1), capped. */
export function restartDelay (failures: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.max(0, Math.min(failures - 1, 30)))
}

interface MemberState {
  readonly member: Member
  /** Has been in a process that reached READY. */
  ran: boolean
  stopped: boolean
  readonly joined: Deferred
}

/** A promise with its settlers (Promise.withResolvers is Node 22). */
interface Deferred {
  readonly promise: Promise<void>
  readonly resolve: () => void
  readonly reject: (err: Error) => void
}

function deferred (): Deferred {
  let resolve!: () => void
  let reject!: (err: Error) => void
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

interface Run {
  readonly child: BpftraceChild
  /** Map name (`@s3`) -> member. */
  readonly table: ReadonlyMap<string, MemberState>
  readonly slots: number
  phase: 'starting' | 'running'
  readonly startedAt: number
  lastTickAt: number
  ticks: number
  rejected: number
  lost: number
  lostLines: number
  probes?: number
  watchdog?: ReturnType<typeof setInterval>
  /** Killed by the watchdog: its exit is a failure although stop() was called. */
  stalled: boolean
  /** A planned stop is under way (a switch, a shutdown): the watchdog leaves it alone. */
  stopping: boolean
}

/** A rejected line (or lost-events report) is logged this many times per process, then every 1000th (100th). */
const LOG_FIRST = 5

/** Runs the combined bpftrace process; see the module header. */
export interface Supervisor {
  /** Adds a member and resolves once a process counts it; rejects with bpftrace's reason. */
  add: (member: Member, signal?: AbortSignal) => Promise<void>
  /** Removes a member; resolves once no process counts it. Idempotent. */
  remove: (member: Member) => Promise<void>
  /** The member's state for Measurement.state(). */
  state: (member: Member) => MeasurementState
  /** Whether the member was removed (its collect() then gives zero). */
  removed: (member: Member) => boolean
  /** Stops the process and starts no other; every later add() is refused. */
  shutdown: () => Promise<void>
  debugState: () => unknown
}

/** Creates a supervisor; nothing runs until the first add(). */
export function createSupervisor (init: SupervisorInit): Supervisor {
  const members = new Map<Member, MemberState>()
  let current: Run | undefined
  let loop: Promise<void> | undefined
  let dirty = false
  let failure: { reason: string, attempts: number } | undefined
  let consecutive = 0
  let restartTimer: ReturnType<typeof setTimeout> | undefined
  let shuttingDown = false
  let switches = 0
  let lastExit: string | undefined
  /** The last switch's stop of the old process and start of the new one, in ms: the gap is their sum. */
  let lastSwitch: { stopMs: number, startMs: number } | undefined

  const wanted = (): MemberState[] => [...members.values()].filter((s) => !s.stopped)

  function request (): Promise<void> {
    dirty = true
    loop ??= (async () => {
      try {
        while (dirty && !shuttingDown) {
          dirty = false
          await switchOnce()
        }
      } finally {
        loop = undefined
      }
    })()
    return loop
  }

  function scheduleRestart (): void {
    if (shuttingDown || restartTimer !== undefined) return
    const delay = restartDelay(consecutive, init.restartMinMs, init.restartMaxMs)
    restartTimer = setTimeout(() => {
      restartTimer = undefined
      void request()
    }, delay)
    restartTimer.unref()
  }

  function cancelRestart (): void {
    if (restartTimer !== undefined) clearTimeout(restartTimer)
    restartTimer = undefined
  }

  /** A start failed: fail the fresh members, or count an outage of the established ones. */
  function startFailed (want: readonly MemberState[], reason: string): void {
    const fresh = want.filter((s) => !s.ran)
    if (fresh.length > 0) {
      for (const s of fresh) {
        members.delete(s.member)
        s.stopped = true
        s.joined.reject(new HeatmeshError('ECA_NORESOURCE', reason))
      }
      init.log(`bpftrace: the combined script failed once ${fresh.map((s) => s.member.id).join(', ')} joined, so ${fresh.length === 1 ? 'that one fails' : 'those fail'}: ${reason}`)
      if (want.length > fresh.length) dirty = true // the established members start again at once
      return
    }
    consecutive++
    failure = { reason, attempts: (failure?.attempts ?? 0) + 1 }
    init.log(`bpftrace: start failed (attempt ${failure.attempts}), retrying in ${restartDelay(consecutive, init.restartMinMs, init.restartMaxMs)} ms: ${reason}`)
    scheduleRestart()
  }

  function onExit (run: Run, exit: ChildExit): void {
    if (run.watchdog !== undefined) clearInterval(run.watchdog)
    lastExit = exit.reason
    if (current !== run) return
    current = undefined
    if (run.phase === 'starting' || (exit.stopped && !run.stalled) || shuttingDown) return // switchOnce or stop() owns it
    // An unexpected death: every member is 'restarting' until a new process is READY.
    if (performance.now() - run.startedAt >= init.healthyMs) consecutive = 0
    consecutive++
    const reason = run.stalled ? `bpftrace stalled (no TICK for ${init.stallMs} ms) and was killed` : exit.reason
    failure = { reason, attempts: 1 }
    init.log(`bpftrace died unexpectedly, restarting in ${restartDelay(consecutive, init.restartMinMs, init.restartMaxMs)} ms: ${reason}`)
    scheduleRestart()
  }

  function onEvent (run: Run, event: OutputEvent): void {
    switch (event.type) {
      case 'marker':
        if (event.marker === 'TICK') { run.lastTickAt = performance.now(); run.ticks++ }
        return
      case 'map': {
        const s = run.table.get(event.map)
        if (s === undefined) { rejected(run, `a map ${event.map} that is no slot of this script`); return }
        if (s.stopped) return // its measurement stopped: the old process's last words are dropped
        const why = s.member.reader.add(event.entries)
        if (why !== undefined) rejected(run, `map ${event.map} of ${s.member.id}: ${why}`)
        return
      }
      case 'lost':
        run.lost += event.events
        run.lostLines++
        if (run.lostLines <= LOG_FIRST || run.lostLines % 100 === 0) init.log(`bpftrace lost ${event.events} events (perf ring full); ${run.lost} so far`)
        return
      case 'attached': run.probes = event.probes; return
      case 'printf': rejected(run, `an unexpected printf ${JSON.stringify(event.text.slice(0, 100))}`); return
      case 'other': rejected(run, `an output line of type ${JSON.stringify(event.kind)}`); return
      case 'blank': return
      default: { const never: never = event; throw new Error(`unhandled output event ${JSON.stringify(never)}`) }
    }
  }

  function rejected (run: Run, reason: string, line?: string): void {
    run.rejected++
    if (run.rejected <= LOG_FIRST || run.rejected % 1000 === 0) {
      init.log(`bpftrace output rejected (${run.rejected} so far in pid ${String(run.child.pid)}): ${reason}${line === undefined || line === '' ? '' : `: ${line}`}`)
    }
  }

  async function switchOnce (): Promise<void> {
    cancelRestart()
    const began = performance.now()
    const old = current
    if (old !== undefined) {
      old.stopping = true
      await old.child.stop() // END flushes into the readers through old.table
      if (current === old) current = undefined
    }
    const stopped = performance.now()
    const want = wanted()
    if (want.length === 0 || shuttingDown) {
      failure = undefined
      return
    }
    switches++
    let script: string
    const table = new Map<string, MemberState>()
    try {
      const program = init.generate(want.map((s) => s.member.target))
      for (const s of want) {
        const layout = program.slots.find((l) => l.slot === s.member.target.slot)
        if (layout === undefined || !sameSlotLayout(layout, s.member.slotLayout)) {
          throw new HeatmeshError('ECA_INCOMPAT', `the combined script lays out slot ${s.member.target.slot} unlike the script generated for it alone`)
        }
        table.set(layout.map, s)
      }
      script = program.script
    } catch (err) {
      startFailed(want, `cannot generate the combined script: ${messageOf(err)}`)
      return
    }
    // Output events arrive asynchronously, after `run` is assigned.
    let run!: Run
    const child = spawnBpftrace({
      path: init.path,
      script,
      env: init.env,
      maxLineBytes: init.maxLineBytes,
      onEvent: (e) => { onEvent(run, e) },
      onRejected: (reason, line) => { rejected(run, reason, line) }
    })
    const now = performance.now()
    run = { child, table, slots: want.length, phase: 'starting', startedAt: now, lastTickAt: now, ticks: 0, rejected: 0, lost: 0, lostLines: 0, stalled: false, stopping: false }
    current = run
    void child.exited.then((exit) => { onExit(run, exit) })
    try {
      await child.ready(init.readyTimeoutMs)
    } catch (err) {
      const exit = await child.stop()
      if (current === run) current = undefined
      if (shuttingDown) {
        for (const s of want) if (!s.ran) s.joined.reject(new HeatmeshError('ECA_INTR', 'the bpftrace backend was shut down'))
        return
      }
      startFailed(want, exit.stopped ? messageOf(err) : exit.reason)
      return
    }
    run.phase = 'running'
    run.lastTickAt = performance.now()
    lastSwitch = { stopMs: Math.round(stopped - began), startMs: Math.round(run.lastTickAt - stopped) }
    run.watchdog = setInterval(() => {
      if (current === run && !run.stalled && !run.stopping && performance.now() - run.lastTickAt > init.stallMs) {
        init.log(`bpftrace (pid ${String(child.pid)}) printed no TICK for ${init.stallMs} ms: stopping it`)
        run.stalled = true // onExit restarts it as a failure
        void child.kill()
      }
    }, Math.max(100, Math.floor(init.stallMs / 2)))
    run.watchdog.unref()
    failure = undefined
    for (const s of want) {
      if (!s.ran) { s.ran = true; s.joined.resolve() }
    }
  }

  const stateOf = (member: Member): MemberState | undefined => members.get(member)

  return {
    async add (member, signal) {
      if (shuttingDown) throw new HeatmeshError('ECA_INTR', 'the bpftrace backend was shut down')
      signal?.throwIfAborted()
      const s: MemberState = { member, ran: false, stopped: false, joined: deferred() }
      members.set(member, s)
      void request()
      const onAbort = (): void => {
        s.joined.reject(signal!.reason instanceof Error ? signal!.reason : new HeatmeshError('ECA_INTR', 'aborted'))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        await s.joined.promise
      } catch (err) {
        if (!s.stopped) { s.stopped = true; members.delete(member); void request() }
        throw err
      } finally {
        signal?.removeEventListener('abort', onAbort)
      }
    },

    async remove (member) {
      const s = members.get(member)
      if (s === undefined) return
      s.stopped = true
      members.delete(member)
      if (wanted().length === 0 && restartTimer !== undefined) {
        cancelRestart()
        failure = undefined
      }
      if (current === undefined && restartTimer !== undefined) return // nothing runs; the restart takes the new set
      await request()
    },

    state (member) {
      const s = stateOf(member)
      if (s === undefined || s.stopped) return { state: 'failed', reason: shuttingDown ? 'the bpftrace backend was shut down' : 'stopped' }
      if (failure !== undefined) return { state: 'restarting', reason: failure.reason, attempts: failure.attempts }
      return { state: 'running' }
    },

    removed: (member) => stateOf(member)?.stopped !== false,

    async shutdown () {
      shuttingDown = true
      cancelRestart()
      const run = current
      if (run !== undefined) { run.stopping = true; await run.child.stop() }
      await loop
      if (current !== undefined) { current.stopping = true; await current.child.stop() }
      for (const s of members.values()) {
        s.stopped = true
        if (!s.ran) s.joined.reject(new HeatmeshError('ECA_INTR', 'the bpftrace backend was shut down'))
      }
    },

    debugState () {
      const run = current
      return {
        shuttingDown,
        switches,
        lastSwitch,
        consecutiveFailures: consecutive,
        failure,
        lastExit,
        restartPending: restartTimer !== undefined,
        members: [...members.values()].map((s) => ({ id: s.member.id, slot: s.member.target.slot, metric: s.member.target.metric.name, ran: s.ran, stopped: s.stopped })),
        process: run === undefined
          ? undefined
          : { pid: run.child.pid, phase: run.phase, slots: run.slots, probes: run.probes, ticks: run.ticks, rejected: run.rejected, lost: run.lost, ageMs: Math.round(performance.now() - run.startedAt) }
      }
    }
  }
}

function sameSlotLayout (a: SlotLayout, b: SlotLayout): boolean {
  return a.map === b.map && a.value === b.value &&
    a.discrete?.field === b.discrete?.field && a.discrete?.key === b.discrete?.key &&
    a.numeric?.field === b.numeric?.field
}

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
