/**
 * Predicates: parsing (CA's messages and the rules CA forgot), evaluation, printing, fields,
 * triviality and the JSON round trip; a fuzz test of the parser.
 */
import test from 'ava'
import fc from 'fast-check'
import { catalog, findMetric } from '../../metad/catalog/index.js'
import type { Metric } from '../../metad/catalog/index.js'
import { InvalidFieldError } from '../../metad/errors.js'
import {
  evaluatePredicate, isTrivialPredicate, parsePredicate, predicateFields, predicateToJson, printPredicate, specializePredicate,
  PREDICATE_MAX_DEPTH, PREDICATE_MAX_NODES, PREDICATE_MAX_STRING_BYTES, PREDICATE_MAX_JSON_LENGTH
} from '../../metad/predicate.js'
import type { Predicate } from '../../metad/predicate.js'

const syscalls = catalog.metrics.get('syscall.syscalls') as Metric
const cpus = catalog.metrics.get('cpu.cpus') as Metric

/* Parsing: accepted inputs and their trees. */

const accepted: Array<[string, unknown, Predicate]> = [
  ['{} as the trivial predicate', {}, { op: 'true' }],
  ['eq on a discrete field', { eq: ['execname', 'mysqld'] }, { op: 'eq', field: 'execname', arity: 'discrete', value: 'mysqld' }],
  ['ne on a discrete field', { ne: ['pid', '123'] }, { op: 'ne', field: 'pid', arity: 'discrete', value: '123' }],
  ['gt on a numeric field', { gt: ['latency', 1000000] }, { op: 'gt', field: 'latency', arity: 'numeric', value: 1000000 }],
  ['eq on a numeric field', { eq: ['latency', 0] }, { op: 'eq', field: 'latency', arity: 'numeric', value: 0 }],
  ['a negative integer', { ge: ['latency', -5] }, { op: 'ge', field: 'latency', arity: 'numeric', value: -5 }],
  ['the largest safe integer', { le: ['latency', Number.MAX_SAFE_INTEGER] }, { op: 'le', field: 'latency', arity: 'numeric', value: Number.MAX_SAFE_INTEGER }],
  ['and of two comparisons', { and: [{ eq: ['execname', 'mysqld'] }, { gt: ['latency', 10] }] },
    { op: 'and', args: [{ op: 'eq', field: 'execname', arity: 'discrete', value: 'mysqld' }, { op: 'gt', field: 'latency', arity: 'numeric', value: 10 }] }],
  ['and with ONE child (CA required two)', { and: [{ eq: ['execname', 'a'] }] },
    { op: 'and', args: [{ op: 'eq', field: 'execname', arity: 'discrete', value: 'a' }] }],
  ['or with a {} child, as CA allowed', { or: [{}, { lt: ['latency', 5] }] },
    { op: 'or', args: [{ op: 'true' }, { op: 'lt', field: 'latency', arity: 'numeric', value: 5 }] }],
  ['nesting', { or: [{ and: [{ eq: ['syscall', 'read'] }, { ge: ['latency', 1] }] }, { ne: ['hostname', 'h1'] }] },
    { op: 'or', args: [{ op: 'and', args: [{ op: 'eq', field: 'syscall', arity: 'discrete', value: 'read' }, { op: 'ge', field: 'latency', arity: 'numeric', value: 1 }] }, { op: 'ne', field: 'hostname', arity: 'discrete', value: 'h1' }] }],
  ['a JSON string', '{"eq":["execname","mysqld"]}', { op: 'eq', field: 'execname', arity: 'discrete', value: 'mysqld' }],
  ['the empty object as a JSON string', '{}', { op: 'true' }],
  ['a string with quotes, backslashes, newlines and non-ASCII, kept exactly', { eq: ['execname', 'a"b\\c\n\td\u0000é€😀\''] },
    { op: 'eq', field: 'execname', arity: 'discrete', value: 'a"b\\c\n\td\u0000é€😀\'' }],
  ['the empty string', { eq: ['execname', ''] }, { op: 'eq', field: 'execname', arity: 'discrete', value: '' }],
  ['a string of exactly the byte limit', { eq: ['execname', 'x'.repeat(PREDICATE_MAX_STRING_BYTES)] },
    { op: 'eq', field: 'execname', arity: 'discrete', value: 'x'.repeat(PREDICATE_MAX_STRING_BYTES) }]
]

