/**
 * Instrumentation definitions: CA's defaults, limits and messages for create, clone and modify;
 * the derived properties; CA's full instrumentation object; the canonical encoding.
 */
import test from 'ava'
import { catalog } from '../../metad/catalog/index.js'
import { InvalidFieldError } from '../../metad/errors.js'
import {
  canonicalInstrumentationJson, INSTRUMENTATION_MAX_KEYS, modifyInstrumentation, parseInstrumentation,
  renderInstrumentation
} from '../../metad/instrumentation.js'
import type { InstrumentationDefinition } from '../../metad/instrumentation.js'

const parse = (input: unknown, base?: InstrumentationDefinition): InstrumentationDefinition => parseInstrumentation(input, catalog, base)

/* Defaults and derived properties. */

test('a bare module and stat get all of CA\'s defaults', (t) => {
  t.deepEqual(parse({ module: 'syscall', stat: 'syscalls' }), {
    module: 'syscall',
    stat: 'syscalls',
    predicate: { op: 'true' },
    decomposition: [],
    granularity: 1,
    retentionTime: 600,
    idleMax: 3600,
    persistData: false,
    enabled: true,
    valueDimension: 1,
    valueArity: 'scalar',
    valueScope: 'interval',
    transformations: {}
  })
})

test('the definition is deeply frozen', (t) => {
  const def = parse({ module: 'syscall', stat: 'syscalls', decomposition: 'latency', predicate: { eq: ['execname', 'a'] } })
  t.true(Object.isFrozen(def))
  t.true(Object.isFrozen(def.decomposition))
  t.true(Object.isFrozen(def.predicate))
  t.true(Object.isFrozen(def.transformations))
})

const derived: Array<[string, Record<string, unknown>, Partial<InstrumentationDefinition>]> = [
  ['a discrete decomposition', { module: 'disk', stat: 'physio_ops', decomposition: ['disk'] }, { valueDimension: 2, valueArity: 'discrete-decomposition', valueScope: 'interval' }],
  ['a numeric decomposition', { module: 'disk', stat: 'physio_ops', decomposition: 'latency' }, { valueDimension: 2, valueArity: 'numeric-decomposition' }],
  ['both, from a form string', { module: 'syscall', stat: 'syscalls', decomposition: 'syscall,latency' }, { valueDimension: 3, valueArity: 'numeric-decomposition', decomposition: ['syscall', 'latency'] }],
  ['a point metric', { module: 'cpu', stat: 'cpus' }, { valueScope: 'point', valueArity: 'scalar' }],
  ['a predicate as a JSON string', { module: 'syscall', stat: 'syscalls', predicate: '{"gt":["latency",1000]}' }, { predicate: { op: 'gt', field: 'latency', arity: 'numeric', value: 1000 } }],
  ['an empty predicate string (form)', { module: 'syscall', stat: 'syscalls', predicate: '' }, { predicate: { op: 'true' } }],
  ['a null predicate and decomposition', { module: 'syscall', stat: 'syscalls', predicate: null, decomposition: null }, { predicate: { op: 'true' }, decomposition: [] }],
  ['numbers as form strings', { module: 'syscall', stat: 'syscalls', granularity: '5', 'retention-time': '18000', 'idle-max': '0' }, { granularity: 5, retentionTime: 18000, idleMax: 0 }],
  ['numbers as JSON numbers', { module: 'syscall', stat: 'syscalls', granularity: 60, 'retention-time': 216000, 'idle-max': 604800 }, { granularity: 60, retentionTime: 216000, idleMax: 604800 }],
  ['"-0" idle-max as 0', { module: 'syscall', stat: 'syscalls', 'idle-max': '-0' }, { idleMax: 0 }],
  ['persist-data "true"', { module: 'syscall', stat: 'syscalls', 'persist-data': 'true' }, { persistData: true }],
  ['persist-data true', { module: 'syscall', stat: 'syscalls', 'persist-data': true }, { persistData: true }],
  ['persist-data "false"', { module: 'syscall', stat: 'syscalls', 'persist-data': 'false' }, { persistData: false }],
  ['enabled "true"', { module: 'syscall', stat: 'syscalls', enabled: 'true' }, { enabled: true }],
  ['enabled true', { module: 'syscall', stat: 'syscalls', enabled: true }, { enabled: true }],
  ['retention-time at its minimum', { module: 'syscall', stat: 'syscalls', 'retention-time': 10 }, { retentionTime: 10 }],
  ['retention-time at its maximum for granularity 1', { module: 'syscall', stat: 'syscalls', 'retention-time': 3600 }, { retentionTime: 3600 }],
  ['unknown keys, ignored as CA did', { module: 'syscall', stat: 'syscalls', id: '7', uri: '/x', crtime: 5, nsources: 9, 'value-arity': 'scalar', foo: 'bar' }, { module: 'syscall' }]
]

