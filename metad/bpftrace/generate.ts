/**
 * The Meta-D generator for bpftrace: bpftrace targets (metric + predicate + decomposition, each
 * in a slot) in, one combined script out (the contract is ./program.ts).
 *
 * THEORY. Per metric, the generator emits only what the targets need (CA's rule, §9.2): a
 * field is needed when a target decomposes by it or its predicate names it. A target whose
 * needed fields are all known where events are counted needs no start point; one that needs an
 * elapsed time or a gathered value makes the metric's gather points appear, shared by every
 * target of the metric (one `@_sys_t[tid]` for all syscall targets). Each probe is emitted once
 * with one statement group per use ("shared probes are emitted once"); probes whose bodies come
 * out identical share one block (`sys_enter_fsync, sys_enter_fdatasync { ... }`).
 *
 * Predicates run in the kernel, as early as possible:
 * - at a start point, the disjunction of the start-using targets' predicates weakened to the
 *   fields the point knows (./condition.ts), so that an excluded thread costs a test and no map
 *   update. A filtered start may miss an entry that a later event would have overwritten, so
 *   entries are then deleted once used (as they always are for `reuse: 'delete'` metrics);
 * - at the aggregating point, the disjunction of the targets' predicates weakened to the fields
 *   known there without a lookup, when every target has such a part, so that an excluded event
 *   costs no lookup either;
 * - per target, its whole predicate before its own aggregation (`if (...) { @s3[...] = ...; }`),
 *   skipped when a single target's predicate is already the point's filter.
 * A block with a single conditional group puts the condition in the probe filter (`/.../`);
 * otherwise each group is an `if`. Scalar tracepoint fields are read once at the top of a block
 * into `$args_<field>` (./tracepoints.ts says why); a filter reads them directly.
 *
 * Numeric decompositions are bucketed in the script (./ladder.ts), once per field, where the
 * targets using the bucket can share it, or inside the one target's branch that uses it.
 */
import { metricField } from '../catalog/lookup.js'
import { HeatmeshError } from '../errors.js'
import type { NumericMetricField } from '../catalog/types.js'
import { predicateFields, type Predicate } from '../predicate.js'
import type { Bucketing } from '../quantize.js'
import {
  and, atom, compilePredicate, conditionText, enumExpression, or,
  type Condition, type Expression
} from './condition.js'
import type {
  BpftraceMetricDescription, FieldSource, GatherPoint, KeyDecoding, ValueExpr
} from './description.js'
import { bucketLadder, renderLadder } from './ladder.js'
import { BPFTRACE_METRICS } from './metrics/index.js'
import type {
  BpftraceImplementation, BpftraceProgram, BpftraceTarget, GeneratorEnv, SlotLayout
} from './program.js'
import { tracepointFieldType } from './tracepoints.js'

/** Slot numbers are small: a map name, not an index into anything. */
export const MAX_SLOT = 65535

/**
 * The kernel's limit on maps one BPF program may use (MAX_USED_MAPS). Each probe is one program,
 * and it uses one map per slot it aggregates plus the internal maps it reads or writes: 63
 * syscall targets with latency fit on raw_syscalls:sys_exit (measured, 55k verified
 * instructions), 64 do not ("The total number of maps per program has reached the limit of
 * 64"). print() and clear() in interval and END run in bpftrace itself, not in BPF.
 */
export const MAX_MAPS_PER_PROGRAM = 64

const DESCRIPTIONS: ReadonlyMap<string, BpftraceMetricDescription> = new Map(BPFTRACE_METRICS.map((d) => [d.metric, d]))

/** The bpftrace description of `metric` (`module.stat`), or undefined if bpftrace cannot serve it. */
export function bpftraceMetricDescription (metric: string): BpftraceMetricDescription | undefined {
  return DESCRIPTIONS.get(metric)
}

