/**
 * Meta-D for bpftrace: the eBPF metrics described as data (./metrics/), and the generator that
 * turns instrumentations into one combined bpftrace script with the layout of each slot's map.
 * Pure: the runtime (node/instrument) spawns bpftrace, reads its JSON and decodes keys with
 * syscallName and bpftraceEnumNames from here.
 *
 * @example
 * import { generateBpftraceProgram } from './bpftrace/index.js'
 * const program = generateBpftraceProgram([
 *   { slot: 0, metric: syscalls, predicate: parsePredicate({ eq: ['execname', 'mysqld'] }, syscalls), decomposition: ['latency'] }
 * ], { cgroupId: (path) => cgroups.id(path) })
 * // program.script: the bpftrace text; program.slots[0]: { map: '@s0', numeric: { field: 'latency', ... }, value: 'count' }
 */
export { generateBpftraceProgram, bpftraceImplementations, bpftraceMetricDescription } from './generate.js'
export type {
  BpftraceTarget, BpftraceProgram, SlotLayout, KeyDecoding, GeneratorEnv, BpftraceImplementation
} from './program.js'
export type {
  BpftraceMetricDescription, GatherPoint, AggregatePoint, CleanupPoint, FieldSource, ValueExpr, GatheredKind
} from './description.js'
export { BPFTRACE_ENUMS, bpftraceEnumNames } from './enums.js'
export { syscallName, syscallNumber } from './syscalls.js'
export { COMM_MAX_BYTES } from './literal.js'