for (const [name, input, tree] of accepted) {
  test(`parsePredicate accepts ${name}`, (t) => {
    t.deepEqual(parsePredicate(input, syscalls), tree)
  })
}

test('parsePredicate accepts a fractional constant for a non-integer numeric type (percent)', (t) => {
  t.deepEqual(parsePredicate({ gt: ['utilization', 50.5] }, cpus), { op: 'gt', field: 'utilization', arity: 'numeric', value: 50.5 })
})

test('parsePredicate returns a deeply frozen tree and leaves its input alone', (t) => {
  const input = { and: [{ eq: ['execname', 'a'] }, { or: [{ gt: ['latency', 1] }] }] }
  const before = JSON.stringify(input)
  const p = parsePredicate(input, syscalls)
  t.true(Object.isFrozen(p))
  if (p.op !== 'and') throw new Error('not and')
  t.true(Object.isFrozen(p.args))
  t.true(Object.isFrozen(p.args[0]))
  t.true(Object.isFrozen(p.args[1]))
  t.is(JSON.stringify(input), before)
})

/* Parsing: rejections. Each gives the exact reason (CA's text where CA had one). */

const longJson = `{"eq":["execname","${'x'.repeat(PREDICATE_MAX_JSON_LENGTH)}"]}`

const rejected: Array<[string, unknown, string, Metric?]> = [
  // CA's syntax messages (CA-REFERENCE §4), located by path.
  ['a number', 5, 'predicate must be an object'],
  ['null', null, 'predicate must be an object'],
  ['an array', [{ eq: ['execname', 'a'] }], 'predicate must be an object'],
  ['a JSON string holding a string', '"x"', 'predicate must be an object'],
  ['a Map (no own keys, but not {})', new Map([['eq', ['execname', 'a']]]), 'predicate must be an object'],
  ['a Date', new Date(0), 'predicate must be an object'],
  ['two keys', { eq: ['execname', 'a'], ne: ['execname', 'b'] }, 'found too many keys: 2. expected one'],
  ['an unknown operator', { like: ['execname', 'a'] }, 'invalid key: like'],
  ['a null operand', { eq: null }, 'predicate is missing key "eq"'],
  ['a zero operand (falsy, as CA tested)', { gt: 0 }, 'predicate is missing key "gt"'],
  ['an operand that is not an array', { eq: 'execname' }, 'eq: predicate key does not point to an array'],
  ['an operand of one element', { eq: ['execname'] }, 'eq: predicate key does not point to an array of two elements: found 1 elements'],
  ['an operand of three elements', { eq: ['execname', 'a', 'b'] }, 'eq: predicate key does not point to an array of two elements: found 3 elements'],
  ['a field that is not a string', { eq: [5, 'a'] }, 'eq[0]: predicate field is not a string: got 5.'],
  ['a boolean constant', { eq: ['execname', true] }, 'eq[1]: predicate constant is not a constant: got true.'],
  ['an object constant', { eq: ['execname', { a: 1 }] }, 'eq[1]: predicate constant is not a constant: got {"a":1}.'],
  ['a null constant', { eq: ['execname', null] }, 'eq[1]: predicate constant is not a constant: got null.'],
  ['a null logical operand', { and: null }, 'logical expr is missing key "and"'],
  ['a logical operand that is not an array', { or: { eq: ['execname', 'a'] } }, 'or: logical expr key does not point to an array'],
  ['an empty and', { and: [] }, 'and: logical expr key does not contain enough elements: found 0, expected at least one'],
  ['a bad child, located by its path', { and: [{}, { or: [{ eq: [1, 'x'] }] }] }, 'and[1].or[0].eq[0]: predicate field is not a string: got 1.'],
  ['a bad key in a child', { or: [{ eq: ['execname', 'a'] }, { xor: [] }] }, 'or[1]: invalid key: xor'],
  ['invalid JSON', '{"eq": [', 'invalid JSON: '],
  // CA's semantic messages.
  ['an unknown field', { eq: ['nosuch', 'a'] }, 'eq[0]: no such field for specified metric: "nosuch"'],
  ['a field of another metric', { and: [{ eq: ['execname', 'a'] }, { gt: ['size', 5] }] }, 'and[1].gt[0]: no such field for specified metric: "size"'],
  ['"__proto__" as a field', { eq: ['__proto__', 'a'] }, 'eq[0]: no such field for specified metric: "__proto__"'],
  ['a string for a numeric field', { gt: ['latency', '5'] }, 'gt[1]: predicate field is of type numeric, but the constant is not a number: got type string'],
  ['a number for a discrete field', { eq: ['pid', 123] }, 'eq[1]: predicate field is of type discrete, but the constant is not a string: got type number'],
  // What CA forgot.
  ['lt on a discrete field (CA\'s unenforced table)', { lt: ['execname', 'm'] }, 'lt: operator "lt" is only valid for numeric fields, and "execname" is discrete'],
  ['ge on a discrete field, nested', { or: [{ ge: ['hostname', 'a'] }] }, 'or[0].ge: operator "ge" is only valid for numeric fields, and "hostname" is discrete'],
  ['a fractional constant for an integer type', { gt: ['latency', 1.5] }, 'gt[1]: field "latency" (type time) takes integers: got 1.5'],
  ['an integer beyond 2^53 - 1', '{"gt":["latency",9007199254740993]}', 'gt[1]: predicate constant is beyond 2^53 - 1 in magnitude and may have been rounded: got 9007199254740992'],
  ['a huge negative integer', { gt: ['latency', -1e300] }, 'gt[1]: predicate constant is beyond 2^53 - 1 in magnitude and may have been rounded: got -1e+300'],
  ['NaN', { gt: ['latency', Number.NaN] }, 'gt[1]: predicate constant is not a finite number: got NaN.'],
  ['Infinity', { gt: ['utilization', Number.POSITIVE_INFINITY] }, 'gt[1]: predicate constant is not a finite number: got Infinity.', cpus],
  ['a string over the byte limit', { eq: ['execname', 'x'.repeat(PREDICATE_MAX_STRING_BYTES + 1)] }, 'eq[1]: predicate constant is too long: 1025 bytes of UTF-8, the limit is 1024'],
  ['a string of 342 three-byte characters', { eq: ['execname', '€'.repeat(342)] }, 'eq[1]: predicate constant is too long: 1026 bytes of UTF-8, the limit is 1024'],
  ['a string of 257 four-byte characters', { eq: ['execname', '😀'.repeat(257)] }, 'eq[1]: predicate constant is too long: 1028 bytes of UTF-8, the limit is 1024'],
  ['a JSON string over the length limit', longJson, `predicate is too long: ${longJson.length} characters, the limit is ${PREDICATE_MAX_JSON_LENGTH}`]
]

