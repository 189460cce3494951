/**
 * String literals: the only way a user's text enters a script. Every literal is printable
 * ASCII on one line with no bare quote, and means exactly the value's bytes under bpftrace
 * 0.17's escapes (\" \\ \xHH, checked by experiment; accept.test.ts checks the kernel agrees).
 */
import test from 'ava'
import fc from 'fast-check'
import { bpftraceStringLiteral, COMM_MAX_BYTES, commLiteral, utf8Bytes } from '../../../metad/bpftrace/literal.js'

/** The grammar of our literals: printable ASCII but `"` and `\`, or one of three escapes. */
const SAFE_LITERAL = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\"|\\\\|\\x[0-9a-f]{2})*"$/

/** What bpftrace's lexer makes of one of our literals (its rules for \" \\ \xHH). */
function lex (literal: string): Uint8Array {
  const out: number[] = []
  for (let i = 1; i < literal.length - 1; i++) {
    const c = literal[i] as string
    if (c !== '\\') { out.push(c.charCodeAt(0)); continue }
    const next = literal[i + 1] as string
    if (next === 'x') { out.push(parseInt(literal.slice(i + 2, i + 4), 16)); i += 3 } else { out.push(next.charCodeAt(0)); i += 1 }
  }
  return Uint8Array.from(out)
}

const bytes = (s: string): Uint8Array => utf8Bytes(s) as Uint8Array

test('printable ASCII stays itself; quotes and backslashes are escaped', (t) => {
  t.is(bpftraceStringLiteral(bytes('mysqld')), '"mysqld"')
  t.is(bpftraceStringLiteral(bytes('a"b\\c')), '"a\\"b\\\\c"')
  t.is(bpftraceStringLiteral(bytes('{}; /* $1 %s #x')), '"{}; /* $1 %s #x"')
})

test('control bytes, DEL and non-ASCII become two-digit \\x escapes', (t) => {
  t.is(bpftraceStringLiteral(bytes('a\nb\tc\rd')), '"a\\x0ab\\x09c\\x0dd"')
  t.is(bpftraceStringLiteral(bytes('\x7f\x01')), '"\\x7f\\x01"')
  t.is(bpftraceStringLiteral(bytes('é')), '"\\xc3\\xa9"')
  t.is(bpftraceStringLiteral(bytes('🔥')), '"\\xf0\\x9f\\x94\\xa5"')
  t.is(bpftraceStringLiteral(bytes('\\x41')), '"\\\\x41"', 'a user\'s backslash-x is two characters, not an escape')
})

test('a NUL byte has no literal: asking for one is a caller bug', (t) => {
  t.throws(() => bpftraceStringLiteral(Uint8Array.of(0x61, 0, 0x62)), { message: /NUL/ })
})

test('task names: up to 15 bytes of well-formed UTF-8 without NUL have a literal, others none', (t) => {
  t.is(COMM_MAX_BYTES, 15)
  t.is(commLiteral(''), '""')
  t.is(commLiteral('x'.repeat(15)), `"${'x'.repeat(15)}"`)
  t.is(commLiteral('x'.repeat(16)), undefined)
  t.is(commLiteral('éééééééé'), undefined, '16 bytes in 8 characters')
  t.is(commLiteral('ééééééé'), '"' + '\\xc3\\xa9'.repeat(7) + '"', '14 bytes')
  t.is(commLiteral('a\u0000b'), undefined)
  t.is(commLiteral('\udc00x'), undefined)
  t.is(commLiteral('x\ud83d'), undefined)
  t.is(commLiteral('🔥'), '"\\xf0\\x9f\\x94\\xa5"')
})

test('every literal is one safe line that lexes back to exactly the value\'s bytes', (t) => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
    const b = utf8Bytes(s)
    if (b === undefined || b.includes(0)) return true
    const literal = bpftraceStringLiteral(b)
    return SAFE_LITERAL.test(literal) && Buffer.from(lex(literal)).equals(Buffer.from(b))
  }), { numRuns: 3000 })
  t.regex(bpftraceStringLiteral(bytes('}; BEGIN { system("id") }')), SAFE_LITERAL)
})
