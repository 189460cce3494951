/**
 * The procfs backend: CPU, memory, pressure, disk and NIC counters read from /proc and /sys
 * once a second (the kstat analogue, CA-REFERENCE §1.8). Predicates are evaluated in user space
 * on each record. It is the cheapest backend: reading a few small files costs the same however
 * busy the machine is, where tracing costs per event.
 *
 * The files are read under a root directory, `/` by default, so that tests can point the
 * backend at a fixture tree. A file that cannot be read or parsed never throws out of
 * collect(): that second's value is zero, the measurement reports 'restarting' with the reason,
 * the next reading starts a fresh baseline, and the measurement is 'running' again once a
 * reading succeeds.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { HeatmeshError, predicateFields } from '../../../metad/index.js'
import type { Backend, BackendStatus, Measurement, MeasurementSpec, MeasurementState } from '../backend.js'
import { createValueAccumulator, valueLayout, zeroValueOf } from '../value-layout.js'
import { PROCFS_SOURCES, type ProcfsFiles, type ProcfsSource } from './sources.js'

/** Relative cost of a procfs measurement (see Backend.cost): the cheapest. */
export const PROCFS_COST = 1

export interface ProcfsInit {
  /** Where `/proc` and `/sys` are found: `${root}/proc/stat`, ... @default '/' */
  readonly root?: string
}

/** Reads files under `root`, with errors that name the file as the system knows it. */
function filesUnder (root: string): ProcfsFiles {
  return {
    read (path) {
      try {
        return readFileSync(join(root, path), 'utf8')
      } catch (err) {
        throw new HeatmeshError('ECA_IO', `cannot read ${path}${root === '/' ? '' : ` under ${root}`}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
      }
    },
    hardwareDisks () {
      const dir = join(root, '/sys/block')
      let names: string[]
      try {
        names = readdirSync(dir)
      } catch {
        return undefined
      }
      const out = new Set<string>()
      for (const name of names) {
        try {
          statSync(join(dir, name, 'device'))
          out.add(name)
        } catch {
          // no `device` link: a virtual device
        }
      }
      return out
    }
  }
}

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function createMeasurement (source: ProcfsSource<unknown>, files: ProcfsFiles, spec: MeasurementSpec): Measurement {
  const layout = valueLayout(spec.metric, spec.decomposition)
  const zero = zeroValueOf(layout)
  const acc = createValueAccumulator(layout, spec.predicate)
  const used: ReadonlySet<string> = new Set([...spec.decomposition, ...predicateFields(spec.predicate)])
  let prev: unknown
  let hasPrev = false
  let failure: { reason: string, attempts: number } | undefined
  let stopped = false
  return {
    collect () {
      if (stopped) return zero
      try {
        const cur = source.read(files)
        const records = source.records(hasPrev ? prev : undefined, cur, used)
        prev = cur
        hasPrev = true
        failure = undefined
        if (records === undefined) return zero
        for (const r of records) acc.add(r.record, r.weight)
        return acc.take()
      } catch (err) {
        acc.take() // drop a half-added second
        prev = undefined
        hasPrev = false
        failure = { reason: messageOf(err), attempts: (failure?.attempts ?? 0) + 1 }
        return zero
      }
    },
    state (): MeasurementState {
      if (failure !== undefined) return { state: 'restarting', reason: `${failure.reason}; reading again every second`, attempts: failure.attempts }
      return { state: 'running' }
    },
    async stop () {
      stopped = true
    }
  }
}

/**
 * Creates the procfs backend.
 *
 * @example
 * const procfs = createProcfsBackend()                       // the machine's /proc
 * const fixture = createProcfsBackend({ root: '/tmp/tree' })  // /tmp/tree/proc/stat, ...
 */
export function createProcfsBackend (init: ProcfsInit = {}): Backend {
  const root = init.root ?? '/'
  const files = filesUnder(root)
  const sources = new Map(PROCFS_SOURCES.map((s) => [s.metric, s]))
  return {
    name: 'procfs',
    cost: PROCFS_COST,
    implementations: PROCFS_SOURCES.map((s) => ({ metric: s.metric, fields: s.fields })),

    async probe (options = {}): Promise<BackendStatus> {
      options.signal?.throwIfAborted()
      const ok: string[] = []
      const broken: string[] = []
      for (const s of PROCFS_SOURCES) {
        try {
          s.read(files)
          ok.push(s.metric)
        } catch (err) {
          broken.push(`${s.metric} (${messageOf(err)})`)
        }
      }
      const where = root === '/' ? '' : ` under ${root}`
      if (ok.length === 0) return { name: 'procfs', available: false, detail: `nothing readable${where}: ${broken.join('; ')}` }
      const disks = files.hardwareDisks() === undefined ? 'disks by name (no /sys/block)' : 'disks from /sys/block'
      return {
        name: 'procfs',
        available: true,
        detail: `reads /proc${where}: ${ok.join(', ')}; ${disks}${broken.length > 0 ? `; unavailable: ${broken.join('; ')}` : ''}`
      }
    },

    async instrument (spec, options = {}): Promise<Measurement> {
      options.signal?.throwIfAborted()
      const source = sources.get(spec.metric.name)
      if (source === undefined) throw new HeatmeshError('ECA_INVAL', `procfs does not implement ${spec.metric.name}`)
      for (const f of spec.decomposition) {
        if (!source.fields.includes(f)) throw new HeatmeshError('ECA_INVAL', `procfs cannot decompose ${spec.metric.name} by ${f}`)
      }
      try {
        source.read(files) // fail now, with the reason, rather than with zeros every second
      } catch (err) {
        throw new HeatmeshError('ECA_NORESOURCE', `cannot measure ${spec.metric.name}: ${messageOf(err)}`, { cause: err })
      }
      return createMeasurement(source, files, spec)
    }
  }
}
