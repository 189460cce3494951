import type { MetricDescription } from '../types.js'

export default {
  module: 'node',
  stat: 'gc_ops',
  label: 'garbage collection operations',
  unit: 'operations',
  interval: 'interval',
  fields: ['hostname', 'gctype', 'latency'],
  description: 'Garbage collections in the heatmesh daemon itself, by kind (minor, major, incremental, weakcb); latency is the pause.'
} as const satisfies MetricDescription
