/**
 * disk.physio_bytes: the bytes of completed block requests (block_rq_complete, nr_sector *
 * 512), summed in the kernel; the same reads and writes as disk.physio_ops.
 */
import type { BpftraceMetricDescription } from '../description.js'

export default {
  metric: 'disk.physio_bytes',
  prefix: 'iob',
  aggregate: {
    probes: ['tracepoint:block:block_rq_complete'],
    when: '(args->dev >> 20) != 7 && (strncmp(args->rwbs, "R", 1) == 0 || strncmp(args->rwbs, "W", 1) == 0 || strncmp(args->rwbs, "FW", 2) == 0)'
  },
  sum: 'args->nr_sector * 512',
  fields: {
    disk: { at: { kind: 'blockdev', expr: 'args->dev' } },
    optype: { at: { kind: 'enum', enum: 'optype', cases: ['strncmp(args->rwbs, "R", 1) == 0'] } }
  }
} as const satisfies BpftraceMetricDescription
