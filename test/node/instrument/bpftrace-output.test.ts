/**
 * The bpftrace backend's user-space half, without bpftrace: line splitting, the `\uffffffXX`
 * repair, the duplicate-keeping JSON parser (fuzzed against JSON.parse), output lines, key
 * decoding (syscalls, cgroups, block devices, enums), slot readers and the restart schedule.
 */
import test from 'ava'
import fc from 'fast-check'
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  catalog, DecodeError, HeatmeshError, LATENCY_BUCKETING, quantizer, valueToCa,
  type Decomposition, type SlotLayout, type Value
} from '../../../metad/index.js'
import { valueLayout } from '../../../node/instrument/index.js'
import { createBlockDevices, splitKernelDev, ueventDevName } from '../../../node/instrument/bpftrace/blockdevs.js'
import { cgroup2Mount, createCgroupPaths, scanCgroups } from '../../../node/instrument/bpftrace/cgroups.js'
import { JsonObject, parseJsonPairs, type JsonValue } from '../../../node/instrument/bpftrace/json-pairs.js'
import { keyDecoder, type KeyTables } from '../../../node/instrument/bpftrace/keys.js'
import { createLineSplitter } from '../../../node/instrument/bpftrace/lines.js'
import { parseOutputLine, repairHighBytes } from '../../../node/instrument/bpftrace/output.js'
import { createSlotReader } from '../../../node/instrument/bpftrace/slot-reader.js'
import { restartDelay } from '../../../node/instrument/bpftrace/supervisor.js'

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8')

// ---- lines ------------------------------------------------------------------------------------

function split (chunks: string[], maxLineBytes = 1000): { lines: string[], overlong: number[] } {
  const lines: string[] = []
  const overlong: number[] = []
  const s = createLineSplitter({ maxLineBytes, onLine: (l) => lines.push(l.toString()), onOverlong: (n) => overlong.push(n) })
  for (const c of chunks) s.push(bytes(c))
  s.end()
  return { lines, overlong }
}

test('the line splitter joins lines across chunks and delivers a last line without newline', (t) => {
  t.deepEqual(split(['{"a"', ': 1}\n{"b": 2}\n{"c"', '', ': 3}']).lines, ['{"a": 1}', '{"b": 2}', '{"c": 3}'])
  t.deepEqual(split(['\n\n']).lines, ['', ''])
})

test('a line over the bound is reported and skipped without being buffered, and the next line is whole', (t) => {
  const long = 'x'.repeat(400)
  const { lines, overlong } = split(['ok\n', long, long, long, 'tail\nnext\n'], 1000)
  t.deepEqual(lines, ['ok', 'next'])
  t.deepEqual(overlong, [1204])
  const inOne = split([`${'y'.repeat(2000)}\nafter\n`], 1000)
  t.deepEqual(inOne.lines, ['after'])
  t.deepEqual(inOne.overlong, [2000])
})

// ---- \uffffffXX -------------------------------------------------------------------------------

test('\\uffffffXX escapes become raw bytes, then UTF-8: é and ✓ come back whole', (t) => {
  const line = bytes('{"type": "map", "data": {"@s0": {"\\uffffffc3\\uffffffa9\\uffffffe2\\uffffff9c\\uffffff93z,7500": 2}}}')
  const e = parseOutputLine(line)
  t.deepEqual(e, { type: 'map', map: '@s0', entries: [['é✓z,7500', 2]] })
})

test('the repair reads escapes pairwise: an escaped backslash followed by uffffff41 is left alone', (t) => {
  t.is(Buffer.from(repairHighBytes(bytes('"a\\\\uffffff41"'))).toString(), '"a\\\\uffffff41"')
  t.is(Buffer.from(repairHighBytes(bytes('"\\\\\\uffffff41"'))).toString(), '"\\\\A"')
  t.is(Buffer.from(repairHighBytes(bytes('"\\uFFFFFFC3\\uffffffA9"'))).toString(), '"é"')
  t.is(Buffer.from(repairHighBytes(bytes('"\\uffffff4"'))).toString(), '"\\uffffff4"', 'a short sequence is not repaired')
  const plain = bytes('{"no": "escapes"}')
  t.is(repairHighBytes(plain), plain)
})

