import test from 'ava'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import {
  catalog, parsePredicate, quantizer, valueToCa, valueTotal,
  type Decomposition, type Metric, type Predicate, type Value
} from '../../../../metad/index.js'
import { createProcfsBackend, type Backend, type Measurement } from '../../../../node/instrument/index.js'
import { parseProcStat } from '../../../../node/instrument/procfs/stat.js'
import { backendContract } from '../contract.js'

// The contract, against this machine's /proc.
backendContract({ create: () => createProcfsBackend() })

// ---- a fixture tree --------------------------------------------------------------------------

const HEADER = 'Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n'

/** Two consecutive readings of every file the backend reads. */
const READINGS: ReadonlyArray<Record<string, string>> = [
  {
    'proc/stat': 'cpu  300 10 150 1400 10 5 5 0 0 0\ncpu0 100 0 50 800 10 0 0 0 0 0\ncpu1 200 10 100 600 0 5 5 0 0 0\nintr 1 2\n',
    'proc/diskstats': [
      '   7 0 loop0 5 0 10 0 0 0 0 0 0 0 0',
      ' 254 0 vda 100 0 2000 0 50 0 800 0 0 0 0 0 0 0 0 0 0',
      ' 254 1 vda1 90 0 1800 0 40 0 700 0 0 0 0 0 0 0 0 0 0',
      '   8 0 sda 10 0 80 0 5 0 40 0 0 0 0'
    ].join('\n') + '\n',
    'proc/net/dev': `${HEADER}    lo: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0\n  eth0: 50000 100 0 0 0 0 0 0 20000 80 0 0 0 0 0 0\n`
  },
  {
    // cpu0: 50% busy (user 25, kernel 25); cpu1: 90% busy (user 60, kernel 10, guest 20; iowait 10)
    'proc/stat': 'cpu  405 10 180 1450 20 5 10 0 20 0\ncpu0 125 0 75 850 10 0 0 0 0 0\ncpu1 280 10 105 600 10 5 10 0 20 0\nintr 1 2\n',
    'proc/diskstats': [
      '   7 0 loop0 500 0 1000 0 0 0 0 0 0 0 0',
      ' 254 0 vda 110 0 2080 0 53 0 824 0 0 0 0 0 0 0 0 0 0',
      ' 254 1 vda1 100 0 1880 0 43 0 724 0 0 0 0 0 0 0 0 0 0',
      '   8 0 sda 10 0 80 0 6 0 48 0 0 0 0'
    ].join('\n') + '\n',
    'proc/net/dev': `${HEADER}    lo: 1500 15 0 0 0 0 0 0 1500 15 0 0 0 0 0 0\n  eth0: 51500 103 0 0 0 0 0 0 20600 82 0 0 0 0 0 0\n`
  }
]

const STEADY: Record<string, string> = {
  'proc/meminfo': 'MemTotal: 1000 kB\nMemFree: 300 kB\nBuffers: 50 kB\nCached: 200 kB\nShmem: 10 kB\nSReclaimable: 40 kB\nSwapTotal: 100 kB\nSwapFree: 60 kB\n',
  'proc/pressure/cpu': 'some avg10=1.50 avg60=2.00 avg300=3.25 total=123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
  'proc/pressure/memory': 'some avg10=0.00 avg60=0.10 avg300=0.05 total=9\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
  'proc/pressure/io': 'some avg10=10.00 avg60=5.00 avg300=1.00 total=77\nfull avg10=8.00 avg60=4.00 avg300=0.50 total=66\n',
  // /sys/block: vda and sda are backed by hardware; loop0 is virtual (no device link).
  'sys/block/vda/device/vendor': '0x1af4\n',
  'sys/block/sda/device/vendor': 'ATA\n',
  'sys/block/loop0/ro': '0\n'
}

function write (root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
}

/** A fixture tree holding the first reading; `next()` moves it to the second. */
function fixture (t: { teardown: (fn: () => void) => void }): { root: string, next: () => void, write: (files: Record<string, string>) => void, remove: (path: string) => void } {
  const root = mkdtempSync(join(tmpdir(), 'heatmesh-procfs-'))
  t.teardown(() => { rmSync(root, { recursive: true, force: true }) })
  write(root, { ...STEADY, ...READINGS[0] })
  return {
    root,
    next: () => { write(root, READINGS[1]!) },
    write: (files) => { write(root, files) },
    remove: (path) => { rmSync(join(root, path), { recursive: true, force: true }) }
  }
}

function metric (name: string): Metric {
  return catalog.metrics.get(name)!
}

const TRUE: Predicate = Object.freeze({ op: 'true' })

async function measure (backend: Backend, name: string, decomposition: Decomposition, predicate: unknown = {}): Promise<Measurement> {
  const m = metric(name)
  const pred = parsePredicate(predicate, m)
  return await backend.instrument({ id: 't', metric: m, predicate: pred.op === 'true' ? TRUE : pred, decomposition })
}

