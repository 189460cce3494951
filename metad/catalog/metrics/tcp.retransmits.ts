import type { MetricDescription } from '../types.js'

export default {
  module: 'tcp',
  stat: 'retransmits',
  label: 'retransmitted segments',
  unit: 'segments',
  interval: 'interval',
  fields: ['hostname', 'raddr', 'rport'],
  description: 'TCP segments retransmitted by the kernel, by remote address and port.'
} as const satisfies MetricDescription
