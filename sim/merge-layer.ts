/**
 * The merge layer: the simulator's phase-2 aggregation layer, which runs the daemon's very merge
 * tree core (node/merge's MergeCore) on every simulated node, feeds it a cheap deterministic
 * synthetic value once per second of the node's own (skewed) clock, and keeps an oracle of what
 * every live node contributed, against which it checks the root's points at the end: double
 * counts, missing contributions, coverage and freshness (the merge fields of summary.json).
 */
import { catalog, distributionFromBuckets, mergeValueList, parseInstrumentation, valuesEqual, valueTotal, zeroValue, type Value } from '../metad/index.js'
import type { DefinitionId, PeerId } from '../node/core/index.js'
import { valueLayout } from '../node/instrument/index.js'
import {
  createMergeCore, mergeMessageByteLength, memberKey, membersOf, type InstrumentationSpec, type MemberSet, type MergeCore,
  type MergeMessage, type MergeOutput, type StoredPoint
} from '../node/merge/index.js'
import type { Aggregation, AggregationNode, AggregationOutput, AggregationSummary } from './aggregation.js'
import { quantile, round } from './quantiles.js'
import { createTreeSharing, createViewSharing } from './view-sharing.js'
import { SIM_EPOCH } from './simulator.js'

/** As the daemon: a second is collected this long after it ends (before the merge core's collectDelayMs). */
const COLLECT_OFFSET_MS = 20
/** Seconds after an instrumentation's first contributed second before its figures count (the tree forms). */
const STEADY_AFTER_S = 5
/** Seconds before the last contributed one that are left out (the run ends before they are final). */
const TAIL_S = 4
/** Distinct keys of the decomposed shapes (small: the values must stay cheap). */
const KEYS = ['a', 'b', 'c', 'd']

/** What the merge layer is built with. */
export interface MergeLayerOptions {
  /** Nodes of the run (sizes the shared tree scratch buffer). */
  readonly nodes: number
}

/** The oracle's verdict on the root's points, beyond the summary's fields (for tests). */
export interface MergeOracleReport {
  /** (instrumentation, second) pairs checked in steady state. */
  readonly checked: number
  /** Checked pairs whose root point equals the oracle's merged value with every contributor. */
  readonly exact: number
  readonly doubleCounts: number
  readonly missingContributions: number
}

/** The merge layer: an Aggregation, plus the oracle's detailed verdict. */
export interface MergeLayer extends Aggregation {
  /** Checks the root's points against the oracle (summary() calls it too). */
  readonly oracle: () => MergeOracleReport
}

/** The count node `index` contributes for `second` of instrumentation number `k` (1..5). */
function countOf (index: number, second: number, k: number): number {
  return 1 + ((index * 31 + second * 7 + k * 3) % 5)
}

/** Which of KEYS node `index` reports for `second`. */
function keyOf (index: number, second: number): number {
  return (index + second) % KEYS.length
}

/** The nodes whose value for one (instrumentation, second) was contributed. */
interface Contributed {
  /** 1 at the index of each contributing node. */
  readonly by: Uint8Array
}

/** One instrumentation as the layer knows it: its spec and a cache of its (immutable) values. */
interface Known {
  readonly k: number
  readonly spec: InstrumentationSpec
  readonly values: Map<number, Value>
}

function specOf (definition: string, expectedSources: number): InstrumentationSpec | undefined {
  try {
    const d = parseInstrumentation(JSON.parse(definition) as unknown, catalog)
    const metric = catalog.metrics.get(`${d.module}.${d.stat}`)
    if (metric === undefined) return undefined
    const layout = valueLayout(metric, d.decomposition)
    return {
      shape: layout.shape,
      ...(layout.bucketing === undefined ? {} : { bucketing: layout.bucketing }),
      granularity: d.granularity,
      retentionTime: d.retentionTime,
      persistData: false,
      valueScope: d.valueScope,
      expectedSources
    }
  } catch {
    return undefined
  }
}

/** Whether values built for spec `a` fit spec `b` (the cache can be kept). */
function sameShape (a: InstrumentationSpec | undefined, b: InstrumentationSpec): boolean {
  return a !== undefined && a.shape === b.shape && a.bucketing === b.bucketing
}

