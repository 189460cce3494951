import type { MetricDescription } from '../types.js'

export default {
  module: 'disk',
  stat: 'physio_bytes',
  label: 'bytes read and written',
  type: 'size',
  interval: 'interval',
  fields: ['hostname', 'disk', 'optype'],
  description: 'Bytes transferred by completed physical disk I/O, by device and by operation type (read or write).'
} as const satisfies MetricDescription