for (const [name, input, reason, metric] of rejected) {
  test(`parsePredicate rejects ${name}`, (t) => {
    const err = t.throws(() => parsePredicate(input, metric ?? syscalls), { instanceOf: InvalidFieldError })
    t.is(err?.field, 'predicate')
    t.is(err?.code, 'ECA_INVAL')
    if (reason.endsWith(': ')) t.true(err?.reason.startsWith(reason), err?.reason)
    else t.is(err?.reason, reason)
    t.true(err?.message.startsWith('value '), err?.message)
    t.true(err?.message.includes(` for field "predicate" is invalid: ${reason}`), err?.message)
  })
}

test('a rejection carries the offending object as its value, as CA did', (t) => {
  const leaf = { eq: ['nosuch', 'a'] }
  const err = t.throws(() => parsePredicate({ and: [{}, leaf] }, syscalls), { instanceOf: InvalidFieldError })
  t.is(err?.value, leaf)
})

test('a string of 341 three-byte characters (1023 bytes) is accepted', (t) => {
  t.notThrows(() => parsePredicate({ eq: ['execname', '€'.repeat(341)] }, syscalls))
})

test('shape is checked everywhere before meaning, as CA did', (t) => {
  const err = t.throws(() => parsePredicate({ and: [{ eq: ['nosuch', 'a'] }, { foo: 1 }] }, syscalls), { instanceOf: InvalidFieldError })
  t.is(err?.reason, 'and[1]: invalid key: foo')
})