test('a lone high byte decodes lossily as U+FFFD, not as an error', (t) => {
  const e = parseOutputLine(bytes('{"type": "map", "data": {"@s0": {"a\\uffffffffb": 1}}}'))
  t.deepEqual(e, { type: 'map', map: '@s0', entries: [['a\uFFFDb', 1]] })
})

// ---- JSON with duplicate keys -----------------------------------------------------------------

function plain (v: JsonValue): unknown {
  if (v instanceof JsonObject) return Object.fromEntries(v.entries.map(([k, x]) => [k, plain(x)]))
  if (Array.isArray(v)) return v.map(plain)
  return v
}

test('the pairs parser keeps duplicate keys, in order', (t) => {
  const v = parseJsonPairs('{"RA": 19, "W": 1, "RA": 30}')
  t.true(v instanceof JsonObject)
  t.deepEqual((v as JsonObject).entries, [['RA', 19], ['W', 1], ['RA', 30]])
})

test('the pairs parser reads what JSON.parse reads, as JSON.parse does (fuzzed)', (t) => {
  fc.assert(fc.property(fc.jsonValue(), (v) => {
    const text = JSON.stringify(v)
    t.deepEqual(plain(parseJsonPairs(text)), JSON.parse(text))
  }), { numRuns: 300 })
})

test('the pairs parser rejects what JSON.parse rejects, and accepts what it accepts (fuzzed)', (t) => {
  const pieces = fc.constantFrom('{', '}', '[', ']', ',', ':', '"a"', '"\\u00e9"', '"\\x"', '1', '-0.5e3', '01', 'true', 'nul', ' ', '"\\"', '"', '\n', '-')
  fc.assert(fc.property(fc.array(pieces, { maxLength: 12 }), (parts) => {
    const text = parts.join('')
    let ours = true
    let theirs = true
    try { parseJsonPairs(text) } catch { ours = false }
    try { JSON.parse(text) } catch { theirs = false }
    t.is(ours, theirs, text)
  }), { numRuns: 2000 })
})

test('the pairs parser refuses deep nesting instead of overflowing the stack', (t) => {
  t.throws(() => parseJsonPairs('['.repeat(10000) + ']'.repeat(10000)), { name: 'JsonSyntaxError' })
})

// ---- output lines -----------------------------------------------------------------------------

test('every line type of the script protocol decodes', (t) => {
  t.deepEqual(parseOutputLine(bytes('{"type": "attached_probes", "data": {"probes": 6}}')), { type: 'attached', probes: 6 })
  t.deepEqual(parseOutputLine(bytes('{"type": "printf", "data": "READY\\n"}')), { type: 'marker', marker: 'READY' })
  t.deepEqual(parseOutputLine(bytes('{"type": "printf", "data": "TICK\\n"}')), { type: 'marker', marker: 'TICK' })
  t.deepEqual(parseOutputLine(bytes('{"type": "printf", "data": "END\\n"}')), { type: 'marker', marker: 'END' })
  t.deepEqual(parseOutputLine(bytes('{"type": "printf", "data": "hello\\n"}')), { type: 'printf', text: 'hello\n' })
  t.deepEqual(parseOutputLine(bytes('{"type": "lost_events", "data": {"events": 12}}')), { type: 'lost', events: 12 })
  t.deepEqual(parseOutputLine(bytes('')), { type: 'blank' })
  t.deepEqual(parseOutputLine(bytes('{"type": "hist", "data": {"@h": []}}')), { type: 'other', kind: 'hist' })
  t.deepEqual(parseOutputLine(bytes('{"type": "map", "data": {"@s2": {"a,b\\"c,1": 1, "bash,7500": 4}}}')),
    { type: 'map', map: '@s2', entries: [['a,b"c,1', 1], ['bash,7500', 4]] })
})

