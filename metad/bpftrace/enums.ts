/**
 * The fixed lists behind `enum:<name>` key decodings: a script prints a small integer, the
 * runtime shows the name at that index. A metric's description gives the condition for each
 * name but the last, which is what remains when none holds.
 */

/**
 * `leavereason` (cpu.thread_executions): the state of a thread leaving a CPU, from
 * sched_switch's prev_state (TASK_REPORT bits on Linux >= 4.14): runnable (preempted, or
 * yielded while still running: 0x100, 0), sleeping (S, 0x1), blocked (D, uninterruptible,
 * usually I/O: 0x2), stopped (T or traced t: 0x4, 0x8), exited (X or Z: 0x10, 0x20), parked
 * (P, 0x40: a parked kernel thread), idle (I, 0x80: an idle kernel thread's wait), unknown.
 * CA's names where CA had the state.
 *
 * `optype` (disk.physio_*): read or write, like the procfs backend (diskstats counts only
 * those). A write with a preflush (rwbs "FW...") is a write.
 */
export const BPFTRACE_ENUMS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  leavereason: Object.freeze(['runnable', 'sleeping', 'blocked', 'stopped', 'exited', 'parked', 'idle', 'unknown']),
  optype: Object.freeze(['read', 'write'])
})

/** The names of `enum:<name>`, index = printed integer, or undefined for an unknown list. */
export function bpftraceEnumNames (name: string): readonly string[] | undefined {
  return Object.hasOwn(BPFTRACE_ENUMS, name) ? BPFTRACE_ENUMS[name] : undefined
}
