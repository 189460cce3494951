/**
 * The definition replica: its merge rule, its commands, and its convergence in the virtual-time
 * cluster (gossip, anti-entropy after downtime and partitions, tombstone collection, idle-max).
 */
import test from 'ava'
import fc from 'fast-check'
import { HeatmeshError, InvalidFieldError } from '../../../metad/index.js'
import { createCluster, type Cluster } from '../../../node/core/cluster.js'
import { accessSlack, compareEntries, Definitions, type DefinitionsOutput, type PeerView } from '../../../node/core/definitions.js'
import type { DefinitionEntry, DefinitionId } from '../../../node/core/messages.js'
import { createRng } from '../../../node/core/rng.js'

function defJson (stat: string, idleMax = 3600, retention = 600): string {
  return JSON.stringify({ decomposition: [], enabled: true, granularity: 1, 'idle-max': idleMax, module: 'syscall', 'persist-data': false, predicate: {}, 'retention-time': retention, stat })
}

function converged (c: Cluster, n: number): boolean {
  const cores = c.liveCores()
  return cores.length === n && cores.every((core) => core.liveCount === n)
}

function sameReplicas (c: Cluster): boolean {
  const cores = c.liveCores()
  const first = JSON.stringify(cores[0]?.definitionEntries())
  return cores.every((core) => JSON.stringify(core.definitionEntries()) === first)
}

function readyCluster (n: number, seed: string, options: Parameters<typeof createCluster>[0] extends infer O ? Partial<O> : never = {}): Cluster {
  const c = createCluster({ seed, nodes: n, ...options })
  c.runUntil(() => converged(c, n), 30_000)
  return c
}

const live = (c: Cluster, i: number, id: DefinitionId): boolean => c.nodes[i]?.core?.getDefinition(id) !== undefined

// ---- the merge rule -------------------------------------------------------------------------------

const liveEntry = (wall: number, origin = 'a', definition = '{}'): DefinitionEntry => ({ id: '0000000000000001', version: { wall, logical: 0, origin }, state: 'live', definition, crtime: 1 })
const tombstone = (wall: number, origin = 'a'): DefinitionEntry => ({ id: '0000000000000001', version: { wall, logical: 0, origin }, state: 'deleted' })

test('a tombstone beats a live entry whatever their versions', (t) => {
  t.true(compareEntries(tombstone(1), liveEntry(1000)) > 0)
  t.true(compareEntries(liveEntry(1000), tombstone(1)) < 0)
})

test('between live entries, and between tombstones, the higher version wins, origin breaking ties', (t) => {
  t.true(compareEntries(liveEntry(2), liveEntry(1)) > 0)
  t.true(compareEntries(liveEntry(1, 'b'), liveEntry(1, 'a')) > 0)
  t.true(compareEntries(tombstone(5), tombstone(4)) > 0)
  t.is(compareEntries(liveEntry(1), liveEntry(1)), 0)
})

test('the merge is order-independent: any order of the same entries gives the same replica', (t) => {
  const arbEntry = fc.record({
    wall: fc.integer({ min: 1, max: 5 }), logical: fc.integer({ min: 0, max: 2 }), origin: fc.constantFrom('a', 'b'), dead: fc.boolean(), id: fc.constantFrom('0000000000000001', '0000000000000002')
  }).map(({ wall, logical, origin, dead, id }): DefinitionEntry => dead
    ? { id, version: { wall, logical, origin }, state: 'deleted' }
    : { id, version: { wall, logical, origin }, state: 'live', definition: `{"w":${wall}}`, crtime: 1 })
  const view: PeerView = { randomLivePeer: () => undefined, isLive: () => true, lowestLiveId: () => 'x' }
  const result = fc.check(fc.property(fc.array(arbEntry, { maxLength: 12 }), fc.integer(), (entries, seed) => {
    const replica = (order: DefinitionEntry[]): string => {
      const d = new Definitions({ self: 'x', rng: createRng(1), view, now: 10 })
      d.gossip('p', { type: 'def-update', entries: order }, 10)
      return JSON.stringify(d.entries())
    }
    const shuffled = [...entries].sort(() => (createRng(seed).uint32() & 1) - 0.5)
    const twice = [...entries, ...entries.reverse()]
    return replica(entries) === replica(shuffled) && replica(entries) === replica(twice)
  }))
  t.false(result.failed, fc.defaultReportMessage(result))
})

// ---- commands -------------------------------------------------------------------------------------

function lonely (self = 'x', seed = 1): Definitions {
  const view: PeerView = { randomLivePeer: () => undefined, isLive: (id) => id === self, lowestLiveId: () => self }
  return new Definitions({ self, rng: createRng(seed), view, now: 1000 })
}