for (const [name, input, want] of derived) {
  test(`parseInstrumentation: ${name}`, (t) => {
    const def = parse(input)
    for (const [key, value] of Object.entries(want)) t.deepEqual(def[key as keyof InstrumentationDefinition], value, key)
  })
}

test(`exactly ${INSTRUMENTATION_MAX_KEYS} keys are accepted`, (t) => {
  const input: Record<string, unknown> = { module: 'syscall', stat: 'syscalls' }
  for (let i = 2; i < INSTRUMENTATION_MAX_KEYS; i++) input[`k${i}`] = i
  t.notThrows(() => parse(input))
})

/* Rejections: CA's fields and reasons. */

const base = { module: 'syscall', stat: 'syscalls' }
const rejected: Array<[string, unknown, string, string, unknown?]> = [
  ['a missing module', { stat: 'syscalls' }, 'module', 'missing value for required field: "module"'],
  ['an empty module', { module: '', stat: 'syscalls' }, 'module', 'missing value for required field: "module"'],
  ['a missing stat', { module: 'syscall' }, 'stat', 'missing value for required field: "stat"'],
  ['a module that is not a string', { module: 5, stat: 'syscalls' }, 'module', 'not a string', 5],
  ['an unknown metric', { module: 'syscall', stat: 'nosuch' }, 'module.stat', 'not a valid module/stat pair', 'syscall.nosuch'],
  ['"__proto__" as the module', { module: '__proto__', stat: 'constructor' }, 'module.stat', 'not a valid module/stat pair', '__proto__.constructor'],
  ['invalid predicate JSON', { ...base, predicate: '{"eq":' }, 'predicate', 'invalid JSON: '],
  ['a bad predicate', { ...base, predicate: { lt: ['execname', 'a'] } }, 'predicate', 'lt: operator "lt" is only valid for numeric fields, and "execname" is discrete'],
  ['a predicate on a field of another metric', { ...base, predicate: { eq: ['disk', 'sda'] } }, 'predicate', 'eq[0]: no such field for specified metric: "disk"'],
  ['a decomposition by an unknown field', { ...base, decomposition: ['nosuch'] }, 'field', 'no such field for specified metric', 'nosuch'],
  ['two discrete decompositions', { ...base, decomposition: 'execname,pid' }, 'decomposition', 'more than one discrete decomposition specified'],
  ['two numeric decompositions', { module: 'disk', stat: 'physio_ops', decomposition: 'latency,size' }, 'decomposition', 'more than one numeric decomposition specified'],
  ['granularity 0', { ...base, granularity: 0 }, 'granularity', 'not a positive integer', 0],
  ['a negative granularity', { ...base, granularity: '-5' }, 'granularity', 'not a positive integer', '-5'],
  ['a fractional granularity string (CA\'s parseInt made it 10)', { ...base, granularity: '10.5' }, 'granularity', 'not a positive integer', '10.5'],
  ['a fractional granularity number', { ...base, granularity: 10.5 }, 'granularity', 'not a positive integer', 10.5],
  ['a granularity with a space', { ...base, granularity: ' 5' }, 'granularity', 'not a positive integer', ' 5'],
  ['a granularity in exponent notation', { ...base, granularity: '1e1' }, 'granularity', 'not a positive integer', '1e1'],
  ['an empty granularity', { ...base, granularity: '' }, 'granularity', 'not a positive integer', ''],
  ['a null granularity', { ...base, granularity: null }, 'granularity', 'not a positive integer', null],
  ['a granularity past 2^53', { ...base, granularity: 2 ** 60 }, 'granularity', 'not a positive integer', 2 ** 60],
  ['granularity 7', { ...base, granularity: 7 }, 'granularity', 'must be divisible by 5', 7],
  ['retention-time that is not a number', { ...base, 'retention-time': 'ten' }, 'retention-time', 'not a number', 'ten'],
  ['a fractional retention-time', { ...base, 'retention-time': '600.5' }, 'retention-time', 'not a number', '600.5'],
  ['retention-time below 10', { ...base, 'retention-time': 9 }, 'retention-time', 'minimum is 10', 9],
  ['retention-time over 3600 points at granularity 1', { ...base, 'retention-time': 3601 }, 'retention-time', 'maximum for granularity "1" is 3600', 3601],
  ['retention-time over 3600 points at granularity 5', { ...base, granularity: 5, 'retention-time': 18001 }, 'retention-time', 'maximum for granularity "5" is 18000', 18001],
  ['idle-max that is not a number', { ...base, 'idle-max': [] }, 'idle-max', 'not a number', []],
  ['a fractional idle-max', { ...base, 'idle-max': 1.5 }, 'idle-max', 'not a number', 1.5],
  ['a negative idle-max', { ...base, 'idle-max': -1 }, 'idle-max', 'minimum is 0', -1],
  ['idle-max over a week', { ...base, 'idle-max': '604801' }, 'idle-max', 'maximum is 604800', '604801'],
  ['persist-data "yes"', { ...base, 'persist-data': 'yes' }, 'persist-data', 'must be a boolean', 'yes'],
  ['persist-data 1', { ...base, 'persist-data': 1 }, 'persist-data', 'must be a boolean', 1],
  ['enabled false', { ...base, enabled: false }, 'enabled', 'unsupported value', false],
  ['enabled "false"', { ...base, enabled: 'false' }, 'enabled', 'unsupported value', 'false'],
  ['an array body', [base], 'instrumentation', 'must be an object'],
  ['a string body', 'module=syscall', 'instrumentation', 'must be an object'],
  ['more keys than the limit', Object.fromEntries(Array.from({ length: INSTRUMENTATION_MAX_KEYS + 1 }, (_, i) => [`k${i}`, i])), 'instrumentation', `too many properties: the limit is ${INSTRUMENTATION_MAX_KEYS}`]
]

