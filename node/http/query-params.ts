/**
 * Typed request parameters from a query string, as CA's `caHttpParam` read them (CA-REFERENCE
 * §2.1, §2.5): numbers, booleans spelled `true`/`false`, arrays given as repeated keys or one
 * comma-separated string, and enumerations; each with CA's reasons ("not a number", "value too
 * small (min: 0)", "value too large (max: 3600)", "not a boolean", "unsupported value") inside
 * metad's InvalidFieldError, whose message names the parameter:
 * `value "abc" for field "duration" is invalid: not a number`.
 *
 * Deliberate fixes of CA, which used parseInt: an integer parameter must be written as decimal
 * digits with an optional minus ("10.5" is "not an integer", "10abc" and " 10" are "not a
 * number") instead of being truncated; a parameter given twice where one value is expected is
 * refused instead of being read as the text "1,2"; an empty array parameter (`selected=`) is the
 * empty array, not one empty key; an array has at most MAX_LIST_ENTRIES entries.
 */
import { HeatmeshError, InvalidFieldError } from '../../metad/index.js'

/** Most entries an array parameter may have. */
export const MAX_LIST_ENTRIES = 1000

/** The query string as parameter name -> every value given, in order. */
export type Query = ReadonlyMap<string, readonly string[]>

/** Reads a query string (repeated keys keep every value). */
export function parseQuery (search: URLSearchParams): Query {
  const out = new Map<string, string[]>()
  for (const [key, value] of search) {
    const list = out.get(key)
    if (list === undefined) out.set(key, [value])
    else list.push(value)
  }
  return out
}

/** Bounds of a number parameter (inclusive); either may be absent. */
export interface Limits {
  readonly min?: number
  readonly max?: number
}

/** The one value of `name`, or undefined when absent. Refuses a parameter given twice. */
function single (q: Query, name: string): string | undefined {
  const values = q.get(name)
  if (values === undefined) return undefined
  if (values.length > 1) throw new InvalidFieldError(name, values, 'given more than once')
  return values[0]
}

function checkLimits (name: string, text: string, n: number, limits: Limits): number {
  if (limits.min !== undefined && n < limits.min) throw new InvalidFieldError(name, text, `value too small (min: ${limits.min})`)
  if (limits.max !== undefined && n > limits.max) throw new InvalidFieldError(name, text, `value too large (max: ${limits.max})`)
  return n
}

/** An integer parameter (decimal digits, optional minus), or undefined when absent. */
export function integerParam (q: Query, name: string, limits: Limits = {}): number | undefined {
  const text = single(q, name)
  if (text === undefined) return undefined
  if (!/^-?[0-9]+$/.test(text)) {
    const n = text.trim() === text && text !== '' ? Number(text) : NaN
    throw new InvalidFieldError(name, text, Number.isFinite(n) && !Number.isInteger(n) ? 'not an integer' : 'not a number')
  }
  const n = Number(text)
  if (!Number.isSafeInteger(n)) throw new InvalidFieldError(name, text, n < 0 ? 'value too small' : 'value too large')
  return checkLimits(name, text, n, limits)
}

/** A decimal number parameter (`0.99`, `.5`, `1e-3`), or undefined when absent. */
export function floatParam (q: Query, name: string, limits: Limits = {}): number | undefined {
  const text = single(q, name)
  if (text === undefined) return undefined
  if (!/^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text)) throw new InvalidFieldError(name, text, 'not a number')
  const n = Number(text)
  if (!Number.isFinite(n)) throw new InvalidFieldError(name, text, 'not a number')
  return checkLimits(name, text, n, limits)
}

/** A boolean parameter: the strings `true` or `false` (CA's rule), or undefined when absent. */
export function booleanParam (q: Query, name: string): boolean | undefined {
  const text = single(q, name)
  if (text === undefined) return undefined
  if (text === 'true') return true
  if (text === 'false') return false
  throw new InvalidFieldError(name, text, 'not a boolean')
}

/**
 * An array parameter: repeated keys (`selected=a&selected=b`, each taken whole) or one
 * comma-separated string (`selected=a,b`); `selected=` is the empty array. Undefined when absent.
 */
export function listParam (q: Query, name: string): string[] | undefined {
  const values = q.get(name)
  if (values === undefined) return undefined
  const list = values.length === 1 ? (values[0] === '' ? [] : values[0]!.split(',', MAX_LIST_ENTRIES + 1)) : [...values]
  if (list.length > MAX_LIST_ENTRIES) throw new InvalidFieldError(name, `(${list.length} entries or more)`, `too many entries (max: ${MAX_LIST_ENTRIES})`)
  return list
}

/** An array of integers (each entry as {@link integerParam} reads one), or undefined. */
export function integerListParam (q: Query, name: string, limits: Limits, reason: string): number[] | undefined {
  const list = listParam(q, name)
  if (list === undefined) return undefined
  return list.map((text) => {
    if (!/^-?[0-9]+$/.test(text)) throw new InvalidFieldError(name, list, reason)
    const n = Number(text)
    if ((limits.min !== undefined && n < limits.min) || (limits.max !== undefined && n > limits.max)) throw new InvalidFieldError(name, list, reason)
    return n
  })
}

/** An array of numbers within limits, or undefined. */
export function floatListParam (q: Query, name: string, limits: Limits, maxEntries: number): number[] | undefined {
  const list = listParam(q, name)
  if (list === undefined) return undefined
  if (list.length > maxEntries) throw new InvalidFieldError(name, list, `too many entries (max: ${maxEntries})`)
  return list.map((text) => {
    const n = /^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text) ? Number(text) : NaN
    if (!Number.isFinite(n)) throw new InvalidFieldError(name, list, `entry "${text}" is not a number`)
    if ((limits.min !== undefined && n < limits.min) || (limits.max !== undefined && n > limits.max)) {
      throw new InvalidFieldError(name, list, `entry "${text}" is out of range (${limits.min ?? '-inf'} to ${limits.max ?? 'inf'})`)
    }
    return n
  })
}

/** One of `choices`, or undefined when absent (CA's "unsupported value" otherwise). */
export function choiceParam<T extends string> (q: Query, name: string, choices: readonly T[]): T | undefined {
  const text = single(q, name)
  if (text === undefined) return undefined
  if (!(choices as readonly string[]).includes(text)) throw new InvalidFieldError(name, text, 'unsupported value')
  return text as T
}

/** CA's error for a required parameter that is absent: `param "x" must be specified`. */
export function requireParam<T> (name: string, value: T | undefined): T {
  if (value === undefined) throw new HeatmeshError('ECA_INVAL', `param "${name}" must be specified`)
  return value
}
