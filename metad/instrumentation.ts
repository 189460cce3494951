/**
 * Instrumentation definitions (CA-REFERENCE §2.4, §1.7): what a user asks the fleet to measure
 * (a metric, a predicate, a decomposition, a granularity, how long to keep data), validated once
 * into a frozen `InstrumentationDefinition`; plus CA's full instrumentation object for the API
 * and a canonical JSON encoding that peers can compare and hash.
 *
 * Properties, defaults and limits are CA's:
 *
 * | property         | default | rule                                               | PUT |
 * |------------------|---------|----------------------------------------------------|-----|
 * | module, stat     | -       | required; must name a metric of the catalog         | no  |
 * | predicate        | {}      | object or JSON string (metad/predicate.ts)          | no  |
 * | decomposition    | []      | array or comma-separated string (decomposition.ts)  | no  |
 * | granularity      | 1       | positive integer, 1 or a multiple of 5              | no  |
 * | retention-time   | 600     | integer >= 10 and <= 3600 x granularity             | yes |
 * | idle-max         | 3600    | integer 0..604800 (0: never reaped)                 | yes |
 * | persist-data     | false   | true/false or "true"/"false"                        | yes |
 * | enabled          | true    | must be true (or "true")                            | yes |
 *
 * Derived: value-dimension, value-arity (metad/decomposition.ts), value-scope (the metric's
 * `interval`), transformations (always {} for now: heatmesh has none).
 *
 * Numbers may be JSON numbers or strings of decimal digits (form parameters). Deliberate fixes
 * of CA, which read them with parseInt: a non-integer such as "10.5" or 10.5, or a string with
 * anything but digits and a leading minus (" 10", "1e3", "0x10"), is rejected ("not a positive
 * integer" for granularity, "not a number" for the others) instead of being truncated; and PUT
 * checks retention-time against the instrumentation's own granularity (CA used the request
 * body's, so without one in the body the 3600-points maximum went unchecked). idle-max 0 is
 * allowed: heatmesh has only CA's global (operator) scope, where CA allowed it too.
 * Unknown top-level keys are ignored, as CA did, but an object with more than
 * INSTRUMENTATION_MAX_KEYS keys is rejected whole.
 */
import { InvalidFieldError } from './errors.js'
import { parsePredicate, predicateToJson, type Predicate, type PredicateJson } from './predicate.js'
import { parseDecomposition, valueArity, valueDimension, type Decomposition, type ValueArity, type ValueDimension } from './decomposition.js'
import { findMetric } from './catalog/lookup.js'
import type { Catalog, ValueScope } from './catalog/types.js'

/** A transformation offered for an instrumentation (CA's reversedns, geolocate): none yet. */
export interface Transformation {
  readonly label: string
  readonly fields: readonly string[]
}

/** A validated instrumentation: the user-settable properties and those derived from them. */
export interface InstrumentationDefinition {
  readonly module: string
  readonly stat: string
  readonly predicate: Predicate
  readonly decomposition: Decomposition
  /** Seconds per data point. */
  readonly granularity: number
  /** Seconds of data kept. */
  readonly retentionTime: number
  /** Seconds without an API access after which the instrumentation is deleted; 0: never. */
  readonly idleMax: number
  readonly persistData: boolean
  readonly enabled: true
  readonly valueDimension: ValueDimension
  readonly valueArity: ValueArity
  readonly valueScope: ValueScope
  readonly transformations: Readonly<Record<string, Transformation>>
}

/** CA's defaults for the optional properties. */
export const INSTRUMENTATION_DEFAULTS = Object.freeze({
  granularity: 1,
  retentionTime: 600,
  idleMax: 3600,
  persistData: false
})
/** A granularity above 1 must be a multiple of this (CA's ca_granularity_min). */
export const GRANULARITY_MULTIPLE = 5
/** Smallest retention-time, in seconds. */
export const RETENTION_TIME_MIN = 10
/** Most data points kept: retention-time / granularity may not exceed this. */
export const DATAPOINTS_MAX = 3600
/** Largest idle-max, in seconds (one week). */
export const IDLE_MAX_MAX = 604800
/** Objects with more top-level keys than this are rejected before they are read. */
export const INSTRUMENTATION_MAX_KEYS = 64

type Props = ReadonlyMap<string, unknown>

/**
 * Validates a create request (`POST /ca/instrumentations`), or a clone request when `base` (the
 * source instrumentation) is given: then the source's properties are the defaults and the
 * request's properties override them, and the result is validated as a creation is. Throws
 * InvalidFieldError with CA's field names and reasons.
 *
 * @example
 * parseInstrumentation({ module: 'syscall', stat: 'syscalls', decomposition: 'latency' }, catalog)
 */
