import type { MetricDescription } from '../types.js'

export default {
  module: 'nic',
  stat: 'packets',
  label: 'packets sent and received',
  unit: 'packets',
  interval: 'interval',
  fields: ['hostname', 'nic', 'direction'],
  description: 'Packets sent and received by network interfaces, by interface and by direction.'
} as const satisfies MetricDescription