for (const [name, input, field, reason, value] of rejected) {
  test(`parseInstrumentation rejects ${name}`, (t) => {
    const err = t.throws(() => parse(input), { instanceOf: InvalidFieldError })
    t.is(err?.field, field)
    if (reason.endsWith(': ')) t.true(err?.reason.startsWith(reason), err?.reason)
    else t.is(err?.reason, reason)
    if (value !== undefined) t.deepEqual(err?.value, value)
    t.is(err?.code, 'ECA_INVAL')
  })
}

test('CA\'s message format for an invalid value', (t) => {
  const err = t.throws(() => parse({ ...base, granularity: 7 }))
  t.is(err?.message, 'value 7 for field "granularity" is invalid: must be divisible by 5')
  const err2 = t.throws(() => parse({ module: 'syscall', stat: 'nosuch' }))
  t.is(err2?.message, 'value "syscall.nosuch" for field "module.stat" is invalid: not a valid module/stat pair')
})

test('the module and stat are checked before anything else', (t) => {
  const err = t.throws(() => parse({ module: 'x', stat: 'y', granularity: 7, predicate: 5 }), { instanceOf: InvalidFieldError })
  t.is(err?.field, 'module.stat')
})

/* Clone. */

test('clone takes the source\'s properties as defaults', (t) => {
  const source = parse({ module: 'syscall', stat: 'syscalls', predicate: { eq: ['execname', 'mysqld'] }, decomposition: 'latency', granularity: 5, 'retention-time': 1200, 'idle-max': 0, 'persist-data': true })
  t.deepEqual(parse({}, source), source)
})

test('clone: the request overrides the source', (t) => {
  const source = parse({ module: 'syscall', stat: 'syscalls', predicate: { eq: ['execname', 'mysqld'] }, decomposition: 'latency', granularity: 5 })
  const clone = parse({ granularity: 60, decomposition: 'syscall', predicate: '' }, source)
  t.is(clone.granularity, 60)
  t.deepEqual(clone.decomposition, ['syscall'])
  t.deepEqual(clone.predicate, { op: 'true' })
  t.is(clone.valueArity, 'discrete-decomposition')
  t.is(clone.module, 'syscall')
})

