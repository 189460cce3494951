/**
 * A slot reader: one instrumentation's printed map entries in, its Value out. It applies the
 * slot's layout (/tmp/bpf-contract.md): the map is always keyed; with no decomposition the only
 * key is 0; a discrete field is the FIRST key element and a numeric field's bucket lower bound
 * the LAST, so a tuple key splits at its last comma (a process name may hold commas, a number
 * never does). Keys that decode to the same field value add up (bpftrace may print two equal
 * keys; two unknown numbers never collide, see ./keys.ts).
 *
 * A map line is taken whole or not at all: if one entry does not decode (a key not of the
 * printed form, a bound that is not a bucket's lower bound), nothing of the line is added and
 * the reason is returned for the caller to count and log.
 */
import {
  HeatmeshError, describeBucketing, quantizer, sameBucketing,
  type Predicate, type Quantizer, type Value
} from '../../../metad/index.js'
import { createValueAccumulator, type FieldRecord, type ValueLayout } from '../value-layout.js'
import { keyDecoder, type KeyDecoder, type KeyTables } from './keys.js'
import type { SlotLayout } from './program.js'

/** Accumulates one slot's map lines until taken. */
export interface SlotReader {
  /** Adds a printed map's entries; returns why the line was rejected (nothing added), or undefined. */
  add: (entries: ReadonlyArray<readonly [string, number]>) => string | undefined
  /** Everything added since the last take, as a value of the layout; starts afresh. */
  take: () => Value
}

const TRUE: Predicate = Object.freeze({ op: 'true' })
const INTEGER = /^-?[0-9]{1,20}$/

/**
 * A reader for `slot`, whose values must have `layout` (the instrumentation's, from
 * valueLayout). @throws HeatmeshError ECA_INCOMPAT when the generator's slot layout does not
 * match the value layout or uses a KeyDecoding this runtime does not know: a disagreement
 * between generator and runtime that fails the instrumentation, not each line.
 */
export function createSlotReader (slot: SlotLayout, layout: ValueLayout, tables: KeyTables): SlotReader {
  const mismatch = (what: string): never => {
    throw new HeatmeshError('ECA_INCOMPAT', `bpftrace slot ${slot.map}: ${what}`)
  }
  if (slot.discrete?.field !== layout.discrete) mismatch(`discrete key ${slot.discrete?.field ?? 'none'}, but the decomposition asks for ${layout.discrete ?? 'none'}`)
  if (slot.numeric?.field !== layout.numeric) mismatch(`numeric key ${slot.numeric?.field ?? 'none'}, but the decomposition asks for ${layout.numeric ?? 'none'}`)
  if (slot.numeric !== undefined && layout.bucketing !== undefined && !sameBucketing(slot.numeric.bucketing, layout.bucketing)) {
    mismatch(`buckets ${describeBucketing(slot.numeric.bucketing)}, but ${slot.numeric.field} has ${describeBucketing(layout.bucketing)}`)
  }
  let decode: KeyDecoder | undefined
  if (slot.discrete !== undefined) {
    decode = keyDecoder(slot.discrete.key, tables)
    if (decode === undefined) mismatch(`unknown key decoding ${JSON.stringify(slot.discrete.key)}`)
  }
  const q: Quantizer | undefined = layout.bucketing === undefined ? undefined : quantizer(layout.bucketing)
  const dname = layout.discrete
  const nname = layout.numeric
  const acc = createValueAccumulator(layout, TRUE)

  /** The bucket lower bound in `text`, or a reason. */
  const bound = (text: string): number | string => {
    if (!INTEGER.test(text)) return `bucket ${JSON.stringify(text)} is not an integer`
    const lo = Number(text)
    const i = q!.index(lo)
    // The underflow bucket of an lquantize prints 0 where its nominal lower bound is INT64_MIN.
    if (q!.lo(i) === lo || (i === 0 && lo === 0)) return lo
    return `${text} is not a bucket's lower bound in ${describeBucketing(q!.bucketing)}`
  }

  const record = (key: string): FieldRecord | string => {
    if (dname === undefined && nname === undefined) return key === '0' ? {} : `key ${JSON.stringify(key)} in an undecomposed slot (only 0 is)`
    if (nname === undefined) {
      const v = decode!(key)
      return v === undefined ? `key ${JSON.stringify(key)} does not decode as ${slot.discrete!.key}` : { [dname!]: v }
    }
    if (dname === undefined) {
      const lo = bound(key)
      return typeof lo === 'string' ? lo : { [nname]: lo }
    }
    const comma = key.lastIndexOf(',')
    if (comma === -1) return `key ${JSON.stringify(key)} has no "," between its two elements`
    const v = decode!(key.slice(0, comma))
    if (v === undefined) return `key ${JSON.stringify(key)} does not decode as ${slot.discrete!.key}`
    const lo = bound(key.slice(comma + 1))
    return typeof lo === 'string' ? lo : { [dname]: v, [nname]: lo }
  }

  return {
    add (entries) {
      const records: Array<[FieldRecord, number]> = []
      for (const [key, n] of entries) {
        const r = record(key)
        if (typeof r === 'string') return r
        records.push([r, n])
      }
      for (const [r, n] of records) acc.add(r, n)
      return undefined
    },
    take: () => acc.take()
  }
}
