/**
 * cpu.thread_executions: one event per thread leaving a CPU (sched_switch, `prev`), with the
 * time since it came on (sched_switch, `next`). At sched_switch the current task is still
 * `prev`, so pid, cgroup and comm are the leaving thread's. The idle task (pid 0, one per CPU)
 * is not a thread. Start times are overwritten at each switch-in; a thread's entry is deleted
 * when it is freed (sched_process_free comes after its last switch, which sched_process_exit
 * does not, and that last switch is its "exited" execution).
 */
import type { BpftraceMetricDescription } from '../description.js'

export default {
  metric: 'cpu.thread_executions',
  prefix: 'te',
  gathers: [{
    probes: ['tracepoint:sched:sched_switch'],
    when: 'args->next_pid != 0',
    key: 'args->next_pid',
    stamp: true,
    knows: { execname: { kind: 'comm', expr: 'args->next_comm' } }
  }],
  aggregate: { probes: ['tracepoint:sched:sched_switch'], when: 'args->prev_pid != 0', key: 'args->prev_pid' },
  reuse: 'overwrite',
  cleanup: [{ probes: ['tracepoint:sched:sched_process_free'], key: 'args->pid' }],
  fields: {
    cgroup: { at: { kind: 'cgroup', expr: 'cgroup' } },
    execname: { at: { kind: 'comm', expr: 'args->prev_comm' } },
    pid: { at: { kind: 'pid', expr: 'pid' } },
    leavereason: {
      at: {
        kind: 'enum',
        enum: 'leavereason',
        cases: [
          'args->prev_state == 256 || args->prev_state == 0',
          'args->prev_state == 1',
          'args->prev_state == 2',
          'args->prev_state == 4 || args->prev_state == 8',
          'args->prev_state == 16 || args->prev_state == 32',
          'args->prev_state == 64',
          'args->prev_state == 128'
        ]
      }
    },
    runtime: { elapsed: true }
  }
} as const satisfies BpftraceMetricDescription
