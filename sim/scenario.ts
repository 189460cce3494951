/**
 * Fault scenarios: what happens to the simulated mesh and when. Crashes of a fraction of the
 * nodes (with an optional restart from their persisted state), partitions that heal, slow nodes,
 * clock skew, bursts of message loss, and the times at which instrumentations are created.
 * A scenario comes from a JSON file (--scenario FILE) and from flags; parseScenario validates the
 * file's parsed JSON once, and the flag parsers validate one flag's text each.
 *
 * File format (every key optional; times in simulated seconds from the start):
 *
 *     {
 *       "crash": [{ "fraction": 0.1, "at": 60, "restart": 120, "silent": false }],
 *       "partition": [{ "fraction": 0.3, "from": 100, "to": 200 }],
 *       "slow": { "fraction": 0.05, "delay_ms": 200 },
 *       "skew_ms": 500,
 *       "loss_burst": [{ "loss": 0.2, "from": 300, "to": 330 }],
 *       "instrumentations": [5, 15, 25]
 *     }
 */
import { InvalidFieldError } from '../metad/index.js'

/** A fraction of the live nodes crash at `at`; they restart at `restartAt` if given. */
export interface CrashFault {
  readonly fraction: number
  readonly at: number
  readonly restartAt?: number
  /**
   * The hosts go down with the processes (power loss, kernel panic): their connections do not
   * reset, so a send to them fails silently instead of being refused at once. @default false
   */
  readonly silent?: boolean
}

/** A fraction of the nodes is cut off from the rest from `from` until `to`. */
export interface PartitionFault {
  readonly fraction: number
  readonly from: number
  readonly to: number
}

/** Message loss raised to `loss` from `from` until `to`. */
export interface LossBurst {
  readonly loss: number
  readonly from: number
  readonly to: number
}

/** A fraction of the nodes handle every input `delayMs` late (an overloaded machine). */
export interface SlowNodes {
  readonly fraction: number
  readonly delayMs: number
}

/** A whole scenario. */
export interface Scenario {
  readonly crashes: readonly CrashFault[]
  readonly partitions: readonly PartitionFault[]
  readonly slow?: SlowNodes
  /** Each node's clock is off by a uniform draw in [-skewMs, +skewMs]. */
  readonly skewMs: number
  readonly lossBursts: readonly LossBurst[]
  /** When instrumentations are created (s); undefined: the --instrumentations default schedule. */
  readonly instrumentations?: readonly number[]
}

/** No faults. */
export const EMPTY_SCENARIO: Scenario = Object.freeze({ crashes: [], partitions: [], skewMs: 0, lossBursts: [] })

/** Slow nodes' default processing delay. */
export const DEFAULT_SLOW_DELAY_MS = 100

/** Validates a scenario file's parsed JSON. @throws InvalidFieldError naming the offending key. */
export function parseScenario (input: unknown): Scenario {
  const o = object(input, 'scenario')
  only(o, 'scenario', ['crash', 'partition', 'slow', 'skew_ms', 'loss_burst', 'instrumentations'])
  const crashes = list(o.crash, 'crash').map((item, i): CrashFault => {
    const f = `crash[${i}]`
    const c = object(item, f)
    only(c, f, ['fraction', 'at', 'restart', 'silent'])
    const at = time(c.at, `${f}.at`)
    const restartAt = c.restart === undefined ? undefined : time(c.restart, `${f}.restart`)
    if (restartAt !== undefined && restartAt <= at) throw new InvalidFieldError(`${f}.restart`, restartAt, 'must be after "at"')
    if (c.silent !== undefined && typeof c.silent !== 'boolean') throw new InvalidFieldError(`${f}.silent`, c.silent, 'must be true or false')
    return {
      fraction: fraction(c.fraction, `${f}.fraction`),
      at,
      ...(restartAt === undefined ? {} : { restartAt }),
      ...(c.silent === true ? { silent: true } : {})
    }
  })
  const partitions = list(o.partition, 'partition').map((item, i): PartitionFault => {
    const f = `partition[${i}]`
    const p = object(item, f)
    only(p, f, ['fraction', 'from', 'to'])
    return span({ fraction: fraction(p.fraction, `${f}.fraction`), from: time(p.from, `${f}.from`), to: time(p.to, `${f}.to`) }, f)
  })
  const lossBursts = list(o.loss_burst, 'loss_burst').map((item, i): LossBurst => {
    const f = `loss_burst[${i}]`
    const b = object(item, f)
    only(b, f, ['loss', 'from', 'to'])
    return span({ loss: probability(b.loss, `${f}.loss`), from: time(b.from, `${f}.from`), to: time(b.to, `${f}.to`) }, f)
  })
  let slow: SlowNodes | undefined
  if (o.slow !== undefined) {
    const s = object(o.slow, 'slow')
    only(s, 'slow', ['fraction', 'delay_ms'])
    slow = { fraction: fraction(s.fraction, 'slow.fraction'), delayMs: s.delay_ms === undefined ? DEFAULT_SLOW_DELAY_MS : nonNegative(s.delay_ms, 'slow.delay_ms') }
  }
  const skewMs = o.skew_ms === undefined ? 0 : nonNegative(o.skew_ms, 'skew_ms')
  const instrumentations = o.instrumentations === undefined ? undefined : list(o.instrumentations, 'instrumentations').map((t, i) => time(t, `instrumentations[${i}]`))
  return { crashes, partitions, ...(slow === undefined ? {} : { slow }), skewMs, lossBursts, ...(instrumentations === undefined ? {} : { instrumentations }) }
}