/** The metrics the generator serves, each with every field but hostname, sorted by metric. */
export function bpftraceImplementations (): BpftraceImplementation[] {
  return BPFTRACE_METRICS.map((d) => ({ metric: d.metric, fields: Object.keys(d.fields) }))
}

/**
 * Generates the combined script for `targets` (any order; slots must be unique).
 * @throws HeatmeshError ECA_NORESOURCE when so many targets share a probe that its program
 * would use more than MAX_MAPS_PER_PROGRAM maps: split the targets over several scripts.
 * @throws Error for a caller bug: a duplicate or invalid slot, a metric without a bpftrace
 * description, a field (hostname included) the description lacks, a decomposition with more than
 * one discrete or numeric field. Predicate constants never throw: one the field cannot hold
 * compiles to a decided comparison (see ./condition.ts).
 *
 * @example
 * const { script, slots } = generateBpftraceProgram([{ slot: 0, metric, predicate, decomposition: ['execname', 'latency'] }])
 */
export function generateBpftraceProgram (targets: readonly BpftraceTarget[], env: GeneratorEnv = {}): BpftraceProgram {
  const plans = targets.map(planSlot).sort((a, b) => a.slot - b.slot)
  plans.forEach((p, i) => {
    if (i > 0 && plans[i - 1]?.slot === p.slot) throw new Error(`generateBpftraceProgram: slot ${p.slot} is used twice`)
  })
  const script = new Script()
  const metrics = [...new Set(plans.map((p) => p.desc.metric))].sort()
  for (const name of metrics) {
    const desc = DESCRIPTIONS.get(name) as BpftraceMetricDescription
    compileMetric(desc, plans.filter((p) => p.desc === desc), env, script)
  }
  return {
    script: script.render(plans),
    slots: plans.map((p) => p.layout)
  }
}

/* Targets. */

interface SlotPlan {
  readonly slot: number
  readonly map: string
  readonly desc: BpftraceMetricDescription
  readonly predicate: Predicate
  readonly discrete?: string
  readonly numeric?: { readonly field: string, readonly bucketing: Bucketing }
  /** Decomposition and predicate fields. */
  readonly used: ReadonlySet<string>
  /** Uses a field that is elapsed or gathered, so it counts only events with a start. */
  readonly needsStart: boolean
  readonly layout: SlotLayout
}

function planSlot (t: BpftraceTarget): SlotPlan {
  if (!Number.isInteger(t.slot) || t.slot < 0 || t.slot > MAX_SLOT) throw new Error(`generateBpftraceProgram: slot ${String(t.slot)} is not an integer from 0 to ${MAX_SLOT}`)
  const desc = DESCRIPTIONS.get(t.metric.name)
  if (desc === undefined) throw new Error(`generateBpftraceProgram: bpftrace does not implement metric ${t.metric.name}`)
  const check = (field: string, what: string): FieldSource => {
    if (!Object.hasOwn(desc.fields, field)) throw new Error(`generateBpftraceProgram: slot ${t.slot}: ${what} field "${field}" is not one bpftrace serves for ${desc.metric}`)
    return desc.fields[field] as FieldSource
  }
  let discrete: string | undefined
  let numeric: { field: string, bucketing: Bucketing } | undefined
  for (const name of t.decomposition) {
    check(name, 'decomposition')
    const f = metricField(t.metric, name)
    if (f?.arity === 'numeric') {
      if (numeric !== undefined) throw new Error(`generateBpftraceProgram: slot ${t.slot}: more than one numeric decomposition`)
      numeric = { field: name, bucketing: (f as NumericMetricField).bucketing }
    } else {
      if (discrete !== undefined) throw new Error(`generateBpftraceProgram: slot ${t.slot}: more than one discrete decomposition`)
      discrete = name
    }
  }
  const used = new Set([...t.decomposition, ...predicateFields(t.predicate)])
  const sources = [...used].map((f) => check(f, 'predicate'))
  const map = `@s${t.slot}`
  const layout: SlotLayout = Object.freeze({
    slot: t.slot,
    map,
    ...(discrete === undefined ? {} : { discrete: Object.freeze({ field: discrete, key: keyDecoding(desc.fields[discrete] as FieldSource) }) }),
    ...(numeric === undefined ? {} : { numeric: Object.freeze({ ...numeric }) }),
    value: desc.sum === undefined ? 'count' : 'sum'
  })
  return {
    slot: t.slot,
    map,
    desc,
    predicate: t.predicate,
    ...(discrete === undefined ? {} : { discrete }),
    ...(numeric === undefined ? {} : { numeric }),
    used,
    needsStart: sources.some((s) => !('at' in s)),
    layout
  }
}

