import test from 'ava'
import { DecodeError } from '../../../../metad/index.js'
import { cpuIntervals, parseProcStat } from '../../../../node/instrument/procfs/stat.js'

const STAT = `cpu  300 10 150 1400 10 5 5 0 0 0
cpu0 100 0 50 800 10 0 0 0 0 0
cpu1 200 10 100 600 0 5 5 0 0 0
intr 12345 0 0
ctxt 999
btime 1700000000
procs_running 1
`

test('parses the per-CPU lines and skips the aggregate line and the other statistics', (t) => {
  const cpus = parseProcStat(STAT)
  t.deepEqual(cpus.map((c) => c.cpu), ['cpu0', 'cpu1'])
  t.deepEqual(cpus[1], { cpu: 'cpu1', user: 200, nice: 10, system: 100, idle: 600, iowait: 0, irq: 5, softirq: 5, steal: 0, guest: 0, guestNice: 0 })
})

test('reads the columns an old kernel does not print as zero', (t) => {
  const [cpu0] = parseProcStat('cpu 1 2 3 4\ncpu0 1 2 3 4\n')
  t.deepEqual(cpu0, { cpu: 'cpu0', user: 1, nice: 2, system: 3, idle: 4, iowait: 0, irq: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0 })
})

test('rejects a CPU line cut short as truncated', (t) => {
  const err = t.throws(() => parseProcStat('cpu0 100 0 50 800 10 0 0 0 0 0\ncpu1 200 10\n'), { instanceOf: DecodeError })
  t.regex(err.message, /line 2: cpu1 has 2 columns, expected at least 4/)
})

test('rejects a garbled counter, naming the line and the column', (t) => {
  const err = t.throws(() => parseProcStat('cpu0 100 0 5x0 800\n'), { instanceOf: DecodeError })
  t.regex(err.message, /line 1 \(cpu0 system\): expected an unsigned integer, got "5x0"/)
})

test('rejects a negative counter and one beyond 2^53', (t) => {
  t.throws(() => parseProcStat('cpu0 -1 0 0 0\n'), { instanceOf: DecodeError })
  t.throws(() => parseProcStat('cpu0 9999999999999999 0 0 0\n'), { instanceOf: DecodeError, message: /beyond 2\^53/ })
})

test('rejects a line that only looks like a CPU line', (t) => {
  t.throws(() => parseProcStat('cpuX 1 2 3 4\n'), { instanceOf: DecodeError, message: /not a CPU line/ })
})

test('rejects a file without any per-CPU line (empty, or truncated after the aggregate)', (t) => {
  t.throws(() => parseProcStat(''), { instanceOf: DecodeError, message: /no per-CPU line/ })
  t.throws(() => parseProcStat('cpu  300 10 150 1400\n'), { instanceOf: DecodeError, message: /no per-CPU line/ })
})

test('derives utilization and per-mode shares from two readings, counting guest time once', (t) => {
  const before = parseProcStat(STAT)
  const after = parseProcStat('cpu0 125 0 75 850 10 0 0 0 0 0\ncpu1 280 10 105 600 10 5 10 0 20 0\n')
  const [c0, c1] = cpuIntervals(before, after)
  t.deepEqual(c0, { cpu: 'cpu0', utilization: 50, modes: { user: 25, kernel: 25, iowait: 0, steal: 0, guest: 0 } })
  // cpu1: user +80 of which guest +20; system +5, softirq +5; iowait +10 (idle, not busy).
  t.deepEqual(c1, { cpu: 'cpu1', utilization: 90, modes: { user: 60, kernel: 10, iowait: 10, steal: 0, guest: 20 } })
})

test('a CPU whose counters did not advance or went back is idle, and a CPU new in the second reading is skipped', (t) => {
  const before = parseProcStat('cpu0 100 0 50 800\ncpu1 100 0 50 800\n')
  const after = parseProcStat('cpu0 100 0 50 800\ncpu1 10 0 5 80\ncpu2 1 1 1 1\n')
  t.deepEqual(cpuIntervals(before, after).map((c) => [c.cpu, c.utilization]), [['cpu0', 0], ['cpu1', 0]])
})
