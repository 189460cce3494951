import test from 'ava'
import { DecodeError } from '../../../../metad/index.js'
import { memoryUsage, parseMeminfo } from '../../../../node/instrument/procfs/meminfo.js'

const MEMINFO = `MemTotal:           1000 kB
MemFree:             300 kB
MemAvailable:        500 kB
Buffers:              50 kB
Cached:              200 kB
SwapCached:            0 kB
Active(anon):         10 kB
Shmem:                10 kB
SReclaimable:         40 kB
SwapTotal:           100 kB
SwapFree:             60 kB
HugePages_Total:       3
Hugepagesize:       2048 kB
`

test('reads kB lines as bytes and unitless lines as they are', (t) => {
  const m = parseMeminfo(MEMINFO)
  t.is(m.get('MemTotal'), 1000 * 1024)
  t.is(m.get('Active(anon)'), 10 * 1024)
  t.is(m.get('HugePages_Total'), 3)
})

test('splits memory into used, cached, buffers, free and swap used as free(1) does', (t) => {
  t.deepEqual(memoryUsage(parseMeminfo(MEMINFO)), {
    used: (1000 - 300 - 50 - 240) * 1024,
    cached: 240 * 1024, // Cached + SReclaimable
    buffers: 50 * 1024,
    free: 300 * 1024,
    swap_used: 40 * 1024
  })
})

test('used falls back to MemTotal - MemFree when caches exceed what is not free', (t) => {
  const m = parseMeminfo('MemTotal: 100 kB\nMemFree: 50 kB\nBuffers: 30 kB\nCached: 40 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n')
  t.is(memoryUsage(m).used, 50 * 1024)
})

test('rejects a garbled line', (t) => {
  const err = t.throws(() => parseMeminfo('MemTotal: 1000 kB\nMemFree 300 kB\n'), { instanceOf: DecodeError })
  t.regex(err.message, /line 2: "MemFree 300 kB" is not "Name: value \[kB\]"/)
  t.throws(() => parseMeminfo('MemTotal: 1e3 kB\n'), { instanceOf: DecodeError })
})

test('a file truncated before the swap lines cannot be split into memory types', (t) => {
  const m = parseMeminfo('MemTotal: 1000 kB\nMemFree: 300 kB\nBuffers: 50 kB\nCached: 200 kB\n')
  t.throws(() => memoryUsage(m), { instanceOf: DecodeError, message: /no SwapTotal line/ })
})
