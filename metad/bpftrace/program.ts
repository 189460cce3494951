/**
 * The generator <-> runtime contract (/tmp/bpf-contract.md): what the runtime asks for (targets,
 * each in a numbered slot of one combined script) and what it gets back (the script and, per
 * slot, how to read that slot's map).
 *
 * Script protocol (bpftrace -f json): BEGIN prints READY once every probe is attached; once a
 * second `interval:s:1` prints TICK, then prints and clears every slot map (an empty map prints
 * nothing: a slot absent between two TICKs counted zero); END prints and clears every slot map,
 * clears every internal map and prints END. Every slot map is keyed: `@s3[0]` without
 * decomposition, else the discrete field's key FIRST and the numeric field's bucket LAST (comm
 * may hold commas, so the runtime splits a printed tuple at its last comma).
 */
import type { Decomposition } from '../decomposition.js'
import type { Metric } from '../catalog/types.js'
import type { Predicate } from '../predicate.js'
import type { Bucketing } from '../quantize.js'
import type { ConstantResolver } from './condition.js'
import type { KeyDecoding } from './description.js'

export type { KeyDecoding } from './description.js'

/** One instrumentation inside the combined script. */
export interface BpftraceTarget {
  /** Small non-negative integer, unique within one script; its map is `@s<slot>`. */
  readonly slot: number
  /** From the catalog. */
  readonly metric: Metric
  /** Parsed against `metric` and already specialized: never mentions hostname. */
  readonly predicate: Predicate
  /** Never hostname; at most one discrete and one numeric field. */
  readonly decomposition: Decomposition
}

/** How to read one slot's map. */
export interface SlotLayout {
  readonly slot: number
  /** `@s3`. */
  readonly map: string
  /** Present when decomposed by a discrete field: the FIRST key element. */
  readonly discrete?: { readonly field: string, readonly key: KeyDecoding }
  /**
   * Present when decomposed by a numeric field: the LAST key element is the lower bound of the
   * value's bucket, an integer as printed, so `bucketIndex(bucketing, key)` is the bucket. (One
   * exception, never met by heatmesh's bucketings: an lquantize whose low is above 0 prints 0
   * for its underflow bucket, whose nominal lower bound is INT64_MIN; bucketIndex still finds it.)
   */
  readonly numeric?: { readonly field: string, readonly bucketing: Bucketing }
  /** What each event adds: 1 (count()) or a value (sum(): disk.physio_bytes adds bytes). */
  readonly value: 'count' | 'sum'
}

/** A generated script and the layout of each of its slots (in slot order). */
export interface BpftraceProgram {
  readonly script: string
  readonly slots: readonly SlotLayout[]
}

/**
 * What only the running node knows, for predicate constants that name things by path or name:
 * `cgroupId` maps a cgroup path as the runtime prints it ("/", "/system.slice/x.service") to
 * its cgroup v2 id; `blockDevice` maps a disk name ("vda") to the kernel's dev_t
 * (major << 20 | minor). Without them (or when they return undefined) only the fallback
 * spellings the runtime prints for unknown ids resolve ("cgroup_<id>", "<major>:<minor>"), and
 * any other name compares unequal to every event, as an unknown name would.
 */
export type GeneratorEnv = ConstantResolver

/** A metric the generator serves, with the fields it can filter and decompose by. */
export interface BpftraceImplementation {
  /** `module.stat`. */
  readonly metric: string
  /** Every field of the metric except `hostname`. */
  readonly fields: readonly string[]
}