test('unknown fields are reported before constant types, as CA did', (t) => {
  const err = t.throws(() => parsePredicate({ and: [{ eq: ['latency', 'x'] }, { eq: ['nosuch', 'a'] }] }, syscalls), { instanceOf: InvalidFieldError })
  t.is(err?.reason, 'and[1].eq[0]: no such field for specified metric: "nosuch"')
})

test('"__proto__" as a JSON key is an invalid key, not a prototype', (t) => {
  const err = t.throws(() => parsePredicate('{"__proto__": {"eq": ["execname", "a"]}}', syscalls), { instanceOf: InvalidFieldError })
  t.is(err?.reason, 'invalid key: __proto__')
})

/* Limits. */

function nest (depth: number): unknown {
  let p: unknown = { eq: ['execname', 'a'] }
  for (let i = 1; i < depth; i++) p = { and: [p] }
  return p
}

test(`${PREDICATE_MAX_DEPTH} levels are accepted`, (t) => {
  t.notThrows(() => parsePredicate(nest(PREDICATE_MAX_DEPTH), syscalls))
})

test(`${PREDICATE_MAX_DEPTH + 1} levels are rejected, naming where`, (t) => {
  const err = t.throws(() => parsePredicate(nest(PREDICATE_MAX_DEPTH + 1), syscalls), { instanceOf: InvalidFieldError })
  t.is(err?.reason, `${Array(PREDICATE_MAX_DEPTH).fill('and[0]').join('.')}: predicate is nested too deeply: more than ${PREDICATE_MAX_DEPTH} levels`)
})

test('a deeply nested JSON string is rejected without exhausting the stack', (t) => {
  const n = 100000
  const err = t.throws(() => parsePredicate('{"and":['.repeat(n) + '{}' + ']}'.repeat(n), syscalls), { instanceOf: InvalidFieldError })
  t.true(err?.reason.endsWith(`predicate is nested too deeply: more than ${PREDICATE_MAX_DEPTH} levels`))
})

test('a cyclic object is rejected by the depth limit', (t) => {
  const cyclic: { and: unknown[] } = { and: [] }
  cyclic.and.push(cyclic)
  t.throws(() => parsePredicate(cyclic, syscalls), { instanceOf: InvalidFieldError })
})

test(`${PREDICATE_MAX_NODES} objects are accepted`, (t) => {
  const p = { or: Array.from({ length: PREDICATE_MAX_NODES - 1 }, (_, i) => ({ eq: ['pid', String(i)] })) }
  t.notThrows(() => parsePredicate(p, syscalls))
})

test(`${PREDICATE_MAX_NODES + 1} objects are rejected`, (t) => {
  const p = { or: Array.from({ length: PREDICATE_MAX_NODES }, (_, i) => ({ eq: ['pid', String(i)] })) }
  const err = t.throws(() => parsePredicate(p, syscalls), { instanceOf: InvalidFieldError })
  t.is(err?.reason, `predicate has too many parts: more than ${PREDICATE_MAX_NODES} objects`)
})