/** How the runtime decodes a field's printed key. */
function keyDecoding (source: FieldSource): KeyDecoding {
  const kind = 'at' in source ? source.at.kind : 'gathered' in source ? source.gathered : 'number'
  switch (kind) {
    case 'comm': return 'string'
    case 'pid': case 'port': return 'decimal'
    case 'cpu': return 'cpu'
    case 'syscall': return 'syscall'
    case 'cgroup': return 'cgroup'
    case 'blockdev': return 'blockdev'
    case 'ip': return 'ipv4'
    case 'enum': return `enum:${(source as { at: Extract<ValueExpr, { kind: 'enum' }> }).at.enum}`
    case 'number': throw new Error('keyDecoding: a numeric field is not a discrete key')
    default: { const never: never = kind; throw new Error(`keyDecoding: unknown kind ${String(never)}`) }
  }
}

/* One metric. */

function compileMetric (desc: BpftraceMetricDescription, slots: readonly SlotPlan[], env: GeneratorEnv, script: Script): void {
  const p = desc.prefix
  const variable = (name: string): string => `$${p}_${name}`
  const internal = (name: string): string => `@_${p}_${name}`
  const aggProbes = desc.aggregate.probes
  const startSlots = slots.filter((s) => s.needsStart)
  const usedByStart = new Set(startSlots.flatMap((s) => [...s.used]))
  const gatheredNeeded = [...usedByStart].filter((f) => 'gathered' in (desc.fields[f] as FieldSource))
  const stampPoints = (desc.gathers ?? []).filter((g) => g.stamp === true)
  if (startSlots.length > 0 && stampPoints.length === 0) throw new Error(`bpftrace description of ${desc.metric}: elapsed or gathered fields but no stamp point`)

  // Gather points: start timestamps (filtered by what each point knows) and gathered values.
  const written: string[] = []
  const writtenAtStamps = new Set<string>()
  let filtered = false
  if (startSlots.length > 0) {
    written.push(internal('t'))
    for (const g of desc.gathers ?? []) {
      const stores = gatheredNeeded.filter((f) => g.values !== undefined && Object.hasOwn(g.values, f))
      if (g.stamp !== true && stores.length === 0) continue
      const key = mark(g.key, g.probes)
      const body: Stmt[] = []
      let cond = descCondition(g.when, g.probes)
      if (g.stamp === true) {
        const knows = (f: string): ValueExpr | undefined => g.knows !== undefined && Object.hasOwn(g.knows, f) ? markValue(g.knows[f] as ValueExpr, g.probes) : undefined
        const filter = or(...startSlots.map((s) => compilePredicate(s.predicate, knows, env).condition))
        if (filter !== true) filtered = true
        cond = and(cond, filter)
        body.push(`${internal('t')}[${key}] = nsecs;`)
      }
      for (const f of stores) {
        body.push(`${internal(f)}[${key}] = ${mark((g.values as Record<string, string>)[f] as string, g.probes)};`)
        if (!written.includes(internal(f))) written.push(internal(f))
        if (g.stamp === true) writtenAtStamps.add(f)
      }
      for (const probe of g.probes) script.add(probe, { cond, body })
    }
  }
  const deleteAfterUse = desc.reuse === 'delete' || filtered
  /** Gathered fields some stamp point does not store: present only if a gather point saw the thread. */
  const mayBeMissing = (f: string): boolean => stampPoints.some((g) => g.values === undefined || !Object.hasOwn(g.values, f))

  // The aggregating point.
  const source = (f: string): FieldSource => desc.fields[f] as FieldSource
  const direct = (f: string): ValueExpr | undefined => {
    const s = source(f)
    return 'at' in s && s.setup !== true && s.at.kind !== 'number' ? markValue(s.at, aggProbes) : undefined
  }
  const inBody = (f: string): ValueExpr => {
    const s = source(f)
    if ('gathered' in s) return { kind: s.gathered, expr: variable(f) }
    if ('elapsed' in s || s.at.kind === 'number') return { kind: 'number', expr: variable(f) }
    return markValue(s.at, aggProbes)
  }
  const hoisted = slots.map((s) => compilePredicate(s.predicate, direct, env))
  const hoist = hoisted.every((h) => h.condition !== true) ? or(...hoisted.map((h) => h.condition)) : true
  const covered = slots.length === 1 && hoist !== true && !(hoisted[0] as { weakened: boolean }).weakened

  // Values computed once per event where several slots use them.
  const level = (s: SlotPlan): 'outer' | 'start' => s.needsStart ? 'start' : 'outer'
  const computations: { field: string, users: SlotPlan[], stmts: Stmt[] }[] = []
  for (const s of slots) {
    for (const f of [s.discrete, s.numeric?.field]) {
      if (f === undefined || computationOf(f, s) === undefined) continue
      const c = computations.find((x) => x.field === f)
      if (c === undefined) computations.push({ field: f, users: [s], stmts: computationOf(f, s) as Stmt[] })
      else c.users.push(s)
    }
  }
  function computationOf (f: string, s: SlotPlan): Stmt[] | undefined {
    if (s.numeric?.field === f) return renderLadder(bucketLadder(s.numeric.bucketing), variable(f), variable(`${f}_b`))
    const src = source(f)
    if ('at' in src && src.at.kind === 'ip') {
      const v = markValue(src.at, aggProbes) as Extract<ValueExpr, { kind: 'ip' }>
      return [`if (${v.family} == 2) { ${variable(f)} = ntop(${v.v4}); } else { ${variable(f)} = ntop(${v.v6}); }`]
    }
    return undefined
  }
  const shared = (lvl: 'outer' | 'start'): Stmt[] => computations
    .filter((c) => c.users.length > 1 && (c.users.every((u) => level(u) === 'start') ? 'start' : 'outer') === lvl)
    .flatMap((c) => c.stmts)
  const own = (s: SlotPlan): Stmt[] => computations.filter((c) => c.users.length === 1 && c.users[0] === s).flatMap((c) => c.stmts)

  const slotStatement = (s: SlotPlan): Stmt[] => {
    const keys: string[] = []
    if (s.discrete !== undefined) keys.push(keyExpression(s.discrete))
    if (s.numeric !== undefined) keys.push(variable(`${s.numeric.field}_b`))
    if (keys.length === 0) keys.push('0')
    const value = desc.sum === undefined ? 'count()' : `sum(${mark(desc.sum, aggProbes)})`
    const body = [...own(s), `${s.map}[${keys.join(', ')}] = ${value};`]
    const presence = [...s.used].filter((f) => 'gathered' in source(f) && mayBeMissing(f)).map((f) => atom(`${variable(f)} != 0`))
    const cond = and(...presence, covered ? true : compilePredicate(s.predicate, inBody, env).condition)
    return cond === true ? body : [{ cond: conditionText(cond), body }]
  }
  function keyExpression (f: string): string {
    const src = source(f)
    if (!('at' in src)) return variable(f)
    const v = markValue(src.at, aggProbes)
    if (v.kind === 'enum') return enumExpression(v)
    if (v.kind === 'ip') return variable(f)
    return v.expr
  }

  const usedAnywhere = new Set(slots.flatMap((s) => [...s.used]))
  const outer: Stmt[] = []
  for (const f of usedAnywhere) {
    const src = source(f)
    if ('at' in src && src.at.kind === 'number') outer.push(`${variable(f)} = ${mark(src.at.expr, aggProbes)};`)
  }
  outer.push(...shared('outer'))
  for (const s of slots) if (!s.needsStart) outer.push(...slotStatement(s))
  if (startSlots.length > 0) {
    const key = mark(desc.aggregate.key ?? '', aggProbes)
    const inner: Stmt[] = []
    for (const f of gatheredNeeded) inner.push(`${variable(f)} = ${internal(f)}[${key}];`)
    for (const f of usedByStart) if ('elapsed' in source(f)) inner.push(`${variable(f)} = nsecs - ${variable('s')};`)
    inner.push(...shared('start'))
    for (const s of startSlots) inner.push(...slotStatement(s))
    if (deleteAfterUse) {
      inner.push(`delete(${internal('t')}[${key}]);`)
      for (const f of gatheredNeeded) if (writtenAtStamps.has(f)) inner.push(`delete(${internal(f)}[${key}]);`)
    }
    outer.push(`${variable('s')} = ${internal('t')}[${key}];`, { cond: variable('s'), body: inner })
  }
  const agg = desc.aggregate
  const body: Stmt[] = (agg.setup ?? []).map((line) => mark(line, aggProbes))
  if (agg.check !== undefined) body.push({ cond: conditionText(descCondition(agg.check, aggProbes)), body: outer })
  else body.push(...outer)
  const cond = and(descCondition(agg.when, aggProbes), hoist)
  for (const probe of aggProbes) script.add(probe, { cond, body })

  // Cleanup, and END's list of internal maps.
  if (written.length > 0) {
    for (const c of desc.cleanup ?? []) {
      const key = mark(c.key, c.probes)
      for (const probe of c.probes) script.add(probe, { cond: true, body: written.map((m) => `delete(${m}[${key}]);`) })
    }
    script.internal.push(...written)
  }
}

