/**
 * proc.execs: successful execs (sched_process_exec fires only once the new program is in
 * place, in its context: comm is already the new name). The parent is real_parent.
 */
import type { BpftraceMetricDescription } from '../description.js'

export default {
  metric: 'proc.execs',
  prefix: 'exec',
  aggregate: { probes: ['tracepoint:sched:sched_process_exec'] },
  fields: {
    cgroup: { at: { kind: 'cgroup', expr: 'cgroup' } },
    execname: { at: { kind: 'comm', expr: 'comm' } },
    pid: { at: { kind: 'pid', expr: 'pid' } },
    ppid: { at: { kind: 'pid', expr: 'curtask->real_parent->tgid' } },
    pexecname: { at: { kind: 'comm', expr: 'curtask->real_parent->comm' } }
  }
} as const satisfies BpftraceMetricDescription