test('create rejects a definition that is not a JSON object, too large, or with a bad idle-max', (t) => {
  const d = lonely()
  t.throws(() => d.create('[1,2]', 1000), { instanceOf: InvalidFieldError })
  t.throws(() => d.create('{nope', 1000), { instanceOf: InvalidFieldError })
  t.throws(() => d.create(JSON.stringify({ pad: 'x'.repeat(17_000) }), 1000), { instanceOf: InvalidFieldError })
  t.throws(() => d.create('{"idle-max":"soon"}', 1000), { instanceOf: InvalidFieldError })
  t.deepEqual(d.list(), [])
})

test('updating or deleting an unknown or deleted id is ECA_NOENT', (t) => {
  const d = lonely()
  t.throws(() => d.update('00000000000000aa', '{}', 1000), { instanceOf: HeatmeshError, message: /no instrumentation/ })
  const { id } = d.create(defJson('a'), 1000)
  d.delete(id, 1001)
  const err = t.throws(() => d.delete(id, 1002), { instanceOf: HeatmeshError })
  t.is(err?.code, 'ECA_NOENT')
  t.throws(() => d.update(id, defJson('b'), 1003), { instanceOf: HeatmeshError })
})

test('two nodes whose random sources are seeded alike still mint different ids', (t) => {
  const a = lonely('peer-a', 7)
  const b = lonely('peer-b', 7)
  const ids = [a.create('{}', 1).id, b.create('{}', 1).id]
  t.not(ids[0], ids[1])
  for (const id of ids) t.regex(id, /^[0-9a-f]{16}$/)
})

test('an update is a new version with the same crtime, and events say what changed', (t) => {
  const d = lonely()
  const { id, outputs } = d.create(defJson('a'), 5000)
  t.deepEqual(outputs.map((o) => o.type === 'definition' ? `${o.type}:${o.change}` : o.type), ['definition:created', 'publish'])
  const updated = d.update(id, defJson('a', 60), 6000)
  t.true(updated.some((o) => o.type === 'definition' && o.change === 'updated'))
  t.is(d.get(id)?.crtime, 5000)
  t.is(d.get(id)?.definition, defJson('a', 60))
  const deleted = d.delete(id, 7000)
  t.true(deleted.some((o) => o.type === 'definition' && o.change === 'deleted'))
  t.is(d.get(id), undefined)
  t.is(d.entries()[0]?.state, 'deleted')
})

test('a version far ahead of our clock is refused', (t) => {
  const d = lonely()
  const now = 1_000_000
  const out: DefinitionsOutput[] = d.gossip('p', { type: 'def-update', entries: [{ id: '00000000000000ff', version: { wall: now + 3_600_000, logical: 0, origin: 'p' }, state: 'live', definition: '{}', crtime: now }] }, now)
  t.deepEqual(out, [])
  t.deepEqual(d.entries(), [])
  t.is((d.debugState() as { counters: { refusedFuture: number } }).counters.refusedFuture, 1)
})

test('accesses are published at most once per slack, and only for reapable definitions', (t) => {
  const d = lonely()
  const { id } = d.create(defJson('a', 600), 0)
  const forever = d.create(defJson('b', 0), 0).id
  let published = 0
  for (let now = 0; now < 300_000; now += 500) {
    published += d.touch(id, now).filter((o) => o.type === 'publish').length
    published += d.touch(forever, now).filter((o) => o.type === 'publish').length
  }
  t.is(accessSlack(600_000), 60_000)
  t.is(published, 5)
  t.is(d.lastAccess(id), 299_500)
})

// ---- in the cluster -------------------------------------------------------------------------------

test('a definition created on one node is on every node within two seconds', (t) => {
  const c = readyCluster(5, 'create')
  const created: number[] = []
  c.onOutput = (node, o) => { if (o.type === 'definition' && o.change === 'created') created.push(node.index) }
  const id = c.create(0, defJson('syscalls'))
  const took = c.runUntil(() => [0, 1, 2, 3, 4].every((i) => live(c, i, id)), 2000, 1)
  t.log(`visible everywhere after ${took} ms`)
  t.deepEqual(created.sort(), [0, 1, 2, 3, 4])
  t.is(c.nodes[3]?.core?.getDefinition(id)?.definition, defJson('syscalls'))
})

test('a delete on another node removes it everywhere, and an update reaches everyone', (t) => {
  const c = readyCluster(5, 'delete')
  const a = c.create(0, defJson('a'))
  const b = c.create(1, defJson('b'))
  c.runFor(100)
  c.act(2, (core, now) => core.updateDefinition(b, defJson('b', 60), now))
  c.act(2, (core, now) => core.deleteDefinition(a, now))
  const took = c.runUntil(() => [0, 1, 2, 3, 4].every((i) => !live(c, i, a) && c.nodes[i]?.core?.getDefinition(b)?.definition === defJson('b', 60)), 2000, 1)
  t.log(`delete and update everywhere after ${took} ms`)
  t.true(sameReplicas(c))
})

