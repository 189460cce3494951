import type { MetricDescription } from '../types.js'

export default {
  module: 'node',
  stat: 'httpd_ops',
  label: 'HTTP server operations',
  unit: 'operations',
  interval: 'interval',
  fields: ['hostname', 'http_method', 'http_path', 'http_status', 'latency'],
  description: 'HTTP requests served by the heatmesh daemon itself; latency runs from the request\'s arrival to the end of the response, and http_path is the URL without its query string.'
} as const satisfies MetricDescription
