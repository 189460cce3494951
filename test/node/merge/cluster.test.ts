/**
 * The merge tree end to end on the virtual-time cluster: exact seconds, crashes of an inner node
 * and of the root, late partials, granularity, a new root joining, and a property test that no
 * schedule of crashes, joins and delays ever counts a contributor twice.
 *
 * The oracle: node i's value for second t is a decomposition with the single key `n<i>` holding
 * f(i, t), so a merged value says exactly who was merged, and a key counted twice shows.
 */
import test from 'ava'
import fc from 'fast-check'
import { holds } from '../../metad/property.js'
import {
  distributionOf, distributionsEqual, LATENCY_BUCKETING, mergeValueList, zeroValue, type Value
} from '../../../metad/index.js'
import { createMergeCluster, type MergeCluster, type MergeClusterOptions } from '../../../node/merge/cluster.js'
import type { InstrumentationSpec } from '../../../node/merge/spec.js'
import type { StoredPoint } from '../../../node/merge/point-ring.js'
import { holdersOf, instrumentationKey, membersOf } from '../../../node/merge/tree.js'
import { clusterPeerId } from '../../../node/core/cluster.js'

const ID = '0000000000000d0c'
const DIST_ID = '0000000000000d15'
const T0 = 1_750_000_000
const f = (i: number, t: number): number => 1 + ((i * 7 + t) % 13)
const byNode = (i: number, t: number): Value => ({ type: 'decomposition', keys: new Map([[`n${i}`, f(i, t)]]), folded: 0 })
const latencies = (i: number, t: number): number[] => Array.from({ length: 1 + (i % 4) }, (_, k) => 1000 * (1 + ((i * 31 + t * 17 + k * 101) % 5000)))
const DECO: InstrumentationSpec = { shape: 'decomposition', granularity: 1, retentionTime: 600, persistData: true, valueScope: 'interval', expectedSources: 0 }

function cluster (over: Partial<MergeClusterOptions> & { nodes: number }): MergeCluster {
  return createMergeCluster({
    seed: 'merge',
    instrumentations: [{ id: ID, spec: { ...DECO, expectedSources: over.nodes } }],
    localValue: (i, t, id) => (id === ID ? byNode(i, t) : { type: 'distribution', dist: distributionOf(LATENCY_BUCKETING, latencies(i, t)) }),
    ...over
  })
}

/** Who contributed second t (per the harness's own record). */
function contributors (c: MergeCluster, t: number, id = ID): number[] {
  return c.nodes.filter((n) => n.contributed.get(id)?.has(t) === true).map((n) => n.index)
}

interface Check { readonly exact: boolean, readonly keys: number, readonly note: string }

/** Exactness of one decomposition point: every key counted once with its true value, only contributors. */
function check (c: MergeCluster, p: StoredPoint, g = 1): Check {
  if (p.value.type !== 'decomposition') return { exact: false, keys: 0, note: `${p.second}: not a decomposition` }
  const seconds = Array.from({ length: g }, (_, k) => p.second + k)
  for (const [key, n] of p.value.keys) {
    const i = Number(key.slice(1))
    const truth = seconds.filter((t) => contributors(c, t).includes(i)).reduce((s, t) => s + f(i, t), 0)
    if (n !== truth) return { exact: false, keys: p.value.keys.size, note: `${p.second}: ${key} = ${n}, truth ${truth}` }
  }
  if (g === 1 && p.minreporting !== p.value.keys.size) return { exact: false, keys: p.value.keys.size, note: `${p.second}: minreporting ${p.minreporting} for ${p.value.keys.size} keys` }
  return { exact: true, keys: p.value.keys.size, note: '' }
}

function rootOf (c: MergeCluster, id = ID): number {
  const live = c.live()
  const roots = live.filter((n) => n.core!.position(id).parent === undefined)
  if (roots.length !== 1) throw new Error(`${roots.length} roots`)
  return roots[0]!.index
}

const points = (c: MergeCluster, i: number, from: number, to: number, id = ID): StoredPoint[] => c.nodes[i]!.core!.queryLocal(id, from, to)

test('50 nodes, 30 seconds: every second at the root is the exact fleet total with minreporting 50', (t) => {
  const c = cluster({
    nodes: 50,
    instrumentations: [
      { id: ID, spec: { ...DECO, expectedSources: 50 } },
      { id: DIST_ID, spec: { ...DECO, shape: 'distribution', bucketing: LATENCY_BUCKETING, expectedSources: 50 } }
    ]
  })
  c.runFor(31_000)
  const root = rootOf(c)
  const pts = points(c, root, T0, T0 + 30)
  t.is(pts.length, 30)
  for (const p of pts) {
    const r = check(c, p)
    t.true(r.exact, r.note)
    t.is(r.keys, 50)
    t.like(p, { minreporting: 50, nsources: 50 })
  }
  // The distribution instrumentation: bucket-wise equal to the merge of all 50 nodes' values.
  const droot = rootOf(c, DIST_ID)
  for (const p of points(c, droot, T0, T0 + 30, DIST_ID)) {
    const truth = mergeValueList(c.nodes.map((n) => ({ type: 'distribution', dist: distributionOf(LATENCY_BUCKETING, latencies(n.index, p.second)) })), zeroValue('distribution', LATENCY_BUCKETING))
    t.true(p.value.type === 'distribution' && truth.type === 'distribution' && distributionsEqual(p.value.dist, truth.dist), `second ${p.second}`)
    t.is(p.minreporting, 50)
  }
  // The replicas hold the same history, and persisted it.
  for (const h of c.nodes[root]!.core!.position(ID).holders.slice(1)) {
    const replica = c.indexOf(h)
    t.deepEqual(points(c, replica, T0, T0 + 30).map((p) => [p.second, p.minreporting]), pts.map((p) => [p.second, p.minreporting]))
    t.is(c.nodes[replica]!.stored.get(ID)?.size, 30)
  }
})