/* Expressions. */

// Scalar tracepoint fields are marked \u0001name\u0002 while a script is built, then rendered as
// `args->name` in a probe filter or `$args_name` in a body. The marks cannot come from a user:
// literals hold printable ASCII only (./literal.ts).
const MARK = /\u0001([a-z_][a-z0-9_]*)\u0002/g

/** Marks the scalar tracepoint fields in a description expression used at `probes`. */
function mark (expr: string, probes: readonly string[]): string {
  return expr.replace(/\bargs->([a-z_][a-z0-9_]*)/g, (text, name: string) => {
    const types = probes.map((probe) => tracepointFieldType(probe, name))
    if (types.some((t) => t === undefined)) throw new Error(`bpftrace description: ${probes.join(', ')} has no field "${name}" (see tracepoints.ts)`)
    if (types.some((t) => t !== types[0])) throw new Error(`bpftrace description: field "${name}" differs between ${probes.join(', ')}`)
    return types[0] === 'scalar' ? `\u0001${name}\u0002` : text
  })
}

function markValue (v: ValueExpr, probes: readonly string[]): ValueExpr {
  switch (v.kind) {
    case 'ip': return { ...v, family: mark(v.family, probes), v4: mark(v.v4, probes), v6: mark(v.v6, probes) }
    case 'enum': return { ...v, cases: v.cases.map((c) => mark(c, probes)) }
    default: return { ...v, expr: mark(v.expr, probes) }
  }
}