export function parseInstrumentation (input: unknown, catalog: Catalog, base?: InstrumentationDefinition): InstrumentationDefinition {
  const props = new Map<string, unknown>()
  if (base !== undefined) {
    for (const [key, value] of Object.entries(settableProperties(base))) props.set(key, value)
  }
  for (const [key, value] of ownEntries(input)) props.set(key, value)

  const module = requiredString(props, 'module')
  const stat = requiredString(props, 'stat')
  const metric = findMetric(catalog, module, stat)
  if (metric === undefined) throw new InvalidFieldError('module.stat', `${module}.${stat}`, 'not a valid module/stat pair')

  const rawPredicate = props.get('predicate')
  const predicate = rawPredicate === undefined || rawPredicate === null || rawPredicate === ''
    ? parsePredicate({}, metric)
    : parsePredicate(rawPredicate, metric)
  const rawDecomposition = props.get('decomposition')
  const decomposition = rawDecomposition === undefined || rawDecomposition === null
    ? parseDecomposition([], metric)
    : parseDecomposition(rawDecomposition, metric)

  let granularity: number = INSTRUMENTATION_DEFAULTS.granularity
  if (props.has('granularity')) {
    const raw = props.get('granularity')
    const g = parseInteger(raw)
    if (g === undefined || !Number.isSafeInteger(g) || g < 1) throw new InvalidFieldError('granularity', raw, 'not a positive integer')
    if (g !== 1 && g % GRANULARITY_MULTIPLE !== 0) throw new InvalidFieldError('granularity', raw, `must be divisible by ${GRANULARITY_MULTIPLE}`)
    granularity = g
  }

  const mutable = parseMutable(props, granularity, {
    retentionTime: INSTRUMENTATION_DEFAULTS.retentionTime,
    idleMax: INSTRUMENTATION_DEFAULTS.idleMax,
    persistData: INSTRUMENTATION_DEFAULTS.persistData
  })

  return Object.freeze({
    module,
    stat,
    predicate,
    decomposition,
    granularity,
    ...mutable,
    enabled: true,
    valueDimension: valueDimension(decomposition),
    valueArity: valueArity(decomposition, metric),
    valueScope: metric.interval,
    transformations: Object.freeze({})
  })
}

/**
 * Applies a modify request (`PUT /ca/instrumentations/:id`): only retention-time, idle-max,
 * persist-data and enabled (which must stay true) change; other keys are ignored, as CA did.
 * retention-time is checked against the instrumentation's own granularity.
 */
export function modifyInstrumentation (existing: InstrumentationDefinition, input: unknown): InstrumentationDefinition {
  const props = new Map(ownEntries(input))
  const mutable = parseMutable(props, existing.granularity, existing)
  return Object.freeze({ ...existing, ...mutable })
}

/** The mutable properties, from `props` where present, else from `current`. */
function parseMutable (props: Props, granularity: number, current: { readonly retentionTime: number, readonly idleMax: number, readonly persistData: boolean }): { retentionTime: number, idleMax: number, persistData: boolean } {
  if (props.has('enabled')) {
    const raw = props.get('enabled')
    if (raw !== true && raw !== 'true') throw new InvalidFieldError('enabled', raw, 'unsupported value')
  }

  let retentionTime = current.retentionTime
  if (props.has('retention-time')) {
    const raw = props.get('retention-time')
    const r = parseInteger(raw)
    if (r === undefined) throw new InvalidFieldError('retention-time', raw, 'not a number')
    if (r < RETENTION_TIME_MIN) throw new InvalidFieldError('retention-time', raw, `minimum is ${RETENTION_TIME_MIN}`)
    if (r / granularity > DATAPOINTS_MAX) throw new InvalidFieldError('retention-time', raw, `maximum for granularity "${granularity}" is ${DATAPOINTS_MAX * granularity}`)
    retentionTime = r
  }

  let idleMax = current.idleMax
  if (props.has('idle-max')) {
    const raw = props.get('idle-max')
    const i = parseInteger(raw)
    if (i === undefined) throw new InvalidFieldError('idle-max', raw, 'not a number')
    if (i < 0) throw new InvalidFieldError('idle-max', raw, 'minimum is 0')
    if (i > IDLE_MAX_MAX) throw new InvalidFieldError('idle-max', raw, `maximum is ${IDLE_MAX_MAX}`)
    idleMax = i + 0 /* -0 -> 0 */
  }

  let persistData = current.persistData
  if (props.has('persist-data')) {
    const raw = props.get('persist-data')
    if (raw === true || raw === 'true') persistData = true
    else if (raw === false || raw === 'false') persistData = false
    else throw new InvalidFieldError('persist-data', raw, 'must be a boolean')
  }

  return { retentionTime, idleMax, persistData }
}

/** The request's own entries; it must be an object with at most INSTRUMENTATION_MAX_KEYS keys. */
function ownEntries (input: unknown): Array<[string, unknown]> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidFieldError('instrumentation', input, 'must be an object')
  }
  const keys = Object.keys(input)
  if (keys.length > INSTRUMENTATION_MAX_KEYS) {
    throw new InvalidFieldError('instrumentation', `(an object with ${keys.length} keys)`, `too many properties: the limit is ${INSTRUMENTATION_MAX_KEYS}`)
  }
  return keys.map((k) => [k, (input as Record<string, unknown>)[k]])
}

