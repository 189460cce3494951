import type { MetricDescription } from '../types.js'

export default {
  module: 'synthetic',
  stat: 'ops',
  label: 'synthetic operations',
  unit: 'operations',
  interval: 'interval',
  fields: ['hostname', 'key', 'latency'],
  description: 'Operations of a deterministic synthetic workload, for tests, demos and the simulator; key names the workload\'s operation class.'
} as const satisfies MetricDescription
