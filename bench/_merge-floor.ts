/**
 * The merge floor: the least any simulation of the merge tree does per node-second, whatever its
 * merge core, so that bench/sim.ts can say how much of the 10,000 x 600 s budget is left for one.
 *
 * It moves every node's value for every instrumentation up a tree each second, on the
 * simulator's own event queue and network model, with the same values and the same value math
 * (metad's mergeValueList, one dense merge per forwarded partial) as the merge layer, and does
 * nothing else: no membership, no contributor sets (a count), no deadlines, late pieces, acks,
 * sequence numbers, watches, rings, replicas or oracle, no message sizing (a fixed size), trees
 * built once (a 16-ary heap over a shuffled order). A faithful merge core does all of this and
 * more per piece, so its cost per node-second is above this one's.
 */
import { catalog, distributionFromBuckets, mergeValueList, parseInstrumentation, zeroValue, type Bucketing, type Value } from '../metad/index.js'
import { createRng } from '../node/core/index.js'
import { valueLayout } from '../node/instrument/index.js'
import { EventQueue } from '../sim/event-queue.js'
import { simInstrumentation } from '../sim/instrumentations.js'
import { Network } from '../sim/network.js'
import { DEFAULT_SIM_OPTIONS, SIM_EPOCH } from '../sim/index.js'

const INSTRUMENTATIONS = 5
const FAN_IN = 16
/** Bytes a partial is counted as (the network model's uplink and nothing else need it). */
const PARTIAL_BYTES = 120
const KEYS = ['a', 'b', 'c', 'd']

const TICK = 1
const PARTIAL = 2

/** One partial on its way: what the floor's parent needs. */
interface Partial {
  readonly k: number
  readonly second: number
  readonly value: Value
  readonly count: number
}

/** The value shapes of the simulator's instrumentations (sim/instrumentations.ts), one bucket and one key each, as the merge layer's. */
function valuesOf (k: number): { zero: Value, values: Value[] } {
  const d = parseInstrumentation(JSON.parse(simInstrumentation(k)) as unknown, catalog)
  const metric = catalog.metrics.get(`${d.module}.${d.stat}`)
  if (metric === undefined) throw new Error(`merge floor: no metric ${d.module}.${d.stat}`)
  const layout = valueLayout(metric, d.decomposition)
  const values: Value[] = []
  for (let count = 1; count <= 5; count++) {
    for (let key = 0; key < KEYS.length; key++) {
      const b = layout.bucketing as Bucketing
      switch (layout.shape) {
        case 'scalar': values.push({ type: 'scalar', n: count }); break
        case 'decomposition': values.push({ type: 'decomposition', keys: new Map([[KEYS[key] as string, count]]), folded: 0 }); break
        case 'distribution': values.push({ type: 'distribution', dist: distributionFromBuckets(b, [key], [count]) }); break
        case 'decomposed-distribution':
          values.push({ type: 'decomposed-distribution', bucketing: b, keys: new Map([[KEYS[key] as string, distributionFromBuckets(b, [key], [count])]]), folded: 0 })
          break
      }
    }
  }
  const zero = layout.shape === 'scalar' || layout.shape === 'decomposition' ? zeroValue(layout.shape) : zeroValue(layout.shape, layout.bucketing as Bucketing)
  return { zero, values }
}

/** Runs the floor on `nodes` nodes for `seconds` simulated seconds; returns the points the roots made (a check that it ran). */
export function runMergeFloor (nodes: number, seconds: number): { points: number, counted: number } {
  const rng = createRng('merge-floor')
  const queue = new EventQueue(SIM_EPOCH)
  const network = new Network({ nodes, seed: 'merge-floor', latency: DEFAULT_SIM_OPTIONS.latency, jitterMs: DEFAULT_SIM_OPTIONS.jitterMs, loss: 0, bandwidth: DEFAULT_SIM_OPTIONS.bandwidth })
  const shapes = Array.from({ length: INSTRUMENTATIONS }, (_, k) => valuesOf(k))
  // Per instrumentation, each node's parent (-1: the root) and the pieces it waits for per second (children + its own).
  const parent: Int32Array[] = []
  const expected: Int32Array[] = []
  for (let k = 0; k < INSTRUMENTATIONS; k++) {
    const order = Array.from({ length: nodes }, (_, i) => i)
    for (let i = nodes - 1; i > 0; i--) {
      const j = rng.uint32() % (i + 1)
      const t = order[i] as number
      order[i] = order[j] as number
      order[j] = t
    }
    const p = new Int32Array(nodes).fill(-1)
    const e = new Int32Array(nodes).fill(1)
    for (let pos = 1; pos < nodes; pos++) {
      const up = order[Math.floor((pos - 1) / FAN_IN)] as number
      p[order[pos] as number] = up
      e[up]++
    }
    parent.push(p)
    expected.push(e)
  }
  // Two seconds open per (instrumentation, node): pieces of t arrive before t + 1 starts, with room to spare.
  const slots = 2 * INSTRUMENTATIONS * nodes
  const left = new Int32Array(slots)
  const count = new Int32Array(slots)
  const pieces: Value[][] = Array.from({ length: slots }, () => [])
  const slotOf = (k: number, i: number, second: number): number => ((second & 1) * INSTRUMENTATIONS + k) * nodes + i
  let points = 0
  let counted = 0

  const piece = (k: number, i: number, second: number, value: Value, n: number, now: number): void => {
    const s = slotOf(k, i, second)
    const list = pieces[s] as Value[]
    if (list.length === 0) left[s] = expected[k]![i]!
    list.push(value)
    count[s] += n
    if (--left[s]! > 0) return
    const merged = mergeValueList(list, shapes[k]!.zero)
    const total = count[s]!
    list.length = 0
    count[s] = 0
    const up = parent[k]![i]!
    if (up < 0) { points++; counted += total; return }
    const at = network.transmit(i, up, PARTIAL_BYTES, now)
    if (at >= 0) queue.push(PARTIAL, at, up, i, { k, second, value: merged, count: total } satisfies Partial)
  }

  // Every node's clock ticks at its own offset into the second, as contributions do.
  for (let i = 0; i < nodes; i++) queue.push(TICK, SIM_EPOCH + 20 + (rng.uint32() % 1000) / 1000, i, 0, undefined)
  const end = SIM_EPOCH + seconds * 1000
  while (queue.size > 0) {
    const s = queue.pop()
    const now = queue.time(s)
    if (now >= end) break
    const a = queue.a(s)
    if (queue.kind(s) === TICK) {
      const second = Math.floor((now - SIM_EPOCH) / 1000) - 1
      queue.push(TICK, now + 1000, a, 0, undefined)
      if (second < 0) continue
      for (let k = 0; k < INSTRUMENTATIONS; k++) {
        const own = shapes[k]!.values
        piece(k, a, second, own[(a * 31 + second * 7 + k * 3) % own.length] as Value, 1, now)
      }
    } else {
      const p = queue.payload(s) as Partial
      piece(p.k, a, p.second, p.value, p.count, now)
    }
  }
  return { points, counted }
}
