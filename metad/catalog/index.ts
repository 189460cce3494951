/**
 * The metric catalog: modules, field types, fields and one file per metric under ./metrics/,
 * each a plain readonly object literal. This index imports the metric files in sorted order
 * (CA's dtrace module sorted its files "to avoid getting bitten by implicit dependencies"; a test
 * keeps the list sorted and complete) and validates the whole catalog once, at load: nothing else
 * runs then, and nothing host-specific (a hostname, say) is baked into the data.
 *
 * @example
 * import { catalog, findMetric } from './catalog/index.js'
 * const syscalls = findMetric(catalog, 'syscall', 'syscalls')
 */
import { FIELD_TYPES } from './field-types.js'
import { FIELDS } from './fields.js'
import { MODULES } from './modules.js'
import type { Catalog, CatalogDescription, MetricDescription } from './types.js'
import { validateCatalog } from './validate.js'
import cpuCpus from './metrics/cpu.cpus.js'
import cpuRunqueueLatency from './metrics/cpu.runqueue_latency.js'
import cpuThreadExecutions from './metrics/cpu.thread_executions.js'
import cpuUsage from './metrics/cpu.usage.js'
import diskPhysioBytes from './metrics/disk.physio_bytes.js'
import diskPhysioOps from './metrics/disk.physio_ops.js'
import fsFsyncOps from './metrics/fs.fsync_ops.js'
import memoryPressure from './metrics/memory.pressure.js'
import memoryUsage from './metrics/memory.usage.js'
import nicBytes from './metrics/nic.bytes.js'
import nicPackets from './metrics/nic.packets.js'
import nodeEventloopDelay from './metrics/node.eventloop_delay.js'
import nodeGcOps from './metrics/node.gc_ops.js'
import nodeHttpdOps from './metrics/node.httpd_ops.js'
import procExecs from './metrics/proc.execs.js'
import procExits from './metrics/proc.exits.js'
import procForks from './metrics/proc.forks.js'
import syntheticOps from './metrics/synthetic.ops.js'
import syscallSyscalls from './metrics/syscall.syscalls.js'
import tcpAccepts from './metrics/tcp.accepts.js'
import tcpConnects from './metrics/tcp.connects.js'
import tcpRetransmits from './metrics/tcp.retransmits.js'

/** Every metric description, sorted by `module.stat`. */
export const metricDescriptions: readonly MetricDescription[] = [
  cpuCpus,
  cpuRunqueueLatency,
  cpuThreadExecutions,
  cpuUsage,
  diskPhysioBytes,
  diskPhysioOps,
  fsFsyncOps,
  memoryPressure,
  memoryUsage,
  nicBytes,
  nicPackets,
  nodeEventloopDelay,
  nodeGcOps,
  nodeHttpdOps,
  procExecs,
  procExits,
  procForks,
  syntheticOps,
  syscallSyscalls,
  tcpAccepts,
  tcpConnects,
  tcpRetransmits
]

/** The raw catalog, before validation. */
export const catalogDescription: CatalogDescription = {
  modules: MODULES,
  types: FIELD_TYPES,
  fields: FIELDS,
  metrics: metricDescriptions
}

/** heatmesh's catalog, validated and resolved. */
export const catalog: Catalog = validateCatalog(catalogDescription)

export { validateCatalog } from './validate.js'
export { findMetric, metricField, findField, findType } from './lookup.js'
export { caMetadata } from './metadata.js'
export type { CaMetadata, CaMetricMetadata, CaTypeMetadata, MetricSelection } from './metadata.js'
export type * from './types.js'