/** The value of the second interval: first collect on reading 1, second on reading 2. */
async function secondValue (name: string, decomposition: Decomposition, predicate: unknown, t: { teardown: (fn: () => void) => void }): Promise<{ first: Value, second: Value }> {
  const tree = fixture(t)
  const m = await measure(createProcfsBackend({ root: tree.root }), name, decomposition, predicate)
  const first = m.collect()
  tree.next()
  const second = m.collect()
  await m.stop()
  return { first, second }
}

// ---- metrics on the fixture ------------------------------------------------------------------

test('cpu.cpus counts one per CPU from the first reading', async (t) => {
  const tree = fixture(t)
  const m = await measure(createProcfsBackend({ root: tree.root }), 'cpu.cpus', ['cpu'])
  t.deepEqual(valueToCa(m.collect()), { cpu0: 1, cpu1: 1 })
})

test('cpu.cpus by utilization puts each CPU in the bucket of its percent busy over the last interval, zero on the first collect', async (t) => {
  const { first, second } = await secondValue('cpu.cpus', ['utilization'], {}, t)
  t.is(valueTotal(first), 0)
  t.deepEqual(valueToCa(second), [[[50, 50], 1], [[90, 90], 1]])
})

test('cpu.cpus filters on utilization', async (t) => {
  const { second } = await secondValue('cpu.cpus', ['cpu'], { gt: ['utilization', 60] }, t)
  t.deepEqual(valueToCa(second), { cpu1: 1 })
})

test('cpu.usage is percent of one CPU by mode, summed over CPUs', async (t) => {
  const { first, second } = await secondValue('cpu.usage', ['cpumode'], {}, t)
  t.is(valueTotal(first), 0)
  t.deepEqual(valueToCa(second), { user: 85, kernel: 35, iowait: 10, guest: 20 })
  const scalar = await secondValue('cpu.usage', [], { ne: ['cpumode', 'iowait'] }, t)
  t.deepEqual(valueToCa(scalar.second), 140)
})

test('memory.usage reports the current bytes per memory type from the first collect', async (t) => {
  const tree = fixture(t)
  const m = await measure(createProcfsBackend({ root: tree.root }), 'memory.usage', ['memtype'])
  t.deepEqual(valueToCa(m.collect()), { used: 410 * 1024, cached: 240 * 1024, buffers: 50 * 1024, free: 300 * 1024, swap_used: 40 * 1024 })
  const used = await measure(createProcfsBackend({ root: tree.root }), 'memory.usage', [], { eq: ['memtype', 'used'] })
  t.deepEqual(valueToCa(used.collect()), 410 * 1024)
})

test('memory.pressure reports the some averages per resource and window', async (t) => {
  const tree = fixture(t)
  const m = await measure(createProcfsBackend({ root: tree.root }), 'memory.pressure', ['resource'], { eq: ['window', 'avg10'] })
  t.deepEqual(valueToCa(m.collect()), { cpu: 1.5, io: 10 })
  const w = await measure(createProcfsBackend({ root: tree.root }), 'memory.pressure', ['window'], { eq: ['resource', 'io'] })
  t.deepEqual(valueToCa(w.collect()), { avg10: 10, avg60: 5, avg300: 1 })
})

test('disk.physio_ops counts completed reads and writes of physical disks only, from the second collect', async (t) => {
  const { first, second } = await secondValue('disk.physio_ops', ['disk'], {}, t)
  t.deepEqual(valueToCa(first), {})
  // vda: 10 reads, 3 writes; sda: 1 write; the partition vda1 and loop0 are not counted.
  t.deepEqual(valueToCa(second), { vda: 13, sda: 1 })
  const byOp = await secondValue('disk.physio_ops', ['optype'], { eq: ['disk', 'vda'] }, t)
  t.deepEqual(valueToCa(byOp.second), { read: 10, write: 3 })
})

test('disk.physio_bytes counts 512-byte sectors as bytes', async (t) => {
  const { second } = await secondValue('disk.physio_bytes', ['optype'], {}, t)
  t.deepEqual(valueToCa(second), { read: 80 * 512, write: (24 + 8) * 512 })
})

test('without /sys/block, disks are told apart by name', async (t) => {
  const tree = fixture(t)
  tree.remove('sys')
  const m = await measure(createProcfsBackend({ root: tree.root }), 'disk.physio_ops', ['disk'])
  m.collect()
  tree.next()
  t.deepEqual(valueToCa(m.collect()), { vda: 13, sda: 1 }) // loop0 and vda1 are excluded by name
})

test('nic.bytes and nic.packets are deltas per interface and direction', async (t) => {
  const bytes = await secondValue('nic.bytes', ['direction'], { eq: ['nic', 'eth0'] }, t)
  t.deepEqual(valueToCa(bytes.first), {})
  t.deepEqual(valueToCa(bytes.second), { received: 1500, sent: 600 })
  const packets = await secondValue('nic.packets', ['nic'], {}, t)
  t.deepEqual(valueToCa(packets.second), { lo: 10, eth0: 5 })
})

