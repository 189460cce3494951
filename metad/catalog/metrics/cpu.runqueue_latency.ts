import type { MetricDescription } from '../types.js'

export default {
  module: 'cpu',
  stat: 'runqueue_latency',
  label: 'run queue latency',
  unit: 'wakeups',
  interval: 'interval',
  fields: ['hostname', 'cgroup', 'execname', 'pid', 'cpu', 'latency'],
  description: 'Threads that became runnable (woken, created or preempted) and then got a CPU; latency is the time spent waiting in the run queue, and cpu is the CPU the thread ran on.'
} as const satisfies MetricDescription