test('a huge and-array is rejected before its elements are looked at', (t) => {
  const p = { and: new Array(1_000_000).fill(5) }
  const err = t.throws(() => parsePredicate(p, syscalls), { instanceOf: InvalidFieldError })
  t.is(err?.reason, `predicate has too many parts: more than ${PREDICATE_MAX_NODES} objects`)
})

/* Fuzzing: any JSON value either parses or is rejected with InvalidFieldError. */

test('parsePredicate never throws anything but InvalidFieldError (fuzz)', (t) => {
  const field = fc.constantFrom('execname', 'latency', 'pid', 'nosuch', '__proto__', '')
  const constant = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null))
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: 'small' },
      fc.record({ eq: fc.tuple(field, constant) }),
      fc.dictionary(fc.constantFrom('eq', 'ne', 'lt', 'gt', 'and', 'or', 'xx'), fc.oneof(fc.tuple(field, constant), fc.array(tie('tree'), { maxLength: 3 }), fc.jsonValue()), { maxKeys: 2 }),
      fc.constant({}),
      fc.jsonValue())
  }))
  t.notThrows(() => fc.assert(fc.property(tree, (input) => {
    for (const candidate of [input, JSON.stringify(input)]) {
      try {
        const p = parsePredicate(candidate, syscalls)
        printPredicate(p)
      } catch (err) {
        if (!(err instanceof InvalidFieldError) || err.field !== 'predicate') throw err
      }
    }
  }), { numRuns: 2000 }))
})

test('valid predicates survive predicateToJson and JSON text (property)', (t) => {
  const leaf = fc.oneof(
    fc.record({ op: fc.constantFrom('eq', 'ne'), field: fc.constantFrom('execname', 'pid', 'syscall'), value: fc.string({ maxLength: 20 }) })
      .map(({ op, field, value }) => ({ [op]: [field, value] })),
    fc.record({ op: fc.constantFrom('eq', 'ne', 'lt', 'le', 'gt', 'ge'), value: fc.maxSafeInteger() })
      .map(({ op, value }) => ({ [op]: ['latency', value] })),
    fc.constant({}))
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({ op: fc.constantFrom('and', 'or'), args: fc.array(tie('tree'), { minLength: 1, maxLength: 4 }) })
        .map(({ op, args }) => ({ [op]: args })))
  }))
  t.notThrows(() => fc.assert(fc.property(tree, (input) => {
    const p = parsePredicate(input, syscalls)
    const json = predicateToJson(p)
    if (JSON.stringify(json) !== JSON.stringify(input)) throw new Error('predicateToJson changed the predicate')
    const again = parsePredicate(JSON.stringify(json), syscalls)
    if (JSON.stringify(again) !== JSON.stringify(p)) throw new Error('round trip changed the tree')
  }), { numRuns: 1000 }))
})

/* Evaluation. */

const record = { execname: 'mysqld', pid: '42', syscall: 'read', hostname: 'h1', cgroup: '/', latency: 1500 }

