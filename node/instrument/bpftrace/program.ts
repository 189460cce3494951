/**
 * The generator <-> runtime contract (/tmp/bpf-contract.md), as the runtime uses it: the types
 * are metad's (metad/bpftrace/program.ts); the generator is a function of the targets alone,
 * the node-only constants (cgroup ids, disk numbers) being bound in by the backend, so tests can
 * put a stand-in in its place.
 */
import type { BpftraceProgram, BpftraceTarget } from '../../../metad/index.js'

export type { BpftraceProgram, BpftraceTarget, GeneratorEnv, KeyDecoding, SlotLayout } from '../../../metad/index.js'

/** The generator: metad's generateBpftraceProgram with this node's GeneratorEnv, or a stand-in. */
export type ProgramGenerator = (targets: readonly BpftraceTarget[]) => BpftraceProgram
