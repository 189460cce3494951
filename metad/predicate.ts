/**
 * Predicates (CA-REFERENCE §4): the filter of an instrumentation, parsed once from the user's
 * JSON into a typed, frozen tree that backends compile and user-space backends evaluate.
 *
 * The language is CA's (LISP-like JSON, exactly one key per object):
 *
 *     pred := {} | { op: [field, constant] } | { "and": [pred, ...] } | { "or": [pred, ...] }
 *     op   := "eq" | "ne" | "lt" | "le" | "gt" | "ge"
 *
 * `{}` is the trivial predicate (always true); it may also appear inside and/or, as in CA.
 *
 * Parsing has two passes, as CA's ca-pred.js had: first shape (with CA's messages), then meaning
 * against the metric (fields exist; then the constant fits the field). Beyond CA:
 * - lt/le/gt/ge apply to numeric fields only (CA's table said so but never enforced it);
 * - `and`/`or` need at least ONE child, not two: `{"and": [p]}` means p (CA rejected it);
 * - a number constant must be finite, and for an integer type (time, size, number, subsecond)
 *   an integer of at most 2^53 - 1 in magnitude. JSON.parse rounds larger numbers silently
 *   (9007199254740993 becomes 9007199254740992), so such a constant may already be wrong and is
 *   rejected rather than compared;
 * - a string constant is at most PREDICATE_MAX_STRING_BYTES (1024) bytes of UTF-8 and may hold
 *   any character (quotes, backslashes, newlines, non-ASCII): the tree keeps the exact value,
 *   and escaping it for a probe script is the backend's job;
 * - at most PREDICATE_MAX_DEPTH (32) levels and PREDICATE_MAX_NODES (256) objects, so a hostile
 *   predicate cannot exhaust the stack or the CPU; a JSON string input is at most
 *   PREDICATE_MAX_JSON_LENGTH characters.
 * Every rejection is an InvalidFieldError on field "predicate" whose value is the offending
 * object and whose reason starts with the path of the offending part (`and[1].eq[0]: ...`; no
 * path when the top level is at fault).
 */
import { InvalidFieldError } from './errors.js'
import { metricField } from './catalog/lookup.js'
import type { Metric, MetricField } from './catalog/types.js'

/** The comparison operators. */
export type ComparisonOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'

/** `{}`: always true. */
export interface TruePredicate { readonly op: 'true' }

/** `{and: [...]}` / `{or: [...]}`, at least one argument. */
export interface LogicalPredicate {
  readonly op: 'and' | 'or'
  readonly args: readonly Predicate[]
}

/** A comparison of a numeric field with a number. */
export interface NumericComparison {
  readonly op: ComparisonOp
  readonly field: string
  readonly arity: 'numeric'
  readonly value: number
}

/** A comparison of a discrete field with a string: eq and ne only, exact. */
export interface DiscreteComparison {
  readonly op: 'eq' | 'ne'
  readonly field: string
  readonly arity: 'discrete'
  readonly value: string
}

export type Comparison = NumericComparison | DiscreteComparison

/** A parsed predicate: valid for the metric it was parsed against, deeply frozen. */
export type Predicate = TruePredicate | LogicalPredicate | Comparison

/** CA's JSON form of a predicate. */
export type PredicateJson = { readonly [op: string]: readonly [string, string | number] | readonly PredicateJson[] }

/** Deepest nesting accepted; the top-level object is level 1. */
export const PREDICATE_MAX_DEPTH = 32
/** Most objects (comparisons, and/or, `{}`) in one predicate. */
export const PREDICATE_MAX_NODES = 256
/** Longest string constant, in bytes of UTF-8. */
export const PREDICATE_MAX_STRING_BYTES = 1024
/** Longest predicate given as a JSON string, in characters. */
export const PREDICATE_MAX_JSON_LENGTH = 1 << 20

const COMPARISON_OPS: ReadonlySet<string> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge'])
const ORDER_OPS: ReadonlySet<string> = new Set(['lt', 'le', 'gt', 'ge'])
const TRUE: TruePredicate = Object.freeze({ op: 'true' })

/**
 * Parses a predicate (an object, or its JSON text) against `metric`. Throws InvalidFieldError
 * (field "predicate") naming the offending part and why.
 *
 * @example
 * parsePredicate({ and: [{ eq: ['execname', 'mysqld'] }, { gt: ['latency', 1000000] }] }, metric)
 */
