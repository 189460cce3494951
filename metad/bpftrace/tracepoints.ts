/**
 * The tracepoints heatmesh's bpftrace metrics use, with the fields each one carries (from
 * /sys/kernel/tracing/events/<group>/<name>/format on the 6.18 kernels we run; the acceptance
 * test compares this table with the live kernel's format files).
 *
 * Why the generator needs this: bpftrace 0.17 reads a scalar tracepoint field straight from the
 * context (`*(u32 *)(ctx + 8)`), and LLVM may keep `ctx + 8` in a register when the same field is
 * read in two branches with a helper call between them. The verifier then rejects the program
 * with "dereference of modified ctx ptr" (measured: `if (pid == 0) { @a[args->pid] = pid; }
 * @b[args->pid] = cgroup;` on task:task_newtask). The generator therefore reads every SCALAR
 * field a block uses once, at the top of the block, into `$args_<field>`; strings and byte arrays
 * are copied by helpers, not loaded from the context, and stay `args-><field>`.
 */

/** How a tracepoint field is read: a scalar load, a char array (string) or a byte array. */
export type TracepointFieldType = 'scalar' | 'string' | 'bytes'

/** Probe (`tracepoint:<group>:<name>`) -> field -> type. Only the fields heatmesh reads. */
export const TRACEPOINT_FIELDS: Readonly<Record<string, Readonly<Record<string, TracepointFieldType>>>> = {
  'tracepoint:raw_syscalls:sys_enter': { id: 'scalar' },
  'tracepoint:raw_syscalls:sys_exit': { id: 'scalar', ret: 'scalar' },
  'tracepoint:syscalls:sys_enter_fsync': { fd: 'scalar' },
  'tracepoint:syscalls:sys_exit_fsync': { ret: 'scalar' },
  'tracepoint:syscalls:sys_enter_fdatasync': { fd: 'scalar' },
  'tracepoint:syscalls:sys_exit_fdatasync': { ret: 'scalar' },
  'tracepoint:syscalls:sys_enter_accept': { fd: 'scalar' },
  'tracepoint:syscalls:sys_exit_accept': { ret: 'scalar' },
  'tracepoint:syscalls:sys_enter_accept4': { fd: 'scalar' },
  'tracepoint:syscalls:sys_exit_accept4': { ret: 'scalar' },
  'tracepoint:sched:sched_switch': {
    prev_comm: 'string', prev_pid: 'scalar', prev_prio: 'scalar', prev_state: 'scalar',
    next_comm: 'string', next_pid: 'scalar', next_prio: 'scalar'
  },
  'tracepoint:sched:sched_wakeup': { comm: 'string', pid: 'scalar', prio: 'scalar', target_cpu: 'scalar' },
  'tracepoint:sched:sched_wakeup_new': { comm: 'string', pid: 'scalar', prio: 'scalar', target_cpu: 'scalar' },
  'tracepoint:sched:sched_process_exec': { pid: 'scalar', old_pid: 'scalar' },
  'tracepoint:sched:sched_process_exit': { comm: 'string', pid: 'scalar', prio: 'scalar', group_dead: 'scalar' },
  'tracepoint:sched:sched_process_free': { pid: 'scalar', prio: 'scalar' },
  'tracepoint:task:task_newtask': { pid: 'scalar', comm: 'string', clone_flags: 'scalar', oom_score_adj: 'scalar' },
  'tracepoint:block:block_rq_issue': {
    dev: 'scalar', sector: 'scalar', nr_sector: 'scalar', bytes: 'scalar', ioprio: 'scalar', rwbs: 'string', comm: 'string'
  },
  'tracepoint:block:block_rq_complete': {
    dev: 'scalar', sector: 'scalar', nr_sector: 'scalar', error: 'scalar', ioprio: 'scalar', rwbs: 'string'
  },
  'tracepoint:sock:inet_sock_set_state': {
    skaddr: 'scalar', oldstate: 'scalar', newstate: 'scalar', sport: 'scalar', dport: 'scalar', family: 'scalar',
    protocol: 'scalar', saddr: 'bytes', daddr: 'bytes', saddr_v6: 'bytes', daddr_v6: 'bytes'
  },
  'tracepoint:tcp:tcp_retransmit_skb': {
    skbaddr: 'scalar', skaddr: 'scalar', state: 'scalar', sport: 'scalar', dport: 'scalar', family: 'scalar',
    saddr: 'bytes', daddr: 'bytes', saddr_v6: 'bytes', daddr_v6: 'bytes', err: 'scalar'
  }
}

/** The type of `field` on `probe`, or undefined if the table does not list it. */
export function tracepointFieldType (probe: string, field: string): TracepointFieldType | undefined {
  const fields = Object.hasOwn(TRACEPOINT_FIELDS, probe) ? TRACEPOINT_FIELDS[probe] : undefined
  return fields !== undefined && Object.hasOwn(fields, field) ? fields[field] : undefined
}
