import type { MetricDescription } from '../types.js'

export default {
  module: 'tcp',
  stat: 'accepts',
  label: 'accepts',
  unit: 'accepts',
  interval: 'interval',
  fields: ['hostname', 'execname', 'pid', 'raddr', 'rport', 'latency'],
  description: 'TCP connections accepted by a local process; latency is the time the accept call took, and raddr/rport are the peer\'s address and port.'
} as const satisfies MetricDescription
