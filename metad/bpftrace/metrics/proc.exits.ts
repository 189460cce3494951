/**
 * proc.exits: processes (not threads) exiting: sched_process_exit of the thread that ends its
 * thread group (group_dead). walltime is now minus the process's start (the group leader's
 * start_time, CLOCK_MONOTONIC ns like bpftrace's nsecs).
 */
import type { BpftraceMetricDescription } from '../description.js'

export default {
  metric: 'proc.exits',
  prefix: 'exit',
  aggregate: { probes: ['tracepoint:sched:sched_process_exit'], when: 'args->group_dead' },
  fields: {
    cgroup: { at: { kind: 'cgroup', expr: 'cgroup' } },
    execname: { at: { kind: 'comm', expr: 'comm' } },
    pid: { at: { kind: 'pid', expr: 'pid' } },
    ppid: { at: { kind: 'pid', expr: 'curtask->real_parent->tgid' } },
    pexecname: { at: { kind: 'comm', expr: 'curtask->real_parent->comm' } },
    walltime: { at: { kind: 'number', expr: '(nsecs - curtask->group_leader->start_time)' } }
  }
} as const satisfies BpftraceMetricDescription
