import type { MetricDescription } from '../types.js'

export default {
  module: 'proc',
  stat: 'exits',
  label: 'process exits',
  unit: 'processes',
  interval: 'interval',
  fields: ['hostname', 'cgroup', 'execname', 'pid', 'ppid', 'pexecname', 'walltime'],
  // CA used llquantize(10, 7, 15, 100) (10 ms .. 10^16 ns); 10^16 is past 2^53, where bucket
  // bounds stop being exact doubles, so the top decade is dropped: overflow from 10^15 ns (11.6 days).
  bucketing: { walltime: { kind: 'llquantize', base: 10, low: 7, high: 14, nsteps: 100 } },
  description: 'Processes that exited; walltime is how long the process lived.'
} as const satisfies MetricDescription
