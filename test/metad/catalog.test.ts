/**
 * The metric catalog: its content, its loading (sorted, complete, plain data), the validation
 * rules (each broken by an input), the lookups and CA's `GET /ca` payload.
 */
import test from 'ava'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  caMetadata, catalog, catalogDescription, findField, findMetric, findType, metricDescriptions,
  metricField, validateCatalog
} from '../../metad/catalog/index.js'
import type { CatalogDescription, Metric } from '../../metad/catalog/index.js'
import { HeatmeshError } from '../../metad/errors.js'
import { LATENCY_BUCKETING } from '../../metad/quantize.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const metricsDir = join(root, 'metad/catalog/metrics')

function metric (name: string): Metric {
  const m = catalog.metrics.get(name)
  if (m === undefined) throw new Error(`no metric ${name}`)
  return m
}

/* Content. */

const expected: Record<string, { interval: 'interval' | 'point', unit?: string, type?: string, fields: string[] }> = {
  'cpu.cpus': { interval: 'point', unit: 'CPUs', fields: ['hostname', 'cpu', 'utilization'] },
  'cpu.usage': { interval: 'point', unit: 'percent of 1 CPU', fields: ['hostname', 'cpumode'] },
  'node.eventloop_delay': { interval: 'interval', unit: 'samples', fields: ['hostname', 'latency'] },
  'node.gc_ops': { interval: 'interval', unit: 'operations', fields: ['hostname', 'gctype', 'latency'] },
  'proc.forks': { interval: 'interval', unit: 'processes', fields: ['hostname', 'cgroup', 'execname', 'pid'] },
  'tcp.retransmits': { interval: 'interval', unit: 'segments', fields: ['hostname', 'raddr', 'rport'] },
  'cpu.runqueue_latency': { interval: 'interval', unit: 'wakeups', fields: ['hostname', 'cgroup', 'execname', 'pid', 'cpu', 'latency'] },
  'cpu.thread_executions': { interval: 'interval', unit: 'operations', fields: ['hostname', 'cgroup', 'execname', 'pid', 'leavereason', 'runtime'] },
  'disk.physio_bytes': { interval: 'interval', type: 'size', fields: ['hostname', 'disk', 'optype'] },
  'disk.physio_ops': { interval: 'interval', unit: 'operations', fields: ['hostname', 'disk', 'optype', 'execname', 'latency', 'size'] },
  'fs.fsync_ops': { interval: 'interval', unit: 'operations', fields: ['hostname', 'cgroup', 'execname', 'pid', 'latency'] },
  'memory.pressure': { interval: 'point', type: 'percent', fields: ['hostname', 'resource', 'window'] },
  'memory.usage': { interval: 'point', type: 'size', fields: ['hostname', 'memtype'] },
  'nic.bytes': { interval: 'interval', type: 'size', fields: ['hostname', 'nic', 'direction'] },
  'nic.packets': { interval: 'interval', unit: 'packets', fields: ['hostname', 'nic', 'direction'] },
  'node.httpd_ops': { interval: 'interval', unit: 'operations', fields: ['hostname', 'http_method', 'http_path', 'http_status', 'latency'] },
  'proc.execs': { interval: 'interval', unit: 'processes', fields: ['hostname', 'cgroup', 'execname', 'pid', 'ppid', 'pexecname'] },
  'proc.exits': { interval: 'interval', unit: 'processes', fields: ['hostname', 'cgroup', 'execname', 'pid', 'ppid', 'pexecname', 'walltime'] },
  'synthetic.ops': { interval: 'interval', unit: 'operations', fields: ['hostname', 'key', 'latency'] },
  'syscall.syscalls': { interval: 'interval', unit: 'syscalls', fields: ['hostname', 'cgroup', 'execname', 'pid', 'syscall', 'latency'] },
  'tcp.accepts': { interval: 'interval', unit: 'accepts', fields: ['hostname', 'execname', 'pid', 'raddr', 'rport', 'latency'] },
  'tcp.connects': { interval: 'interval', unit: 'connects', fields: ['hostname', 'execname', 'pid', 'raddr', 'rport', 'latency'] }
}

