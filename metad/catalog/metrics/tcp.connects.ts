import type { MetricDescription } from '../types.js'

export default {
  module: 'tcp',
  stat: 'connects',
  label: 'connects',
  unit: 'connects',
  interval: 'interval',
  fields: ['hostname', 'execname', 'pid', 'raddr', 'rport', 'latency'],
  description: 'TCP connections initiated by a local process; latency runs from the connect call to the connection being established (or failing), and raddr/rport are the remote address and port.'
} as const satisfies MetricDescription
