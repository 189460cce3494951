import type { MetricDescription } from '../types.js'

export default {
  module: 'proc',
  stat: 'forks',
  label: 'process forks',
  unit: 'processes',
  interval: 'interval',
  fields: ['hostname', 'cgroup', 'execname', 'pid'],
  description: 'New processes created by fork or clone, by the forking process (execname, pid).'
} as const satisfies MetricDescription
