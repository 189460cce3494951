/**
 * The bpftrace backend: eBPF measurement through one combined bpftrace process per node (the
 * Linux analogue of CA's DTrace instrumenter). metad generates the script (one slot per
 * instrumentation; predicates compiled into probe filters, so the kernel drops what is not
 * wanted); this backend probes the machine, validates each instrumentation's script alone,
 * runs the combined script (./supervisor.ts), and turns its JSON output into values
 * (./output.ts, ./slot-reader.ts, ./keys.ts).
 *
 * The daemon must call `stopAll()` from its SIGINT/SIGTERM handling; see ./reaper.ts for how no
 * bpftrace outlives the daemon even when it is killed.
 *
 * @example
 * import { createBpftraceBackend, stopAll } from './bpftrace/index.js'
 * const bpftrace = createBpftraceBackend()
 * const status = await bpftrace.probe()      // { available, detail: "bpftrace v0.17.0 at ..." }
 * const m = await bpftrace.instrument({ id, metric, predicate, decomposition })
 * setInterval(() => publish(m.collect()), 1000)
 * process.once('SIGTERM', () => { void stopAll().then(() => process.exit(0)) })
 */
import {
  bpftraceEnumNames, bpftraceImplementations, generateBpftraceProgram, HeatmeshError, predicateFields, syscallName
} from '../../../metad/index.js'
import type { Backend, BackendStatus, Measurement, MeasurementSpec, MetricImplementation } from '../backend.js'
import { valueLayout, zeroValueOf } from '../value-layout.js'
import { createBlockDevices } from './blockdevs.js'
import { createCgroupPaths } from './cgroups.js'
import { MAX_LINE_BYTES } from './lines.js'
import { probeBpftrace } from './probe.js'
import type { BpftraceTarget, GeneratorEnv, ProgramGenerator } from './program.js'
import { registerOwner } from './reaper.js'
import { createSlotReader } from './slot-reader.js'
import { createSupervisor, type Member } from './supervisor.js'
import { createValidator } from './validate.js'
import type { KeyTables } from './keys.js'

export { stopAll, liveChildPids } from './reaper.js'
export { restartDelay } from './supervisor.js'
export type { ProgramGenerator } from './program.js'

/** Relative cost of a bpftrace measurement (see Backend.cost): tracing costs per event. */
export const BPFTRACE_COST = 10
/** Default for BpftraceInit.mapKeysMax: room for 810 latency buckets x 80 keys per map. */
export const BPFTRACE_MAP_KEYS_MAX = 65536
/** Default for the probe's, a validation's and a start's timeouts, in ms. */
export const BPFTRACE_START_TIMEOUT_MS = 10_000
/** Default restart backoff, ms: from 0.5 s, doubling, at most 30 s. */
export const BPFTRACE_RESTART_MIN_MS = 500
export const BPFTRACE_RESTART_MAX_MS = 30_000
/** Default: a process that lived this long (ms) resets the backoff. */
export const BPFTRACE_HEALTHY_MS = 10_000
/** Default: no TICK for this long (ms) means bpftrace is stuck. */
export const BPFTRACE_STALL_MS = 5000

export interface BpftraceInit {
  /** The bpftrace executable; a bare name is looked up on PATH. @default 'bpftrace' */
  readonly path?: string
  /** The script generator. @default metad's generateBpftraceProgram */
  readonly generate?: ProgramGenerator
  /** The metrics and fields the generator serves. @default metad's bpftraceImplementations() */
  readonly implementations?: readonly MetricImplementation[]
  /** BPFTRACE_MAP_KEYS_MAX: keys per map (bpftrace's own default, 4096, fills up). @default BPFTRACE_MAP_KEYS_MAX */
  readonly mapKeysMax?: number
  /** More environment for bpftrace (on top of this process's). @default {} */
  readonly env?: Readonly<Record<string, string>>
  /** The probe's timeout (version, mount, attach check). @default BPFTRACE_START_TIMEOUT_MS */
  readonly probeTimeoutMs?: number
  /** How long one instrumentation's script may take to attach alone. @default BPFTRACE_START_TIMEOUT_MS */
  readonly validateTimeoutMs?: number
  /** How long the combined script may take to attach. @default BPFTRACE_START_TIMEOUT_MS */
  readonly readyTimeoutMs?: number
  /** @default BPFTRACE_RESTART_MIN_MS */
  readonly restartMinMs?: number
  /** @default BPFTRACE_RESTART_MAX_MS */
  readonly restartMaxMs?: number
  /** @default BPFTRACE_HEALTHY_MS */
  readonly healthyMs?: number
  /** @default BPFTRACE_STALL_MS */
  readonly stallMs?: number
  /** Longest accepted output line. @default MAX_LINE_BYTES (16 MiB) */
  readonly maxLineBytes?: number
  /** Mount tracefs when it is missing and we are root. @default true */
  readonly mountTracefs?: boolean
  /** The cgroup2 mount point. @default found in /proc/mounts */
  readonly cgroupRoot?: string
  /** Where sysfs is (for /sys/dev/block). @default '/sys' */
  readonly sysfs?: string
  /** Syscall name by number. @default metad's syscall table */
  readonly syscallName?: (n: number) => string | undefined
  /** Names of an `enum:<name>` key decoding. @default metad's */
  readonly enumNames?: (name: string) => readonly string[] | undefined
  /** Where the backend says what went wrong at run time. @default a line on stderr */
  readonly log?: (message: string) => void
}