test('lines outside the protocol are DecodeErrors: bad JSON, a scalar map, a count that is no count', (t) => {
  for (const line of [
    '{"type": "map", "data": {"@s0": {',
    '{"type": "map", "data": {"@s0": 10}}',
    '{"type": "map", "data": {"@s0": {"0": -1}}}',
    '{"type": "map", "data": {"@s0": {"0": 1.5}}}',
    '{"type": "map", "data": {"@s0": {"0": "7"}}}',
    '{"type": "map", "data": {}}',
    '{"type": "printf", "data": 7}',
    '[1, 2]',
    '{"data": 1}',
    'ERROR: not json'
  ]) {
    t.throws(() => parseOutputLine(bytes(line)), { instanceOf: DecodeError }, line)
  }
})

// ---- key decoding -----------------------------------------------------------------------------

const noCgroups = createCgroupPaths({ root: undefined })
const tables: KeyTables = {
  syscallName: (n) => ({ 0: 'read', 2: 'open', 257: 'openat' } as Record<number, string>)[n],
  enumNames: (name) => name === 'optype' ? ['read', 'write'] : undefined,
  cgroups: noCgroups,
  blockdevs: { name: (d) => splitKernelDev(d) === undefined ? undefined : `dev${d}`, device: () => undefined }
}

test('key decodings turn printed elements into field values, and refuse elements not of their form', (t) => {
  const syscall = keyDecoder('syscall', tables)!
  t.is(syscall('257'), 'openat')
  t.is(syscall('999'), 'syscall_999')
  t.is(syscall('-1'), 'syscall_-1')
  t.is(syscall('open'), undefined)
  const cpu = keyDecoder('cpu', tables)!
  t.is(cpu('3'), 'cpu3')
  t.is(cpu('-1'), undefined)
  const decimal = keyDecoder('decimal', tables)!
  t.is(decimal('1234'), '1234')
  t.is(decimal('12a'), undefined)
  const en = keyDecoder('enum:optype', tables)!
  t.is(en('1'), 'write')
  t.is(en('2'), undefined)
  t.is(keyDecoder('enum:nosuch', tables), undefined)
  t.is(keyDecoder('cgroup', tables)!('44'), 'cgroup_44')
  t.is(keyDecoder('string', tables)!('a,b'), 'a,b')
  t.is(keyDecoder('ipv4', tables)!('127.0.0.1'), '127.0.0.1')
  t.is(keyDecoder('blockdev', tables)!('266338304'), 'dev266338304')
  t.is(keyDecoder('nonsense' as 'string', tables), undefined)
})