function requiredString (props: Props, key: 'module' | 'stat'): string {
  const raw = props.get(key)
  if (raw === undefined || raw === null || raw === '') {
    throw new InvalidFieldError(key, undefined, `missing value for required field: "${key}"`)
  }
  if (typeof raw !== 'string') throw new InvalidFieldError(key, raw, 'not a string')
  return raw
}

/**
 * An integer from a JSON number or a string of decimal digits with an optional leading minus;
 * undefined for anything else (CA's parseInt accepted "10.5" as 10 and " 7x" as 7).
 */
function parseInteger (raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isInteger(raw) ? raw : undefined
  if (typeof raw === 'string' && /^-?[0-9]{1,20}$/.test(raw)) return Number(raw)
  return undefined
}

/** The user-settable properties in CA's form and names (what a request could have said). */
function settableProperties (def: InstrumentationDefinition): Record<string, unknown> {
  return {
    module: def.module,
    stat: def.stat,
    predicate: predicateToJson(def.predicate),
    decomposition: [...def.decomposition],
    granularity: def.granularity,
    'retention-time': def.retentionTime,
    'idle-max': def.idleMax,
    'persist-data': def.persistData,
    enabled: def.enabled
  }
}

/** CA's instrumentation object (`GET /ca/instrumentations/:id`), in CA's property order. */
export interface CaInstrumentation {
  module: string
  stat: string
  predicate: PredicateJson
  decomposition: string[]
  'value-dimension': ValueDimension
  'value-arity': ValueArity
  enabled: true
  'retention-time': number
  'idle-max': number
  transformations: Record<string, { label: string, fields: string[] }>
  nsources: number
  granularity: number
  'persist-data': boolean
  crtime: number
  'value-scope': ValueScope
  uri: string
  id: string
  uris: Array<{ uri: string, name: 'value_heatmap' | 'details_heatmap' | 'value_raw' }>
}

/** What the daemon knows about an instrumentation beyond its definition. */
export interface InstrumentationIdentity {
  /** Opaque id; percent-encoded in URIs. */
  readonly id: string
  /** Base of the API, default "/ca". */
  readonly uriBase?: string
  /** Creation time, ms since the epoch. */
  readonly crtime: number
  /** Number of nodes expected to report. */
  readonly nsources: number
}

/**
 * CA's full instrumentation object: `uri` is `<uriBase>/instrumentations/<id>`; `uris` lists,
 * for numeric arity, `value_heatmap` (.../value/heatmap/image) and `details_heatmap`
 * (.../value/heatmap/details), then always `value_raw` (.../value/raw).
 */
export function renderInstrumentation (def: InstrumentationDefinition, identity: InstrumentationIdentity): CaInstrumentation {
  if (typeof identity.id !== 'string' || identity.id === '') throw new Error('renderInstrumentation: id must be a non-empty string')
  const uri = `${identity.uriBase ?? '/ca'}/instrumentations/${encodeURIComponent(identity.id)}`
  const uris: CaInstrumentation['uris'] = []
  if (def.valueArity === 'numeric-decomposition') {
    uris.push({ uri: `${uri}/value/heatmap/image`, name: 'value_heatmap' })
    uris.push({ uri: `${uri}/value/heatmap/details`, name: 'details_heatmap' })
  }
  uris.push({ uri: `${uri}/value/raw`, name: 'value_raw' })
  return {
    module: def.module,
    stat: def.stat,
    predicate: predicateToJson(def.predicate),
    decomposition: [...def.decomposition],
    'value-dimension': def.valueDimension,
    'value-arity': def.valueArity,
    enabled: def.enabled,
    'retention-time': def.retentionTime,
    'idle-max': def.idleMax,
    transformations: Object.fromEntries(Object.entries(def.transformations).map(([k, t]) => [k, { label: t.label, fields: [...t.fields] }])),
    nsources: identity.nsources,
    granularity: def.granularity,
    'persist-data': def.persistData,
    crtime: identity.crtime,
    'value-scope': def.valueScope,
    uri,
    id: identity.id,
    uris
  }
}

/**
 * The canonical encoding of a definition: the user-settable properties in CA's names, as JSON
 * with object keys sorted (recursively) and no whitespace. Equal definitions give equal strings,
 * so peers can compare and hash them. The derived properties are left out: each peer derives
 * them from its own catalog (`parseInstrumentation(JSON.parse(text), catalog)` gives the
 * definition back).
 */
export function canonicalInstrumentationJson (def: InstrumentationDefinition): string {
  return canonicalJson(settableProperties(def))
}

function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('canonicalJson: non-finite number')
  return JSON.stringify(value)
}