test('the catalog has exactly the expected metrics, in sorted order', (t) => {
  t.deepEqual([...catalog.metrics.keys()], Object.keys(expected).sort())
})

for (const [name, want] of Object.entries(expected)) {
  test(`${name} has its scope, unit or type, and fields`, (t) => {
    const m = metric(name)
    t.is(m.interval, want.interval)
    t.is(m.unit, want.unit)
    t.is(m.type, want.type)
    t.deepEqual(m.fields.map((f) => f.name), want.fields)
  })
}

test('every metric has hostname, a label and a one-sentence description', (t) => {
  for (const m of catalog.metrics.values()) {
    t.true(m.fields.some((f) => f.name === 'hostname'), m.name)
    t.true(m.label.length > 0, m.name)
    t.regex(m.description, /^[A-Z].*\.$/, m.name)
  }
})

test('pids, ports, cpus and http statuses are discrete strings, as in CA', (t) => {
  for (const name of ['pid', 'ppid', 'rport', 'cpu', 'http_status', 'hostname', 'execname']) {
    t.is(findField(catalog, name)?.type, 'string', name)
  }
})

test('CA\'s field labels are kept where CA had the field', (t) => {
  const ca: Record<string, string> = {
    hostname: 'server hostname', execname: 'application name', pid: 'process identifier', ppid: 'parent process identifier',
    pexecname: 'parent application name', latency: 'latency', runtime: 'time on CPU', leavereason: 'reason leaving CPU',
    cpu: 'CPU identifier', utilization: 'utilization', disk: 'device name', optype: 'operation type', size: 'size',
    raddr: 'remote IP address', rport: 'remote TCP port', nic: 'NIC name', direction: 'sent/received',
    http_method: 'method', http_path: 'URL path', syscall: 'syscall'
  }
  for (const [name, label] of Object.entries(ca)) t.is(findField(catalog, name)?.label, label, name)
})

test('the types are CA\'s (§3.1)', (t) => {
  const show = (name: string): unknown => {
    const ty = findType(catalog, name)
    return ty === undefined ? undefined : { name: ty.name, arity: ty.arity, unit: ty.unit, abbr: ty.abbr, base: ty.base, power: ty.power, minmax: ty.minmax }
  }
  t.deepEqual(show('string'), { name: 'string', arity: 'discrete', unit: '', abbr: undefined, base: undefined, power: undefined, minmax: undefined })
  t.deepEqual(show('number'), { name: 'number', arity: 'numeric', unit: '', abbr: undefined, base: undefined, power: undefined, minmax: undefined })
  t.deepEqual(show('percent'), { name: 'percent', arity: 'numeric', unit: 'percent', abbr: '%', base: undefined, power: undefined, minmax: 100 })
  t.deepEqual(show('size'), { name: 'size', arity: 'numeric', unit: 'bytes', abbr: 'B', base: 2, power: undefined, minmax: undefined })
  t.deepEqual(show('time'), { name: 'time', arity: 'numeric', unit: 'seconds', abbr: 's', base: 10, power: -9, minmax: undefined })
  t.deepEqual(show('subsecond'), { name: 'subsecond', arity: 'numeric', unit: 'seconds', abbr: 's', base: 10, power: -3, minmax: undefined })
})

test('numeric fields carry their bucketing: type defaults and per-metric overrides', (t) => {
  const bucketing = (m: string, f: string): unknown => {
    const field = metricField(metric(m), f)
    return field?.arity === 'numeric' ? field.bucketing : undefined
  }
  for (const m of catalog.metrics.values()) {
    for (const f of m.fields) {
      if (f.arity === 'numeric') t.truthy(f.bucketing, `${m.name}.${f.name}`)
      else t.false('bucketing' in f, `${m.name}.${f.name}`)
    }
  }
  t.deepEqual(bucketing('syscall.syscalls', 'latency'), LATENCY_BUCKETING)
  t.deepEqual(bucketing('cpu.thread_executions', 'runtime'), LATENCY_BUCKETING)
  t.deepEqual(bucketing('disk.physio_ops', 'latency'), LATENCY_BUCKETING)
  t.deepEqual(bucketing('disk.physio_ops', 'size'), { kind: 'llquantize', base: 10, low: 3, high: 11, nsteps: 100 })
  t.deepEqual(bucketing('proc.exits', 'walltime'), { kind: 'llquantize', base: 10, low: 7, high: 14, nsteps: 100 })
  t.deepEqual(bucketing('cpu.cpus', 'utilization'), { kind: 'lquantize', low: 0, high: 101, step: 1 })
  t.is(bucketing('syscall.syscalls', 'execname'), undefined)
})