test('a counter that goes back (a re-created interface) counts nothing for that interval', async (t) => {
  const tree = fixture(t)
  const m = await measure(createProcfsBackend({ root: tree.root }), 'nic.packets', ['nic'])
  m.collect()
  tree.write({ 'proc/net/dev': `${HEADER}    lo: 1500 15 0 0 0 0 0 0 1500 15 0 0 0 0 0 0\n  eth0: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n` })
  t.deepEqual(valueToCa(m.collect()), { lo: 10 })
})

// ---- errors ----------------------------------------------------------------------------------

test('a garbled file gives zero and a restarting state with the reason, then a fresh baseline once it reads again', async (t) => {
  const tree = fixture(t)
  const m = await measure(createProcfsBackend({ root: tree.root }), 'nic.bytes', [])
  m.collect()
  tree.write({ 'proc/net/dev': `${HEADER}  eth0: 51500 103 0 0\n` })
  t.deepEqual(valueToCa(m.collect()), 0)
  const state = m.state()
  t.is(state.state, 'restarting')
  if (state.state === 'restarting') {
    t.regex(state.reason, /cannot decode \/proc\/net\/dev: line 3: eth0 has 4 counters, expected 16/)
    t.is(state.attempts, 1)
  }
  tree.write({ 'proc/net/dev': '' })
  m.collect()
  t.like(m.state(), { state: 'restarting', attempts: 2 })
  tree.next()
  t.deepEqual(valueToCa(m.collect()), 0, 'the first good reading is a new baseline')
  t.is(m.state().state, 'running')
  tree.write({ 'proc/net/dev': `${HEADER}    lo: 1600 16 0 0 0 0 0 0 1500 15 0 0 0 0 0 0\n  eth0: 51500 103 0 0 0 0 0 0 20600 82 0 0 0 0 0 0\n` })
  t.deepEqual(valueToCa(m.collect()), 100)
})

test('a file that disappears gives zero and a restarting state naming it', async (t) => {
  const tree = fixture(t)
  const m = await measure(createProcfsBackend({ root: tree.root }), 'memory.usage', [])
  tree.remove('proc/meminfo')
  t.deepEqual(valueToCa(m.collect()), 0)
  t.like(m.state(), { state: 'restarting' })
  const state = m.state()
  t.regex(state.state === 'restarting' ? state.reason : '', /cannot read \/proc\/meminfo under .*: ENOENT/)
})

test('without pressure stall information, instrument() rejects with the reason and the probe says so', async (t) => {
  const tree = fixture(t)
  tree.remove('proc/pressure')
  const backend = createProcfsBackend({ root: tree.root })
  const status = await backend.probe()
  t.true(status.available)
  t.regex(status.detail, /unavailable: memory\.pressure \(cannot read \/proc\/pressure\/cpu under .*: ENOENT\)/)
  const err = await t.throwsAsync(measure(backend, 'memory.pressure', []))
  t.regex(err?.message ?? '', /cannot measure memory\.pressure: cannot read \/proc\/pressure\/cpu/)
  t.is((err as { code?: string } | undefined)?.code, 'ECA_NORESOURCE')
})

test('an empty tree makes the backend unavailable, with every reason', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'heatmesh-procfs-'))
  t.teardown(() => { rmSync(root, { recursive: true, force: true }) })
  const status = await createProcfsBackend({ root }).probe()
  t.false(status.available)
  t.regex(status.detail, /nothing readable under .*: cpu\.cpus \(cannot read \/proc\/stat/)
})

// ---- this machine ----------------------------------------------------------------------------

test('on this machine, cpu.cpus counts the CPUs of /proc/stat and memory.usage adds up to MemTotal plus swap used', async (t) => {
  const backend = createProcfsBackend()
  const cpus = await measure(backend, 'cpu.cpus', [])
  t.deepEqual(valueToCa(cpus.collect()), parseProcStat(readFileSync('/proc/stat', 'utf8')).length)
  const mem = await measure(backend, 'memory.usage', ['memtype'])
  const v = mem.collect()
  const total = Number(/MemTotal:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024
  t.true(v.type === 'decomposition' && (v.keys.get('used') ?? 0) > 0)
  const sum = valueTotal(v) - (v.type === 'decomposition' ? v.keys.get('swap_used') ?? 0 : 0)
  t.true(Math.abs(sum - total) <= total * 0.01, `${sum} vs MemTotal ${total}`)
})

test('on this machine, cpu.cpus by utilization over a busy interval lands within 0..100 percent', async (t) => {
  const m = await measure(createProcfsBackend(), 'cpu.cpus', ['utilization'])
  m.collect()
  const until = performance.now() + 30
  while (performance.now() < until) { /* keep a CPU busy for a few jiffies */ }
  const v = m.collect()
  t.is(v.type, 'distribution')
  if (v.type !== 'distribution') return
  const q = quantizer(v.dist.bucketing)
  t.true(v.dist.total >= 1)
  t.true(q.hi(v.dist.index[v.dist.index.length - 1]!) <= 100)
})
