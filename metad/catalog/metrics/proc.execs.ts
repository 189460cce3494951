import type { MetricDescription } from '../types.js'

export default {
  module: 'proc',
  stat: 'execs',
  label: 'process execs',
  unit: 'processes',
  interval: 'interval',
  fields: ['hostname', 'cgroup', 'execname', 'pid', 'ppid', 'pexecname'],
  description: 'Successful execs of a new program; execname is the new program\'s name and pexecname its parent\'s.'
} as const satisfies MetricDescription
