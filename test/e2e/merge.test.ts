/**
 * The merge tree end to end: eight real daemons on loopback with the synthetic backend, whose
 * workloads the test computes itself (truth.ts), so every merged second can be checked exactly.
 * Fan-in 2 gives the eight a tree with inner nodes. The tests run in order on one mesh: exact
 * seconds, a mid-tree node killed, another frozen (SIGSTOP: a host gone without resetting its
 * connections), the root killed, then every node restarted with persist-data.
 */
import test from 'ava'
import { join } from 'node:path'
import { api, keygen, startDaemon, startMesh, tempDir, waitFor, type Daemon, type Teardown } from './harness.js'
import { excessOver, syntheticTruthCa } from './truth.js'

const cleanups: Array<() => Promise<void> | void> = []
const suite: Teardown = { teardown: (fn) => { cleanups.push(fn) } }
test.after.always(async () => { for (const fn of cleanups.reverse()) await fn() })

const ARGS = ['--fan-in', '2']
const SYNTHETIC = { module: 'synthetic', stat: 'ops', decomposition: ['key', 'latency'] }
const DECOMPOSITION = ['key', 'latency']
const WINDOW = 30
/** Time budget of one daemon's start. */
const START = 120_000

let dir = ''
let key = ''
let mesh: Daemon[] = []
/** The instrumentation under test (no persistence) and its twin with persist-data. */
let id = ''
let persisted = ''
/** The first second of the exact window, and the hosts alive in it. */
let first = 0

interface RawPoint { value: any, start_time: number, nsources: number, minreporting: number } // eslint-disable-line @typescript-eslint/no-explicit-any
interface TreeState { parent: string | null, children: string[], depth: number, holders: string[], isHolder: boolean }

const nowSecond = (): number => Math.floor(Date.now() / 1000)
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const alive = (): Daemon[] => mesh.filter((d) => d.child.exitCode === null && d.child.signalCode === null)

