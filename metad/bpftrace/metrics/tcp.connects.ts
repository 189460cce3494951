/**
 * tcp.connects: active opens, from the socket entering SYN_SENT (inet_sock_set_state, in the
 * connecting process: tcp_v4_connect/tcp_v6_connect) to it leaving SYN_SENT for ESTABLISHED
 * or CLOSE (a failed connect), keyed by socket address and deleted once used. The handshake
 * usually completes in softirq context, where the current task is whoever was interrupted, so
 * the connecting process's name and pid are gathered at SYN_SENT. TCP states: 1 ESTABLISHED,
 * 2 SYN_SENT, 7 CLOSE; protocol 6 is TCP; dport is in host order.
 */
import type { BpftraceMetricDescription } from '../description.js'

export default {
  metric: 'tcp.connects',
  prefix: 'tcpc',
  gathers: [{
    probes: ['tracepoint:sock:inet_sock_set_state'],
    when: 'args->protocol == 6 && args->newstate == 2',
    key: 'args->skaddr',
    stamp: true,
    values: { execname: 'comm', pid: 'pid' },
    knows: {
      execname: { kind: 'comm', expr: 'comm' },
      pid: { kind: 'pid', expr: 'pid' },
      raddr: { kind: 'ip', family: 'args->family', v4: 'args->daddr', v4Form: 'bytes', v6: 'args->daddr_v6' },
      rport: { kind: 'port', expr: 'args->dport' }
    }
  }],
  aggregate: {
    probes: ['tracepoint:sock:inet_sock_set_state'],
    when: 'args->protocol == 6 && args->oldstate == 2 && (args->newstate == 1 || args->newstate == 7)',
    key: 'args->skaddr'
  },
  reuse: 'delete',
  fields: {
    execname: { gathered: 'comm' },
    pid: { gathered: 'pid' },
    raddr: { at: { kind: 'ip', family: 'args->family', v4: 'args->daddr', v4Form: 'bytes', v6: 'args->daddr_v6' } },
    rport: { at: { kind: 'port', expr: 'args->dport' } },
    latency: { elapsed: true }
  }
} as const satisfies BpftraceMetricDescription
