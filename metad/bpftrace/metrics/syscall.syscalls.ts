/**
 * syscall.syscalls: every system call, timed from raw_syscalls:sys_enter to sys_exit of the
 * same thread. raw_syscalls, not the syscalls:sys_enter_* wildcard (which takes ~25 s to
 * detach); its `id` is the syscall number. The start time is overwritten by the thread's next
 * entry (one lookup per exit, the measured winner); threads that die inside a call (exit_group
 * never returns) are cleaned at sched_process_exit.
 */
import type { BpftraceMetricDescription } from '../description.js'

export default {
  metric: 'syscall.syscalls',
  prefix: 'sys',
  gathers: [{
    probes: ['tracepoint:raw_syscalls:sys_enter'],
    key: 'tid',
    stamp: true,
    knows: {
      cgroup: { kind: 'cgroup', expr: 'cgroup' },
      execname: { kind: 'comm', expr: 'comm' },
      pid: { kind: 'pid', expr: 'pid' },
      syscall: { kind: 'syscall', expr: 'args->id' }
    }
  }],
  aggregate: { probes: ['tracepoint:raw_syscalls:sys_exit'], key: 'tid' },
  reuse: 'overwrite',
  cleanup: [{ probes: ['tracepoint:sched:sched_process_exit'], key: 'tid' }],
  fields: {
    cgroup: { at: { kind: 'cgroup', expr: 'cgroup' } },
    execname: { at: { kind: 'comm', expr: 'comm' } },
    pid: { at: { kind: 'pid', expr: 'pid' } },
    syscall: { at: { kind: 'syscall', expr: 'args->id' } },
    latency: { elapsed: true }
  }
} as const satisfies BpftraceMetricDescription
