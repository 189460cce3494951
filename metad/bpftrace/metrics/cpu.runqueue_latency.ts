/**
 * cpu.runqueue_latency: from a thread becoming runnable (sched_wakeup, sched_wakeup_new, or
 * being preempted while runnable: sched_switch with prev_state R) to its switch-in
 * (sched_switch, `next`), on the CPU it then runs on (`cpu`). Entries are deleted once used,
 * as a thread may be switched in again without a new wakeup.
 *
 * When these tracepoints fire the woken thread is not the current task, and they name it only
 * by its thread id. Its process id and cgroup are therefore gathered where it IS current: each
 * time it leaves a CPU, and at its creation (task_newtask runs in the parent: a CLONE_THREAD
 * child is in the parent's process, any other child is its own). A thread not seen leaving a
 * CPU or being created since the script started has no pid yet, and its first wakeup is not
 * counted when pid or cgroup is needed.
 */
import type { BpftraceMetricDescription } from '../description.js'

export default {
  metric: 'cpu.runqueue_latency',
  prefix: 'rq',
  gathers: [
    {
      probes: ['tracepoint:sched:sched_wakeup', 'tracepoint:sched:sched_wakeup_new'],
      key: 'args->pid',
      stamp: true,
      knows: { execname: { kind: 'comm', expr: 'args->comm' } }
    },
    {
      probes: ['tracepoint:sched:sched_switch'],
      when: 'args->prev_pid != 0 && (args->prev_state == 256 || args->prev_state == 0)',
      key: 'args->prev_pid',
      stamp: true,
      knows: {
        cgroup: { kind: 'cgroup', expr: 'cgroup' },
        execname: { kind: 'comm', expr: 'args->prev_comm' },
        pid: { kind: 'pid', expr: 'pid' }
      }
    },
    {
      probes: ['tracepoint:sched:sched_switch'],
      when: 'args->prev_pid != 0',
      key: 'args->prev_pid',
      values: { pid: 'pid', cgroup: 'cgroup' }
    },
    {
      probes: ['tracepoint:task:task_newtask'],
      when: '(args->clone_flags & 0x10000) != 0',
      key: 'args->pid',
      values: { pid: 'pid', cgroup: 'cgroup' }
    },
    {
      probes: ['tracepoint:task:task_newtask'],
      when: '(args->clone_flags & 0x10000) == 0',
      key: 'args->pid',
      values: { pid: 'args->pid', cgroup: 'cgroup' }
    }
  ],
  aggregate: { probes: ['tracepoint:sched:sched_switch'], when: 'args->next_pid != 0', key: 'args->next_pid' },
  reuse: 'delete',
  cleanup: [{ probes: ['tracepoint:sched:sched_process_exit'], key: 'tid' }],
  fields: {
    cgroup: { gathered: 'cgroup' },
    execname: { at: { kind: 'comm', expr: 'args->next_comm' } },
    pid: { gathered: 'pid' },
    cpu: { at: { kind: 'cpu', expr: 'cpu' } },
    latency: { elapsed: true }
  }
} as const satisfies BpftraceMetricDescription
