/**
 * disk.physio_ops: block requests from issue (block_rq_issue) to completion
 * (block_rq_complete), keyed by device and sector; the entry is deleted on completion, so a
 * partially completed request counts once. Reads and writes only, and no loop devices (major
 * 7), whose I/O the disk under them does again: the same operations the procfs backend counts
 * from diskstats. `size` is what completed (nr_sector * 512). The issuing task is what
 * block_rq_issue saw as current: the process itself for synchronous I/O, often a kernel thread
 * (kworker, jbd2) otherwise.
 */
import type { BpftraceMetricDescription } from '../description.js'

const READ_OR_WRITE = '(args->dev >> 20) != 7 && (strncmp(args->rwbs, "R", 1) == 0 || strncmp(args->rwbs, "W", 1) == 0 || strncmp(args->rwbs, "FW", 2) == 0)'

export default {
  metric: 'disk.physio_ops',
  prefix: 'io',
  gathers: [{
    probes: ['tracepoint:block:block_rq_issue'],
    when: READ_OR_WRITE,
    key: 'args->dev, args->sector',
    stamp: true,
    values: { execname: 'args->comm' },
    knows: {
      disk: { kind: 'blockdev', expr: 'args->dev' },
      optype: { kind: 'enum', enum: 'optype', cases: ['strncmp(args->rwbs, "R", 1) == 0'] },
      execname: { kind: 'comm', expr: 'args->comm' }
    }
  }],
  aggregate: { probes: ['tracepoint:block:block_rq_complete'], when: READ_OR_WRITE, key: 'args->dev, args->sector' },
  reuse: 'delete',
  fields: {
    disk: { at: { kind: 'blockdev', expr: 'args->dev' } },
    optype: { at: { kind: 'enum', enum: 'optype', cases: ['strncmp(args->rwbs, "R", 1) == 0'] } },
    execname: { gathered: 'comm' },
    latency: { elapsed: true },
    size: { at: { kind: 'number', expr: 'args->nr_sector * 512' } }
  }
} as const satisfies BpftraceMetricDescription
