/**
 * validateCatalog: checks a raw catalog (modules, types, fields, metrics) and resolves it into a
 * `Catalog` whose metrics carry their fields' types, arities and bucketings. It is the only
 * thing that runs when the catalog loads.
 *
 * Rules (each has a test with an input that breaks it):
 * - the catalog is an object with arrays `modules`, `types`, `fields`, `metrics`, whose entries
 *   are objects without unknown properties (a typo such as `intreval` is an error, not ignored);
 * - names are identifiers `[a-z][a-z0-9_]*` (at most 64 characters), unique within their kind
 *   (metrics: `module.stat` unique); labels and descriptions are non-empty strings;
 * - a type has arity `discrete` or `numeric` and a string `unit` ("" for none); `abbr`, `base`
 *   (2 or 10, needs a unit), `power` (integer, needs `base`), `minmax`, `integer` and `bucketing`
 *   are for numeric types only, and a numeric type must have a bucketing;
 * - a bucketing is a valid llquantize (integer base >= 2, 0 <= low <= high, nsteps >= base and a
 *   multiple of base, as DTrace requires, and base^(high+1) <= 2^53 so every bucket bound is an
 *   exact double) or lquantize (integers low < high, step >= 1 dividing high - low);
 * - a field names an existing type;
 * - a metric names an existing module, has exactly one of `unit` (non-empty string) or `type`
 *   (an existing numeric type), `interval` `interval` or `point`, a non-empty list of existing,
 *   distinct fields, and bucketing overrides only for its own numeric fields.
 * All problems are collected and reported together in one error (ECA_INVAL).
 */
import { HeatmeshError } from '../errors.js'
import type { Bucketing } from '../quantize.js'
import type {
  Catalog, FieldDescription, FieldTypeDescription, Metric, MetricField, ModuleDescription
} from './types.js'

const NAME = /^[a-z][a-z0-9_]{0,63}$/
const MODULE_KEYS = new Set(['name', 'label'])
const TYPE_KEYS = new Set(['name', 'arity', 'unit', 'abbr', 'base', 'power', 'minmax', 'integer', 'bucketing'])
const NUMERIC_ONLY_TYPE_KEYS = ['abbr', 'base', 'power', 'minmax', 'integer', 'bucketing'] as const
const FIELD_KEYS = new Set(['name', 'label', 'type'])
const METRIC_KEYS = new Set(['module', 'stat', 'label', 'unit', 'type', 'interval', 'fields', 'bucketing', 'description'])

type Raw = Readonly<Record<string, unknown>>