const evaluations: Array<[string, unknown, boolean]> = [
  ['{} is true', {}, true],
  ['eq on a string, equal', { eq: ['execname', 'mysqld'] }, true],
  ['eq on a string, different', { eq: ['execname', 'mysql'] }, false],
  ['ne on a string', { ne: ['execname', 'mysql'] }, true],
  ['eq on a pid string', { eq: ['pid', '42'] }, true],
  ['eq on a number', { eq: ['latency', 1500] }, true],
  ['ne on a number', { ne: ['latency', 1500] }, false],
  ['lt, below', { lt: ['latency', 1501] }, true],
  ['lt, equal', { lt: ['latency', 1500] }, false],
  ['le, equal', { le: ['latency', 1500] }, true],
  ['gt, equal', { gt: ['latency', 1500] }, false],
  ['gt, above', { gt: ['latency', 1499] }, true],
  ['ge, equal', { ge: ['latency', 1500] }, true],
  ['and, both true', { and: [{ eq: ['execname', 'mysqld'] }, { gt: ['latency', 1000] }] }, true],
  ['and, one false', { and: [{ eq: ['execname', 'mysqld'] }, { gt: ['latency', 2000] }] }, false],
  ['or, one true', { or: [{ eq: ['execname', 'x'] }, { gt: ['latency', 1000] }] }, true],
  ['or, none true', { or: [{ eq: ['execname', 'x'] }, { gt: ['latency', 2000] }] }, false],
  ['and of one', { and: [{ eq: ['syscall', 'read'] }] }, true],
  ['nested', { or: [{ and: [{ eq: ['hostname', 'h2'] }, {}] }, { and: [{ eq: ['hostname', 'h1'] }, { le: ['latency', 1500] }] }] }, true]
]

for (const [name, input, want] of evaluations) {
  test(`evaluatePredicate: ${name}`, (t) => {
    t.is(evaluatePredicate(parsePredicate(input, syscalls), record), want)
  })
}

test('evaluatePredicate compares strings exactly (CA used loose ==)', (t) => {
  t.false(evaluatePredicate(parsePredicate({ eq: ['pid', '042'] }, syscalls), record))
  t.false(evaluatePredicate(parsePredicate({ eq: ['execname', 'MySQLd'] }, syscalls), record))
})

test('evaluatePredicate short-circuits and/or', (t) => {
  const lacking = { execname: 'x' }
  t.false(evaluatePredicate(parsePredicate({ and: [{ eq: ['execname', 'y'] }, { gt: ['latency', 1] }] }, syscalls), lacking))
  t.true(evaluatePredicate(parsePredicate({ or: [{ eq: ['execname', 'x'] }, { gt: ['latency', 1] }] }, syscalls), lacking))
})

test('evaluatePredicate throws on a record lacking a field or holding the wrong kind', (t) => {
  t.throws(() => evaluatePredicate(parsePredicate({ gt: ['latency', 1] }, syscalls), { execname: 'x' }), { message: /no field "latency"/ })
  t.throws(() => evaluatePredicate(parsePredicate({ gt: ['latency', 1] }, syscalls), { latency: '5' }), { instanceOf: TypeError })
  t.throws(() => evaluatePredicate(parsePredicate({ eq: ['pid', '5'] }, syscalls), { pid: 5 }), { instanceOf: TypeError })
  t.throws(() => evaluatePredicate(parsePredicate({ eq: ['execname', 'toString'] }, syscalls), {}), { message: /no field "execname"/ })
})

/* Printing. */

const prints: Array<[string, unknown, string]> = [
  ['{}', {}, 'true'],
  ['a string comparison, JSON-quoted', { eq: ['execname', 'mysqld'] }, 'execname == "mysqld"'],
  ['a string with quotes and a newline', { ne: ['execname', 'a"b\n'] }, 'execname != "a\\"b\\n"'],
  ['every numeric operator', { and: [{ lt: ['latency', 1] }, { le: ['latency', 2] }, { gt: ['latency', 3] }, { ge: ['latency', 4] }, { eq: ['latency', 5] }, { ne: ['latency', 6] }] },
    'latency < 1 && latency <= 2 && latency > 3 && latency >= 4 && latency == 5 && latency != 6'],
  ['and', { and: [{ eq: ['execname', 'mysqld'] }, { gt: ['latency', 1000000] }] }, 'execname == "mysqld" && latency > 1000000'],
  ['or inside and, parenthesized', { and: [{ or: [{ eq: ['pid', '1'] }, { eq: ['pid', '2'] }] }, { gt: ['latency', 5] }] }, '(pid == "1" || pid == "2") && latency > 5'],
  ['and inside or, not parenthesized', { or: [{ and: [{ eq: ['pid', '1'] }, { gt: ['latency', 5] }] }, { eq: ['pid', '2'] }] }, 'pid == "1" && latency > 5 || pid == "2"'],
  ['and inside and, flat', { and: [{ and: [{ eq: ['pid', '1'] }, { eq: ['syscall', 'read'] }] }, { gt: ['latency', 5] }] }, 'pid == "1" && syscall == "read" && latency > 5'],
  ['a one-child or inside and prints its child', { and: [{ or: [{ eq: ['pid', '1'] }] }, { gt: ['latency', 5] }] }, 'pid == "1" && latency > 5'],
  ['a one-child and holding an or inside and', { and: [{ and: [{ or: [{ eq: ['pid', '1'] }, { eq: ['pid', '2'] }] }] }, { gt: ['latency', 5] }] }, '(pid == "1" || pid == "2") && latency > 5'],
  ['{} inside or', { or: [{}, { eq: ['pid', '1'] }] }, 'true || pid == "1"']
]

