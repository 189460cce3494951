/**
 * bpftrace's JSON output (`-f json`), one line at a time: the bytes of a line in, one typed
 * OutputEvent out, or a DecodeError saying why the line is not what the script protocol allows
 * (/tmp/bpf-contract.md "Script protocol"; facts measured with bpftrace v0.17.0).
 *
 * What a line can be:
 *   {"type": "attached_probes", "data": {"probes": 6}}    always first
 *   {"type": "printf", "data": "READY\n"}                  markers: READY (BEGIN), TICK (1 Hz), END
 *   {"type": "map", "data": {"@s3": {"bash,7500": 2}}}     a slot map; tuple keys joined by ","
 *   {"type": "lost_events", "data": {"events": 12}}        the perf ring overflowed
 *   (an empty line)                                        bpftrace prints "\n\n" as it exits
 * Other JSON types (hist, stats, helper_error, ...) are not part of the protocol and come back as
 * `other`, for the caller to count.
 *
 * BYTES >= 0x80. bpftrace 0.17 escapes each such byte of a string as `\uffffffXX` (a sign-extended
 * char), which a JSON parser would read as U+FFFF followed by "ffXX". repairHighBytes turns every
 * such escape back into its raw byte before anything else, and the line is then decoded as UTF-8
 * (invalid sequences become U+FFFD): "é" printed as `\uffffffc3\uffffffa9` comes back as "é".
 */
import { DecodeError } from '../../../metad/index.js'
import { JsonObject, JsonSyntaxError, parseJsonPairs, type JsonValue } from './json-pairs.js'

/** One decoded line. */
export type OutputEvent =
  | { readonly type: 'blank' }
  | { readonly type: 'attached', readonly probes: number }
  | { readonly type: 'marker', readonly marker: 'READY' | 'TICK' | 'END' }
  /** A printf that is not a marker (the protocol has none; counted by the caller). */
  | { readonly type: 'printf', readonly text: string }
  /** One printed map: its name (`@s3`) and its entries as printed, duplicates kept. */
  | { readonly type: 'map', readonly map: string, readonly entries: ReadonlyArray<readonly [string, number]> }
  | { readonly type: 'lost', readonly events: number }
  /** A valid JSON line of a type outside the protocol (hist, stats, helper_error, ...). */
  | { readonly type: 'other', readonly kind: string }

const BACKSLASH = 0x5c
const utf8 = new TextDecoder('utf-8', { fatal: false })

function hexDigit (c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10
  return -1
}

/** Whether `line[at..at+9]` is `uffffffXX` (`at` is just after a backslash). */
function highByteAt (line: Uint8Array, at: number): number {
  if (at + 8 >= line.length || line[at] !== 0x75) return -1
  for (let k = 1; k <= 6; k++) if ((line[at + k]! | 0x20) !== 0x66) return -1
  const hi = hexDigit(line[at + 7]!)
  const lo = hexDigit(line[at + 8]!)
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo
}

/**
 * `line` with every unescaped `\uffffffXX` replaced by the byte 0xXX. An escaped backslash
 * (`\\uffffff41`) is left alone: escapes are read pairwise from the left, as a JSON parser does.
 * Returns `line` itself when there is nothing to repair.
 */
export function repairHighBytes (line: Uint8Array): Uint8Array {
  let i = line.indexOf(BACKSLASH)
  if (i === -1) return line
  const out = new Uint8Array(line.length)
  let n = 0
  let from = 0
  while (i !== -1 && i < line.length) {
    const b = highByteAt(line, i + 1)
    if (b >= 0) {
      out.set(line.subarray(from, i), n)
      n += i - from
      out[n++] = b
      from = i + 10
      i = line.indexOf(BACKSLASH, from)
    } else {
      i = line.indexOf(BACKSLASH, i + 2) // skip the escaped character, whatever it is
    }
  }
  if (from === 0) return line
  out.set(line.subarray(from), n)
  n += line.length - from
  return out.subarray(0, n)
}

const isCount = (v: JsonValue): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/**
 * Decodes one line of bpftrace's JSON output (without its "\n").
 * @throws DecodeError when the line is not JSON, or is a protocol type with the wrong shape.
 */
export function parseOutputLine (line: Uint8Array): OutputEvent {
  const text = utf8.decode(repairHighBytes(line))
  if (text.trim() === '') return { type: 'blank' }
  let v: JsonValue
  try {
    v = parseJsonPairs(text)
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new DecodeError('a bpftrace output line', err.message)
    throw err
  }
  const bad = (why: string): never => { throw new DecodeError('a bpftrace output line', why) }
  if (!(v instanceof JsonObject)) return bad('not a JSON object')
  const type = v.get('type')
  const data = v.get('data')
  if (typeof type !== 'string') return bad('no "type"')
  switch (type) {
    case 'printf': {
      if (typeof data !== 'string') return bad('printf without a string "data"')
      if (data === 'READY\n' || data === 'TICK\n' || data === 'END\n') return { type: 'marker', marker: data.slice(0, -1) as 'READY' | 'TICK' | 'END' }
      return { type: 'printf', text: data }
    }
    case 'map': {
      if (!(data instanceof JsonObject) || data.entries.length !== 1) return bad('a map line holds one map')
      const [map, members] = data.entries[0]!
      if (!(members instanceof JsonObject)) return bad(`map ${map} is not keyed (a scalar map breaks the protocol)`)
      const entries: Array<readonly [string, number]> = []
      for (const [k, n] of members.entries) {
        if (!isCount(n)) return bad(`map ${map} key ${JSON.stringify(k)} has ${JSON.stringify(n)}, not a count`)
        entries.push([k, n])
      }
      return { type: 'map', map, entries }
    }
    case 'attached_probes': {
      const probes = data instanceof JsonObject ? data.get('probes') : undefined
      return isCount(probes ?? null) ? { type: 'attached', probes: probes as number } : bad('attached_probes without a count')
    }
    case 'lost_events': {
      const events = data instanceof JsonObject ? data.get('events') : undefined
      return isCount(events ?? null) ? { type: 'lost', events: events as number } : bad('lost_events without a count')
    }
    default:
      return { type: 'other', kind: type }
  }
}