function isObject (value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isNonEmptyString (value: unknown): value is string {
  return typeof value === 'string' && value.length > 0
}

/**
 * Checks a raw catalog and returns it resolved and frozen; throws a HeatmeshError (ECA_INVAL)
 * listing every problem, each naming the module, type, field or metric at fault.
 */
export function validateCatalog (raw: unknown): Catalog {
  const problems: string[] = []
  const problem = (where: string, what: string): void => { problems.push(`${where}: ${what}`) }

  if (!isObject(raw)) throw catalogError(['catalog: must be an object with arrays "modules", "types", "fields" and "metrics"'])
  const groups: Record<'modules' | 'types' | 'fields' | 'metrics', readonly unknown[]> = { modules: [], types: [], fields: [], metrics: [] }
  for (const key of ['modules', 'types', 'fields', 'metrics'] as const) {
    const group = raw[key]
    if (!Array.isArray(group)) problem('catalog', `"${key}" must be an array`)
    else groups[key] = group
  }
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(groups, key)) problem('catalog', `unknown property "${key}"`)
  }
  if (problems.length > 0) throw catalogError(problems)

  /* Entries: shape, known keys, a name, no duplicates. */
  const entries = (group: 'modules' | 'types' | 'fields' | 'metrics', kind: string, allowed: ReadonlySet<string>, nameOf: (e: Raw) => unknown, unnamed: string): Array<[string, Raw]> => {
    const out: Array<[string, Raw]> = []
    const seen = new Set<string>()
    groups[group].forEach((entry, i) => {
      if (!isObject(entry)) { problem(`${group}[${i}]`, 'must be an object'); return }
      const name = nameOf(entry)
      const where = typeof name === 'string' ? `${kind} "${name}"` : `${group}[${i}]`
      for (const key of Object.keys(entry)) {
        if (!allowed.has(key)) problem(where, `unknown property "${key}"`)
      }
      if (typeof name !== 'string') { problem(where, unnamed); return }
      if (seen.has(name)) { problem(where, 'defined more than once'); return }
      seen.add(name)
      out.push([where, entry])
    })
    return out
  }
  const checkName = (where: string, label: string, value: unknown): void => {
    if (typeof value !== 'string') problem(where, `"${label}" must be a string`)
    else if (!NAME.test(value)) problem(where, `"${label}" must match ${String(NAME)}`)
  }
  const checkLabel = (where: string, key: string, value: unknown): void => {
    if (!isNonEmptyString(value)) problem(where, `"${key}" must be a non-empty string`)
  }

  /* Modules. */
  const modules = new Map<string, ModuleDescription>()
  for (const [where, m] of entries('modules', 'module', MODULE_KEYS, (e) => e['name'], '"name" must be a string')) {
    checkName(where, 'name', m['name'])
    checkLabel(where, 'label', m['label'])
    modules.set(m['name'] as string, { name: m['name'] as string, label: m['label'] as string })
  }

  /* Types. */
  const types = new Map<string, FieldTypeDescription>()
  for (const [where, t] of entries('types', 'type', TYPE_KEYS, (e) => e['name'], '"name" must be a string')) {
    checkName(where, 'name', t['name'])
    const arity = t['arity']
    if (arity !== 'discrete' && arity !== 'numeric') problem(where, '"arity" must be "discrete" or "numeric"')
    if (typeof t['unit'] !== 'string') problem(where, '"unit" must be a string ("" for none)')
    if (arity === 'discrete') {
      for (const key of NUMERIC_ONLY_TYPE_KEYS) {
        if (key in t) problem(where, `"${key}" is only for numeric types`)
      }
    } else if (arity === 'numeric') {
      if ('abbr' in t && !isNonEmptyString(t['abbr'])) problem(where, '"abbr" must be a non-empty string')
      if ('base' in t) {
        if (t['base'] !== 2 && t['base'] !== 10) problem(where, '"base" must be 2 or 10')
        if (!isNonEmptyString(t['unit'])) problem(where, 'must specify "unit" with "base"')
      }
      if ('power' in t) {
        if (!Number.isSafeInteger(t['power'])) problem(where, '"power" must be an integer')
        if (!('base' in t)) problem(where, 'must specify "base" with "power"')
      }
      if ('minmax' in t && !(typeof t['minmax'] === 'number' && Number.isFinite(t['minmax']))) problem(where, '"minmax" must be a finite number')
      if ('integer' in t && typeof t['integer'] !== 'boolean') problem(where, '"integer" must be a boolean')
      if (!('bucketing' in t)) problem(where, 'a numeric type must have a "bucketing"')
      else checkBucketing(t['bucketing'], (what) => problem(where, `"bucketing": ${what}`))
    }
    types.set(t['name'] as string, t as unknown as FieldTypeDescription)
  }

  /* Fields. */
  const fields = new Map<string, FieldDescription>()
  for (const [where, f] of entries('fields', 'field', FIELD_KEYS, (e) => e['name'], '"name" must be a string')) {
    checkName(where, 'name', f['name'])
    checkLabel(where, 'label', f['label'])
    if (typeof f['type'] !== 'string') problem(where, '"type" must be a string')
    else if (!types.has(f['type'])) problem(where, `no such type: "${f['type']}"`)
    fields.set(f['name'] as string, { name: f['name'] as string, label: f['label'] as string, type: f['type'] as string })
  }

  /* Metrics. */
  const metricName = (e: Raw): unknown =>
    typeof e['module'] === 'string' && typeof e['stat'] === 'string' ? `${e['module']}.${e['stat']}` : undefined
  const resolved: Array<[string, Raw]> = []
  for (const [where, m] of entries('metrics', 'metric', METRIC_KEYS, metricName, '"module" and "stat" must be strings')) {
    if (!modules.has(m['module'] as string)) problem(where, `no such module: "${String(m['module'])}"`)
    checkName(where, 'stat', m['stat'])
    checkLabel(where, 'label', m['label'])
    checkLabel(where, 'description', m['description'])
    const hasUnit = 'unit' in m && m['unit'] !== undefined
    const hasType = 'type' in m && m['type'] !== undefined
    if (hasUnit === hasType) problem(where, 'exactly one of "unit" or "type" must be specified')
    if (hasUnit && !isNonEmptyString(m['unit'])) problem(where, '"unit" must be a non-empty string')
    if (hasType) {
      const t = typeof m['type'] === 'string' ? types.get(m['type']) : undefined
      if (t === undefined) problem(where, `no such type: "${String(m['type'])}"`)
      else if (t.arity !== 'numeric') problem(where, `"type" must be a numeric type, and "${t.name}" is ${t.arity}`)
    }
    if (m['interval'] !== 'interval' && m['interval'] !== 'point') problem(where, '"interval" must be "interval" or "point"')
    const list = m['fields']
    if (!Array.isArray(list) || list.length === 0) {
      problem(where, '"fields" must be a non-empty array of field names')
    } else {
      const seen = new Set<unknown>()
      for (const f of list as unknown[]) {
        if (typeof f !== 'string') problem(where, `field names must be strings, got ${JSON.stringify(f) ?? String(f)}`)
        else if (!fields.has(f)) problem(where, `no such field: "${f}"`)
        if (seen.has(f)) problem(where, `field "${String(f)}" listed more than once`)
        seen.add(f)
      }
    }
    if ('bucketing' in m) {
      const overrides = m['bucketing']
      if (!isObject(overrides)) {
        problem(where, '"bucketing" must be an object mapping numeric fields to bucketings')
      } else {
        for (const [f, b] of Object.entries(overrides)) {
          const fd = fields.get(f)
          if (!Array.isArray(list) || !list.includes(f)) problem(where, `"bucketing" names "${f}", which is not a field of this metric`)
          else if (fd !== undefined && types.get(fd.type)?.arity !== 'numeric') problem(where, `"bucketing" names "${f}", which is not numeric`)
          checkBucketing(b, (what) => problem(where, `"bucketing" of "${f}": ${what}`))
        }
      }
    }
    resolved.push([where, m])
  }

  if (problems.length > 0) throw catalogError(problems)

  /* Resolution: everything is valid from here on. */
  const metrics = new Map<string, Metric>()
  const sorted = resolved.map(([, m]) => m).sort((a, b) => compare(`${String(a['module'])}.${String(a['stat'])}`, `${String(b['module'])}.${String(b['stat'])}`))
  for (const m of sorted) {
    const overrides = (m['bucketing'] ?? {}) as Readonly<Record<string, Bucketing>>
    const metricFields = (m['fields'] as readonly string[]).map((name): MetricField => {
      const fd = fields.get(name) as FieldDescription
      const t = types.get(fd.type) as FieldTypeDescription
      if (t.arity === 'discrete') return { name, label: fd.label, type: t.name, arity: 'discrete' }
      const bucketing = Object.hasOwn(overrides, name) ? overrides[name] as Bucketing : t.bucketing as Bucketing
      return { name, label: fd.label, type: t.name, arity: 'numeric', integer: t.integer === true, bucketing: { ...bucketing } }
    })
    const base = {
      name: `${String(m['module'])}.${String(m['stat'])}`,
      module: m['module'] as string,
      stat: m['stat'] as string,
      label: m['label'] as string,
      interval: m['interval'] as Metric['interval'],
      description: m['description'] as string,
      fields: metricFields
    }
    const metric: Metric = m['unit'] !== undefined ? { ...base, unit: m['unit'] as string } : { ...base, type: m['type'] as string }
    metrics.set(metric.name, deepFreeze(metric))
  }
  const copy = <T extends object>(value: T): T => deepFreeze(structuredClone(value))
  return Object.freeze({
    modules: new Map([...modules].map(([k, v]) => [k, copy(v)])),
    types: new Map([...types].map(([k, v]) => [k, copy(v)])),
    fields: new Map([...fields].map(([k, v]) => [k, copy(v)])),
    metrics
  })
}

