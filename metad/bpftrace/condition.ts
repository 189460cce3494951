/**
 * Predicates compiled into bpftrace conditions.
 *
 * A comparison compiles by its field's kind (./description.ts, ValueExpr): constants become
 * numbers or escaped literals, never text the user wrote. A constant the field can never hold
 * makes the comparison a constant itself, decided here and not in the kernel: a pid that is
 * not a decimal number, a syscall the table does not know, a task name longer than the kernel
 * keeps (15 bytes), a cgroup or disk the runtime cannot resolve, a negative latency. Then
 * `eq` is false and `ne` true, exactly as evaluating the predicate on any event would say, and
 * and/or simplify around it (CA left such checks to DTrace).
 *
 * A predicate can be WEAKENED to the fields a point knows: each comparison on another field
 * becomes true. and/or are monotone, so the weakened predicate holds whenever the predicate
 * does; it is what a start probe can test before the aggregating probe tests the rest.
 */
import type { Predicate } from '../predicate.js'
import type { ValueExpr } from './description.js'
import { bpftraceEnumNames } from './enums.js'
import { parseIpAddress } from './ip-address.js'
import { commLiteral } from './literal.js'
import { syscallNumber } from './syscalls.js'

/** Resolves predicate constants that only the running node can map (see GeneratorEnv). */
export interface ConstantResolver {
  /** The cgroup v2 id of a cgroup path as the runtime prints it, or undefined. */
  readonly cgroupId?: (path: string) => bigint | number | undefined
  /** The kernel dev_t (major << 20 | minor) of a disk name, or undefined. */
  readonly blockDevice?: (name: string) => bigint | number | undefined
}

/** A compiled condition: decided (true/false) or a bpftrace expression. */
export type Condition = boolean | Expression

/** bpftrace text with its precedence: 1 for ||, 2 for &&, 3 for an atom (safe anywhere). */
export interface Expression {
  readonly text: string
  readonly prec: 1 | 2 | 3
}

/** An atom: text that needs no parentheses (a comparison is wrapped to be safe in && / ||). */
export function atom (text: string): Expression {
  return { text, prec: 3 }
}

/** The conjunction, simplified around constants. */
export function and (...conds: readonly Condition[]): Condition {
  return join(conds, '&&', 2)
}

/** The disjunction, simplified around constants. */
export function or (...conds: readonly Condition[]): Condition {
  return join(conds, '||', 1)
}

function join (conds: readonly Condition[], op: '&&' | '||', prec: 1 | 2): Condition {
  const decisive = op === '||'
  const parts: Expression[] = []
  for (const c of conds) {
    if (c === decisive) return decisive
    if (typeof c === 'boolean') continue
    if (!parts.some((p) => p.text === c.text)) parts.push(c)
  }
  if (parts.length === 0) return !decisive
  if (parts.length === 1) return parts[0] as Expression
  return { text: parts.map((p) => p.prec < prec ? `(${p.text})` : p.text).join(` ${op} `), prec }
}

/** The negation of a condition. */
export function not (c: Condition): Condition {
  if (typeof c === 'boolean') return !c
  return atom(`!(${c.text})`)
}

/** The text of a condition for `if (...)` or a probe filter: decided ones print as 1 or 0. */
export function conditionText (c: Condition): string {
  if (c === true) return '1'
  if (c === false) return '0'
  return c.text
}

/**
 * Compiles `pred`. `resolve(field)` gives the field's expression here, or undefined when this
 * point does not know it: the comparison then weakens to true and `weakened` is set.
 */
export function compilePredicate (
  pred: Predicate,
  resolve: (field: string) => ValueExpr | undefined,
  constants: ConstantResolver
): { condition: Condition, weakened: boolean } {
  let weakened = false
  const walk = (p: Predicate): Condition => {
    switch (p.op) {
      case 'true':
        return true
      case 'and':
        return and(...p.args.map(walk))
      case 'or':
        return or(...p.args.map(walk))
      default: {
        const value = resolve(p.field)
        if (value === undefined) {
          weakened = true
          return true
        }
        if (p.arity === 'numeric') return compileNumeric(value, p.op, p.value, p.field)
        const eq = compileEquality(value, p.value, constants)
        return p.op === 'eq' ? eq : not(eq)
      }
    }
  }
  const condition = walk(pred)
  return { condition, weakened }
}

