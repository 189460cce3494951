/** tcp.retransmits: each segment the kernel retransmits (tcp_retransmit_skb; dport in host order). */
import type { BpftraceMetricDescription } from '../description.js'

export default {
  metric: 'tcp.retransmits',
  prefix: 'tcpr',
  aggregate: { probes: ['tracepoint:tcp:tcp_retransmit_skb'] },
  fields: {
    raddr: { at: { kind: 'ip', family: 'args->family', v4: 'args->daddr', v4Form: 'bytes', v6: 'args->daddr_v6' } },
    rport: { at: { kind: 'port', expr: 'args->dport' } }
  }
} as const satisfies BpftraceMetricDescription