/** Checks a Bucketing's shape and DTrace's constraints; reports each problem through `report`. */
function checkBucketing (b: unknown, report: (what: string) => void): void {
  if (!isObject(b)) { report('must be an object'); return }
  const int = (key: string): number | undefined => {
    const v = b[key]
    if (!Number.isSafeInteger(v)) { report(`"${key}" must be an integer`); return undefined }
    return v as number
  }
  if (b['kind'] === 'llquantize') {
    for (const key of Object.keys(b)) if (!['kind', 'base', 'low', 'high', 'nsteps'].includes(key)) report(`unknown property "${key}"`)
    const base = int('base')
    const low = int('low')
    const high = int('high')
    const nsteps = int('nsteps')
    if (base === undefined || low === undefined || high === undefined || nsteps === undefined) return
    if (base < 2) report('llquantize base must be at least 2')
    if (low < 0) report('llquantize low must be at least 0')
    if (high < low) report('llquantize high must be at least low')
    if (nsteps < base || nsteps % base !== 0) report('llquantize nsteps must be a multiple of base (DTrace requires base to divide the steps per magnitude)')
    if (base >= 2 && high >= low && low >= 0 && base ** (high + 1) > 2 ** 53) report('llquantize base^(high+1) must not exceed 2^53, so that bucket bounds are exact')
  } else if (b['kind'] === 'lquantize') {
    for (const key of Object.keys(b)) if (!['kind', 'low', 'high', 'step'].includes(key)) report(`unknown property "${key}"`)
    const low = int('low')
    const high = int('high')
    const step = int('step')
    if (low === undefined || high === undefined || step === undefined) return
    if (high <= low) report('lquantize high must be greater than low')
    else if (step < 1 || (high - low) % step !== 0) report('lquantize step must be a positive divisor of high - low')
  } else {
    report('"kind" must be "llquantize" or "lquantize"')
  }
}

function catalogError (problems: readonly string[]): HeatmeshError {
  const n = problems.length
  return new HeatmeshError('ECA_INVAL', `invalid catalog: ${n} problem${n === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p}`).join('\n')}`)
}

function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
