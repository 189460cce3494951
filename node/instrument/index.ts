/**
 * node/instrument: the instrumenter and its backends. Other folders import this face only.
 *
 * @example
 * import { createInstrumenter, createProcfsBackend, createProcessBackend } from './instrument/index.js'
 * const instrumenter = createInstrumenter({ backends: [createProcfsBackend(), createProcessBackend()], hostname })
 * await instrumenter.start()
 * await instrumenter.enable(id, definition)
 * const values = instrumenter.collect(second) // once a second, from the daemon's timer
 */
export type {
  Backend, BackendStatus, Measurement, MeasurementSpec, MeasurementState, MetricImplementation
} from './backend.js'
export { createInstrumenter, DEFAULT_INSTRUMENT_TIMEOUT_MS, DEFAULT_PROBE_TIMEOUT_MS } from './instrumenter.js'
export type {
  Instrumenter, InstrumenterComponents, InstrumenterInit, InstrumentationState, InstrumentationStatus
} from './instrumenter.js'
export { createValueAccumulator, valueLayout, zeroValueOf, valueFitsLayout, valueUnderKey } from './value-layout.js'
export type { FieldRecord, ValueAccumulator, ValueLayout } from './value-layout.js'
export { createProcfsBackend, PROCFS_COST } from './procfs/index.js'
export type { ProcfsInit } from './procfs/index.js'
export { createProcessBackend, PROCESS_COST } from './process/index.js'
export type { ProcessInit } from './process/index.js'
export { createSyntheticBackend, SYNTHETIC_COST } from './synthetic/index.js'
export type { SyntheticInit } from './synthetic/index.js'
export { syntheticWorkload, parseSyntheticProfile, DEFAULT_SYNTHETIC_PROFILE } from './synthetic/workload.js'
export type { SyntheticProfile, SyntheticKey, SyntheticEvents } from './synthetic/workload.js'
export { createBpftraceBackend, stopAll as stopAllBpftrace } from './bpftrace/index.js'
export type { BpftraceInit } from './bpftrace/index.js'
export { metricsMarkdown, type BackendImplementations } from './metrics-doc.js'
