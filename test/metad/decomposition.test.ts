/** Decompositions: parsing with CA's messages, and CA's value-dimension and value-arity. */
import test from 'ava'
import { catalog } from '../../metad/catalog/index.js'
import type { Metric } from '../../metad/catalog/index.js'
import { InvalidFieldError } from '../../metad/errors.js'
import {
  DECOMPOSITION_MAX_ENTRIES, parseDecomposition, splitDecomposition, valueArity, valueDimension
} from '../../metad/decomposition.js'
import type { ValueArity } from '../../metad/decomposition.js'

const syscalls = catalog.metrics.get('syscall.syscalls') as Metric
const physio = catalog.metrics.get('disk.physio_ops') as Metric

const accepted: Array<[string, unknown, string[]]> = [
  ['an empty array', [], []],
  ['an empty string (a form parameter left empty)', '', []],
  ['one discrete field', ['execname'], ['execname']],
  ['one numeric field', 'latency', ['latency']],
  ['a discrete and a numeric field, in the request\'s order', 'execname,latency', ['execname', 'latency']],
  ['a numeric and a discrete field, in the request\'s order', ['latency', 'syscall'], ['latency', 'syscall']]
]

for (const [name, input, fields] of accepted) {
  test(`parseDecomposition accepts ${name}`, (t) => {
    const d = parseDecomposition(input, syscalls)
    t.deepEqual(d, fields)
    t.true(Object.isFrozen(d))
  })
}

const rejected: Array<[string, unknown, string, string, unknown, Metric?]> = [
  ['an unknown field (CA\'s field "field")', ['execname', 'nosuch'], 'field', 'no such field for specified metric', 'nosuch'],
  ['an unknown field in a string', 'latency,size', 'field', 'no such field for specified metric', 'size'],
  ['a field with a space (no trimming, as CA)', 'execname, latency', 'field', 'no such field for specified metric', ' latency'],
  ['an empty element', 'execname,', 'field', 'no such field for specified metric', ''],
  ['"__proto__"', ['__proto__'], 'field', 'no such field for specified metric', '__proto__'],
  ['a field given twice', ['latency', 'latency'], 'decomposition', 'field "latency" specified more than once', ['latency', 'latency']],
  ['two discrete fields', ['execname', 'syscall'], 'decomposition', 'more than one discrete decomposition specified', ['execname', 'syscall']],
  ['three fields', 'execname,pid,latency', 'decomposition', 'more than one discrete decomposition specified', 'execname,pid,latency'],
  ['two numeric fields', ['latency', 'size'], 'decomposition', 'more than one numeric decomposition specified', ['latency', 'size'], physio],
  ['a non-string element', ['execname', 5], 'decomposition', 'element 1 is not a field name: got number', ['execname', 5]],
  ['a number', 5, 'decomposition', 'must be an array of field names or a comma-separated string', 5],
  ['an object', { 0: 'execname' }, 'decomposition', 'must be an array of field names or a comma-separated string', { 0: 'execname' }],
  ['null', null, 'decomposition', 'must be an array of field names or a comma-separated string', null],
  ['too many entries', new Array(DECOMPOSITION_MAX_ENTRIES + 1).fill('execname'), 'decomposition', 'too many fields: at most one discrete and one numeric field may be specified', `(an array of ${DECOMPOSITION_MAX_ENTRIES + 1} entries)`],
  ['a huge comma-separated string', 'x,'.repeat(100000), 'decomposition', 'too many fields: at most one discrete and one numeric field may be specified', 'x,'.repeat(100000)]
]

for (const [name, input, field, reason, value, metric] of rejected) {
  test(`parseDecomposition rejects ${name}`, (t) => {
    const err = t.throws(() => parseDecomposition(input, metric ?? syscalls), { instanceOf: InvalidFieldError })
    t.is(err?.field, field)
    t.is(err?.reason, reason)
    t.deepEqual(err?.value, value)
    t.is(err?.code, 'ECA_INVAL')
  })
}

test('an unknown field gives CA\'s whole message', (t) => {
  const err = t.throws(() => parseDecomposition('nosuch', syscalls))
  t.is(err?.message, 'value "nosuch" for field "field" is invalid: no such field for specified metric')
})

test('valueDimension is the number of fields plus one', (t) => {
  t.is(valueDimension([]), 1)
  t.is(valueDimension(['execname']), 2)
  t.is(valueDimension(['execname', 'latency']), 3)
})

const arities: Array<[string[], ValueArity]> = [
  [[], 'scalar'],
  [['execname'], 'discrete-decomposition'],
  [['latency'], 'numeric-decomposition'],
  [['execname', 'latency'], 'numeric-decomposition'],
  [['latency', 'execname'], 'numeric-decomposition']
]

for (const [fields, arity] of arities) {
  test(`valueArity of [${fields.join(', ')}] is ${arity}`, (t) => {
    t.is(valueArity(parseDecomposition(fields, syscalls), syscalls), arity)
  })
}

test('splitDecomposition gives the discrete and numeric fields, with bucketing', (t) => {
  const { discrete, numeric } = splitDecomposition(parseDecomposition('latency,execname', syscalls), syscalls)
  t.is(discrete?.name, 'execname')
  t.is(numeric?.name, 'latency')
  t.deepEqual(numeric?.bucketing, { kind: 'llquantize', base: 10, low: 3, high: 11, nsteps: 100 })
  t.deepEqual(splitDecomposition([], syscalls), {})
  t.throws(() => splitDecomposition(['nosuch'], syscalls))
})