async function raw (d: Daemon, inst: string, start: number, n: number): Promise<RawPoint[]> {
  const r = await api(d, 'GET', `/ca/instrumentations/${inst}/value/raw?start_time=${start}&duration=1&ndatapoints=${n}&timeout=0`)
  if (r.status !== 200) throw new Error(`raw from ${d.name}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body as RawPoint[]
}

async function tree (d: Daemon, inst: string): Promise<TreeState> {
  const state = (await api(d, 'GET', '/debug/state')).body
  return state.merge.instrumentations[inst] as TreeState
}

/**
 * Waits until a second `s` >= `from` is merged at the root from `n` contributors, as seen from
 * `d`. `from` matters: a second before a fault can also have `n` contributors, but a different
 * `n` (a frozen node's own piece arrived, a child's stuck in it did not).
 */
async function waitMerged (what: string, d: Daemon, inst: string, n: number, from: number, timeoutMs: number): Promise<number> {
  let at = 0
  await waitFor(what, timeoutMs, async () => {
    const s = nowSecond() - 3
    if (s < from) return false
    const [p] = await raw(d, inst, s, 1)
    if (p?.minreporting === n) { at = s; return true }
    return false
  }, 250)
  return at
}

test.serial('eight daemons: every second of a 30 s window, queried from any node, is the exact sum of the eight workloads', async (t) => {
  dir = await tempDir(suite, 'merge')
  key = join(dir, 'network.key')
  await keygen(key)
  // Eight processes compiling TypeScript on a shared 2-core machine: two at a time, and patience.
  mesh = await startMesh(suite, 8, { key, dir, args: ARGS, concurrency: 2, startTimeoutMs: START })
  await waitFor('eight alive members everywhere', 60_000, async () => {
    for (const d of mesh) {
      const { body } = await api(d, 'GET', '/debug/state')
      if ((body.members as Array<{ state: string }>).filter((m) => m.state === 'alive').length !== 8) return false
    }
    return true
  })
  const a = mesh[0]!
  const createdAt = Date.now()
  id = (await api(a, 'POST', '/ca/instrumentations', SYNTHETIC)).body.id as string
  persisted = (await api(mesh[3]!, 'POST', '/ca/instrumentations', { ...SYNTHETIC, 'persist-data': true })).body.id as string
  const took = await waitMerged('a second merged from all eight', mesh[5]!, id, 8, 0, 60_000)
  await waitMerged('the persisted twin merged from all eight', mesh[5]!, persisted, 8, 0, 60_000)
  first = took + 1
  t.log(`created -> a second complete from all eight within ${((Date.now() - createdAt) / 1000).toFixed(1)} s`)
  // Let the window pass, plus the merge deadlines.
  while (nowSecond() < first + WINDOW + 3) await sleep(500)

  const hosts = mesh.map((d) => d.name)
  const state = await tree(a, id)
  const root = state.holders[0]
  const askers = mesh.filter((d) => d.peerId !== root).slice(0, 2)
  t.is(askers.length, 2)
  for (const asker of askers) {
    const points = await raw(asker, id, first, WINDOW)
    t.is(points.length, WINDOW)
    for (const [i, p] of points.entries()) {
      const second = first + i
      t.is(p.start_time, second)
      t.is(p.minreporting, 8, `second ${second} from ${asker.name}`)
      t.is(p.nsources, 8, `second ${second} from ${asker.name}`)
      t.deepEqual(p.value, syntheticTruthCa(hosts, second, DECOMPOSITION), `second ${second} from ${asker.name}`)
    }
  }
})

test.serial('a mid-tree node killed: no survivor loses a second, and no second ever exceeds the truth', async (t) => {
  t.truthy(id, 'the first test created the instrumentation')
  const states = await Promise.all(mesh.map(async (d) => ({ d, s: await tree(d, id) })))
  const holders = new Set(states[0]!.s.holders)
  const inner = states.find(({ d, s }) => s.children.length > 0 && !holders.has(d.peerId))
  t.truthy(inner, `a fan-in of 2 over 8 nodes has an inner node outside the holders: ${JSON.stringify(states.map(({ d, s }) => [d.name, s.children.length, s.isHolder]))}`)
  const victim = inner!.d
  const killedAt = nowSecond()
  await victim.kill()
  const asker = alive().find((d) => !holders.has(d.peerId))!
  const merged = await waitMerged('the seven survivors merged again', asker, id, 7, killedAt + 1, 60_000)
  t.log(`killed ${victim.name} (${inner!.s.children.length} children) -> seven merged again from second ${merged}, ${merged - killedAt} s after the kill`)

  const hosts = mesh.map((d) => d.name)
  const survivors = hosts.filter((h) => h !== victim.name)
  while (nowSecond() < merged + 6) await sleep(500)
  const points = await raw(asker, id, first, merged + 3 - first)
  for (const p of points) {
    t.is(excessOver(p.value, syntheticTruthCa(hosts, p.start_time, DECOMPOSITION)), undefined, `second ${p.start_time}`)
    t.true(p.minreporting <= 8)
    // No survivor loses a second: what the victim had not acked was re-sent to the new parents.
    if (p.start_time > killedAt) {
      t.is(p.minreporting, 7, `second ${p.start_time}`)
      t.deepEqual(p.value, syntheticTruthCa(survivors, p.start_time, DECOMPOSITION), `second ${p.start_time}`)
    }
  }
})

test.serial('a mid-tree node frozen (its connections stay open, nothing answers): no survivor loses a second', async (t) => {
  t.truthy(id, 'the first test created the instrumentation')
  const live = alive()
  const states = await Promise.all(live.map(async (d) => ({ d, s: await tree(d, id) })))
  const root = states[0]!.s.holders[0]
  const inner = states.find(({ d, s }) => s.children.length > 0 && d.peerId !== root)
  t.truthy(inner, `a fan-in of 2 over 7 nodes has an inner node besides the root: ${JSON.stringify(states.map(({ d, s }) => [d.name, s.children.length]))}`)
  const victim = inner!.d
  const children = states.filter(({ s }) => s.parent === victim.peerId).map(({ d }) => d)
  const frozenAt = nowSecond()
  victim.child.kill('SIGSTOP')
  try {
    const asker = live.find((d) => d !== victim && d.peerId !== root)!
    const merged = await waitMerged('the six others merged again', asker, id, 6, frozenAt + 1, 60_000)
    const silent = await Promise.all(children.map(async (d) => ((await api(d, 'GET', '/debug/state')).body.merge.counters.parentsSilent as number)))
    t.log(`froze ${victim.name} (children ${children.map((d) => d.name).join(', ')}; parents routed around for a missing ack: ${silent.join(', ')}) -> six merged again from second ${merged}, ${merged - frozenAt} s after`)
    const hosts = mesh.map((d) => d.name)
    const others = live.filter((d) => d !== victim).map((d) => d.name)
    // Re-sent pieces count once they reach the root (an overdue ack, then the next sweep): the
    // last second checked is complete a few seconds after it ends.
    while (nowSecond() < merged + 12) await sleep(500)
    for (const p of await raw(asker, id, frozenAt - 2, merged + 3 - (frozenAt - 2))) {
      t.is(excessOver(p.value, syntheticTruthCa(hosts, p.start_time, DECOMPOSITION)), undefined, `second ${p.start_time}`)
      // Nor here: a silent parent's unacked partials (acked only once they went up) are re-sent.
      if (p.start_time > frozenAt) {
        t.is(p.minreporting, 6, `second ${p.start_time}`)
        t.deepEqual(p.value, syntheticTruthCa(others, p.start_time, DECOMPOSITION), `second ${p.start_time}`)
      }
    }
  } finally {
    // Dead from here on, as the killed one (the restart test brings both back).
    await victim.kill()
  }
})

test.serial('the root killed: a replica serves the whole history and the new seconds', async (t) => {
  t.truthy(id, 'the first test created the instrumentation')
  const live = alive()
  const rootId = (await tree(live[0]!, id)).holders[0]
  const root = live.find((d) => d.peerId === rootId)
  t.truthy(root, 'the root is one of the live daemons')
  const killedAt = nowSecond()
  await root!.kill()
  const asker = alive()[0]!
  const merged = await waitMerged('the five survivors merged under the new root', asker, id, 5, killedAt + 1, 60_000)
  t.log(`killed the root ${root!.name} -> five merged again from second ${merged}, ${merged - killedAt} s after the kill`)

  const hosts = mesh.map((d) => d.name)
  const history = await raw(asker, id, first, WINDOW)
  for (const p of history) {
    t.is(p.minreporting, 8, `history second ${p.start_time}`)
    t.deepEqual(p.value, syntheticTruthCa(hosts, p.start_time, DECOMPOSITION), `history second ${p.start_time}`)
  }
  const survivors = alive().map((d) => d.name)
  while (nowSecond() < merged + 5) await sleep(500)
  for (const p of await raw(asker, id, merged, 3)) {
    t.is(p.minreporting, 5, `new second ${p.start_time}`)
    t.deepEqual(p.value, syntheticTruthCa(survivors, p.start_time, DECOMPOSITION), `new second ${p.start_time}`)
  }
})

test.serial('every node restarted: the persisted history is still there', async (t) => {
  t.truthy(persisted, 'the first test created the persisted instrumentation')
  await Promise.all(alive().map(async (d) => { await d.stop() }))
  const restarted: Daemon[] = []
  const seed = await startDaemon(suite, { name: mesh[0]!.name, dataDir: mesh[0]!.dataDir, key, args: ARGS, startTimeoutMs: START })
  restarted.push(seed)
  for (let i = 1; i < mesh.length; i += 2) {
    restarted.push(...await Promise.all(mesh.slice(i, i + 2).map(async (d) => await startDaemon(suite, { name: d.name, dataDir: d.dataDir, key, bootstrap: seed.addresses, args: ARGS, startTimeoutMs: START }))))
  }
  mesh = restarted
  const hosts = mesh.map((d) => d.name)
  const asker = mesh[6]!
  // The holders restore their points from disk and find each other again.
  await waitFor('the persisted window answered', 90_000, async () => {
    const points = await raw(asker, persisted, first, 20)
    return points.every((p) => p.minreporting === 8)
  }, 500)
  for (const p of await raw(asker, persisted, first, 20)) {
    t.is(p.minreporting, 8, `second ${p.start_time}`)
    t.deepEqual(p.value, syntheticTruthCa(hosts, p.start_time, DECOMPOSITION), `second ${p.start_time}`)
  }
})
