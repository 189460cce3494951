import type { MetricDescription } from '../types.js'

export default {
  module: 'cpu',
  stat: 'usage',
  label: 'aggregated CPU usage',
  unit: 'percent of 1 CPU',
  interval: 'point',
  fields: ['hostname', 'cpumode'],
  description: 'CPU time used over the last second as a percentage of one CPU (8 busy CPUs read 800), by mode (user, kernel, iowait, ...).'
} as const satisfies MetricDescription
