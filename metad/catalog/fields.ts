/**
 * The fields: one namespace for the whole catalog (a field means the same thing in every metric
 * that lists it). Labels are CA's where CA had the field. Pids and ports are discrete strings,
 * as in CA (DTrace's `lltostr`): they identify, they are not quantities.
 */
import type { FieldDescription } from './types.js'

export const FIELDS = [
  { name: 'cgroup', label: 'control group', type: 'string' },
  { name: 'cpu', label: 'CPU identifier', type: 'string' },
  { name: 'cpumode', label: 'CPU mode', type: 'string' },
  { name: 'direction', label: 'sent/received', type: 'string' },
  { name: 'disk', label: 'device name', type: 'string' },
  { name: 'execname', label: 'application name', type: 'string' },
  { name: 'gctype', label: 'GC type', type: 'string' },
  { name: 'hostname', label: 'server hostname', type: 'string' },
  { name: 'http_method', label: 'method', type: 'string' },
  { name: 'http_path', label: 'URL path', type: 'string' },
  { name: 'http_status', label: 'HTTP status code', type: 'string' },
  { name: 'key', label: 'workload key', type: 'string' },
  { name: 'latency', label: 'latency', type: 'time' },
  { name: 'leavereason', label: 'reason leaving CPU', type: 'string' },
  { name: 'memtype', label: 'memory type', type: 'string' },
  { name: 'nic', label: 'NIC name', type: 'string' },
  { name: 'optype', label: 'operation type', type: 'string' },
  { name: 'pexecname', label: 'parent application name', type: 'string' },
  { name: 'pid', label: 'process identifier', type: 'string' },
  { name: 'ppid', label: 'parent process identifier', type: 'string' },
  { name: 'raddr', label: 'remote IP address', type: 'string' },
  { name: 'resource', label: 'stalled resource', type: 'string' },
  { name: 'rport', label: 'remote TCP port', type: 'string' },
  { name: 'runtime', label: 'time on CPU', type: 'time' },
  { name: 'size', label: 'size', type: 'size' },
  { name: 'syscall', label: 'syscall', type: 'string' },
  { name: 'utilization', label: 'utilization', type: 'percent' },
  { name: 'walltime', label: 'process lifetime', type: 'time' },
  { name: 'window', label: 'averaging window', type: 'string' }
] as const satisfies readonly FieldDescription[]
