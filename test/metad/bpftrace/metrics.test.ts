/**
 * The bpftrace metric descriptions (Meta-D as data): complete for the catalog's eBPF metrics,
 * loaded in sorted order, and internally consistent (each rule here has a description that
 * would break it: a field the catalog lacks, a tracepoint field that does not exist, a gathered
 * name some start point does not store, ...).
 */
import test from 'ava'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { catalog, parsePredicate, type Metric, type PredicateJson } from '../../../metad/index.js'
import {
  bpftraceEnumNames, bpftraceImplementations, bpftraceMetricDescription, generateBpftraceProgram,
  type BpftraceMetricDescription, type FieldSource
} from '../../../metad/bpftrace/index.js'
import { BPFTRACE_METRICS } from '../../../metad/bpftrace/metrics/index.js'
import { TRACEPOINT_FIELDS } from '../../../metad/bpftrace/tracepoints.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const EBPF_METRICS = [
  'cpu.runqueue_latency', 'cpu.thread_executions', 'disk.physio_bytes', 'disk.physio_ops', 'fs.fsync_ops', 'proc.execs',
  'proc.exits', 'proc.forks', 'syscall.syscalls', 'tcp.accepts', 'tcp.connects', 'tcp.retransmits'
]

test('bpftrace implements exactly the eBPF metrics, each with every catalog field but hostname', (t) => {
  const impls = bpftraceImplementations()
  t.deepEqual(impls.map((i) => i.metric), EBPF_METRICS)
  for (const impl of impls) {
    const metric = catalog.metrics.get(impl.metric) as Metric
    t.deepEqual(impl.fields, metric.fields.map((f) => f.name).filter((f) => f !== 'hostname'), impl.metric)
  }
})

test('the description index lists every metric file, in sorted order', (t) => {
  const files = readdirSync(join(root, 'metad/bpftrace/metrics')).filter((f) => f.endsWith('.ts') && f !== 'index.ts').map((f) => f.replace(/\.ts$/, ''))
  t.deepEqual(files.sort(), BPFTRACE_METRICS.map((d) => d.metric))
  const index = readFileSync(join(root, 'metad/bpftrace/metrics/index.ts'), 'utf8')
  const imported = [...index.matchAll(/from '\.\/([a-z_.]+)\.js'/g)].map((m) => m[1])
  t.deepEqual(imported, files.sort())
})

test('prefixes are unique short identifiers, never the generator\'s own "args"', (t) => {
  const prefixes = BPFTRACE_METRICS.map((d) => d.prefix)
  t.is(new Set(prefixes).size, prefixes.length)
  for (const p of prefixes) {
    t.regex(p, /^[a-z][a-z0-9]{0,7}$/)
    t.not(p, 'args')
  }
})

test('a metric description is found by its name, and only by it', (t) => {
  t.is(bpftraceMetricDescription('syscall.syscalls')?.prefix, 'sys')
  t.is(bpftraceMetricDescription('cpu.cpus'), undefined)
  t.is(bpftraceMetricDescription('__proto__'), undefined)
})

/** Every `args->x` in the description, with the probes it is read at. */
function argReads (d: BpftraceMetricDescription): { probes: readonly string[], field: string }[] {
  const out: { probes: readonly string[], field: string }[] = []
  const scan = (probes: readonly string[], value: unknown): void => {
    for (const m of (JSON.stringify(value) ?? '').matchAll(/args->([a-z_0-9]+)/g)) out.push({ probes, field: m[1] as string })
  }
  for (const g of d.gathers ?? []) scan(g.probes, g)
  const { probes, ...agg } = d.aggregate
  scan(probes, agg)
  scan(probes, d.sum)
  for (const f of Object.values(d.fields)) if ('at' in f) scan(probes, f.at)
  for (const c of d.cleanup ?? []) scan(c.probes, c.key)
  return out
}

test('enum fields give a case for every name but the last, wherever they are read', (t) => {
  const enums = BPFTRACE_METRICS.flatMap((d) => [...Object.values(d.fields), ...(d.gathers ?? []).flatMap((g) => Object.values(g.knows ?? {}).map((at) => ({ at })))])
    .flatMap((s) => 'at' in s && s.at.kind === 'enum' ? [s.at] : [])
  t.deepEqual([...new Set(enums.map((e) => e.enum))].sort(), ['leavereason', 'optype'])
  for (const e of enums) t.is(e.cases.length, (bpftraceEnumNames(e.enum) ?? []).length - 1, e.enum)
})

for (const d of BPFTRACE_METRICS) {
  test(`${d.metric}: every tracepoint field it reads exists on its probes`, (t) => {
    const missing = argReads(d).filter((r) => r.probes.some((p) => !Object.hasOwn(TRACEPOINT_FIELDS[p] ?? {}, r.field)))
    t.deepEqual(missing, [])
    const all = [...(d.gathers ?? []).flatMap((g) => g.probes), ...d.aggregate.probes, ...(d.cleanup ?? []).flatMap((c) => c.probes)]
    t.deepEqual(all.filter((p) => p.startsWith('tracepoint:') && !Object.hasOwn(TRACEPOINT_FIELDS, p)), [])
    t.deepEqual(all.filter((p) => /^tracepoint:syscalls:sys_(enter|exit)_\*?$|\*/.test(p)), [], 'never the syscalls wildcard')
  })

  test(`${d.metric}: its internal maps have a start, a key and a way out`, (t) => {
    const sources = Object.values(d.fields) as FieldSource[]
    const needsStart = sources.some((s) => !('at' in s))
    const stamps = (d.gathers ?? []).filter((g) => g.stamp === true)
    t.is(stamps.length > 0, needsStart, 'stamp points exactly when a field is elapsed or gathered')
    if (needsStart) {
      t.truthy(d.aggregate.key)
      t.truthy(d.reuse)
      if (d.reuse === 'overwrite') t.true((d.cleanup ?? []).length > 0, 'overwritten entries of dead threads need a cleanup point')
    }
    for (const [name, s] of Object.entries(d.fields)) {
      if (!('gathered' in s)) continue
      const stored = (d.gathers ?? []).filter((g) => g.values !== undefined && Object.hasOwn(g.values, name))
      t.true(stored.length > 0, `${name} is stored somewhere`)
      if (s.gathered === 'comm') t.true(stamps.every((g) => g.values !== undefined && Object.hasOwn(g.values, name)), `${name} is a name: every stamp point stores it (no presence test for strings)`)
    }
    for (const g of d.gathers ?? []) {
      for (const f of [...Object.keys(g.values ?? {}), ...Object.keys(g.knows ?? {})]) t.true(Object.hasOwn(d.fields, f), `${f} is a field`)
      for (const f of Object.keys(g.values ?? {})) t.true('gathered' in (d.fields[f] as FieldSource), `${f} is stored, so it is gathered`)
    }
  })

  test(`${d.metric}: a predicate and a decomposition on every field compile`, (t) => {
    const metric = catalog.metrics.get(d.metric) as Metric
    const fields = metric.fields.filter((f) => f.name !== 'hostname')
    const comparisons = fields.map((f): PredicateJson => f.arity === 'numeric' ? { gt: [f.name, 1] } : { ne: [f.name, 'x'] })
    const predicate = parsePredicate({ and: comparisons }, metric)
    const targets = fields.map((f, slot) => ({ slot, metric, predicate, decomposition: [f.name] }))
    const { script, slots } = generateBpftraceProgram(targets)
    t.is(slots.length, fields.length)
    for (const s of slots) t.true(script.includes(`${s.map}[`), s.map)
  })
}
