/**
 * From merged slots to CA's data points (CA-REFERENCE §1.3, §1.4, §7.1).
 *
 * An instrumentation's data is one merged slot per `granularity` seconds. A data point covers
 * one or more slots:
 * - interval scope (counts over time, the default): the point's value is the sum of its slots;
 * - point scope (levels sampled each slot, e.g. cpu.cpus): summing levels over time means
 *   nothing, so the point's value is its first slot's (CA's dataForTime did the same);
 * - `minreporting` is the minimum over the point's slots of the contributors merged, a slot
 *   without data counting 0 (CA's nreporting), so a point says when any of its slots may be
 *   missing a node;
 * - `nsources` is the largest number of nodes expected over the point's slots (each slot carries
 *   the count of its time), or the source's current count when no slot has data.
 *
 * Slots come from the mesh (the merge tree, a peer's answer): {@link indexSlots} checks each one
 * against the definition once (aligned second, the definition's value shape, sane counts), so
 * the rest of the values API can trust them.
 */
import {
  HeatmeshError, mergeValueList, OTHER_KEY, type InstrumentationDefinition, type Value, type ValueShape
} from '../../metad/index.js'
import type { SlotPoint } from './value-source.js'

/** The value shape of an instrumentation's data: CA's four, from its decomposition. */
export function valueShape (def: InstrumentationDefinition): ValueShape {
  if (def.valueArity === 'scalar') return 'scalar'
  if (def.valueArity === 'discrete-decomposition') return 'decomposition'
  return def.valueDimension === 3 ? 'decomposed-distribution' : 'distribution'
}

/** Checked slots of one instrumentation, by second. */
export interface SlotIndex {
  readonly granularity: number
  readonly shape: ValueShape
  readonly bySecond: ReadonlyMap<number, SlotPoint>
}

function badSlot (slot: SlotPoint, reason: string): never {
  throw new HeatmeshError('ECA_INCOMPAT', `merged slot at second ${String(slot.second)} is unusable: ${reason}`)
}

/**
 * Indexes slots by second after checking each against the definition.
 * @throws HeatmeshError ECA_INCOMPAT for a slot that is misaligned, repeated, of another value
 *   shape, or with impossible counts (the mesh answered with data of another definition).
 */
export function indexSlots (slots: ReadonlyArray<SlotPoint>, def: InstrumentationDefinition): SlotIndex {
  const g = def.granularity
  const shape = valueShape(def)
  const bySecond = new Map<number, SlotPoint>()
  for (const slot of slots) {
    if (!Number.isSafeInteger(slot.second) || slot.second % g !== 0) badSlot(slot, `not a multiple of the granularity ${g}`)
    if (bySecond.has(slot.second)) badSlot(slot, 'given twice')
    if (slot.value.type !== shape) badSlot(slot, `a ${slot.value.type} value where the definition makes ${shape} values`)
    if (!Number.isSafeInteger(slot.nsources) || slot.nsources < 0) badSlot(slot, `nsources ${String(slot.nsources)} is not a count`)
    if (!Number.isSafeInteger(slot.minreporting) || slot.minreporting < 0) badSlot(slot, `minreporting ${String(slot.minreporting)} is not a count`)
    bySecond.set(slot.second, slot)
  }
  return { granularity: g, shape, bySecond }
}

/** One data point's value and coverage. */
export interface PointData {
  /** The point's value; undefined when no slot of it has data (CA's zero of the shape). */
  readonly value: Value | undefined
  readonly nsources: number
  readonly minreporting: number
  /** Some slot's decomposition was cut to its top keys. */
  readonly truncated: boolean
}

/** The slots of `[start, start + duration)` that have data, oldest first. */
export function slotsIn (index: SlotIndex, start: number, duration: number): SlotPoint[] {
  const out: SlotPoint[] = []
  for (let t = start; t < start + duration; t += index.granularity) {
    const slot = index.bySecond.get(t)
    if (slot !== undefined) out.push(slot)
  }
  return out
}

/**
 * The data point `[start, start + duration)` (aligned to the granularity) for an instrumentation
 * of this value scope (see the module header). `fallbackSources` is the point's nsources when
 * none of its slots has data.
 */
export function pointData (index: SlotIndex, start: number, duration: number, scope: 'interval' | 'point', fallbackSources = 0): PointData {
  const g = index.granularity
  const nslots = Math.ceil(duration / g)
  const present = slotsIn(index, start, duration)
  let nsources = 0
  let minreporting = present.length === nslots ? Infinity : 0
  let truncated = false
  for (const slot of present) {
    if (slot.nsources > nsources) nsources = slot.nsources
    if (slot.minreporting < minreporting) minreporting = slot.minreporting
    if (slot.truncated === true) truncated = true
  }
  if (present.length === 0) {
    nsources = fallbackSources
    minreporting = 0
  }
  let value: Value | undefined
  if (scope === 'point') {
    value = index.bySecond.get(start)?.value
  } else if (present.length === 1) {
    value = present[0]!.value
  } else if (present.length > 1) {
    value = mergeValueList(present.slice(1).map((s) => s.value), present[0]!.value)
  }
  return { value, nsources, minreporting, truncated }
}

/** Keys folded into OTHER_KEY (a lower bound), 0 when the value was not truncated. */
export function foldedKeys (value: Value | undefined): number {
  if (value === undefined || value.type === 'scalar' || value.type === 'distribution') return 0
  return value.keys.has(OTHER_KEY) ? value.folded : 0
}
