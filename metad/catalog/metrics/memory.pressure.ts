import type { MetricDescription } from '../types.js'

export default {
  module: 'memory',
  stat: 'pressure',
  label: 'resource pressure',
  type: 'percent',
  interval: 'point',
  fields: ['hostname', 'resource', 'window'],
  description: 'Pressure stall information, sampled once a second: the percentage of time some task was stalled waiting for a resource (cpu, memory or io), averaged over a window (avg10, avg60 or avg300).'
} as const satisfies MetricDescription
