/**
 * fs.fsync_ops: fsync(2) and fdatasync(2), timed from entry to return by their own named
 * tracepoints, which cost nothing for other syscalls (raw_syscalls would tax every call).
 */
import type { BpftraceMetricDescription } from '../description.js'

export default {
  metric: 'fs.fsync_ops',
  prefix: 'fsync',
  gathers: [{
    probes: ['tracepoint:syscalls:sys_enter_fsync', 'tracepoint:syscalls:sys_enter_fdatasync'],
    key: 'tid',
    stamp: true,
    knows: {
      cgroup: { kind: 'cgroup', expr: 'cgroup' },
      execname: { kind: 'comm', expr: 'comm' },
      pid: { kind: 'pid', expr: 'pid' }
    }
  }],
  aggregate: { probes: ['tracepoint:syscalls:sys_exit_fsync', 'tracepoint:syscalls:sys_exit_fdatasync'], key: 'tid' },
  reuse: 'overwrite',
  cleanup: [{ probes: ['tracepoint:sched:sched_process_exit'], key: 'tid' }],
  fields: {
    cgroup: { at: { kind: 'cgroup', expr: 'cgroup' } },
    execname: { at: { kind: 'comm', expr: 'comm' } },
    pid: { at: { kind: 'pid', expr: 'pid' } },
    latency: { elapsed: true }
  }
} as const satisfies BpftraceMetricDescription