/** The bpftrace backend, with what the daemon needs beyond the Backend contract. */
export interface BpftraceBackend extends Backend {
  /** Stops this backend's bpftrace and starts no other. Idempotent. */
  stop: () => Promise<void>
  /** A snapshot for post-mortem debugging. */
  debugState: () => unknown
}

/**
 * Creates the bpftrace backend. Nothing runs before probe() or the first instrument().
 *
 * @example
 * const backend = createBpftraceBackend({ log: (m) => logger.warn(m) })
 */
export function createBpftraceBackend (init: BpftraceInit = {}): BpftraceBackend {
  const env: NodeJS.ProcessEnv = { ...process.env, BPFTRACE_MAP_KEYS_MAX: String(init.mapKeysMax ?? BPFTRACE_MAP_KEYS_MAX), ...init.env }
  const probeTimeoutMs = init.probeTimeoutMs ?? BPFTRACE_START_TIMEOUT_MS
  const validateTimeoutMs = init.validateTimeoutMs ?? BPFTRACE_START_TIMEOUT_MS
  const log = init.log ?? ((m: string) => { process.stderr.write(`heatmesh: ${m}\n`) })
  const cgroups = createCgroupPaths('cgroupRoot' in init ? { root: init.cgroupRoot } : {})
  const blockdevs = createBlockDevices({ sysfs: init.sysfs })
  const tables: KeyTables = {
    syscallName: init.syscallName ?? syscallName,
    enumNames: init.enumNames ?? bpftraceEnumNames,
    cgroups,
    blockdevs
  }
  // Predicate constants that name node-local things (a cgroup path, a disk) compile to the ids
  // the kernel reports, resolved here when the script is generated.
  const generatorEnv: GeneratorEnv = { cgroupId: (path) => cgroups.id(path), blockDevice: (name) => blockdevs.device(name) }
  const generate: ProgramGenerator = init.generate ?? ((targets) => generateBpftraceProgram(targets, generatorEnv))
  const implementations = init.implementations ?? bpftraceImplementations()
  const shutdown = new AbortController()
  let validator: ReturnType<typeof createValidator> | undefined
  const slots = new Set<number>()
  let probing: Promise<BackendStatus & { path?: string }> | undefined
  let supervisor: ReturnType<typeof createSupervisor> | undefined
  let stopped = false

  const probeOnce = async (signal?: AbortSignal): Promise<BackendStatus & { path?: string }> => {
    probing ??= probeBpftrace({
      path: init.path ?? 'bpftrace',
      env,
      timeoutMs: probeTimeoutMs,
      mountTracefs: init.mountTracefs ?? true,
      cgroupWhere: cgroups.where,
      signal: shutdown.signal
    }).then((r) => ({ name: 'bpftrace', available: r.available, detail: r.detail, path: r.path }), (err: unknown) => {
      probing = undefined // aborted: a later probe may try again
      throw err
    })
    signal?.throwIfAborted()
    return await probing
  }

  const supervise = (path: string): ReturnType<typeof createSupervisor> => {
    supervisor ??= createSupervisor({
      path,
      env,
      generate,
      readyTimeoutMs: init.readyTimeoutMs ?? BPFTRACE_START_TIMEOUT_MS,
      restartMinMs: init.restartMinMs ?? BPFTRACE_RESTART_MIN_MS,
      restartMaxMs: init.restartMaxMs ?? BPFTRACE_RESTART_MAX_MS,
      healthyMs: init.healthyMs ?? BPFTRACE_HEALTHY_MS,
      stallMs: init.stallMs ?? BPFTRACE_STALL_MS,
      maxLineBytes: init.maxLineBytes ?? MAX_LINE_BYTES,
      log
    })
    return supervisor
  }

  const freeSlot = (): number => {
    let n = 0
    while (slots.has(n)) n++
    slots.add(n)
    return n
  }

  const unregister = registerOwner({ shutdown: async () => { await backend.stop() } })

  const backend: BpftraceBackend = {
    name: 'bpftrace',
    cost: BPFTRACE_COST,
    implementations,

    async probe (options = {}) {
      const { name, available, detail } = await probeOnce(options.signal)
      return { name, available, detail }
    },

    async instrument (spec: MeasurementSpec, options = {}): Promise<Measurement> {
      const { signal } = options
      signal?.throwIfAborted()
      if (stopped) throw new HeatmeshError('ECA_INTR', 'the bpftrace backend was stopped')
      const status = await probeOnce(signal)
      if (!status.available || status.path === undefined) throw new HeatmeshError('ECA_NORESOURCE', `bpftrace is unavailable here: ${status.detail}`)
      checkServed(spec, implementations)

      const slot = freeSlot()
      try {
        const target: BpftraceTarget = { slot, metric: spec.metric, predicate: spec.predicate, decomposition: spec.decomposition }
        const alone = generate([target])
        const slotLayout = alone.slots.find((l) => l.slot === slot)
        if (slotLayout === undefined) throw new HeatmeshError('ECA_INCOMPAT', `the generator gave no layout for slot ${slot}`)
        const layout = valueLayout(spec.metric, spec.decomposition)
        const reader = createSlotReader(slotLayout, layout, tables)
        const path = status.path
        validator ??= createValidator({ path, env, timeoutMs: validateTimeoutMs, generate, shutdown: shutdown.signal })
        try {
          await validator(target, signal)
        } catch (err) {
          if (err instanceof HeatmeshError && err.code === 'ECA_NORESOURCE') {
            throw new HeatmeshError('ECA_NORESOURCE', `bpftrace cannot run ${spec.metric.name} as asked: ${err.message}`, { cause: err })
          }
          throw err
        }
        if (stopped) throw new HeatmeshError('ECA_INTR', 'the bpftrace backend was stopped')
        const member: Member = { id: spec.id, target, slotLayout, layout, reader, zero: zeroValueOf(layout) }
        const sup = supervise(path)
        await sup.add(member, signal)
        return measurementOf(member, sup, () => { slots.delete(slot) })
      } catch (err) {
        slots.delete(slot)
        throw err
      }
    },

    async stop () {
      if (!stopped) {
        stopped = true
        shutdown.abort(new HeatmeshError('ECA_INTR', 'the bpftrace backend was stopped'))
        unregister()
      }
      await supervisor?.shutdown()
    },

    debugState () {
      return { stopped, slots: [...slots].sort((a, b) => a - b), cgroups: cgroups.debugState(), supervisor: supervisor?.debugState() }
    }
  }
  return backend
}

function measurementOf (member: Member, sup: ReturnType<typeof createSupervisor>, release: () => void): Measurement {
  let stopping: Promise<void> | undefined
  return {
    collect: () => sup.removed(member) ? member.zero : member.reader.take(),
    state: () => sup.state(member),
    async stop () {
      stopping ??= sup.remove(member).finally(release)
      await stopping
    }
  }
}

/** Throws ECA_INVAL unless the generator serves the spec's metric with every field it uses. */
function checkServed (spec: MeasurementSpec, implementations: readonly MetricImplementation[]): void {
  const impl = implementations.find((i) => i.metric === spec.metric.name)
  if (impl === undefined) throw new HeatmeshError('ECA_INVAL', `bpftrace does not implement ${spec.metric.name}`)
  const unserved = [...new Set([...spec.decomposition, ...predicateFields(spec.predicate)])].filter((f) => !impl.fields.includes(f))
  if (unserved.length > 0) throw new HeatmeshError('ECA_INVAL', `bpftrace cannot filter or decompose ${spec.metric.name} by ${unserved.join(', ')}`)
}