test('a query from any node is answered by the root with the whole window', (t) => {
  const c = cluster({ nodes: 20 })
  c.runFor(11_000)
  const root = rootOf(c)
  const asker = c.nodes.findIndex((n) => !n.core!.isHolder(ID))
  const requestId = c.query(asker, ID, T0, T0 + 10)
  c.runFor(100)
  const outcome = c.outcome(asker, requestId)
  t.like(outcome, { type: 'query-result', from: c.nodes[root]!.id })
  t.true(outcome?.type === 'query-result' && outcome.points.length === 10 && outcome.points.every((p) => check(c, p).keys === 20))
})

test('an inner node crashes: its subtree loses no second (what it had not acked is re-sent) and no second exceeds the truth', (t) => {
  const c = cluster({ nodes: 50, detectionMs: 2000 })
  c.runUntil((T0 + 10) * 1000 + 500)
  const victim = c.nodes.findIndex((n) => !n.core!.isHolder(ID) && n.core!.position(ID).children.length >= 3)
  t.true(victim >= 0)
  c.crash(victim)
  c.runUntil((T0 + 31) * 1000)
  const pts = points(c, rootOf(c), T0, T0 + 30)
  const keys = new Map(pts.map((p) => [p.second, check(c, p)]))
  for (const [second, r] of keys) t.true(r.exact, r.note || `${second}`)
  for (let s = T0; s < T0 + 10; s++) t.is(keys.get(s)?.keys, 50, `before the crash, second ${s}`)
  // Detected by the ack watch or the membership (+12.5 s); what the children sent it and it never
  // acked goes to their new parents, so from the crash on every second has the 49 survivors.
  for (let s = T0 + 10; s < T0 + 30; s++) t.is(keys.get(s)?.keys, 49, `after the crash, second ${s}`)
  t.true(c.nodes.reduce((n, x) => n + (x.core?.counters.resent ?? 0), 0) > 0, 'the survivors re-sent what the victim had not acked')
})

test('the root crashes: the next holder takes over with the whole history and the new seconds', (t) => {
  const c = cluster({ nodes: 30, detectionMs: 2000 })
  c.runUntil((T0 + 10) * 1000 + 500)
  const root = rootOf(c)
  const next = c.indexOf(c.nodes[root]!.core!.position(ID).holders[1]!)
  c.crash(root)
  c.runUntil((T0 + 31) * 1000)
  t.is(rootOf(c), next)
  const asker = c.live().find((n) => !n.core!.isHolder(ID))!.index
  const requestId = c.query(asker, ID, T0, T0 + 30)
  c.runFor(100)
  const outcome = c.outcome(asker, requestId)
  t.like(outcome, { type: 'query-result', from: c.nodes[next]!.id })
  if (outcome?.type !== 'query-result') return
  const bySecond = new Map(outcome.points.map((p) => [p.second, check(c, p)]))
  for (const r of bySecond.values()) t.true(r.exact, r.note)
  for (let s = T0; s < T0 + 10; s++) t.is(bySecond.get(s)?.keys, 30, `finalized before the crash: second ${s}`)
  for (let s = T0 + 13; s < T0 + 30; s++) t.is(bySecond.get(s)?.keys, 29, `after the takeover: second ${s}`)
})

test('a node whose messages are 2 s late is merged late, not dropped, and not doubled', (t) => {
  const probe = cluster({ nodes: 30 })
  const slow = probe.nodes.findIndex((n) => n.core!.position(ID).depth >= 2 && !n.core!.isHolder(ID))
  const c = cluster({ nodes: 30, extraDelay: (from) => (from === slow ? 2000 : 0) })
  const rootStores: Array<[number, number]> = []
  c.onOutput = (node, o) => { if (o.type === 'store' && node.core?.position(ID).parent === undefined) rootStores.push([o.point.second, o.point.minreporting]) }
  c.runFor(25_000)
  const pts = points(c, rootOf(c), T0, T0 + 20)
  for (const p of pts) {
    const r = check(c, p)
    t.true(r.exact, r.note)
    t.is(r.keys, 30, `second ${p.second}`)
  }
  t.true(c.nodes.reduce((s, n) => s + n.core!.counters.late, 0) >= 20, 'its partials travelled as late ones')
  // Its acks come 2 s late too: its children take it for silent and re-send to their new parents
  // what it had not acked. Those resent pieces travel alone, so a duplicate refuses only itself.
  const resent = c.nodes.reduce((s, n) => s + n.core!.counters.resent, 0)
  const duplicates = c.nodes.reduce((s, n) => s + n.core!.counters.dropped.duplicate, 0)
  t.true(duplicates <= resent, `${duplicates} duplicates refused, ${resent} pieces re-sent`)
  // Each second was finalized with 29 first, then completed by the late piece.
  t.true(rootStores.some(([s, m]) => s === T0 + 5 && m === 29) && rootStores.some(([s, m]) => s === T0 + 5 && m === 30))
})