/** `--crash FRACTION@T[,restart@T2][,silent]`. */
export function parseCrashFlag (text: string): CrashFault {
  const m = /^([^@,]+)@([^,]+)(?:,restart@([^,]+))?(,silent)?$/.exec(text)
  if (m === null) throw new InvalidFieldError('--crash', text, 'expected FRACTION@T[,restart@T2][,silent]')
  const at = time(number(m[2], '--crash'), '--crash')
  const crash: CrashFault = { fraction: fraction(number(m[1], '--crash'), '--crash'), at, ...(m[4] === undefined ? {} : { silent: true }) }
  if (m[3] === undefined) return crash
  const restartAt = time(number(m[3], '--crash'), '--crash')
  if (restartAt <= at) throw new InvalidFieldError('--crash', text, 'the restart must come after the crash')
  return { ...crash, restartAt }
}

/** `--partition FRACTION@T..T2`. */
export function parsePartitionFlag (text: string): PartitionFault {
  const m = /^([^@]+)@(.+)\.\.(.+)$/.exec(text)
  if (m === null) throw new InvalidFieldError('--partition', text, 'expected FRACTION@T..T2')
  return span({ fraction: fraction(number(m[1], '--partition'), '--partition'), from: time(number(m[2], '--partition'), '--partition'), to: time(number(m[3], '--partition'), '--partition') }, '--partition')
}

/** `--loss-burst P@T..T2`. */
export function parseLossBurstFlag (text: string): LossBurst {
  const m = /^([^@]+)@(.+)\.\.(.+)$/.exec(text)
  if (m === null) throw new InvalidFieldError('--loss-burst', text, 'expected P@T..T2')
  return span({ loss: probability(number(m[1], '--loss-burst'), '--loss-burst'), from: time(number(m[2], '--loss-burst'), '--loss-burst'), to: time(number(m[3], '--loss-burst'), '--loss-burst') }, '--loss-burst')
}

/** `--slow FRACTION[:DELAY_MS]`. */
export function parseSlowFlag (text: string): SlowNodes {
  const [f, d] = text.split(':')
  return { fraction: fraction(number(f, '--slow'), '--slow'), delayMs: d === undefined ? DEFAULT_SLOW_DELAY_MS : nonNegative(number(d, '--slow'), '--slow') }
}

/** The scenario with every fault time checked against the run's duration (s). */
export function checkScenario (s: Scenario, duration: number): Scenario {
  const within = (t: number, field: string): void => {
    if (t > duration) throw new InvalidFieldError(field, t, `is after the end of the run (${duration} s)`)
  }
  s.crashes.forEach((c, i) => { within(c.at, `crash[${i}].at`); if (c.restartAt !== undefined) within(c.restartAt, `crash[${i}].restart`) })
  s.partitions.forEach((p, i) => { within(p.from, `partition[${i}].from`) })
  s.lossBursts.forEach((b, i) => { within(b.from, `loss_burst[${i}].from`) })
  s.instrumentations?.forEach((t, i) => { within(t, `instrumentations[${i}]`) })
  return s
}

// ---- field readers --------------------------------------------------------------------------------

function object (v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidFieldError(field, v, 'must be an object')
  return v as Record<string, unknown>
}

function only (o: Record<string, unknown>, field: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new InvalidFieldError(`${field}.${k}`, o[k], `unknown key (known: ${keys.join(', ')})`)
}

function list (v: unknown, field: string): unknown[] {
  if (v === undefined) return []
  if (!Array.isArray(v) || v.length > 1000) throw new InvalidFieldError(field, v, 'must be an array of at most 1000 items')
  return v
}

function number (text: string | undefined, field: string): number {
  const x = text === undefined || text.trim() === '' ? NaN : Number(text)
  if (!Number.isFinite(x)) throw new InvalidFieldError(field, text, 'not a number')
  return x
}

function fraction (v: unknown, field: string): number {
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw new InvalidFieldError(field, v, 'must be a fraction in (0, 1]')
  return v
}

function probability (v: unknown, field: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new InvalidFieldError(field, v, 'must be a probability in [0, 1]')
  return v
}

function time (v: unknown, field: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1e7)) throw new InvalidFieldError(field, v, 'must be a time in seconds, 0 .. 10^7')
  return v
}

function nonNegative (v: unknown, field: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1e7)) throw new InvalidFieldError(field, v, 'must be a number from 0 to 10^7')
  return v
}

function span<T extends { from: number, to: number }> (x: T, field: string): T {
  if (!(x.to > x.from)) throw new InvalidFieldError(field, x, 'must end after it starts')
  return x
}