/** A description's own condition (our text), as a Condition that joins safely with others. */
function descCondition (text: string | undefined, probes: readonly string[]): Condition {
  if (text === undefined) return true
  const marked = mark(text, probes)
  return marked.includes('||') ? atom(`(${marked})`) : { text: marked, prec: 2 } satisfies Expression
}

/* The script. */

/** A statement: a line, or a condition and the statements it guards. */
type Stmt = string | { readonly cond: string, readonly body: readonly Stmt[] }

/** A probe's use by one metric: statements under one condition. */
interface Group {
  readonly cond: Condition
  readonly body: readonly Stmt[]
}

class Script {
  private readonly probes = new Map<string, Group[]>()
  /** Internal maps, cleared in END. */
  readonly internal: string[] = []

  add (probe: string, group: Group): void {
    const groups = this.probes.get(probe)
    if (groups === undefined) this.probes.set(probe, [group])
    else groups.push(group)
  }

  render (slots: readonly SlotPlan[]): string {
    const lines: string[] = ['// Generated by heatmesh (metad/bpftrace): one combined script; do not edit.']
    for (const s of slots) lines.push(`// ${s.map}: ${s.desc.metric}${s.layout.discrete === undefined && s.layout.numeric === undefined ? '' : ` by ${[s.discrete, s.numeric?.field].filter((f) => f !== undefined).join(', ')}`}`)
    lines.push('BEGIN { printf("READY\\n"); }')
    // Probes whose blocks come out the same share one block, where the first of them was.
    const blocks: { probes: string[], text: string }[] = []
    for (const [probe, groups] of this.probes) {
      const text = renderBlock(groups)
      const maps = new Set(text.replace(/"(?:[^"\\]|\\.)*"/g, '""').match(/@[A-Za-z0-9_]+/g))
      if (maps.size > MAX_MAPS_PER_PROGRAM) {
        throw new HeatmeshError('ECA_NORESOURCE', `too many instrumentations on ${probe} for one bpftrace script: its program would use ${maps.size} maps, and the kernel allows ${MAX_MAPS_PER_PROGRAM}; split them over several scripts`)
      }
      const same = blocks.find((b) => b.text === text)
      if (same === undefined) blocks.push({ probes: [probe], text })
      else same.probes.push(probe)
    }
    for (const b of blocks) lines.push(`${b.probes.join(', ')}${b.text}`)
    const maps = slots.map((s) => s.map)
    lines.push(`interval:s:1 { printf("TICK\\n");${maps.map((m) => ` print(${m}); clear(${m});`).join('')} }`)
    const clears = [...maps.map((m) => `print(${m}); clear(${m});`), ...[...new Set(this.internal)].map((m) => `clear(${m});`)]
    lines.push(`END { ${[...clears, 'printf("END\\n");'].join(' ')} }`)
    return `${lines.join('\n')}\n`
  }
}