test('integer types say so; percent does not', (t) => {
  const integer = (m: string, f: string): unknown => {
    const field = metricField(metric(m), f)
    return field?.arity === 'numeric' ? field.integer : undefined
  }
  t.true(integer('syscall.syscalls', 'latency'))
  t.true(integer('disk.physio_ops', 'size'))
  t.false(integer('cpu.cpus', 'utilization'))
})

test('the validated catalog is deeply frozen', (t) => {
  const m = metric('syscall.syscalls')
  t.true(Object.isFrozen(m))
  t.true(Object.isFrozen(m.fields))
  t.true(Object.isFrozen(m.fields[0]))
  const latency = metricField(m, 'latency')
  t.true(latency?.arity === 'numeric' && Object.isFrozen(latency.bucketing))
  t.true(Object.isFrozen(catalog))
  t.true(Object.isFrozen(findType(catalog, 'time')))
})

/* Loading. */

test('the index imports every metric file, in sorted order', (t) => {
  const files = readdirSync(metricsDir).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''))
  const index = readFileSync(join(root, 'metad/catalog/index.ts'), 'utf8')
  const imported = [...index.matchAll(/from '\.\/metrics\/([^']+)\.js'/g)].map((m) => m[1])
  t.deepEqual(imported, [...files].sort())
  t.deepEqual(imported, [...imported].sort())
  t.is(metricDescriptions.length, files.length)
})