/** The value of `count` events under key number `key` in the spec's shape (one bucket for distributions). */
function valueOf (spec: InstrumentationSpec, count: number, key: number): Value {
  switch (spec.shape) {
    case 'scalar': return { type: 'scalar', n: count }
    case 'decomposition': return { type: 'decomposition', keys: new Map([[KEYS[key] as string, count]]), folded: 0 }
    case 'distribution': {
      const bucketing = spec.bucketing as NonNullable<InstrumentationSpec['bucketing']>
      return { type: 'distribution', dist: distributionFromBuckets(bucketing, [key], [count]) }
    }
    case 'decomposed-distribution': {
      const bucketing = spec.bucketing as NonNullable<InstrumentationSpec['bucketing']>
      return { type: 'decomposed-distribution', bucketing, keys: new Map([[KEYS[key] as string, distributionFromBuckets(bucketing, [key], [count])]]), folded: 0 }
    }
  }
}

function cachedValue (known: Known, count: number, key: number): Value {
  const slot = count * KEYS.length + key
  let v = known.values.get(slot)
  if (v === undefined) {
    v = valueOf(known.spec, count, key)
    known.values.set(slot, v)
  }
  return v
}

/**
 * Builds the merge layer for a run of `options.nodes` nodes: every node's MergeCore shares one
 * MemberSet at the warm start and one tree scratch buffer.
 */
