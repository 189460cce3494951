/**
 * tcp.accepts: accept(2) and accept4(2) calls that returned a TCP socket, timed from entry to
 * return by their named tracepoints (free for other syscalls). The accepting process is the
 * current task at return; the peer's address and port come from the new socket, found through
 * the returned descriptor (curtask->files->fdt->fd[ret]->private_data is its struct socket).
 * The kernel's own handshake events (inet_sock_set_state SYN_RECV -> ESTABLISHED) run in
 * softirq context and name no process, hence the syscall. skc_dport is in network order.
 */
import type { BpftraceMetricDescription } from '../description.js'

export default {
  metric: 'tcp.accepts',
  prefix: 'tcpa',
  gathers: [{
    probes: ['tracepoint:syscalls:sys_enter_accept', 'tracepoint:syscalls:sys_enter_accept4'],
    key: 'tid',
    stamp: true,
    knows: {
      execname: { kind: 'comm', expr: 'comm' },
      pid: { kind: 'pid', expr: 'pid' }
    }
  }],
  aggregate: {
    probes: ['tracepoint:syscalls:sys_exit_accept', 'tracepoint:syscalls:sys_exit_accept4'],
    when: 'args->ret >= 0',
    setup: [
      '$tcpa_file = *(curtask->files->fdt->fd + args->ret);',
      '$tcpa_sk = ((struct socket *)$tcpa_file->private_data)->sk;'
    ],
    check: '$tcpa_sk->sk_protocol == 6 && ($tcpa_sk->__sk_common.skc_family == 2 || $tcpa_sk->__sk_common.skc_family == 10)',
    key: 'tid'
  },
  reuse: 'overwrite',
  cleanup: [{ probes: ['tracepoint:sched:sched_process_exit'], key: 'tid' }],
  fields: {
    execname: { at: { kind: 'comm', expr: 'comm' } },
    pid: { at: { kind: 'pid', expr: 'pid' } },
    raddr: {
      at: {
        kind: 'ip',
        family: '$tcpa_sk->__sk_common.skc_family',
        v4: '$tcpa_sk->__sk_common.skc_daddr',
        v4Form: 'word',
        v6: '$tcpa_sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8'
      },
      setup: true
    },
    rport: {
      at: { kind: 'port', expr: '(($tcpa_sk->__sk_common.skc_dport >> 8) | (($tcpa_sk->__sk_common.skc_dport & 0xff) << 8))' },
      setup: true
    },
    latency: { elapsed: true }
  }
} as const satisfies BpftraceMetricDescription