export function parsePredicate (input: unknown, metric: Metric): Predicate {
  let raw = input
  if (typeof input === 'string') {
    if (input.length > PREDICATE_MAX_JSON_LENGTH) {
      throw new InvalidFieldError('predicate', input, `predicate is too long: ${input.length} characters, the limit is ${PREDICATE_MAX_JSON_LENGTH}`)
    }
    try {
      raw = JSON.parse(input)
    } catch (err) {
      throw new InvalidFieldError('predicate', input, `invalid JSON: ${(err as Error).message}`)
    }
  }
  checkSyntax(raw, '', 1, { nodes: 0, root: raw })
  const leaves: Leaf[] = []
  collectLeaves(raw as RawNode, '', leaves)
  for (const leaf of leaves) {
    if (metricField(metric, leaf.field) === undefined) {
      fail(join(leaf.path, `${leaf.op}[0]`), leaf.node, `no such field for specified metric: ${quote(leaf.field)}`)
    }
  }
  for (const leaf of leaves) checkLeaf(leaf, metricField(metric, leaf.field) as MetricField)
  return build(raw as RawNode, metric)
}

type RawNode = Readonly<Record<string, unknown>>
interface Leaf { readonly node: RawNode, readonly path: string, readonly op: string, readonly field: string, readonly value: string | number }

function fail (path: string, node: unknown, why: string): never {
  throw new InvalidFieldError('predicate', node, path === '' ? why : `${path}: ${why}`)
}

function join (path: string, part: string): string {
  return path === '' ? part : `${path}.${part}`
}