for (const [name, input, text] of prints) {
  test(`printPredicate: ${name}`, (t) => {
    t.is(printPredicate(parsePredicate(input, syscalls)), text)
  })
}

/* Fields and triviality. */

test('predicateFields lists each field once, in order of first use', (t) => {
  t.deepEqual(predicateFields(parsePredicate({}, syscalls)), [])
  t.deepEqual(predicateFields(parsePredicate({ or: [{ gt: ['latency', 1] }, { and: [{ eq: ['execname', 'a'] }, { lt: ['latency', 9] }] }, { eq: ['pid', '1'] }] }, syscalls)), ['latency', 'execname', 'pid'])
})

test('isTrivialPredicate: {} and and/or of {} only are trivial; any comparison is not', (t) => {
  t.true(isTrivialPredicate(parsePredicate({}, syscalls)))
  t.true(isTrivialPredicate(parsePredicate({ and: [{}, { or: [{}] }] }, syscalls)))
  t.false(isTrivialPredicate(parsePredicate({ eq: ['execname', 'a'] }, syscalls)))
  t.false(isTrivialPredicate(parsePredicate({ or: [{}, { eq: ['execname', 'a'] }] }, syscalls)))
})

test('predicateToJson gives CA\'s form back', (t) => {
  const input = { and: [{ eq: ['execname', 'mysqld'] }, { or: [{}, { gt: ['latency', 5] }] }] }
  t.deepEqual(predicateToJson(parsePredicate(input, syscalls)), input)
  t.deepEqual(predicateToJson(parsePredicate({}, syscalls)), {})
})

test('specializePredicate folds node-constant fields and simplifies what is left', (t) => {
  const m = findMetric(catalog, 'syscall', 'syscalls') as Metric
  const spec = (json: unknown): unknown => {
    const r = specializePredicate(parsePredicate(json, m), { hostname: 'web1' })
    return typeof r === 'boolean' ? r : predicateToJson(r)
  }
  t.is(spec({}), true)
  t.is(spec({ eq: ['hostname', 'web1'] }), true)
  t.is(spec({ eq: ['hostname', 'db1'] }), false)
  t.deepEqual(spec({ and: [{ eq: ['hostname', 'web1'] }, { eq: ['execname', 'sh'] }] }), { eq: ['execname', 'sh'] })
  t.is(spec({ and: [{ eq: ['hostname', 'db1'] }, { eq: ['execname', 'sh'] }] }), false)
  t.is(spec({ or: [{ eq: ['hostname', 'web1'] }, { eq: ['execname', 'sh'] }] }), true)
  t.deepEqual(spec({ or: [{ ne: ['hostname', 'web1'] }, { eq: ['execname', 'sh'] }, { gt: ['latency', 5] }] }),
    { or: [{ eq: ['execname', 'sh'] }, { gt: ['latency', 5] }] })
  t.deepEqual(spec({ gt: ['latency', 5] }), { gt: ['latency', 5] })
})
