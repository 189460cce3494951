/**
 * The bpftrace descriptions of the eBPF metrics, one file per metric, listed here in sorted
 * order (a test keeps the list sorted and complete, as for the catalog).
 */
import type { BpftraceMetricDescription } from '../description.js'
import cpuRunqueueLatency from './cpu.runqueue_latency.js'
import cpuThreadExecutions from './cpu.thread_executions.js'
import diskPhysioBytes from './disk.physio_bytes.js'
import diskPhysioOps from './disk.physio_ops.js'
import fsFsyncOps from './fs.fsync_ops.js'
import procExecs from './proc.execs.js'
import procExits from './proc.exits.js'
import procForks from './proc.forks.js'
import syscallSyscalls from './syscall.syscalls.js'
import tcpAccepts from './tcp.accepts.js'
import tcpConnects from './tcp.connects.js'
import tcpRetransmits from './tcp.retransmits.js'

/** Every bpftrace metric description, sorted by metric name. */
export const BPFTRACE_METRICS: readonly BpftraceMetricDescription[] = [
  cpuRunqueueLatency,
  cpuThreadExecutions,
  diskPhysioBytes,
  diskPhysioOps,
  fsFsyncOps,
  procExecs,
  procExits,
  procForks,
  syscallSyscalls,
  tcpAccepts,
  tcpConnects,
  tcpRetransmits
]
