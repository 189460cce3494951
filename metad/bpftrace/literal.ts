/**
 * String literals in generated bpftrace: the only place a user's text reaches a script.
 *
 * bpftrace 0.17's lexer, checked by experiment (`printf("[%s]", "<literal>")` through
 * `bpftrace -e`): inside "..." it accepts `\n \t \r \\ \"`, `\x` with one or two hex digits and
 * `\` with one to three octal digits (up to \377); any other escape (\a, \e, \u0041, \x{41}) is
 * "invalid escape character", and a raw newline ends the literal ("unterminated string"). A
 * NUL byte (\x00 or \0) is accepted but TRUNCATES the string: `comm == "dd\x00x"` matched a
 * process named "dd". Raw bytes >= 0x80 and control bytes pass through unchanged.
 *
 * So a literal here is built from bytes: printable ASCII other than `"` and `\` as itself, `"`
 * and `\` as `\"` and `\\`, everything else as `\xHH` (always two digits, so a following hex
 * digit cannot be taken into the escape). The text of a literal is therefore printable ASCII,
 * one line, with no bare quote: it cannot end the literal, the line or the statement, and
 * nothing in it is code. NUL has no literal: callers decide what a NUL-holding value means
 * before they ask for one (for a task name: no task has that name).
 */

/** A task name holds at most this many bytes (TASK_COMM_LEN 16, minus the NUL). */
export const COMM_MAX_BYTES = 15

const ENCODER = new TextEncoder()
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * The UTF-8 bytes of `value`, or undefined if it is not well-formed Unicode (a lone surrogate,
 * which UTF-8 cannot hold: TextEncoder would silently turn it into U+FFFD).
 */
export function utf8Bytes (value: string): Uint8Array | undefined {
  return LONE_SURROGATE.test(value) ? undefined : ENCODER.encode(value)
}

/**
 * The bpftrace literal (with its quotes) for `bytes`.
 * @throws Error if a byte is NUL: a caller bug, since bpftrace would cut the string there.
 */
export function bpftraceStringLiteral (bytes: Uint8Array): string {
  let out = '"'
  for (const b of bytes) {
    if (b === 0) throw new Error('bpftraceStringLiteral: a NUL byte has no bpftrace literal (bpftrace cuts the string there)')
    if (b === 0x22) out += '\\"'
    else if (b === 0x5c) out += '\\\\'
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b)
    else out += `\\x${b.toString(16).padStart(2, '0')}`
  }
  return `${out}"`
}

/**
 * The literal to compare a task name (`comm`) with `value`, or undefined when no task can have
 * that name: more than COMM_MAX_BYTES bytes of UTF-8 (the kernel keeps 15), a NUL (it ends a
 * name), or not well-formed Unicode (names are decoded from UTF-8, so none decodes to it).
 */
export function commLiteral (value: string): string | undefined {
  const bytes = utf8Bytes(value)
  if (bytes === undefined || bytes.length > COMM_MAX_BYTES || bytes.includes(0)) return undefined
  return bpftraceStringLiteral(bytes)
}
