import type { MetricDescription } from '../types.js'

export default {
  module: 'syscall',
  stat: 'syscalls',
  label: 'system calls',
  unit: 'syscalls',
  interval: 'interval',
  fields: ['hostname', 'cgroup', 'execname', 'pid', 'syscall', 'latency'],
  description: 'Completed system calls; latency runs from entry to return.'
} as const satisfies MetricDescription
