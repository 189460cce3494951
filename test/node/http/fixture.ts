/**
 * Test helpers for the values API: instrumentation definitions from the real catalog, values
 * built from CA's JSON, a ValueSource double that answers known slots (and records what it was
 * asked), and a real HTTP server on loopback serving the routes under test.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  catalog, distributionFromCa, LATENCY_BUCKETING, parseInstrumentation, type Distribution, type InstrumentationDefinition, type Value
} from '../../../metad/index.js'
import { Router } from '../../../node/http/router.js'
import { addValueRoutes, type ValueRoutesOptions } from '../../../node/http/values.js'
import type { SlotPoint, ValueSource } from '../../../node/http/value-source.js'

/** A validated definition from CA-style properties. */
export function definition (props: Record<string, unknown>): InstrumentationDefinition {
  return parseInstrumentation(props, catalog)
}

/** Latency by key: synthetic.ops decomposed by key and latency (dim 3, interval scope). */
export const BY_KEY = definition({ module: 'synthetic', stat: 'ops', decomposition: ['key', 'latency'] })
/** Latency alone (dim 2). */
export const LATENCY = definition({ module: 'synthetic', stat: 'ops', decomposition: ['latency'] })
/** Operations by key (discrete decomposition). */
export const KEYS = definition({ module: 'synthetic', stat: 'ops', decomposition: ['key'] })
/** Operations (scalar). */
export const OPS = definition({ module: 'synthetic', stat: 'ops' })
/** CPUs (scalar, point scope). */
export const CPUS = definition({ module: 'cpu', stat: 'cpus' })
/** Granularity 5. */
export const OPS_G5 = definition({ module: 'synthetic', stat: 'ops', granularity: 5 })

/** A latency distribution from `[lo, hi, count]` entries (buckets of CA's latency bucketing). */
export function dist (...entries: Array<[number, number, number]>): Distribution {
  return distributionFromCa(entries.map(([lo, hi, n]) => [[lo, hi], n]), LATENCY_BUCKETING)
}

export const scalar = (n: number): Value => ({ type: 'scalar', n })
export const keys = (o: Record<string, number>): Value => ({ type: 'decomposition', keys: new Map(Object.entries(o)), folded: 0 })
export const distribution = (d: Distribution): Value => ({ type: 'distribution', dist: d })
export const byKey = (o: Record<string, Distribution>, folded = 0): Value => ({ type: 'decomposed-distribution', bucketing: LATENCY_BUCKETING, keys: new Map(Object.entries(o)), folded })

/** A slot, complete by default (2 of 2 nodes). */
export function slot (second: number, value: Value, nsources = 2, minreporting = nsources, truncated?: boolean): SlotPoint {
  return { second, value, nsources, minreporting, ...(truncated === undefined ? {} : { truncated }) }
}

/** A ValueSource answering known slots, with a clock the test sets (seconds). */
export class SourceDouble implements ValueSource {
  readonly defs = new Map<string, { definition: InstrumentationDefinition, crtime: number }>()
  readonly slots = new Map<string, SlotPoint[]>()
  readonly fetches: Array<{ id: string, start: number, end: number }> = []
  readonly touched: string[] = []
  clock = 1_700_000_100.5
  /** Called at each fetch (after it is recorded), e.g. to complete a slot or move the clock. */
  onFetch?: (n: number) => void
  /** Makes fetch fail with this error. */
  failure?: Error
  expected?: number

  add (id: string, def: InstrumentationDefinition, slots: SlotPoint[], crtime = 0): this {
    this.defs.set(id, { definition: def, crtime })
    this.slots.set(id, slots)
    return this
  }

  definition = (id: string): { definition: InstrumentationDefinition, crtime: number } | undefined => this.defs.get(id)

  fetch = async (id: string, start: number, end: number, signal: AbortSignal): Promise<SlotPoint[]> => {
    signal.throwIfAborted()
    this.fetches.push({ id, start, end })
    this.onFetch?.(this.fetches.length)
    if (this.failure !== undefined) throw this.failure
    return (this.slots.get(id) ?? []).filter((s) => s.second >= start && s.second < end)
  }

  touch = (id: string): void => { this.touched.push(id) }
  now = (): number => this.clock
  nsources = (id: string): number => this.expected ?? (this.defs.has(id) ? 2 : 0)
}

/** A server on loopback with the values routes over `source`; closed at teardown. */
export async function serve (t: { teardown: (fn: () => Promise<void>) => void }, source: ValueSource, options: ValueRoutesOptions = {}): Promise<string> {
  const router = addValueRoutes(new Router(), source, { pollMs: 1, ...options })
  const server = createServer((req, res) => { void router.handle(req, res) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => { resolve() }))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** GET `path`; the status, headers and parsed JSON body (or the bytes for a non-JSON answer). */
export async function get (base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number, headers: Headers, body: any, bytes: Buffer }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(base + path, { headers, signal: AbortSignal.timeout(10_000) })
  const bytes = Buffer.from(await res.arrayBuffer())
  const json = (res.headers.get('content-type') ?? '').startsWith('application/json')
  return { status: res.status, headers: res.headers, body: json ? JSON.parse(bytes.toString('utf8')) : undefined, bytes }
}