test('a node down during creates and deletes converges after its restart', (t) => {
  const c = readyCluster(5, 'down')
  const old = c.create(0, defJson('old'))
  c.runFor(1000)
  c.crash(3)
  const fresh = [c.create(0, defJson('x')), c.create(1, defJson('y')), c.create(4, defJson('z'))]
  c.act(2, (core, now) => core.deleteDefinition(old, now))
  c.runFor(20_000)
  c.restart(3)
  const took = c.runUntil(() => sameReplicas(c) && c.liveCores().length === 5, 5000, 10)
  t.log(`restarted node converged in ${took} ms`)
  t.false(live(c, 3, old))
  for (const id of fresh) t.true(live(c, 3, id))
})

test('a restarted node resumes its definitions: they are reported at start', (t) => {
  const c = readyCluster(3, 'resume')
  const id = c.create(0, defJson('keep'))
  c.runFor(1000)
  c.crash(1)
  const reported: string[] = []
  c.onOutput = (node, o) => { if (node.index === 1 && o.type === 'definition') reported.push(`${o.change}:${o.id}`) }
  c.restart(1)
  t.deepEqual(reported, [`created:${id}`])
})

test('a node that missed a publication converges by periodic anti-entropy', (t) => {
  const c = readyCluster(5, 'missed')
  for (const j of [0, 1, 2, 3]) c.cut(4, j)
  const id = c.create(0, defJson('missed'))
  c.runFor(200)
  for (const j of [0, 1, 2, 3]) c.mend(4, j)
  t.false(live(c, 4, id))
  const took = c.runUntil(() => live(c, 4, id), 60_000, 100)
  t.log(`repaired by anti-entropy after ${took} ms`)
  t.true(sameReplicas(c))
})

test('concurrent creates on two nodes both exist everywhere, with distinct ids', (t) => {
  const c = readyCluster(5, 'concurrent')
  const ids = [c.create(0, defJson('same')), c.create(4, defJson('same'))]
  c.runUntil(() => sameReplicas(c), 2000, 1)
  t.not(ids[0], ids[1])
  for (const core of c.liveCores()) t.deepEqual(core.listDefinitions().map((e) => e.id).sort(), [...ids].sort())
})

test('property: after random operations, crashes and partitions, every live node holds the same map', (t) => {
  type Op =
    | { kind: 'create' | 'delete' | 'update' | 'crash' | 'restart', node: number, pick: number }
    | { kind: 'partition', side: number[] }
    | { kind: 'heal' }
    | { kind: 'wait', ms: number }
  const n = 6
  const arbOp: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('create' as const, 'delete' as const, 'update' as const), node: fc.nat(n - 1), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('crash' as const, 'restart' as const), node: fc.nat(n - 1), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.uniqueArray(fc.nat(n - 1), { minLength: 1, maxLength: n - 1 }).map((side): Op => ({ kind: 'partition', side })) },
    { weight: 1, arbitrary: fc.constant<Op>({ kind: 'heal' }) },
    { weight: 3, arbitrary: fc.integer({ min: 10, max: 40_000 }).map((ms): Op => ({ kind: 'wait', ms })) }
  )
  let runs = 0
  const result = fc.check(fc.property(fc.array(arbOp, { minLength: 5, maxLength: 25 }), fc.integer(), (ops, seed) => {
    runs++
    const c = readyCluster(n, `prop-${seed}`)
    const created: string[] = []
    const deleted = new Set<string>()
    for (const op of ops) {
      switch (op.kind) {
        case 'create':
        case 'delete':
        case 'update': {
          const core = c.nodes[op.node]?.core
          if (core === undefined) break
          if (op.kind === 'create') { created.push(c.create(op.node, defJson(`s${created.length}`))); break }
          const list = core.listDefinitions()
          const target = list[op.pick % Math.max(1, list.length)]
          if (target === undefined) break
          if (op.kind === 'delete') { c.act(op.node, (k, now) => k.deleteDefinition(target.id, now)); deleted.add(target.id) } else c.act(op.node, (k, now) => k.updateDefinition(target.id, defJson(`u${op.pick}`), now))
          break
        }
        case 'crash':
          if (c.liveCores().length > 2 && c.nodes[op.node]?.core !== undefined) c.crash(op.node)
          break
        case 'restart':
          if (c.nodes[op.node]?.core === undefined) c.restart(op.node)
          break
        case 'partition': c.partition([op.side]); break
        case 'heal': c.heal(); break
        case 'wait': c.runFor(op.ms); break
      }
    }
    c.heal()
    for (const node of c.nodes) if (node.core === undefined) c.restart(node.index)
    c.runUntil(() => converged(c, n) && sameReplicas(c), 300_000, 500)
    const final = c.liveCores()[0]?.definitionEntries() ?? []
    const byId = new Map(final.map((e) => [e.id, e]))
    return new Set(created).size === created.length &&
      created.every((id) => byId.has(id)) &&
      [...deleted].every((id) => byId.get(id)?.state === 'deleted')
  }), { numRuns: 25 })
  t.false(result.failed, fc.defaultReportMessage(result))
  t.is(runs, 25)
})

