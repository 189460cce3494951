import type { MetricDescription } from '../types.js'

export default {
  module: 'cpu',
  stat: 'thread_executions',
  label: 'thread executions',
  unit: 'operations',
  interval: 'interval',
  fields: ['hostname', 'cgroup', 'execname', 'pid', 'leavereason', 'runtime'],
  description: 'Times a thread left a CPU; runtime is how long it had run continuously, and leavereason is its state on leaving: runnable (preempted), sleeping, blocked (uninterruptible, usually I/O), stopped, exited, parked, idle or unknown.'
} as const satisfies MetricDescription
