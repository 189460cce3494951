import type { MetricDescription } from '../types.js'

export default {
  module: 'fs',
  stat: 'fsync_ops',
  label: 'fsync operations',
  unit: 'operations',
  interval: 'interval',
  fields: ['hostname', 'cgroup', 'execname', 'pid', 'latency'],
  description: 'Completed fsync and fdatasync calls; latency is the time the caller waited for its data to reach stable storage.'
} as const satisfies MetricDescription