test('kernel dev_t numbers split as MAJOR << 20 | MINOR and name a disk by its uevent', (t) => {
  t.deepEqual(splitKernelDev('266338304'), { major: 254, minor: 0 })
  t.deepEqual(splitKernelDev('8388625'), { major: 8, minor: 17 })
  t.is(splitKernelDev('-1'), undefined)
  t.is(splitKernelDev('99999999999'), undefined)
  t.is(ueventDevName('MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n'), 'vda')
  const sysfs = mkdtempSync(join(tmpdir(), 'heatmesh-sysfs-'))
  try {
    mkdirSync(join(sysfs, 'dev/block/8:17'), { recursive: true })
    writeFileSync(join(sysfs, 'dev/block/8:17/uevent'), 'MAJOR=8\nMINOR=17\nDEVNAME=sdb1\n')
    let now = 0
    const devs = createBlockDevices({ sysfs, now: () => now, retryMs: 5000 })
    t.is(devs.name(String(8 * 2 ** 20 + 17)), 'sdb1')
    t.is(devs.name(String(9 * 2 ** 20 + 1)), '9:1', 'no such device: major:minor')
    mkdirSync(join(sysfs, 'dev/block/9:1'), { recursive: true })
    writeFileSync(join(sysfs, 'dev/block/9:1/uevent'), 'DEVNAME=nvme0n1\n')
    now = 1000
    t.is(devs.name(String(9 * 2 ** 20 + 1)), '9:1', 'not looked up again before retryMs')
    now = 6000
    t.is(devs.name(String(9 * 2 ** 20 + 1)), 'nvme0n1', 'a hot-added disk gets its name')
    // And back, for predicates: a disk name to its kernel dev_t.
    mkdirSync(join(sysfs, 'class/block/sdb1'), { recursive: true })
    writeFileSync(join(sysfs, 'class/block/sdb1/dev'), '8:17\n')
    t.is(devs.device('sdb1'), 8 * 2 ** 20 + 17)
    t.is(devs.device('sdc'), undefined)
    t.is(devs.device('../sdb1'), undefined, 'a name with a slash is no device name')
  } finally {
    rmSync(sysfs, { recursive: true, force: true })
  }
})

test('the cgroup2 mount is read from /proc/mounts, pure v2 or hybrid', (t) => {
  t.is(cgroup2Mount('sysfs /sys sysfs rw 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n'), '/sys/fs/cgroup')
  t.is(cgroup2Mount('tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n'), '/sys/fs/cgroup/unified')
  t.is(cgroup2Mount('cgroup2 /mnt/my\\040cg cgroup2 rw 0 0\n'), '/mnt/my cg')
  t.is(cgroup2Mount('proc /proc proc rw 0 0\n'), undefined)
})

