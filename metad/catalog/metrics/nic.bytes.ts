import type { MetricDescription } from '../types.js'

export default {
  module: 'nic',
  stat: 'bytes',
  label: 'bytes sent and received',
  type: 'size',
  interval: 'interval',
  fields: ['hostname', 'nic', 'direction'],
  description: 'Bytes sent and received by network interfaces, by interface and by direction.'
} as const satisfies MetricDescription