test('clone validates the result as a creation: the source\'s fields must fit a new metric', (t) => {
  const source = parse({ module: 'syscall', stat: 'syscalls', decomposition: 'syscall' })
  const err = t.throws(() => parse({ module: 'fs', stat: 'fsync_ops' }, source), { instanceOf: InvalidFieldError })
  t.is(err?.field, 'field')
  t.is(err?.value, 'syscall')
})

test('clone checks retention-time against the clone\'s granularity', (t) => {
  const source = parse({ module: 'syscall', stat: 'syscalls', granularity: 5, 'retention-time': 18000 })
  const err = t.throws(() => parse({ granularity: 1 }, source), { instanceOf: InvalidFieldError })
  t.is(err?.reason, 'maximum for granularity "1" is 3600')
})

/* Modify. */

const existing = parse({ module: 'syscall', stat: 'syscalls', decomposition: 'latency' })

test('modify changes retention-time, idle-max and persist-data', (t) => {
  const changed = modifyInstrumentation(existing, { 'retention-time': '1800', 'idle-max': 60, 'persist-data': 'true', enabled: 'true' })
  t.is(changed.retentionTime, 1800)
  t.is(changed.idleMax, 60)
  t.true(changed.persistData)
  t.true(Object.isFrozen(changed))
  t.is(existing.retentionTime, 600)
})

test('modify ignores every other key, as CA did', (t) => {
  const changed = modifyInstrumentation(existing, { module: 'cpu', stat: 'cpus', granularity: 5, predicate: { eq: ['execname', 'a'] }, decomposition: [], foo: 1 })
  t.deepEqual(changed, existing)
})

test('modify keeps what the request does not name', (t) => {
  const a = modifyInstrumentation(existing, { 'persist-data': true })
  const b = modifyInstrumentation(a, { 'idle-max': 5 })
  t.true(b.persistData)
  t.is(b.retentionTime, 600)
  t.is(b.idleMax, 5)
})

test('modify checks retention-time against the instrumentation\'s OWN granularity (CA used the body\'s)', (t) => {
  const err = t.throws(() => modifyInstrumentation(existing, { 'retention-time': 4000, granularity: 5 }), { instanceOf: InvalidFieldError })
  t.is(err?.reason, 'maximum for granularity "1" is 3600')
  const coarse = parse({ module: 'syscall', stat: 'syscalls', granularity: 5 })
  t.is(modifyInstrumentation(coarse, { 'retention-time': 18000 }).retentionTime, 18000)
})

const modifyRejected: Array<[string, unknown, string, string]> = [
  ['enabled false', { enabled: false }, 'enabled', 'unsupported value'],
  ['retention-time below 10', { 'retention-time': '5' }, 'retention-time', 'minimum is 10'],
  ['a fractional retention-time', { 'retention-time': 10.5 }, 'retention-time', 'not a number'],
  ['idle-max over a week', { 'idle-max': 604801 }, 'idle-max', 'maximum is 604800'],
  ['persist-data "no"', { 'persist-data': 'no' }, 'persist-data', 'must be a boolean'],
  ['a body that is not an object', null, 'instrumentation', 'must be an object'],
  ['more keys than the limit', Object.fromEntries(Array.from({ length: INSTRUMENTATION_MAX_KEYS + 1 }, (_, i) => [`k${i}`, i])), 'instrumentation', `too many properties: the limit is ${INSTRUMENTATION_MAX_KEYS}`]
]

for (const [name, input, field, reason] of modifyRejected) {
  test(`modifyInstrumentation rejects ${name}`, (t) => {
    const err = t.throws(() => modifyInstrumentation(existing, input), { instanceOf: InvalidFieldError })
    t.is(err?.field, field)
    t.is(err?.reason, reason)
  })
}

/* CA's instrumentation object. */

test('renderInstrumentation reproduces CA\'s documented create response, byte for byte', (t) => {
  const def = parse({ module: 'disk', stat: 'physio_ops', predicate: { eq: ['hostname', 'headnode'] }, decomposition: ['disk'] })
  const out = renderInstrumentation(def, { id: '16', crtime: 1308862234757, nsources: 1 })
  t.is(JSON.stringify(out), '{"module":"disk","stat":"physio_ops","predicate":{"eq":["hostname","headnode"]},"decomposition":["disk"],"value-dimension":2,"value-arity":"discrete-decomposition","enabled":true,"retention-time":600,"idle-max":3600,"transformations":{},"nsources":1,"granularity":1,"persist-data":false,"crtime":1308862234757,"value-scope":"interval","uri":"/ca/instrumentations/16","id":"16","uris":[{"uri":"/ca/instrumentations/16/value/raw","name":"value_raw"}]}')
})

