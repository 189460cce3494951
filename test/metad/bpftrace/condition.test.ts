/**
 * Predicates compiled into bpftrace conditions: each field kind's constants, constants a field
 * cannot hold (decided at compile time), numeric comparisons on unsigned values, and/or
 * simplification, and weakening to the fields a point knows.
 */
import test from 'ava'
import { catalog, parsePredicate, type Metric, type PredicateJson } from '../../../metad/index.js'
import { and, atom, compilePredicate, conditionText, enumExpression, not, or, type ConstantResolver } from '../../../metad/bpftrace/condition.js'
import type { ValueExpr } from '../../../metad/bpftrace/description.js'

const syscalls = catalog.metrics.get('syscall.syscalls') as Metric
const connects = catalog.metrics.get('tcp.connects') as Metric
const physio = catalog.metrics.get('disk.physio_ops') as Metric
const runq = catalog.metrics.get('cpu.runqueue_latency') as Metric
const te = catalog.metrics.get('cpu.thread_executions') as Metric

const EXPRS: Readonly<Record<string, ValueExpr>> = {
  execname: { kind: 'comm', expr: 'comm' },
  pid: { kind: 'pid', expr: 'pid' },
  syscall: { kind: 'syscall', expr: 'args->id' },
  cgroup: { kind: 'cgroup', expr: 'cgroup' },
  latency: { kind: 'number', expr: '$lat' },
  raddr: { kind: 'ip', family: 'args->family', v4: 'args->daddr', v4Form: 'bytes', v6: 'args->daddr_v6' },
  rport: { kind: 'port', expr: 'args->dport' },
  disk: { kind: 'blockdev', expr: 'args->dev' },
  optype: { kind: 'enum', enum: 'optype', cases: ['R'] },
  cpu: { kind: 'cpu', expr: 'cpu' },
  leavereason: { kind: 'enum', enum: 'leavereason', cases: ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6'] }
}

function compile (json: PredicateJson, metric: Metric = syscalls, constants: ConstantResolver = {}): string {
  const { condition } = compilePredicate(parsePredicate(json, metric), (f) => EXPRS[f], constants)
  return conditionText(condition)
}

test('a task name compiles to a comparison with an escaped literal', (t) => {
  t.is(compile({ eq: ['execname', 'mysqld'] }), 'comm == "mysqld"')
  t.is(compile({ ne: ['execname', 'a"b\\c'] }), '!(comm == "a\\"b\\\\c")')
})

test('a task name the kernel cannot hold decides the comparison: too long, NUL, lone surrogate', (t) => {
  t.is(compile({ eq: ['execname', 'sixteen-bytes-xx'] }), '0')
  t.is(compile({ eq: ['execname', 'fifteen-bytes-x'] }), 'comm == "fifteen-bytes-x"')
  t.is(compile({ eq: ['execname', 'a\u0000b'] }), '0')
  t.is(compile({ ne: ['execname', 'a\u0000b'] }), '1')
  t.is(compile({ eq: ['execname', '\ud800'] }), '0')
})

test('pids compile only from canonical decimals', (t) => {
  t.is(compile({ eq: ['pid', '1234'] }), 'pid == 1234')
  t.is(compile({ eq: ['pid', '0'] }), 'pid == 0')
  for (const bad of ['01', '-1', '1e3', ' 1', '1 ', '0x10', '2147483648', 'abc', '1; system("id")', '']) {
    t.is(compile({ eq: ['pid', bad] }), '0', bad)
    t.is(compile({ ne: ['pid', bad] }), '1', bad)
  }
})

test('syscalls compile by name or by the syscall_<n> spelling of an unnamed number', (t) => {
  t.is(compile({ eq: ['syscall', 'read'] }), 'args->id == 0')
  t.is(compile({ eq: ['syscall', 'file_setattr'] }), 'args->id == 469')
  t.is(compile({ eq: ['syscall', 'syscall_999'] }), 'args->id == 999')
  t.is(compile({ eq: ['syscall', 'syscall_0'] }), '0')
  t.is(compile({ eq: ['syscall', 'nosuchcall'] }), '0')
})

test('cgroups compile through the runtime\'s resolver, or the cgroup_<id> spelling', (t) => {
  const constants = { cgroupId: (p: string) => p === '/heatlab' ? 44 : undefined }
  t.is(compile({ eq: ['cgroup', '/heatlab'] }, syscalls, constants), 'cgroup == 44')
  t.is(compile({ eq: ['cgroup', 'cgroup_18446744073709551615'] }, syscalls, constants), 'cgroup == 18446744073709551615')
  t.is(compile({ eq: ['cgroup', 'cgroup_18446744073709551616'] }, syscalls, constants), '0')
  t.is(compile({ eq: ['cgroup', '/other'] }, syscalls, constants), '0')
  t.is(compile({ eq: ['cgroup', '/heatlab'] }), '0', 'without a resolver a path resolves to nothing')
})

test('a resolver that returns something other than an unsigned 64-bit integer is a runtime bug', (t) => {
  for (const bad of [-1, 1.5, Number.NaN, 2 ** 64, -1n, 2n ** 64n]) {
    t.throws(() => compile({ eq: ['cgroup', '/x'] }, syscalls, { cgroupId: () => bad }), { message: /not an unsigned 64-bit integer/ })
  }
})

test('disks compile through the resolver or major:minor, as the kernel\'s dev_t', (t) => {
  t.is(compile({ eq: ['disk', '254:0'] }, physio), 'args->dev == 266338304')
  t.is(compile({ eq: ['disk', '8:17'] }, physio), `args->dev == ${8 * 2 ** 20 + 17}`)
  t.is(compile({ eq: ['disk', 'vda'] }, physio, { blockDevice: (n) => n === 'vda' ? 266338304 : undefined }), 'args->dev == 266338304')
  t.is(compile({ eq: ['disk', 'vdb'] }, physio), '0')
  t.is(compile({ eq: ['disk', '4096:0'] }, physio), '0')
})

test('enums compare the case index; an unknown name decides the comparison', (t) => {
  t.is(compile({ eq: ['optype', 'read'] }, physio), '((R) ? 0 : 1) == 0')
  t.is(compile({ eq: ['optype', 'write'] }, physio), '((R) ? 0 : 1) == 1')
  t.is(compile({ eq: ['optype', 'discard'] }, physio), '0')
  t.is(compile({ eq: ['leavereason', 'unknown'] }, te), `${enumExpression(EXPRS.leavereason as Extract<ValueExpr, { kind: 'enum' }>)} == 7`)
})

test('the enum expression falls through its cases to the last name', (t) => {
  t.is(enumExpression({ kind: 'enum', enum: 'x', cases: ['a', 'b'] }), '((a) ? 0 : ((b) ? 1 : 2))')
  t.is(enumExpression({ kind: 'enum', enum: 'x', cases: ['a'] }), '((a) ? 0 : 1)')
})

test('addresses compare bytes under their family; any spelling of an address is the same', (t) => {
  t.is(compile({ eq: ['raddr', '10.1.2.3'] }, connects), 'args->family == 2 && args->daddr[0] == 10 && args->daddr[1] == 1 && args->daddr[2] == 2 && args->daddr[3] == 3')
  const v6 = compile({ eq: ['raddr', '::1'] }, connects)
  t.true(v6.startsWith('args->family == 10 && args->daddr_v6[0] == 0'))
  t.true(v6.endsWith('args->daddr_v6[15] == 1'))
  t.is(compile({ eq: ['raddr', '0:0:0:0:0:0:0:1'] }, connects), v6)
  t.is(compile({ ne: ['raddr', '10.1.2.3'] }, connects), '!(args->family == 2 && args->daddr[0] == 10 && args->daddr[1] == 1 && args->daddr[2] == 2 && args->daddr[3] == 3)')
  t.is(compile({ eq: ['raddr', 'localhost'] }, connects), '0')
})

test('an IPv4 address held in one word compares as its little-endian value', (t) => {
  const { condition } = compilePredicate(parsePredicate({ eq: ['raddr', '127.0.0.1'] }, connects),
    () => ({ kind: 'ip', family: '$f', v4: '$w', v4Form: 'word', v6: '$v6' }), {})
  t.is(conditionText(condition), '$f == 2 && $w == 16777343')
})

test('ports and cpus compile from decimals (cpus also as cpu<n>)', (t) => {
  t.is(compile({ eq: ['rport', '443'] }, connects), 'args->dport == 443')
  t.is(compile({ eq: ['rport', '65536'] }, connects), '0')
  t.is(compile({ eq: ['cpu', '3'] }, runq), 'cpu == 3')
  t.is(compile({ eq: ['cpu', 'cpu3'] }, runq), 'cpu == 3')
  t.is(compile({ eq: ['cpu', 'cpu'] }, runq), '0')
})

test('numeric comparisons on unsigned values move fractional constants and decide negative ones', (t) => {
  t.is(compile({ gt: ['latency', 1000] }), '$lat > 1000')
  t.is(compile({ ge: ['latency', 0] }), '1')
  t.is(compile({ lt: ['latency', 0] }), '0')
  t.is(compile({ gt: ['latency', -5] }), '1')
  t.is(compile({ le: ['latency', -1] }), '0')
  t.is(compile({ eq: ['latency', -1] }), '0')
  t.is(compile({ ne: ['latency', -1] }), '1')
  t.is(compile({ lt: ['latency', 1] }), '$lat < 1')
  t.is(compile({ le: ['latency', 9007199254740991] }), '$lat <= 9007199254740991')
})

test('and/or simplify around decided comparisons and parenthesize where needed', (t) => {
  t.is(compile({ and: [{ eq: ['pid', '1'] }, { eq: ['pid', 'x'] }] }), '0')
  t.is(compile({ or: [{ eq: ['pid', '1'] }, { ne: ['pid', 'x'] }] }), '1')
  t.is(compile({ and: [{ or: [{ eq: ['pid', '1'] }, { eq: ['pid', '2'] }] }, { eq: ['execname', 'sh'] }] }), '(pid == 1 || pid == 2) && comm == "sh"')
  t.is(compile({ or: [{ and: [{ eq: ['pid', '1'] }, { eq: ['pid', '2'] }] }, { eq: ['execname', 'sh'] }] }), 'pid == 1 && pid == 2 || comm == "sh"')
  t.is(compile({}), '1')
  t.is(conditionText(and(atom('a'), atom('a'))), 'a', 'a repeated part appears once')
  t.is(conditionText(or(false, atom('a'))), 'a')
  t.is(conditionText(not(or(atom('a'), atom('b')))), '!(a || b)')
})

test('weakening drops comparisons on fields the point does not know, and says so', (t) => {
  const pred = parsePredicate({ and: [{ eq: ['execname', 'sh'] }, { gt: ['latency', 1000] }] }, syscalls)
  const start = compilePredicate(pred, (f) => f === 'execname' ? EXPRS.execname : undefined, {})
  t.is(conditionText(start.condition), 'comm == "sh"')
  t.true(start.weakened)
  const disjunction = compilePredicate(parsePredicate({ or: [{ eq: ['execname', 'sh'] }, { gt: ['latency', 1000] }] }, syscalls), (f) => f === 'execname' ? EXPRS.execname : undefined, {})
  t.is(disjunction.condition, true, 'an or with an unknown part is no filter at all')
  const full = compilePredicate(pred, (f) => EXPRS[f], {})
  t.false(full.weakened)
})
