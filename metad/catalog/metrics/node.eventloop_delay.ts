import type { MetricDescription } from '../types.js'

export default {
  module: 'node',
  stat: 'eventloop_delay',
  label: 'event-loop delay',
  unit: 'samples',
  interval: 'interval',
  fields: ['hostname', 'latency'],
  description: 'Samples of the heatmesh daemon\'s own event-loop delay; latency is how late a timer that should have fired ran, so a slow band means the daemon was busy.'
} as const satisfies MetricDescription