test('renderInstrumentation lists the heatmap uris first for numeric arity', (t) => {
  const def = parse({ module: 'syscall', stat: 'syscalls', decomposition: 'execname,latency' })
  const out = renderInstrumentation(def, { id: '3', crtime: 0, nsources: 4 })
  t.deepEqual(out.uris, [
    { uri: '/ca/instrumentations/3/value/heatmap/image', name: 'value_heatmap' },
    { uri: '/ca/instrumentations/3/value/heatmap/details', name: 'details_heatmap' },
    { uri: '/ca/instrumentations/3/value/raw', name: 'value_raw' }
  ])
})

test('renderInstrumentation takes a uri base and percent-encodes the id', (t) => {
  const def = parse(base)
  const out = renderInstrumentation(def, { id: 'a/b c', uriBase: '/ca/customers/x', crtime: 1, nsources: 0 })
  t.is(out.uri, '/ca/customers/x/instrumentations/a%2Fb%20c')
  t.is(out.id, 'a/b c')
  t.is(out.uris[0]?.uri, '/ca/customers/x/instrumentations/a%2Fb%20c/value/raw')
  t.throws(() => renderInstrumentation(def, { id: '', crtime: 1, nsources: 0 }))
})

test('renderInstrumentation shows the predicate in CA\'s JSON form', (t) => {
  const predicate = { or: [{ eq: ['execname', 'a'] }, { and: [{}, { gt: ['latency', 5] }] }] }
  const out = renderInstrumentation(parse({ ...base, predicate: JSON.stringify(predicate) }), { id: '1', crtime: 1, nsources: 1 })
  t.deepEqual(out.predicate, predicate)
})

/* Canonical encoding. */

test('the canonical encoding sorts keys and holds only the settable properties', (t) => {
  const def = parse({ stat: 'syscalls', module: 'syscall', decomposition: 'latency', predicate: { and: [{ eq: ['execname', 'a'] }, { gt: ['latency', 5] }] } })
  t.is(canonicalInstrumentationJson(def), '{"decomposition":["latency"],"enabled":true,"granularity":1,"idle-max":3600,"module":"syscall","persist-data":false,"predicate":{"and":[{"eq":["execname","a"]},{"gt":["latency",5]}]},"retention-time":600,"stat":"syscalls"}')
})

test('equal definitions encode equally whatever the request\'s form', (t) => {
  const a = parse({ module: 'syscall', stat: 'syscalls', granularity: '5', 'persist-data': 'false', decomposition: 'execname,latency', predicate: '{"eq":["pid","1"]}' })
  const b = parse({ predicate: { eq: ['pid', '1'] }, decomposition: ['execname', 'latency'], granularity: 5, stat: 'syscalls', module: 'syscall', 'idle-max': 3600 })
  t.is(canonicalInstrumentationJson(a), canonicalInstrumentationJson(b))
  const c = parse({ predicate: { eq: ['pid', '2'] }, decomposition: ['execname', 'latency'], granularity: 5, stat: 'syscalls', module: 'syscall' })
  t.not(canonicalInstrumentationJson(a), canonicalInstrumentationJson(c))
  const d = parse({ predicate: { eq: ['pid', '1'] }, decomposition: ['latency', 'execname'], granularity: 5, stat: 'syscalls', module: 'syscall' })
  t.not(canonicalInstrumentationJson(a), canonicalInstrumentationJson(d))
})

test('parsing the canonical encoding gives the definition back', (t) => {
  const defs = [
    parse(base),
    parse({ module: 'cpu', stat: 'cpus', decomposition: 'utilization', predicate: { gt: ['utilization', 50.5] }, granularity: 60, 'retention-time': 7200, 'idle-max': 0, 'persist-data': true }),
    parse({ module: 'syscall', stat: 'syscalls', predicate: { eq: ['execname', 'quote " backslash \\ newline \n é'] } })
  ]
  for (const def of defs) t.deepEqual(parse(JSON.parse(canonicalInstrumentationJson(def))), def)
})
