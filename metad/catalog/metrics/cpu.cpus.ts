import type { MetricDescription } from '../types.js'

export default {
  module: 'cpu',
  stat: 'cpus',
  label: 'CPUs',
  unit: 'CPUs',
  interval: 'point',
  fields: ['hostname', 'cpu', 'utilization'],
  description: 'The number of CPUs, sampled once a second; decompose by utilization (percent busy over the last second, per CPU) to find hot CPUs.'
} as const satisfies MetricDescription