test('tombstones are collected after the grace, and a node back from a longer absence does not resurrect', (t) => {
  const grace = 600_000
  const c = readyCluster(4, 'gc', { definitions: { tombstoneGrace: grace } })
  const id = c.create(0, defJson('doomed', 0))
  c.runFor(2000)
  c.crash(3) // node 3 goes down holding the live definition
  c.act(1, (core, now) => core.deleteDefinition(id, now))
  c.runFor(grace + grace / 10 + 60_000)
  for (const core of c.liveCores()) t.false(core.definitionEntries().some((e) => e.id === id), 'tombstone collected')
  t.is(c.nodes[3]?.persisted?.replica.entries.find((e) => e.id === id)?.state, 'live')
  c.restart(3)
  c.runFor(120_000)
  for (const node of c.nodes) t.false(node.core?.definitionEntries().some((e) => e.id === id), `node ${node.index} never brings it back`)
  const debug = c.nodes[3]?.core?.debugState() as { definitions: { counters: { staleDrops: number } } }
  t.is(debug.definitions.counters.staleDrops, 1)
})

test('a node back within the grace receives the tombstone', (t) => {
  const grace = 600_000
  const c = readyCluster(4, 'gc-short', { definitions: { tombstoneGrace: grace } })
  const id = c.create(0, defJson('doomed', 0))
  c.runFor(2000)
  c.crash(3)
  c.act(1, (core, now) => core.deleteDefinition(id, now))
  c.runFor(grace / 2)
  c.restart(3)
  c.runUntil(() => sameReplicas(c) && c.liveCores().length === 4, 10_000, 10)
  t.is(c.nodes[3]?.core?.definitionEntries().find((e) => e.id === id)?.state, 'deleted')
})

test('idle-max: an instrumentation nobody queries is deleted everywhere between idle-max and idle-max plus slack', (t) => {
  const c = readyCluster(4, 'idle')
  const id = c.create(2, defJson('idle', 60))
  const start = c.now
  const took = c.runUntil(() => c.liveCores().every((core) => core.getDefinition(id) === undefined), 200_000, 100)
  t.log(`reaped everywhere ${took} ms after creation (idle-max 60 s)`)
  t.true(took >= 60_000)
  t.true(took <= 60_000 + 2 * accessSlack(60_000) + 10_000 + 1000)
  t.is(c.now - start, took)
})

test('idle-max: queries on any node keep it alive, and the reaper takes over when the owner is gone', (t) => {
  const c = readyCluster(4, 'idle-kept')
  const id = c.create(2, defJson('kept', 60))
  for (let k = 0; k < 10; k++) {
    c.runFor(20_000)
    c.act(k % 2 === 0 ? 0 : 3, (core, now) => core.touchDefinition(id, now))
  }
  t.true(c.liveCores().every((core) => core.getDefinition(id) !== undefined), 'alive after 200 s of queries')
  c.crash(2) // the owner (writer of the current version)
  const took = c.runUntil(() => c.liveCores().every((core) => core.getDefinition(id) === undefined), 300_000, 100)
  t.log(`owner crashed; reaped by the fallback reaper ${took} ms after the last query`)
  t.true(took >= 60_000)
})

test('the reaper\'s timer runs only while a live definition has an idle-max', (t) => {
  const view: PeerView = { randomLivePeer: () => undefined, isLive: () => true, lowestLiveId: () => 'self' }
  // Syncs far away, so the next deadline is the reaper's when it is armed, else the collector's.
  const d = new Definitions({ self: 'self', rng: createRng('reap'), view, now: 0, config: { syncInterval: 1e12 } })
  d.start(0)
  const collector = d.nextDeadline()
  d.create(defJson('never', 0), 1000)
  t.is(d.nextDeadline(), collector, 'idle-max 0 is never reaped: no reaper')
  const { id } = d.create(defJson('idle', 60), 2000)
  t.is(d.nextDeadline(), 2000 + 10_000, 'the reaper looks every reapInterval')
  d.delete(id, 3000)
  d.tick(12_000)
  t.is(d.nextDeadline(), collector, 'nothing left to reap: the reaper stops')
})
