import type { MetricDescription } from '../types.js'

export default {
  module: 'disk',
  stat: 'physio_ops',
  label: 'I/O operations',
  unit: 'operations',
  interval: 'interval',
  fields: ['hostname', 'disk', 'optype', 'execname', 'latency', 'size'],
  // CA bucketed disk I/O sizes like times, llquantize(10, 3, 11, 100): block I/O is rarely
  // under 1 KB, and two significant digits above it are what a heatmap shows.
  bucketing: { size: { kind: 'llquantize', base: 10, low: 3, high: 11, nsteps: 100 } },
  description: 'Completed physical disk reads and writes; latency runs from issue to completion, size is the transfer in bytes, and execname is the task that issued the I/O (a kernel thread such as kworker for writeback).'
} as const satisfies MetricDescription
