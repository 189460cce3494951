/** The virtual-time harness itself: latency, partitions, cut links, bounded driving. */
import test from 'ava'
import { clusterPeerId, createCluster } from '../../../node/core/cluster.js'

const DEF = '{"idle-max":0,"module":"syscall","stat":"syscalls"}'

function ready (n: number, seed: string, latency = { min: 1, max: 5 }): ReturnType<typeof createCluster> {
  const c = createCluster({ seed, nodes: n, latency })
  c.runUntil(() => c.liveCores().length === n && c.liveCores().every((core) => core.liveCount === n), 30_000)
  return c
}

test('a publication arrives after gossipHops latencies within the configured range', (t) => {
  const c = ready(2, 'latency', { min: 20, max: 30 })
  const id = c.create(0, DEF)
  const took = c.runUntil(() => c.nodes[1]?.core?.getDefinition(id) !== undefined, 1000, 1)
  t.true(took >= 40 && took <= 61, `took ${took} ms`)
})

test('a partition stops messages between groups until healed', (t) => {
  const c = ready(4, 'partition')
  c.partition([[0, 1], [2, 3]])
  const id = c.create(0, DEF)
  c.runFor(2000)
  t.truthy(c.nodes[1]?.core?.getDefinition(id))
  t.is(c.nodes[2]?.core?.getDefinition(id), undefined)
  c.heal()
  c.runUntil(() => c.liveCores().every((core) => core.getDefinition(id) !== undefined), 180_000, 100)
  t.true(c.dropped > 0)
})

test('a cut link blocks only that pair', (t) => {
  const c = ready(3, 'cut')
  c.cut(0, 1)
  const id = c.create(0, DEF)
  c.runFor(100)
  t.is(c.nodes[1]?.core?.getDefinition(id), undefined)
  t.truthy(c.nodes[2]?.core?.getDefinition(id))
})

test('driveBounded settles the network and fails when messages outlast the bound', (t) => {
  const c = ready(5, 'drive')
  c.driveBounded()
  c.create(0, DEF)
  t.throws(() => c.driveBounded(2), { message: /in flight after 2 steps/ })
  const steps = c.driveBounded(1000)
  t.true(steps > 0 && steps <= 1000)
  t.is(c.driveBounded(10), 0)
})

test('a crashed node receives nothing and keeps its persisted state for a restart', (t) => {
  const c = ready(3, 'crash')
  const id = c.create(1, DEF)
  c.runFor(100)
  c.crash(2)
  t.is(c.nodes[2]?.core, undefined)
  t.truthy(c.nodes[2]?.persisted?.replica.entries.some((e) => e.id === id))
  c.restart(2)
  t.truthy(c.nodes[2]?.core?.getDefinition(id))
  t.is(c.nodes[2]?.lives, 2)
})

test('peer ids look like libp2p ids and are unique', (t) => {
  const ids = Array.from({ length: 2000 }, (_, i) => clusterPeerId(i))
  t.is(new Set(ids).size, ids.length)
  for (const id of ids.slice(0, 10)) t.regex(id, /^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/)
})

test('one interner shared by every node or one per node: the same protocol, the same outcome', (t) => {
  // Random choices (probe order, gossip targets) are drawn over member numbers, which differ
  // between the two layouts, so the runs differ in detail; what they converge to does not.
  const run = (interner: 'shared' | 'private'): ReturnType<typeof createCluster> => {
    const c = createCluster({ seed: 'interner', nodes: 8, interner, loss: 0.02 })
    c.runFor(5000)
    c.create(1, DEF)
    c.crash(3)
    c.runFor(60_000)
    return c
  }
  const views = (c: ReturnType<typeof createCluster>): string[][] =>
    c.liveCores().map((core) => core.members().map((m) => `${m.member.id}:${m.member.incarnation}:${m.state}`).sort())
  const shared = run('shared')
  const own = run('private')
  t.deepEqual(views(shared), views(own))
  t.true(views(shared).every((v) => v.filter((m) => m.endsWith(':dead')).length === 1))
  t.deepEqual(shared.liveCores().map((core) => core.listDefinitions().length), own.liveCores().map((core) => core.listDefinitions().length))
})

test('a warm start begins with the whole mesh in every view, without joining', (t) => {
  const c = createCluster({ seed: 'warm', nodes: 40, warm: true, wire: 'objects' })
  const syncs: string[] = []
  c.onOutput = (_node, o) => { if (o.type === 'send' && o.message.type === 'sync-members') syncs.push(o.message.type) }
  c.runFor(1)
  t.true(c.liveCores().length === 40 && c.liveCores().every((core) => core.liveCount === 40))
  t.true(c.liveCores().every((core) => core.members().every((m) => m.state === 'alive')))
  c.runFor(20_000)
  t.deepEqual(syncs, [], 'equal digests: no entries exchanged')
  t.true(c.liveCores().every((core) => core.liveCount === 40))
  // A restart is cold: it joins through its seed and is seen again everywhere.
  c.crash(5)
  c.runFor(40_000)
  c.restart(5)
  c.runUntil(() => c.liveCores().every((core) => core.liveCount === 40), 30_000)
  t.true(syncs.length > 0)
})
