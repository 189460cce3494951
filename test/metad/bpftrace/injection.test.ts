/**
 * User input never reaches a script as code. Every hostile constant (hostile-cases.ts), on
 * every kind of discrete field, is either an inert literal (one safe line that lexes back to
 * exactly the value's bytes) or a comparison decided at compile time; and the script around it
 * is the same as for a harmless value with the same outcome. accept.test.ts has bpftrace load
 * them all.
 */
import test from 'ava'
import { catalog, parsePredicate, type Metric } from '../../../metad/index.js'
import { generateBpftraceProgram, type GeneratorEnv } from '../../../metad/bpftrace/index.js'
import { utf8Bytes } from '../../../metad/bpftrace/literal.js'
import { HOSTILE_STRINGS } from './hostile-cases.js'

const LITERAL = /"(?:[^"\\]|\\.)*"/g
const SAFE_LITERAL = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\"|\\\\|\\x[0-9a-f]{2})*"$/
/** Literals the generator writes itself (READY, TICK, END, the rwbs prefixes). */
const OWN_LITERALS = new Set(['"READY\\n"', '"TICK\\n"', '"END\\n"', '"R"', '"W"', '"FW"'])

/** Every discrete field kind, on a metric that has it. */
const FIELDS: readonly [string, string][] = [
  ['syscall.syscalls', 'execname'], ['proc.execs', 'pexecname'], ['syscall.syscalls', 'pid'], ['syscall.syscalls', 'syscall'],
  ['syscall.syscalls', 'cgroup'], ['tcp.connects', 'raddr'], ['tcp.accepts', 'raddr'], ['tcp.connects', 'rport'],
  ['cpu.runqueue_latency', 'cpu'], ['disk.physio_ops', 'disk'], ['disk.physio_ops', 'optype'], ['cpu.thread_executions', 'leavereason']
]

/** A resolver that is asked about every hostile path and disk, and knows none. */
const ENV: GeneratorEnv = { cgroupId: () => undefined, blockDevice: () => undefined }

function generate (metricName: string, field: string, value: string, op: 'eq' | 'ne' = 'eq'): string {
  const metric = catalog.metrics.get(metricName) as Metric
  return generateBpftraceProgram([{ slot: 0, metric, predicate: parsePredicate({ [op]: [field, value] }, metric), decomposition: [field] }], ENV).script
}

function userLiterals (script: string): string[] {
  return [...script.matchAll(LITERAL)].map((m) => m[0]).filter((l) => !OWN_LITERALS.has(l))
}

function lex (literal: string): Buffer {
  const out: number[] = []
  for (let i = 1; i < literal.length - 1; i++) {
    if (literal[i] !== '\\') { out.push(literal.charCodeAt(i)); continue }
    if (literal[i + 1] === 'x') { out.push(parseInt(literal.slice(i + 2, i + 4), 16)); i += 3 } else { out.push(literal.charCodeAt(i + 1)); i += 1 }
  }
  return Buffer.from(out)
}

for (const [metricName, field] of FIELDS) {
  test(`hostile constants on ${metricName}.${field} become inert literals or decided comparisons`, (t) => {
    for (const value of HOSTILE_STRINGS) {
      for (const op of ['eq', 'ne'] as const) {
        const script = generate(metricName, field, value, op)
        const literals = userLiterals(script)
        const label = `${op} ${JSON.stringify(value).slice(0, 40)}`
        t.true(literals.every((l) => SAFE_LITERAL.test(l)), label)
        t.false(/[\u0000-\u0009\u000b-\u001f\u007f-\uffff]/.test(script), `${label}: only printable ASCII and newlines`)
        if (literals.length === 0) {
          // Decided: the script is the one for a value that also decides, e.g. a 16-byte name.
          t.is(script, generate(metricName, field, 'x'.repeat(16), op), label)
        } else {
          t.is(literals.length, 1, label)
          t.deepEqual(lex(literals[0] as string), Buffer.from(utf8Bytes(value) as Uint8Array), label)
          t.is(script.replace(LITERAL, (l) => OWN_LITERALS.has(l) ? l : '"?"'), generate(metricName, field, 'x', op).replace(LITERAL, (l) => OWN_LITERALS.has(l) ? l : '"?"'), label)
        }
      }
    }
  })
}

test('names that fit a task name are kept as literals, the rest are decided', (t) => {
  const literal = (v: string): boolean => userLiterals(generate('syscall.syscalls', 'execname', v)).length === 1
  t.true(literal('}; BEGIN {'))
  t.true(literal('system("id")'))
  t.true(literal('$1'))
  t.true(literal('\u0001id\u0002'))
  t.true(literal('ééééééé'))
  t.false(literal('}; BEGIN { system("id") }'), 'longer than 15 bytes')
  t.false(literal('x'.repeat(1024)))
  t.false(literal('a\u0000b'))
  t.false(literal('\ud800'))
  t.false(literal('🔥🔥🔥🔥'), '16 bytes')
})

test('a literal that looks like a tracepoint field or an internal mark stays a literal', (t) => {
  t.true(generate('syscall.syscalls', 'execname', 'args->id').includes('comm == "args->id"'))
  t.true(generate('syscall.syscalls', 'execname', '\u0001id\u0002').includes('comm == "\\x01id\\x02"'))
})

test('the runtime\'s resolvers see the user\'s text, but only numbers they return reach the script', (t) => {
  const asked: string[] = []
  const env: GeneratorEnv = { cgroupId: (p) => { asked.push(p); return 7 } }
  const metric = catalog.metrics.get('syscall.syscalls') as Metric
  const { script } = generateBpftraceProgram([{ slot: 0, metric, predicate: parsePredicate({ eq: ['cgroup', '}; BEGIN { system("id") }'] }, metric), decomposition: [] }], env)
  t.deepEqual(asked, ['}; BEGIN { system("id") }'])
  t.true(script.includes('/cgroup == 7/'))
  t.false(script.includes('system'))
})