/** `value == constant` for a discrete field. */
function compileEquality (value: ValueExpr, constant: string, constants: ConstantResolver): Condition {
  switch (value.kind) {
    case 'comm': {
      const literal = commLiteral(constant)
      return literal === undefined ? false : atom(`${value.expr} == ${literal}`)
    }
    case 'pid':
      return equalsInteger(value.expr, decimal(constant, 2 ** 31 - 1))
    case 'port':
      return equalsInteger(value.expr, decimal(constant, 65535))
    case 'cpu':
      return equalsInteger(value.expr, decimal(constant.startsWith('cpu') ? constant.slice(3) : constant, 2 ** 31 - 1))
    case 'syscall':
      return equalsInteger(value.expr, syscallNumber(constant))
    case 'cgroup':
      return equalsInteger(value.expr, resolved(constants.cgroupId?.(constant), 'cgroupId') ?? prefixed(constant, 'cgroup_'))
    case 'blockdev':
      return equalsInteger(value.expr, resolved(constants.blockDevice?.(constant), 'blockDevice') ?? majorMinor(constant))
    case 'enum': {
      const names = bpftraceEnumNames(value.enum)
      if (names === undefined) throw new Error(`compilePredicate: unknown enum "${value.enum}"`)
      const i = names.indexOf(constant)
      return i < 0 ? false : atom(`${enumExpression(value)} == ${i}`)
    }
    case 'ip': {
      const addr = parseIpAddress(constant)
      if (addr === undefined) return false
      if (addr.family === 4) {
        const bytes = value.v4Form === 'word'
          ? [atom(`${value.v4} == ${littleEndianWord(addr.bytes)}`)]
          : addr.bytes.map((b, i) => atom(`${value.v4}[${i}] == ${b}`))
        return and(atom(`${value.family} == 2`), ...bytes)
      }
      return and(atom(`${value.family} == 10`), ...addr.bytes.map((b, i) => atom(`${value.v6}[${i}] == ${b}`)))
    }
    case 'number':
      throw new Error('compilePredicate: a numeric field in a discrete comparison')
    default: {
      const never: never = value
      throw new Error(`compilePredicate: unknown kind ${String(never)}`)
    }
  }
}

/**
 * `value <op> constant` for a numeric field. Values are unsigned integers, so a negative or
 * fractional constant is moved to the integer that gives the same answer, or decides it.
 */
function compileNumeric (value: ValueExpr, op: string, constant: number, field: string): Condition {
  if (value.kind !== 'number') throw new Error(`compilePredicate: field "${field}" is numeric but its expression is of kind ${value.kind}`)
  const e = value.expr
  const floor = Math.floor(constant)
  const ceil = Math.ceil(constant)
  switch (op) {
    case 'eq': return Number.isInteger(constant) && constant >= 0 ? atom(`${e} == ${integer(constant)}`) : false
    case 'ne': return Number.isInteger(constant) && constant >= 0 ? atom(`${e} != ${integer(constant)}`) : true
    case 'lt': return ceil <= 0 ? false : atom(`${e} < ${integer(ceil)}`)
    case 'le': return floor < 0 ? false : atom(`${e} <= ${integer(floor)}`)
    case 'gt': return floor < 0 ? true : atom(`${e} > ${integer(floor)}`)
    case 'ge': return ceil <= 0 ? true : atom(`${e} >= ${integer(ceil)}`)
    default: throw new Error(`compilePredicate: unknown operator ${op}`)
  }
}

/** An enum field's index as a bpftrace expression: `c0 ? 0 : (c1 ? 1 : ... last)`. */
export function enumExpression (value: Extract<ValueExpr, { kind: 'enum' }>): string {
  let text = String(value.cases.length)
  for (let i = value.cases.length - 1; i >= 0; i--) text = `(${value.cases[i] as string}) ? ${i} : ${i === value.cases.length - 1 ? text : `(${text})`}`
  return `(${text})`
}

function equalsInteger (expr: string, n: bigint | number | undefined): Condition {
  return n === undefined ? false : atom(`${expr} == ${n.toString()}`)
}

/** A canonical decimal (no sign, no leading zero) up to `max`, or undefined. */
function decimal (text: string, max: number): number | undefined {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(text)) return undefined
  const n = Number(text)
  return n <= max ? n : undefined
}

/** `<prefix><n>` (n canonical decimal, < 2^64) as n, or undefined. */
function prefixed (text: string, prefix: string): bigint | undefined {
  if (!text.startsWith(prefix)) return undefined
  const rest = text.slice(prefix.length)
  if (!/^(0|[1-9][0-9]{0,19})$/.test(rest)) return undefined
  const n = BigInt(rest)
  return n < 2n ** 64n ? n : undefined
}

/** "<major>:<minor>" as the kernel's dev_t (major << 20 | minor), or undefined. */
function majorMinor (text: string): number | undefined {
  const m = /^(0|[1-9][0-9]{0,3}):(0|[1-9][0-9]{0,6})$/.exec(text)
  if (m === null) return undefined
  const major = Number(m[1])
  const minor = Number(m[2])
  return major < 4096 && minor < 2 ** 20 ? major * 2 ** 20 + minor : undefined
}

/** A value from the runtime's resolver: checked, since it is printed into the script. */
function resolved (n: bigint | number | undefined, what: string): bigint | undefined {
  if (n === undefined) return undefined
  const big = typeof n === 'bigint' ? n : Number.isSafeInteger(n) ? BigInt(n) : undefined
  if (big === undefined || big < 0n || big >= 2n ** 64n) throw new Error(`GeneratorEnv.${what} returned ${String(n)}, not an unsigned 64-bit integer`)
  return big
}

function integer (n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`compilePredicate: ${n} is not a safe integer`)
  return String(n)
}

/** The 32-bit word an IPv4 address is in memory (network order), read on a little-endian CPU. */
function littleEndianWord (bytes: readonly number[]): number {
  return ((bytes[0] as number) + (bytes[1] as number) * 2 ** 8 + (bytes[2] as number) * 2 ** 16 + (bytes[3] as number) * 2 ** 24)
}