test('cgroup ids resolve to paths by directory inode, with rescans on unknown ids at most every rescanMs', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'heatmesh-cg-'))
  try {
    mkdirSync(join(root, 'system.slice/ssh.service'), { recursive: true })
    const ino = (p: string): string => statSync(join(root, p), { bigint: true }).ino.toString()
    const table = scanCgroups(root)
    t.is(table.get(ino('')), '/')
    t.is(table.get(ino('system.slice/ssh.service')), '/system.slice/ssh.service')
    let now = 0
    const cg = createCgroupPaths({ root, now: () => now, rescanMs: 5000 })
    t.is(cg.path(ino('system.slice')), '/system.slice')
    mkdirSync(join(root, 'app'))
    const app = ino('app')
    t.is(cg.path(app), undefined, 'scanned just now: no rescan yet')
    now = 5000
    t.is(cg.path(app), '/app', 'rescanned once rescanMs passed')
    t.is(keyDecoder('cgroup', { ...tables, cgroups: cg })!(app), '/app')
    // And back, for predicates: a path to its id, never outside the tree.
    t.is(cg.id('/app'), BigInt(app))
    t.is(cg.id('/'), BigInt(ino('')))
    t.is(cg.id('/nosuch'), undefined)
    for (const bad of ['app', '/app/..', '/../etc', '//app', '/app/', '/./app']) t.is(cg.id(bad), undefined, bad)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

// ---- slot readers -----------------------------------------------------------------------------

const syscalls = catalog.metrics.get('syscall.syscalls')!

function reader (decomposition: Decomposition, slot: Partial<SlotLayout> = {}): ReturnType<typeof createSlotReader> {
  const layout = valueLayout(syscalls, decomposition)
  const full: SlotLayout = {
    slot: 0,
    map: '@s0',
    value: 'count',
    ...(layout.discrete === undefined ? {} : { discrete: { field: layout.discrete, key: layout.discrete === 'syscall' ? 'syscall' : 'string' } }),
    ...(layout.numeric === undefined ? {} : { numeric: { field: layout.numeric, bucketing: LATENCY_BUCKETING } }),
    ...slot
  }
  return createSlotReader(full, layout, tables)
}

const ca = (v: Value): unknown => valueToCa(v)

test('an undecomposed slot sums key 0 into a scalar, and a key other than 0 rejects the line', (t) => {
  const r = reader([])
  t.is(r.add([['0', 5], ['0', 2]]), undefined)
  t.is(r.add([['1', 5]]), 'key "1" in an undecomposed slot (only 0 is)')
  t.deepEqual(ca(r.take()), 7)
  t.deepEqual(ca(r.take()), 0, 'take starts afresh')
})

test('a discrete slot decodes keys, and keys that print alike add up', (t) => {
  const r = reader(['syscall'])
  t.is(r.add([['0', 3], ['257', 1], ['0', 2], ['999', 1]]), undefined)
  t.deepEqual(ca(r.take()), { read: 5, openat: 1, syscall_999: 1 })
})

test('a numeric slot maps bucket lower bounds to buckets, and refuses a bound that is no bucket\'s', (t) => {
  const r = reader(['latency'])
  t.is(r.add([['0', 4], ['7500', 2], ['2600000', 18], ['1000000000000', 1]]), undefined)
  t.deepEqual(ca(r.take()), [[[0, 999], 4], [[7500, 7599], 2], [[2600000, 2699999], 18], [[1000000000000, 9223372036854776000], 1]])
  t.regex(r.add([['7500', 1], ['7550', 1]])!, /7550 is not a bucket's lower bound/)
  t.regex(r.add([['fast', 1]])!, /not an integer/)
  t.deepEqual(ca(r.take()), [], 'a rejected line adds nothing, not even its good entries')
})

test('a discrete and numeric slot splits at the LAST comma, so names with commas survive', (t) => {
  const r = reader(['execname', 'latency'])
  t.is(r.add([['a,b"c,1000', 1], ['bash,7500', 2], ['bash,7500', 1]]), undefined)
  const v = r.take()
  t.deepEqual(ca(v), { 'a,b"c': [[[1000, 1099], 1]], bash: [[[7500, 7599], 3]] })
  t.regex(r.add([['bash', 1]])!, /no "," between/)
})

test('a slot layout that disagrees with the decomposition fails at once, with ECA_INCOMPAT', (t) => {
  const layout = valueLayout(syscalls, ['execname'])
  t.throws(() => createSlotReader({ slot: 1, map: '@s1', value: 'count' }, layout, tables), { instanceOf: HeatmeshError, message: /discrete key none, but the decomposition asks for execname/ })
  t.throws(() => createSlotReader({ slot: 1, map: '@s1', value: 'count', discrete: { field: 'execname', key: 'enum:nosuch' } }, layout, tables), { message: /unknown key decoding/ })
  const bad = { kind: 'llquantize', base: 10, low: 0, high: 11, nsteps: 100 } as const
  t.throws(() => createSlotReader({ slot: 1, map: '@s1', value: 'count', numeric: { field: 'latency', bucketing: bad } }, valueLayout(syscalls, ['latency']), tables), { message: /buckets llquantize\(10, 0, 11, 100\)/ })
})

test('every lower bound of the latency bucketing is accepted, and one past each is not', (t) => {
  const q = quantizer(LATENCY_BUCKETING)
  const r = reader(['latency'])
  for (let i = 0; i < q.nbuckets; i++) {
    t.is(r.add([[String(q.lo(i)), 1]]), undefined)
    if (q.hi(i) > q.lo(i) && i < q.nbuckets - 1) t.not(r.add([[String(q.lo(i) + 1), 1]]), undefined)
  }
  const v = r.take()
  t.is(v.type === 'distribution' ? v.dist.index.length : -1, q.nbuckets)
})

// ---- restarts ---------------------------------------------------------------------------------

test('the restart delay doubles from 0.5 s per consecutive failure and stops at 30 s', (t) => {
  t.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => restartDelay(n, 500, 30000)), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000])
})
