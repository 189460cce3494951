/**
 * proc.forks: new processes, counted in the forking process (task_newtask runs in the parent);
 * a clone with CLONE_THREAD (0x10000) makes a thread, not a process, and is not counted.
 */
import type { BpftraceMetricDescription } from '../description.js'

export default {
  metric: 'proc.forks',
  prefix: 'fork',
  aggregate: { probes: ['tracepoint:task:task_newtask'], when: '(args->clone_flags & 0x10000) == 0' },
  fields: {
    cgroup: { at: { kind: 'cgroup', expr: 'cgroup' } },
    execname: { at: { kind: 'comm', expr: 'comm' } },
    pid: { at: { kind: 'pid', expr: 'pid' } }
  }
} as const satisfies BpftraceMetricDescription