/** A block's text after its probe names: ` /filter/ {\n ... }` or ` {\n ... }`. */
function renderBlock (groups: readonly Group[]): string {
  const loads = new Set<string>()
  const body = (stmts: readonly Stmt[], depth: number): string[] => stmts.flatMap((s) => {
    const pad = '  '.repeat(depth)
    if (typeof s === 'string') return [`${pad}${renderMarks(s, loads)}`]
    return [`${pad}if (${renderMarks(s.cond, loads)}) {`, ...body(s.body, depth + 1), `${pad}}`]
  })
  let filter = ''
  let inner: string[]
  const only = groups[0] as Group
  if (groups.length === 1 && only.cond !== true) {
    filter = ` /${conditionText(only.cond).replace(MARK, 'args->$1')}/`
    inner = body(only.body, 1)
  } else {
    inner = body(groups.map((g) => g.cond === true ? g.body : [{ cond: conditionText(g.cond), body: g.body }]).flat(), 1)
  }
  const loadLines = [...loads].map((n) => `  $args_${n} = args->${n};`)
  return `${filter} {\n${[...loadLines, ...inner].join('\n')}\n}`
}

function renderMarks (text: string, loads: Set<string>): string {
  return text.replace(MARK, (_m, name: string) => {
    loads.add(name)
    return `$args_${name}`
  })
}