/** A JSON-like object: not an array, a Date, a Map or the like (which have no own keys). */
function isPlainObject (value: unknown): value is RawNode {
  if (typeof value !== 'object' || value === null) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Pass 1: shape, with CA's messages, plus limits. */
function checkSyntax (node: unknown, path: string, depth: number, count: { nodes: number, root: unknown }): void {
  if (depth > PREDICATE_MAX_DEPTH) fail(path, node, `predicate is nested too deeply: more than ${PREDICATE_MAX_DEPTH} levels`)
  if (++count.nodes > PREDICATE_MAX_NODES) fail('', count.root, `predicate has too many parts: more than ${PREDICATE_MAX_NODES} objects`)
  if (!isPlainObject(node)) fail(path, node, 'predicate must be an object')
  const keys = Object.keys(node)
  if (keys.length === 0) return
  if (keys.length > 1) fail(path, node, `found too many keys: ${keys.length}. expected one`)
  const key = keys[0] as string
  const arg = node[key]
  if (COMPARISON_OPS.has(key)) {
    if (!arg) fail(path, node, `predicate is missing key ${quote(key)}`)
    if (!Array.isArray(arg)) fail(join(path, key), node, 'predicate key does not point to an array')
    if (arg.length !== 2) fail(join(path, key), node, `predicate key does not point to an array of two elements: found ${arg.length} elements`)
    const [field, constant] = arg as unknown[]
    if (typeof field !== 'string') fail(join(path, `${key}[0]`), node, `predicate field is not a string: got ${show(field)}.`)
    if (typeof constant !== 'number' && typeof constant !== 'string') fail(join(path, `${key}[1]`), node, `predicate constant is not a constant: got ${show(constant)}.`)
    if (typeof constant === 'number' && !Number.isFinite(constant)) fail(join(path, `${key}[1]`), node, `predicate constant is not a finite number: got ${String(constant)}.`)
    if (typeof constant === 'string') {
      const bytes = utf8Length(constant)
      if (bytes > PREDICATE_MAX_STRING_BYTES) fail(join(path, `${key}[1]`), node, `predicate constant is too long: ${bytes} bytes of UTF-8, the limit is ${PREDICATE_MAX_STRING_BYTES}`)
    }
    return
  }
  if (key === 'and' || key === 'or') {
    if (!arg) fail(path, node, `logical expr is missing key ${quote(key)}`)
    if (!Array.isArray(arg)) fail(join(path, key), node, 'logical expr key does not point to an array')
    if (arg.length < 1) fail(join(path, key), node, `logical expr key does not contain enough elements: found ${arg.length}, expected at least one`)
    if (arg.length > PREDICATE_MAX_NODES) fail('', count.root, `predicate has too many parts: more than ${PREDICATE_MAX_NODES} objects`)
    for (let i = 0; i < arg.length; i++) checkSyntax(arg[i], join(path, `${key}[${i}]`), depth + 1, count)
    return
  }
  fail(path, node, `invalid key: ${clip(key)}`)
}

/** The comparisons of a syntactically valid predicate, in document order. */
function collectLeaves (node: RawNode, path: string, out: Leaf[]): void {
  const key = Object.keys(node)[0]
  if (key === undefined) return
  const arg = node[key] as readonly unknown[]
  if (key === 'and' || key === 'or') {
    for (let i = 0; i < arg.length; i++) collectLeaves(arg[i] as RawNode, join(path, `${key}[${i}]`), out)
    return
  }
  out.push({ node, path, op: key, field: arg[0] as string, value: arg[1] as string | number })
}

/** Pass 2, per comparison: the constant fits the field, the operator fits the arity. */
function checkLeaf (leaf: Leaf, field: MetricField): void {
  const at = join(leaf.path, `${leaf.op}[1]`)
  if (field.arity === 'numeric' && typeof leaf.value !== 'number') {
    fail(at, leaf.node, `predicate field is of type numeric, but the constant is not a number: got type ${typeof leaf.value}`)
  }
  if (field.arity === 'discrete' && typeof leaf.value !== 'string') {
    fail(at, leaf.node, `predicate field is of type discrete, but the constant is not a string: got type ${typeof leaf.value}`)
  }
  if (field.arity === 'discrete' && ORDER_OPS.has(leaf.op)) {
    fail(join(leaf.path, leaf.op), leaf.node, `operator ${quote(leaf.op)} is only valid for numeric fields, and ${quote(field.name)} is discrete`)
  }
  if (field.arity === 'numeric' && field.integer) {
    const v = leaf.value as number
    if (!Number.isInteger(v)) fail(at, leaf.node, `field ${quote(field.name)} (type ${field.type}) takes integers: got ${String(v)}`)
    if (!Number.isSafeInteger(v)) fail(at, leaf.node, `predicate constant is beyond 2^53 - 1 in magnitude and may have been rounded: got ${String(v)}`)
  }
}

/** Builds the frozen tree of a fully validated predicate. */
function build (node: RawNode, metric: Metric): Predicate {
  const key = Object.keys(node)[0]
  if (key === undefined) return TRUE
  const arg = node[key] as readonly unknown[]
  if (key === 'and' || key === 'or') {
    return Object.freeze({ op: key, args: Object.freeze(arg.map((child) => build(child as RawNode, metric))) })
  }
  const field = arg[0] as string
  const arity = (metricField(metric, field) as MetricField).arity
  if (arity === 'numeric') return Object.freeze({ op: key as ComparisonOp, field, arity, value: arg[1] as number })
  return Object.freeze({ op: key as 'eq' | 'ne', field, arity, value: arg[1] as string })
}

/**
 * Evaluates a predicate on one record of field values (for user-space backends). Numeric fields
 * compare as numbers; eq/ne on discrete fields compare strings exactly (CA used loose `==`).
 * A record lacking a field the predicate uses, or holding a value of the wrong kind, is the
 * caller's bug and throws.
 */
export function evaluatePredicate (pred: Predicate, record: Readonly<Record<string, string | number>>): boolean {
  switch (pred.op) {
    case 'true':
      return true
    case 'and':
      return pred.args.every((p) => evaluatePredicate(p, record))
    case 'or':
      return pred.args.some((p) => evaluatePredicate(p, record))
    default: {
      if (!Object.hasOwn(record, pred.field)) throw new Error(`evaluatePredicate: the record has no field "${pred.field}"`)
      const v = record[pred.field]
      if (pred.arity === 'discrete') {
        if (typeof v !== 'string') throw new TypeError(`evaluatePredicate: field "${pred.field}" is discrete, but the record holds ${typeof v}`)
        return pred.op === 'eq' ? v === pred.value : v !== pred.value
      }
      if (typeof v !== 'number') throw new TypeError(`evaluatePredicate: field "${pred.field}" is numeric, but the record holds ${typeof v}`)
      return compareNumbers(pred.op, v, pred.value)
    }
  }
}

function compareNumbers (op: ComparisonOp, a: number, b: number): boolean {
  switch (op) {
    case 'eq': return a === b
    case 'ne': return a !== b
    case 'lt': return a < b
    case 'le': return a <= b
    case 'gt': return a > b
    case 'ge': return a >= b
    default: { const never: never = op; throw new Error(`unknown operator ${String(never)}`) }
  }
}

const OP_TEXT: Readonly<Record<ComparisonOp, string>> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' }

/**
 * A readable form, e.g. `execname == "mysqld" && latency > 1000000`: strings JSON-quoted, `&&`
 * binding tighter than `||`, parentheses only where needed; `{}` prints as `true`. Not a probe
 * script: backends compile the tree themselves.
 */
export function printPredicate (pred: Predicate): string {
  return print(pred).text
}

/** Precedence: 1 for ||, 2 for &&, 3 for an atom. */
function print (pred: Predicate): { text: string, prec: number } {
  switch (pred.op) {
    case 'true':
      return { text: 'true', prec: 3 }
    case 'and':
    case 'or': {
      if (pred.args.length === 1) return print(pred.args[0] as Predicate)
      const prec = pred.op === 'and' ? 2 : 1
      const parts = pred.args.map((p) => {
        const sub = print(p)
        return sub.prec < prec ? `(${sub.text})` : sub.text
      })
      return { text: parts.join(pred.op === 'and' ? ' && ' : ' || '), prec }
    }
    default:
      return { text: `${pred.field} ${OP_TEXT[pred.op]} ${typeof pred.value === 'string' ? JSON.stringify(pred.value) : String(pred.value)}`, prec: 3 }
  }
}

/** The fields a predicate uses, each once, in order of first use. */
export function predicateFields (pred: Predicate): string[] {
  const out = new Set<string>()
  const walk = (p: Predicate): void => {
    switch (p.op) {
      case 'true': return
      case 'and':
      case 'or': p.args.forEach(walk); return
      default: out.add(p.field)
    }
  }
  walk(pred)
  return [...out]
}

/**
 * True when the predicate compares nothing (`{}`, or and/or of `{}` only), so it is always true
 * and a backend needs no filter. (CA's caPredNonTrivial, negated, also covering nested `{}`.)
 */
export function isTrivialPredicate (pred: Predicate): boolean {
  if (pred.op === 'true') return true
  if (pred.op === 'and' || pred.op === 'or') return pred.args.every(isTrivialPredicate)
  return false
}

/**
 * Partially evaluates a predicate with the fields whose value is fixed for this node (e.g.
 * `hostname`): comparisons on them become true or false and the tree simplifies around them.
 * Returns `true` or `false` when nothing else is left, so a node whose hostname the predicate
 * excludes need not instrument at all, and a backend never sees a field it cannot know.
 */
export function specializePredicate (pred: Predicate, known: Readonly<Record<string, string | number>>): Predicate | boolean {
  switch (pred.op) {
    case 'true':
      return true
    case 'and':
    case 'or': {
      const short = pred.op === 'or' // the value that decides an and/or on its own
      const rest: Predicate[] = []
      for (const arg of pred.args) {
        const r = specializePredicate(arg, known)
        if (r === short) return short
        if (r !== !short) rest.push(r as Predicate)
      }
      if (rest.length === 0) return !short
      if (rest.length === 1) return rest[0] as Predicate
      return Object.freeze({ op: pred.op, args: Object.freeze(rest) })
    }
    default:
      if (!Object.hasOwn(known, pred.field)) return pred
      return evaluatePredicate(pred, known)
  }
}

/** CA's JSON form of a parsed predicate (what the API shows); parsing it gives the tree back. */
export function predicateToJson (pred: Predicate): PredicateJson {
  switch (pred.op) {
    case 'true':
      return {}
    case 'and':
      return { and: pred.args.map(predicateToJson) }
    case 'or':
      return { or: pred.args.map(predicateToJson) }
    default:
      return { [pred.op]: [pred.field, pred.value] }
  }
}

/** JSON text for a message: bounded, and never throws. */
function show (value: unknown): string {
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return clip(text)
}

function quote (name: string): string {
  return clip(JSON.stringify(name))
}

function clip (text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}...` : text
}

/** Bytes of `s` in UTF-8, a lone surrogate counting as U+FFFD (3 bytes) as TextEncoder does. */
function utf8Length (s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++ }
    else n += 3
  }
  return n
}
