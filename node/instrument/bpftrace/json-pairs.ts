/**
 * A JSON parser that keeps an object's members as a list of pairs, duplicates included.
 *
 * Why not JSON.parse: bpftrace sometimes prints two keys of one map identically (a `char[]` key
 * compared on bytes after its NUL, measured with block rwbs: "RA" twice). JSON.parse keeps the
 * last of equal keys and would silently drop the other count; the runtime must add them up.
 * Everything else is standard JSON (RFC 8259): the same inputs are accepted and rejected as by
 * JSON.parse (test/node/instrument/bpftrace-output.test.ts checks this against JSON.parse with
 * fast-check), and values are the same except that objects are JsonObject instances.
 */

/** A parsed JSON value; objects keep every member, in order. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject

/** A JSON object as its list of members (duplicate names kept, in input order). */
export class JsonObject {
  constructor (readonly entries: ReadonlyArray<readonly [string, JsonValue]>) {}

  /** The value of the first member named `name`, or undefined. */
  get (name: string): JsonValue | undefined {
    for (const [k, v] of this.entries) if (k === name) return v
    return undefined
  }
}

/** Nesting deeper than this is refused (bpftrace's output nests 3 levels; no stack overflow). */
export const JSON_MAX_DEPTH = 64

/** Thrown for text that is not JSON; the message names the offset. */
export class JsonSyntaxError extends SyntaxError {
  constructor (message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`)
    this.name = 'JsonSyntaxError'
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y

/** Parses `text` as one JSON value (surrounding whitespace allowed). @throws JsonSyntaxError */
export function parseJsonPairs (text: string): JsonValue {
  let i = 0
  const fail = (what: string): never => { throw new JsonSyntaxError(what, i) }
  const ws = (): void => {
    for (;;) {
      const c = text.charCodeAt(i)
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++
      else return
    }
  }

  const string = (): string => {
    i++ // the opening quote
    let out = ''
    let start = i
    for (;;) {
      const c = text.charCodeAt(i)
      if (Number.isNaN(c)) fail('unterminated string')
      if (c === 0x22) {
        out += text.slice(start, i)
        i++
        return out
      }
      if (c < 0x20) fail('control character in string')
      if (c !== 0x5c) { i++; continue }
      out += text.slice(start, i)
      const e = text.charCodeAt(i + 1)
      switch (e) {
        case 0x22: out += '"'; break
        case 0x5c: out += '\\'; break
        case 0x2f: out += '/'; break
        case 0x62: out += '\b'; break
        case 0x66: out += '\f'; break
        case 0x6e: out += '\n'; break
        case 0x72: out += '\r'; break
        case 0x74: out += '\t'; break
        case 0x75: {
          const hex = text.slice(i + 2, i + 6)
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape')
          out += String.fromCharCode(parseInt(hex, 16))
          i += 4
          break
        }
        default: fail('bad escape')
      }
      i += 2
      start = i
    }
  }

  const value = (depth: number): JsonValue => {
    if (depth > JSON_MAX_DEPTH) fail(`nesting deeper than ${JSON_MAX_DEPTH}`)
    ws()
    const c = text.charCodeAt(i)
    switch (c) {
      case 0x7b: { // {
        i++
        const entries: Array<readonly [string, JsonValue]> = []
        ws()
        if (text.charCodeAt(i) === 0x7d) { i++; return new JsonObject(entries) }
        for (;;) {
          ws()
          if (text.charCodeAt(i) !== 0x22) fail('expected a member name')
          const k = string()
          ws()
          if (text.charCodeAt(i) !== 0x3a) fail('expected ":"')
          i++
          entries.push([k, value(depth + 1)])
          ws()
          const d = text.charCodeAt(i++)
          if (d === 0x7d) return new JsonObject(entries)
          if (d !== 0x2c) { i--; fail('expected "," or "}"') }
        }
      }
      case 0x5b: { // [
        i++
        const items: JsonValue[] = []
        ws()
        if (text.charCodeAt(i) === 0x5d) { i++; return items }
        for (;;) {
          items.push(value(depth + 1))
          ws()
          const d = text.charCodeAt(i++)
          if (d === 0x5d) return items
          if (d !== 0x2c) { i--; fail('expected "," or "]"') }
        }
      }
      case 0x22: return string()
      case 0x74: return literal('true', true)
      case 0x66: return literal('false', false)
      case 0x6e: return literal('null', null)
      default: {
        NUMBER.lastIndex = i
        const m = NUMBER.exec(text)
        if (m === null) return fail(Number.isNaN(c) ? 'unexpected end of input' : 'unexpected character')
        i += m[0].length
        return Number(m[0])
      }
    }
  }

  const literal = <T extends JsonValue>(word: string, v: T): T => {
    if (!text.startsWith(word, i)) fail('unexpected character')
    i += word.length
    return v
  }

  const v = value(0)
  ws()
  if (i !== text.length) fail('unexpected text after the value')
  return v
}