export function createMergeLayer (options: MergeLayerOptions): MergeLayer {
  const scratch = new Float64Array(options.nodes + 1)
  const viewChanges = createViewSharing()
  const sharedTrees = createTreeSharing()
  const cores: Array<MergeCore | undefined> = []
  const indexOfKey = new Map<number, number>()
  const indexOfId = new Map<PeerId, number>()
  /** Nodes down whose hosts went down too: sends to them fail silently (the simulator drops them). */
  const silentlyDown = new Set<number>()
  /** Instrumentation number k (order of first sight), for the deterministic values. */
  const numberOf = new Map<DefinitionId, number>()
  /**
   * The oracle: per instrumentation, per Unix second, which nodes' values were contributed (one
   * byte per node: a Set per second would cost ten times the memory at 10,000 nodes).
   */
  const truth = new Map<DefinitionId, Map<number, Contributed>>()
  /** Live nodes when each second was first collected. */
  const liveAt = new Map<number, number>()
  /**
   * Per instrumentation and second, ms from the second's end until the root first replicated it
   * (finalized it) and until it last did (merged its last piece: late pieces are replicated at once).
   */
  const rootSends = new Map<string, { first: number, last: number }>()
  const specs = new Map<DefinitionId, InstrumentationSpec>()
  /** Each instrumentation's value cache, shared by all nodes (values are immutable). */
  const valueCaches = new Map<DefinitionId, Map<number, Value>>()
  let live = 0
  /** Specs by definition and sources: every node parses the same few definitions (10,000 times each, uncached). */
  const specCache = new Map<string, InstrumentationSpec | undefined>()
  const specFor = (definition: string, sources: number): InstrumentationSpec | undefined => {
    const key = `${sources}\u0000${definition}`
    if (!specCache.has(key)) specCache.set(key, specOf(definition, sources))
    return specCache.get(key)
  }
  let sharedFor: readonly PeerId[] | undefined
  let shared: MemberSet | undefined

  const sharedMembers = (members: readonly PeerId[]): MemberSet => {
    if (sharedFor !== members || shared === undefined) {
      sharedFor = members
      shared = membersOf(members)
    }
    return shared
  }

  /**
   * The sends among `core`'s outputs, for the simulator to carry. A send to a node whose process
   * crashed fails at once, as the daemon's does (the connection is refused: it costs a round
   * trip, negligible here), and goes back to the core, whose outputs are carried in turn. A send
   * to a node whose host went down (a silent crash) is carried, and lost.
   */
  const carry = (core: MergeCore, outputs: readonly MergeOutput[], now: number): AggregationOutput[] => {
    const out: AggregationOutput[] = []
    // Copied only when a failed send adds outputs (rare: a crash).
    let work = outputs
    for (let k = 0; k < work.length; k++) {
      const o = work[k]!
      if (o.type !== 'send') continue
      const to = indexOfId.get(o.to)
      if (to !== undefined && cores[to] === undefined && !silentlyDown.has(to)) {
        work = [...work, ...core.sendFailed(o.to, o.message, now)]
        continue
      }
      const m = o.message
      if (m.type === 'replica') {
        const slot = `${m.id}\u0000${m.second}`
        const after = now - (m.second + 1) * 1000
        const sends = rootSends.get(slot)
        if (sends === undefined) rootSends.set(slot, { first: after, last: after })
        else sends.last = Math.max(sends.last, after)
      }
      out.push({ type: 'send', to: o.to, message: m, bytes: mergeMessageByteLength(m) })
    }
    return out
  }

  const createNode = (init: Parameters<Aggregation['createNode']>[0]): AggregationNode => {
    const core = createMergeCore({
      self: init.self,
      now: init.now,
      config: { fanIn: init.fanIn, replicas: init.replicas },
      ...(init.members.length > 0 ? { members: sharedMembers(init.members) } : {}),
      treeScratch: scratch,
      viewChanges,
      sharedTrees
    })
    cores[init.index] = core
    indexOfKey.set(memberKey(init.self), init.index)
    indexOfId.set(init.self, init.index)
    live++
    const known = new Map<DefinitionId, Known>()
    const definitions = new Map<DefinitionId, string>()
    let nextCollect = (Math.floor((init.now - COLLECT_OFFSET_MS) / 1000) + 1) * 1000 + COLLECT_OFFSET_MS
    let lastCollected: number | undefined

    const setSpec = (id: DefinitionId, definition: string, now: number): MergeOutput[] => {
      const spec = specFor(definition, core.memberCount)
      if (spec === undefined) return []
      let k = numberOf.get(id)
      if (k === undefined) { k = numberOf.size + 1; numberOf.set(id, k) }
      let values = valueCaches.get(id)
      if (values === undefined || !sameShape(specs.get(id), spec)) {
        values = new Map()
        valueCaches.set(id, values)
        specs.set(id, spec)
      }
      known.set(id, { k, spec, values })
      definitions.set(id, definition)
      return core.setInstrumentation(id, spec, now)
    }

    /** Contributes every second this node's clock has finished since the last collection. */
    const collect = (now: number): MergeOutput[] => {
      const out: MergeOutput[] = []
      const due = Math.floor((now - COLLECT_OFFSET_MS) / 1000) - 1
      const from = lastCollected === undefined ? due : lastCollected + 1
      const sources = core.memberCount
      for (let second = from; second <= due; second++) {
        if (!liveAt.has(second)) liveAt.set(second, live)
        for (const [id, inst] of known) {
          if (inst.spec.expectedSources !== sources) {
            out.push(...setSpec(id, definitions.get(id) as string, now))
          }
          const current = known.get(id) as Known
          const value = cachedValue(current, countOf(init.index, second, current.k), keyOf(init.index, second))
          out.push(...core.contribute(id, second, value, now))
          let bySecond = truth.get(id)
          if (bySecond === undefined) { bySecond = new Map(); truth.set(id, bySecond) }
          let c = bySecond.get(second)
          if (c === undefined) { c = { by: new Uint8Array(options.nodes) }; bySecond.set(second, c) }
          c.by[init.index] = 1
        }
        lastCollected = second
      }
      nextCollect = (due + 2) * 1000 + COLLECT_OFFSET_MS
      return out
    }

    return {
      memberUp: (id, now) => { core.memberUp(id, now); return [] },
      memberSuspect: (id, now) => { core.memberSuspect(id, now); return [] },
      memberSlow: (id, now) => { core.memberSlow(id, now); return [] },
      memberDown: (id, now) => { core.memberDown(id, now); return [] },
      setInstrumentation: (id, entry, now) => carry(core, setSpec(id, entry.definition, now), now),
      removeInstrumentation: (id, now) => { known.delete(id); definitions.delete(id); return carry(core, core.removeInstrumentation(id, now), now) },
      handle: (from, message, now) => carry(core, core.handle(from, message as MergeMessage, now), now),
      tick: (now) => {
        const out: MergeOutput[] = []
        const due = core.nextDeadline()
        if (due !== undefined && due <= now) out.push(...core.tick(now))
        if (now >= nextCollect) out.push(...collect(now))
        return carry(core, out, now)
      },
      nextDeadline: () => {
        const due = core.nextDeadline()
        return due === undefined ? nextCollect : Math.min(due, nextCollect)
      }
    }
  }

  /** `id`'s root now: the first live holder in a live node's view (node index). */
  const rootOf = (id: DefinitionId): number | undefined => {
    const viewer = cores.find((c) => c !== undefined)
    if (viewer === undefined) return undefined
    for (const h of viewer.position(id).holders) {
      const i = indexOfId.get(h)
      if (i !== undefined && cores[i] !== undefined) return i
    }
    return undefined
  }

  /** The root's points of `id` over [from, to]. */
  const rootPoints = (id: DefinitionId, from: number, to: number): StoredPoint[] => {
    const i = rootOf(id)
    return i === undefined ? [] : (cores[i] as MergeCore).queryLocal(id, from, to + 1)
  }

  let report: MergeOracleReport | undefined
  let coverage: Array<number | null> = []
  let coverageMin: number | null = null
  /** Per steady-state (instrumentation, second) with a point: s from its end until the root merged its last piece. */
  let completion: number[] = []

  const oracle = (): MergeOracleReport => {
    if (report !== undefined) return report
    let checked = 0
    let exact = 0
    let doubleCounts = 0
    let missing = 0
    completion = []
    const bySimSecond = new Map<number, number>()
    for (const [id, bySecond] of truth) {
      const spec = specs.get(id)
      const k = numberOf.get(id)
      if (spec === undefined || k === undefined) continue
      const seconds = [...bySecond.keys()]
      const first = Math.min(...seconds) + STEADY_AFTER_S
      const last = Math.max(...seconds) - TAIL_S
      if (first > last) continue
      const points = new Map<number, StoredPoint>()
      for (const p of rootPoints(id, first - STEADY_AFTER_S, last + TAIL_S)) points.set(p.second, p)
      const known: Known = { k, spec, values: new Map() }
      for (const [second, contributed] of bySecond) {
        const p = points.get(second)
        const who: number[] = []
        for (let i = 0; i < contributed.by.length; i++) if (contributed.by[i] === 1) who.push(i)
        const truthTotal = who.reduce((s, i) => s + countOf(i, second, k), 0)
        if (p !== undefined) {
          const contributors = (p.contributors ?? []).map((key) => indexOfKey.get(key))
          const foreign = contributors.some((i) => i === undefined || contributed.by[i] !== 1)
          if (foreign || p.minreporting > who.length || valueTotal(p.value) > truthTotal) doubleCounts++
        }
        if (second < first || second > last) continue
        checked++
        const sends = rootSends.get(`${id}\u0000${second}`)
        if (sends !== undefined) completion.push(sends.last / 1000)
        const reported = p === undefined ? 0 : p.minreporting
        missing += Math.max(0, who.length - reported)
        const liveNodes = liveAt.get(second) ?? who.length
        const c = liveNodes === 0 ? 1 : Math.min(reported, liveNodes) / liveNodes
        const sim = second - SIM_EPOCH / 1000
        bySimSecond.set(sim, Math.min(bySimSecond.get(sim) ?? 1, c))
        if (p !== undefined && p.minreporting === who.length) {
          const values = who.map((i) => cachedValue(known, countOf(i, second, k), keyOf(i, second)))
          const zero = spec.bucketing === undefined ? zeroValue(spec.shape as 'scalar' | 'decomposition') : zeroValue(spec.shape, spec.bucketing)
          if (valuesEqual(p.value, mergeValueList(values, zero))) exact++
        }
      }
    }
    const sims = [...bySimSecond.keys()]
    const end = sims.length === 0 ? -1 : Math.max(...sims)
    coverage = Array.from({ length: end + 1 }, (_, s) => bySimSecond.get(s) ?? null)
    coverageMin = sims.length === 0 ? null : Math.min(...bySimSecond.values())
    report = { checked, exact, doubleCounts, missingContributions: missing }
    return report
  }

  return {
    name: 'merge',
    createNode,
    nodeDown: (index, _now, silent) => {
      if (cores[index] !== undefined) live--
      cores[index] = undefined
      if (silent) silentlyDown.add(index)
      else silentlyDown.delete(index)
    },
    oracle,
    summary: (): AggregationSummary => {
      const r = oracle()
      const fresh = [...rootSends.values()].map((s) => s.first / 1000).sort((a, b) => a - b)
      const complete = completion.slice().sort((a, b) => a - b)
      return {
        freshness_s: fresh.length === 0 ? null : { p50: round(quantile(fresh, 0.5)) ?? 0, p99: round(quantile(fresh, 0.99)) ?? 0 },
        completion_s: complete.length === 0 ? null : { p50: round(quantile(complete, 0.5)) ?? 0, p99: round(quantile(complete, 0.99)) ?? 0, max: round(complete.at(-1) ?? null) ?? 0 },
        coverage_min: round(coverageMin),
        double_counts: r.doubleCounts,
        missing_contributions: r.missingContributions,
        coverage,
        roots: [...specs.keys()].map(rootOf).filter((i): i is number => i !== undefined)
      }
    }
  }
}
