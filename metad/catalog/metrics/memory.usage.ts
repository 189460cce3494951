import type { MetricDescription } from '../types.js'

export default {
  module: 'memory',
  stat: 'usage',
  label: 'memory usage',
  type: 'size',
  interval: 'point',
  fields: ['hostname', 'memtype'],
  description: 'Physical memory in bytes, sampled once a second, by memtype (used, cached, buffers, free, swap used).'
} as const satisfies MetricDescription