test('granularity 5 rolls five seconds into one point at the holders', (t) => {
  const c = cluster({ nodes: 20, instrumentations: [{ id: ID, spec: { ...DECO, granularity: 5, expectedSources: 20 } }] })
  c.runFor(31_000)
  const pts = points(c, rootOf(c), T0, T0 + 30)
  t.deepEqual(pts.map((p) => p.second), [0, 5, 10, 15, 20, 25].map((k) => T0 + k))
  for (const p of pts) {
    const r = check(c, p, 5)
    t.true(r.exact, r.note)
    t.is(r.keys, 20)
    t.is(p.minreporting, 20)
  }
})

test('a new highest-scoring node joins: it becomes the root and pulls the history', (t) => {
  const n = 20
  const all = membersOf(Array.from({ length: n + 1 }, (_, i) => clusterPeerId(i)))
  // An instrumentation whose top scorer is node n, the one that joins later.
  let id = ''
  for (let k = 0; id === ''; k++) if (holdersOf(all, instrumentationKey(`join-${k}`), 1)[0] === clusterPeerId(n)) id = `join-${k}`
  const c = createMergeCluster({
    seed: 'join', nodes: n + 1, initial: n, detectionMs: 2000,
    instrumentations: [{ id, spec: { ...DECO, expectedSources: n } }],
    localValue: (i, s) => byNode(i, s)
  })
  c.runUntil((T0 + 12) * 1000 + 300)
  const oldRoot = rootOf(c, id)
  c.join(n)
  c.runUntil((T0 + 31) * 1000)
  t.is(rootOf(c, id), n)
  t.true(c.nodes[oldRoot]!.core!.isHolder(id), 'the old root is a replica now')
  // Both the new root (which pulled the history and got the old root's last seconds handed over)
  // and the old root (which pulled the seconds the newcomer finalized alone) are complete.
  for (const [who, node] of [['new root', n], ['old root', oldRoot]] as const) {
    const pts = c.nodes[node]!.core!.queryLocal(id, T0, T0 + 30)
    t.is(pts.length, 30, who)
    for (const p of pts) {
      if (p.value.type !== 'decomposition') { t.fail(); continue }
      for (const [key, v] of p.value.keys) t.is(v, f(Number(key.slice(1)), p.second), `${who}: ${p.second} ${key}`)
      t.is(p.value.keys.size, contributors(c, p.second, id).length, `${who}: second ${p.second} complete`)
    }
  }
})

test('no schedule of crashes, joins and delays ever counts a contributor twice', (t) => {
  const schedule = fc.record({
    seed: fc.nat(),
    latency: fc.integer({ min: 1, max: 300 }),
    slow: fc.nat(11),
    slowBy: fc.constantFrom(0, 400, 1500, 3000),
    crashes: fc.array(fc.tuple(fc.nat(11), fc.integer({ min: 1, max: 14 })), { maxLength: 3 }),
    joins: fc.array(fc.integer({ min: 1, max: 14 }), { maxLength: 2 }),
    detectionMs: fc.integer({ min: 200, max: 4000 })
  })
  holds(t, fc.property(schedule, (s) => {
    const c = createMergeCluster({
      seed: s.seed, nodes: 12, initial: 10, detectionMs: s.detectionMs, latency: { min: 1, max: s.latency },
      extraDelay: (from) => (from === s.slow ? s.slowBy : 0),
      instrumentations: [{ id: ID, spec: { ...DECO, expectedSources: 10 } }],
      localValue: (i, t) => byNode(i, t), config: { lateWindowSeconds: 30 }
    })
    const events = [
      ...s.crashes.map(([node, at]) => ({ at, act: () => { if (c.nodes[node]!.core !== undefined && c.live().length > 2) c.crash(node) } })),
      ...s.joins.map((at, k) => ({ at, act: () => { if (c.nodes[10 + k]!.core === undefined) c.join(10 + k) } }))
    ].sort((a, b) => a.at - b.at)
    for (const e of events) { c.runUntil((T0 + e.at) * 1000 + 500); e.act() }
    c.runUntil((T0 + 20) * 1000)
    for (const node of c.live()) {
      for (const p of node.core!.queryLocal(ID, T0, T0 + 20)) {
        const r = check(c, p)
        if (!r.exact) throw new Error(`node ${node.index}: ${r.note}`)
        if (p.minreporting > contributors(c, p.second).length) throw new Error(`${p.second}: minreporting ${p.minreporting} above the contributors`)
      }
    }
    return true
  }), { numRuns: 25 })
})