test('each metric file is one plain object literal named after its metric, and imports only types', (t) => {
  for (const file of readdirSync(metricsDir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(metricsDir, file), 'utf8')
    const imports = [...text.matchAll(/^import .*$/gm)].map((m) => m[0])
    t.deepEqual(imports, ["import type { MetricDescription } from '../types.js'"], file)
    t.regex(text, /^export default \{$/m, file)
    t.regex(text, /^\} as const satisfies MetricDescription\n$/m, file)
    t.notRegex(text, /=>|\bfunction\s*\(|\bnew\s+[A-Z]|\bprocess\.|require\(/, file)
  }
  for (const d of metricDescriptions) {
    t.true(readdirSync(metricsDir).includes(`${d.module}.${d.stat}.ts`), `${d.module}.${d.stat}`)
  }
})

test('metric descriptions are pure data (strings, numbers, arrays, objects)', (t) => {
  const impure: string[] = []
  const check = (v: unknown, where: string): void => {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return
    if (Array.isArray(v)) { v.forEach((x, i) => { check(x, `${where}[${i}]`) }); return }
    if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
      for (const [k, x] of Object.entries(v)) check(x, `${where}.${k}`)
      return
    }
    impure.push(where)
  }
  metricDescriptions.forEach((d, i) => { check(d, `metrics[${i}]`) })
  t.deepEqual(impure, [])
})

/* Validation. */

function mini (): { modules: unknown[], types: unknown[], fields: unknown[], metrics: unknown[] } {
  return {
    modules: [{ name: 'm', label: 'M' }],
    types: [
      { name: 'string', arity: 'discrete', unit: '' },
      { name: 'time', arity: 'numeric', unit: 'seconds', abbr: 's', base: 10, power: -9, integer: true, bucketing: { kind: 'llquantize', base: 10, low: 3, high: 11, nsteps: 100 } }
    ],
    fields: [
      { name: 'hostname', label: 'server hostname', type: 'string' },
      { name: 'latency', label: 'latency', type: 'time' }
    ],
    metrics: [
      { module: 'm', stat: 'ops', label: 'ops', unit: 'operations', interval: 'interval', fields: ['hostname', 'latency'], description: 'Ops.' }
    ]
  }
}

test('validateCatalog accepts the minimal catalog', (t) => {
  const c = validateCatalog(mini())
  t.deepEqual([...c.metrics.keys()], ['m.ops'])
})

type Mini = ReturnType<typeof mini>
const set = (obj: unknown, key: string, value: unknown): void => { (obj as Record<string, unknown>)[key] = value }
const del = (obj: unknown, key: string): void => { delete (obj as Record<string, unknown>)[key] }

const breaking: Array<[string, (c: Mini) => unknown, string]> = [
  ['a catalog that is not an object', () => 42, 'catalog: must be an object'],
  ['a group that is not an array', (c) => ({ ...c, modules: {} }), 'catalog: "modules" must be an array'],
  ['an unknown top-level property', (c) => ({ ...c, extra: [] }), 'catalog: unknown property "extra"'],
  ['"constructor" as a top-level property', (c) => ({ ...c, constructor: [] }), 'catalog: unknown property "constructor"'],
  ['an entry that is not an object', (c) => { c.fields.push('latency'); return c }, 'fields[2]: must be an object'],
  ['an entry without a name', (c) => { c.fields.push({ label: 'x', type: 'string' }); return c }, 'fields[2]: "name" must be a string'],
  ['a misspelt metric property', (c) => { set(c.metrics[0], 'intreval', 'point'); return c }, 'metric "m.ops": unknown property "intreval"'],
  ['a duplicate module', (c) => { c.modules.push({ name: 'm', label: 'M2' }); return c }, 'module "m": defined more than once'],
  ['a duplicate type', (c) => { c.types.push({ name: 'string', arity: 'discrete', unit: '' }); return c }, 'type "string": defined more than once'],
  ['a duplicate field', (c) => { c.fields.push({ name: 'latency', label: 'l', type: 'time' }); return c }, 'field "latency": defined more than once'],
  ['a duplicate metric', (c) => { c.metrics.push({ ...(c.metrics[0] as object) }); return c }, 'metric "m.ops": defined more than once'],
  ['a module name that is not an identifier', (c) => { set(c.modules[0], 'name', 'My Module'); return c }, 'module "My Module": "name" must match'],
  ['a field name that is not an identifier', (c) => { c.fields.push({ name: 'Exec-Name', label: 'x', type: 'string' }); return c }, 'field "Exec-Name": "name" must match'],
  ['a stat that is not an identifier', (c) => { set(c.metrics[0], 'stat', 'o.p'); return c }, 'metric "m.o.p": "stat" must match'],
  ['a module without a label', (c) => { del(c.modules[0], 'label'); return c }, 'module "m": "label" must be a non-empty string'],
  ['a field with an empty label', (c) => { set(c.fields[0], 'label', ''); return c }, 'field "hostname": "label" must be a non-empty string'],
  ['a type with an unknown arity', (c) => { set(c.types[0], 'arity', 'scalar'); return c }, 'type "string": "arity" must be "discrete" or "numeric"'],
  ['a type without a unit', (c) => { del(c.types[0], 'unit'); return c }, 'type "string": "unit" must be a string'],
  ['a discrete type with a bucketing', (c) => { set(c.types[0], 'bucketing', { kind: 'lquantize', low: 0, high: 10, step: 1 }); return c }, 'type "string": "bucketing" is only for numeric types'],
  ['a discrete type with an abbreviation', (c) => { set(c.types[0], 'abbr', 'x'); return c }, 'type "string": "abbr" is only for numeric types'],
  ['a numeric type without a bucketing', (c) => { del(c.types[1], 'bucketing'); return c }, 'type "time": a numeric type must have a "bucketing"'],
  ['a base other than 2 or 10', (c) => { set(c.types[1], 'base', 16); return c }, 'type "time": "base" must be 2 or 10'],
  ['a base without a unit', (c) => { set(c.types[1], 'unit', ''); return c }, 'type "time": must specify "unit" with "base"'],
  ['a power without a base', (c) => { del(c.types[1], 'base'); return c }, 'type "time": must specify "base" with "power"'],
  ['a fractional power', (c) => { set(c.types[1], 'power', -9.5); return c }, 'type "time": "power" must be an integer'],
  ['a minmax that is not a number', (c) => { set(c.types[1], 'minmax', '100'); return c }, 'type "time": "minmax" must be a finite number'],
  ['an integer flag that is not a boolean', (c) => { set(c.types[1], 'integer', 'yes'); return c }, 'type "time": "integer" must be a boolean'],
  ['a bucketing of unknown kind', (c) => { set(c.types[1], 'bucketing', { kind: 'quantize' }); return c }, 'type "time": "bucketing": "kind" must be "llquantize" or "lquantize"'],
  ['an llquantize whose nsteps is not a multiple of base', (c) => { set(c.types[1], 'bucketing', { kind: 'llquantize', base: 10, low: 3, high: 11, nsteps: 25 }); return c }, 'llquantize nsteps must be a multiple of base'],
  ['an llquantize with high below low', (c) => { set(c.types[1], 'bucketing', { kind: 'llquantize', base: 10, low: 5, high: 4, nsteps: 100 }); return c }, 'llquantize high must be at least low'],
  ['an llquantize with base 1', (c) => { set(c.types[1], 'bucketing', { kind: 'llquantize', base: 1, low: 0, high: 4, nsteps: 100 }); return c }, 'llquantize base must be at least 2'],
  ['an llquantize past 2^53', (c) => { set(c.types[1], 'bucketing', { kind: 'llquantize', base: 10, low: 7, high: 15, nsteps: 100 }); return c }, 'llquantize base^(high+1) must not exceed 2^53'],
  ['an llquantize with a fractional parameter', (c) => { set(c.types[1], 'bucketing', { kind: 'llquantize', base: 10, low: 3, high: 11.5, nsteps: 100 }); return c }, '"high" must be an integer'],
  ['a bucketing with an unknown property', (c) => { set(c.types[1], 'bucketing', { kind: 'llquantize', base: 10, low: 3, high: 11, nsteps: 100, factor: 2 }); return c }, 'unknown property "factor"'],
  ['an lquantize whose step does not divide the range', (c) => { set(c.types[1], 'bucketing', { kind: 'lquantize', low: 0, high: 1000, step: 7 }); return c }, 'lquantize step must be a positive divisor of high - low'],
  ['an lquantize with high not above low', (c) => { set(c.types[1], 'bucketing', { kind: 'lquantize', low: 10, high: 10, step: 1 }); return c }, 'lquantize high must be greater than low'],
  ['a field of an unknown type', (c) => { set(c.fields[1], 'type', 'duration'); return c }, 'field "latency": no such type: "duration"'],
  ['a metric of an unknown module', (c) => { set(c.metrics[0], 'module', 'q'); return c }, 'metric "q.ops": no such module: "q"'],
  ['a metric with an unknown field', (c) => { set(c.metrics[0], 'fields', ['hostname', 'execname']); return c }, 'metric "m.ops": no such field: "execname"'],
  ['a metric with both unit and type', (c) => { set(c.metrics[0], 'type', 'time'); return c }, 'metric "m.ops": exactly one of "unit" or "type" must be specified'],
  ['a metric with neither unit nor type', (c) => { del(c.metrics[0], 'unit'); return c }, 'metric "m.ops": exactly one of "unit" or "type" must be specified'],
  ['a metric with an empty unit', (c) => { set(c.metrics[0], 'unit', ''); return c }, 'metric "m.ops": "unit" must be a non-empty string'],
  ['a metric of an unknown type', (c) => { del(c.metrics[0], 'unit'); set(c.metrics[0], 'type', 'bytes'); return c }, 'metric "m.ops": no such type: "bytes"'],
  ['a metric of a discrete type', (c) => { del(c.metrics[0], 'unit'); set(c.metrics[0], 'type', 'string'); return c }, 'metric "m.ops": "type" must be a numeric type'],
  ['a metric with an unknown scope', (c) => { set(c.metrics[0], 'interval', 'second'); return c }, 'metric "m.ops": "interval" must be "interval" or "point"'],
  ['a metric without fields', (c) => { set(c.metrics[0], 'fields', []); return c }, 'metric "m.ops": "fields" must be a non-empty array'],
  ['a metric listing a field twice', (c) => { set(c.metrics[0], 'fields', ['hostname', 'latency', 'hostname']); return c }, 'metric "m.ops": field "hostname" listed more than once'],
  ['a metric with a non-string field name', (c) => { set(c.metrics[0], 'fields', ['hostname', 7]); return c }, 'metric "m.ops": field names must be strings, got 7'],
  ['a bucketing override for a field the metric lacks', (c) => { set(c.metrics[0], 'bucketing', { size: { kind: 'lquantize', low: 0, high: 10, step: 1 } }); return c }, 'metric "m.ops": "bucketing" names "size", which is not a field of this metric'],
  ['a bucketing override for a discrete field', (c) => { set(c.metrics[0], 'bucketing', { hostname: { kind: 'lquantize', low: 0, high: 10, step: 1 } }); return c }, 'metric "m.ops": "bucketing" names "hostname", which is not numeric'],
  ['an invalid bucketing override', (c) => { set(c.metrics[0], 'bucketing', { latency: { kind: 'lquantize', low: 0, high: 10, step: 0 } }); return c }, 'metric "m.ops": "bucketing" of "latency": lquantize step must be a positive divisor'],
  ['a metric without a description', (c) => { del(c.metrics[0], 'description'); return c }, 'metric "m.ops": "description" must be a non-empty string']
]

for (const [name, breakIt, message] of breaking) {
  test(`validateCatalog rejects ${name}`, (t) => {
    const err = t.throws(() => validateCatalog(breakIt(mini())), { instanceOf: HeatmeshError })
    t.is(err?.code, 'ECA_INVAL')
    t.true(err?.message.includes(message), err?.message)
  })
}

test('validateCatalog reports every problem at once', (t) => {
  const c = mini()
  set(c.fields[1], 'type', 'duration')
  set(c.metrics[0], 'interval', 'second')
  const err = t.throws(() => validateCatalog(c))
  t.true(err?.message.startsWith('invalid catalog: 2 problems:'), err?.message)
  t.true(err?.message.includes('field "latency": no such type: "duration"'))
  t.true(err?.message.includes('metric "m.ops": "interval" must be "interval" or "point"'))
})

test('validateCatalog applies bucketing overrides and does not change its input', (t) => {
  const c = mini()
  set(c.metrics[0], 'bucketing', { latency: { kind: 'llquantize', base: 10, low: 0, high: 11, nsteps: 100 } })
  const before = JSON.stringify(c)
  const out = validateCatalog(c)
  const latency = metricField(out.metrics.get('m.ops') as Metric, 'latency')
  t.deepEqual(latency?.arity === 'numeric' ? latency.bucketing : undefined, { kind: 'llquantize', base: 10, low: 0, high: 11, nsteps: 100 })
  t.is(JSON.stringify(c), before)
})

test('the shipped catalog description passes validation unchanged', (t) => {
  const copy = structuredClone(catalogDescription) as CatalogDescription
  t.notThrows(() => validateCatalog(copy))
})

/* Lookups. */

test('findMetric finds module.stat and nothing else', (t) => {
  t.is(findMetric(catalog, 'syscall', 'syscalls')?.name, 'syscall.syscalls')
  t.is(findMetric(catalog, 'syscall', 'nosuch'), undefined)
  t.is(findMetric(catalog, '__proto__', ''), undefined)
  t.is(findMetric(catalog, 'constructor', 'name'), undefined)
  t.is(findMetric(catalog, 'syscall.syscalls', ''), undefined)
})

test('metricField and findField find fields by exact name only', (t) => {
  const m = metric('syscall.syscalls')
  t.is(metricField(m, 'latency')?.arity, 'numeric')
  t.is(metricField(m, 'execname')?.arity, 'discrete')
  t.is(metricField(m, 'size'), undefined)
  t.is(metricField(m, '__proto__'), undefined)
  t.is(findField(catalog, 'size')?.type, 'size')
  t.is(findField(catalog, 'toString'), undefined)
  t.is(findType(catalog, 'valueOf'), undefined)
})

/* GET /ca. */

test('caMetadata gives CA\'s payload shape, listing only what the selection uses', (t) => {
  const payload = caMetadata(catalog, [{ module: 'syscall', stat: 'syscalls', fields: ['hostname', 'latency'] }])
  t.is(JSON.stringify(payload), JSON.stringify({
    modules: { syscall: { label: 'System calls' } },
    fields: { hostname: { label: 'server hostname', type: 'string' }, latency: { label: 'latency', type: 'time' } },
    types: {
      string: { name: 'string', arity: 'discrete', unit: '' },
      time: { name: 'time', arity: 'numeric', unit: 'seconds', abbr: 's', base: 10, power: -9 }
    },
    metrics: [{ module: 'syscall', stat: 'syscalls', label: 'system calls', interval: 'interval', fields: ['hostname', 'latency'], unit: 'syscalls' }],
    transformations: {}
  }))
})

test('caMetadata lists a metric\'s value type even when no field uses it', (t) => {
  const payload = caMetadata(catalog, [{ module: 'disk', stat: 'physio_bytes', fields: ['hostname'] }])
  t.deepEqual(Object.keys(payload.types), ['size', 'string'])
  t.deepEqual(payload.types['size'], { name: 'size', arity: 'numeric', unit: 'bytes', abbr: 'B', base: 2 })
  t.deepEqual(payload.metrics, [{ module: 'disk', stat: 'physio_bytes', label: 'bytes read and written', interval: 'interval', fields: ['hostname'], type: 'size' }])
})

test('caMetadata without a selection lists the whole catalog in sorted order', (t) => {
  const payload = caMetadata(catalog)
  t.deepEqual(payload.metrics.map((m) => `${m.module}.${m.stat}`), [...catalog.metrics.keys()])
  t.deepEqual(Object.keys(payload.modules).sort(), [...catalog.modules.keys()].sort())
  t.deepEqual(Object.keys(payload.fields).sort(), [...catalog.fields.keys()].sort())
  t.deepEqual(Object.keys(payload.types).sort(), ['percent', 'size', 'string', 'time'])
  t.deepEqual(payload.types['percent'], { name: 'percent', arity: 'numeric', unit: 'percent', abbr: '%', minmax: 100 })
  for (const m of payload.metrics) t.true(('unit' in m) !== ('type' in m), `${m.module}.${m.stat}`)
  t.deepEqual(JSON.parse(JSON.stringify(payload)), payload)
})

test('caMetadata leaves out heatmesh\'s own type properties', (t) => {
  for (const ty of Object.values(caMetadata(catalog).types)) {
    t.false('bucketing' in ty)
    t.false('integer' in ty)
  }
})

test('caMetadata ignores unknown metrics and fields, and unites entries for one metric', (t) => {
  const payload = caMetadata(catalog, [
    { module: 'nosuch', stat: 'metric' },
    { module: 'tcp', stat: 'accepts', fields: ['hostname', 'nosuch'] },
    { module: 'tcp', stat: 'accepts', fields: ['rport'] },
    { module: 'cpu', stat: 'cpus' }
  ])
  t.deepEqual(payload.metrics.map((m) => [`${m.module}.${m.stat}`, m.fields]), [
    ['cpu.cpus', ['hostname', 'cpu', 'utilization']],
    ['tcp.accepts', ['hostname', 'rport']]
  ])
  t.deepEqual(Object.keys(payload.modules), ['cpu', 'tcp'])
  t.deepEqual(caMetadata(catalog, []).metrics, [])
})
