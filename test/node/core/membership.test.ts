/**
 * Membership, driven through MeshCore in the virtual-time cluster: convergence, failure
 * detection, refutation, restarts, leaves, partitions and cost. Times are virtual.
 */
import test, { type ExecutionContext } from 'ava'
import { createCluster, type Cluster } from '../../../node/core/cluster.js'
import { DEFAULT_MEMBERSHIP_CONFIG, detectionBound, Membership, type MembershipOutput } from '../../../node/core/membership.js'
import type { MemberChange } from '../../../node/core/membership.js'
import { cardFingerprint, type MemberRecord, type MemberUpdate } from '../../../node/core/messages.js'
import { createRng } from '../../../node/core/rng.js'

function everyoneSeesEveryone (c: Cluster, n: number): boolean {
  const cores = c.liveCores()
  return cores.length === n && cores.every((core) => core.liveCount === n)
}

function stateOf (c: Cluster, observer: number, subject: number): string | undefined {
  return c.nodes[observer]?.core?.member(c.nodes[subject]?.id ?? '')?.state
}

/** Member events per (observer, change) while watching. */
function watchMembers (c: Cluster): Array<{ observer: number, change: MemberChange, subject: string, at: number }> {
  const events: Array<{ observer: number, change: MemberChange, subject: string, at: number }> = []
  c.onOutput = (node, o, now) => { if (o.type === 'member') events.push({ observer: node.index, change: o.change, subject: o.member.id, at: now }) }
  return events
}

function meanBytesPerNodePerSecond (c: Cluster, seconds: number): number {
  return c.nodes.reduce((sum, n) => sum + n.bytesSent, 0) / c.nodes.length / seconds
}

test('five nodes started together all see each other alive', (t) => {
  const c = createCluster({ seed: 'five', nodes: 5 })
  const took = c.runUntil(() => everyoneSeesEveryone(c, 5), 10_000)
  t.log(`converged in ${took} ms`)
  t.true(took <= 5000)
  for (const core of c.liveCores()) t.true(core.members().every((m) => m.state === 'alive'))
})

test('a crashed node is declared dead by every live node within the stated bound', (t) => {
  const c = createCluster({ seed: 'crash', nodes: 5 })
  c.runUntil(() => everyoneSeesEveryone(c, 5), 10_000)
  c.runFor(10_000)
  c.crash(3)
  const bound = detectionBound(5)
  const took = c.runUntil(() => [0, 1, 2, 4].every((i) => stateOf(c, i, 3) === 'dead'), bound)
  t.log(`declared dead everywhere after ${took} ms (bound ${bound} ms)`)
  t.true(took <= bound)
  t.true(c.liveCores().every((core) => core.liveCount === 4))
})

test('crashes are detected within the bound across seeds, typically in a few seconds', (t) => {
  const times: number[] = []
  for (let seed = 0; seed < 8; seed++) {
    const c = createCluster({ seed: `crash-${seed}`, nodes: 8 })
    c.runUntil(() => everyoneSeesEveryone(c, 8), 20_000)
    c.runFor(5000)
    c.crash(seed % 8)
    const others = [...Array(8).keys()].filter((i) => i !== seed % 8)
    times.push(c.runUntil(() => others.every((i) => stateOf(c, i, seed % 8) === 'dead'), detectionBound(8)))
  }
  times.sort((a, b) => a - b)
  t.log(`8 nodes, detection everywhere: min ${times[0]} ms, median ${times[4]} ms, max ${times[7]} ms; bound ${detectionBound(8)} ms`)
  t.true((times[7] ?? Infinity) <= detectionBound(8))
})

test('no live node is declared dead under 5% message loss', (t) => {
  const c = createCluster({ seed: 'lossy', nodes: 5, loss: 0.05 })
  const events = watchMembers(c)
  c.runUntil(() => everyoneSeesEveryone(c, 5), 20_000)
  c.runFor(300_000)
  const failed = events.filter((e) => e.change === 'failed')
  const suspected = events.filter((e) => e.change === 'suspected')
  t.log(`300 s at 5% loss: ${suspected.length} suspicions (all refuted), ${failed.length} false deaths`)
  t.deepEqual(failed, [])
  t.true(everyoneSeesEveryone(c, 5))
})

test('a member whose direct link is cut stays alive through indirect probes', (t) => {
  const c = createCluster({ seed: 'cut', nodes: 5 })
  const events = watchMembers(c)
  c.runUntil(() => everyoneSeesEveryone(c, 5), 10_000)
  c.cut(0, 1)
  c.runFor(120_000)
  t.deepEqual(events.filter((e) => e.change === 'failed'), [])
  t.true(everyoneSeesEveryone(c, 5))
  const debug = c.nodes[0]?.core?.debugState() as { membership: { counters: { indirectProbes: number } } }
  t.true(debug.membership.counters.indirectProbes > 0)
})

test('a restarted node rejoins with a higher incarnation', (t) => {
  const c = createCluster({ seed: 'restart', nodes: 5 })
  c.runUntil(() => everyoneSeesEveryone(c, 5), 10_000)
  const before = c.nodes[2]?.core?.self.incarnation ?? -1
  c.crash(2)
  c.runUntil(() => [0, 1, 3, 4].every((i) => stateOf(c, i, 2) === 'dead'), detectionBound(5))
  c.restart(2)
  const took = c.runUntil(() => everyoneSeesEveryone(c, 5), 10_000)
  const after = c.nodes[2]?.core?.self.incarnation ?? -1
  t.log(`rejoined everywhere in ${took} ms, incarnation ${before} -> ${after}`)
  t.true(after > before)
  for (const i of [0, 1, 3, 4]) t.is(c.nodes[i]?.core?.member(c.nodes[2]?.id ?? '')?.member.incarnation, after)
})

test('a node restarted without its state file outbids its old incarnation by refutation', (t) => {
  const c = createCluster({ seed: 'amnesia', nodes: 5 })
  c.runUntil(() => everyoneSeesEveryone(c, 5), 10_000)
  // Push node 2's incarnation up, then lose its state: it restarts at incarnation 0.
  c.act(2, (core, now) => core.updateSelf({ name: 'renamed-1' }, now))
  c.act(2, (core, now) => core.updateSelf({ name: 'renamed-2' }, now))
  c.runFor(5000)
  c.crash(2)
  const node = c.nodes[2]
  if (node !== undefined) node.persisted = undefined
  c.restart(2)
  const took = c.runUntil(() => everyoneSeesEveryone(c, 5) && [0, 1, 3, 4].every((i) => c.nodes[i]?.core?.member(c.nodes[2]?.id ?? '')?.member.name === 'node-2'), 20_000)
  t.log(`old card replaced everywhere in ${took} ms; incarnation now ${c.nodes[2]?.core?.self.incarnation}`)
  t.true((c.nodes[2]?.core?.self.incarnation ?? 0) > 2)
})

test('a node that leaves is reported as left, not failed, and then stops', (t) => {
  const c = createCluster({ seed: 'leave', nodes: 5 })
  const events = watchMembers(c)
  c.runUntil(() => everyoneSeesEveryone(c, 5), 10_000)
  c.act(4, (core, now) => core.leave(now))
  const took = c.runUntil(() => [0, 1, 2, 3].every((i) => stateOf(c, i, 4) === 'left'), 5000)
  t.log(`left known everywhere in ${took} ms`)
  c.runFor(DEFAULT_MEMBERSHIP_CONFIG.leaveDuration)
  t.is(c.nodes[4]?.core?.nextDeadline(), undefined)
  c.runFor(60_000)
  t.deepEqual(events.filter((e) => e.change === 'failed'), [])
  t.true([0, 1, 2, 3].every((i) => stateOf(c, i, 4) === 'left'))
})

test('a partition heals: both sides see everyone alive again', (t) => {
  const c = createCluster({ seed: 'split', nodes: 10 })
  c.runUntil(() => everyoneSeesEveryone(c, 10), 20_000)
  c.partition([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])
  c.runUntil(() => c.liveCores().every((core) => core.liveCount === 5), 120_000)
  c.runFor(30_000)
  c.heal()
  const took = c.runUntil(() => everyoneSeesEveryone(c, 10), 180_000, 500)
  t.log(`after healing, everyone alive everywhere in ${took} ms`)
  t.true(took <= 120_000)
})

test('a node whose seed is not up yet retries until it joins', (t) => {
  const c = createCluster({ seed: 'late-seed', nodes: 2, startAt: (i) => (i === 0 ? 20_000 : 0) })
  const took = c.runUntil(() => everyoneSeesEveryone(c, 2), 120_000)
  const debug = c.nodes[1]?.core?.debugState() as { membership: { counters: { joinAttempts: number } } }
  t.log(`joined ${took} ms after start (seed up at 20000 ms), ${debug.membership.counters.joinAttempts} attempts`)
  t.true(debug.membership.counters.joinAttempts >= 3)
  t.true(took < 20_000 + 2 * 16_000)
})

function convergenceAndCost (t: ExecutionContext, n: number, wire: 'bytes' | 'objects'): { took: number, steady: number } {
  const started = performance.now()
  const c = createCluster({ seed: `scale-${n}`, nodes: n, wire, seedsOf: (i) => (i === 0 ? [] : [Math.floor(i / 2)]) })
  const took = c.runUntil(() => everyoneSeesEveryone(c, n), 120_000, 200)
  const joinBytes = c.nodes.reduce((s, x) => s + x.bytesSent, 0) / n
  c.runFor(120_000)
  c.resetCounters()
  c.runFor(60_000)
  const steady = meanBytesPerNodePerSecond(c, 60)
  const max = Math.max(...c.nodes.map((x) => x.bytesSent)) / 60
  t.log(`${n} nodes started at once: all see all after ${took} ms virtual; ${(joinBytes / 1024).toFixed(0)} KB sent per node meanwhile; ` +
    `steady state ${steady.toFixed(0)} B/s sent per node (max ${max.toFixed(0)}); ${(performance.now() - started).toFixed(0)} ms wall`)
  return { took, steady }
}

test('fifty nodes started together converge, and steady traffic stays small', (t) => {
  const { took, steady } = convergenceAndCost(t, 50, 'bytes')
  t.true(took <= 30_000)
  t.true(steady < 200)
})

test('five hundred nodes converge, and steady traffic per node does not grow with N', (t) => {
  const { took, steady } = convergenceAndCost(t, 500, 'objects')
  t.true(took <= 60_000)
  t.true(steady < 200)
})

test('a node hearing it is suspected refutes with a higher incarnation', (t) => {
  const self: MemberRecord = { id: 'self', name: 's', addresses: [], meta: {}, incarnation: 4 }
  const m = new Membership({ self, seeds: [], rng: createRng(1) })
  m.start(0)
  const refuting = m.handle('other', { type: 'ping', seq: 1, updates: [{ type: 'suspect', id: 'self', incarnation: 4, from: 'other' }] }, 10)
  t.is(m.incarnation, 5)
  // Everyone who hears the refutation will mark this node slow: it is told so too (its merge tree waits for no child).
  t.deepEqual(refuting.filter((o) => o.type === 'member'), [{ type: 'member', change: 'updated', member: { ...self, incarnation: 5 }, slow: true }])
  // The refutation travels on the next message to anyone.
  const out: MembershipOutput[] = m.handle('other', { type: 'ping', seq: 2, updates: [] }, 20)
  const ack = out.find((o) => o.type === 'send' && o.message.type === 'ack')
  t.truthy(ack)
  const updates = ack?.type === 'send' && ack.message.type === 'ack' ? ack.message.updates : []
  // A refutation does not change the card, so it travels as a refute naming the card held.
  t.true(updates.some((u) => u.type === 'refute' && u.id === 'self' && u.incarnation === 5 && u.card === cardFingerprint(self)))
})

test('an old suspicion or a stale alive changes nothing', (t) => {
  const m = new Membership({ self: { id: 'self', name: 's', addresses: [], meta: {}, incarnation: 0 }, seeds: [], rng: createRng(2) })
  m.start(0)
  const peer: MemberRecord = { id: 'p', name: 'p', addresses: [], meta: {}, incarnation: 3 }
  m.handle('p', { type: 'spread', updates: [{ type: 'alive', member: peer }] }, 1)
  m.handle('x', { type: 'spread', updates: [{ type: 'suspect', id: 'p', incarnation: 2, from: 'x' }, { type: 'dead', id: 'p', incarnation: 1, from: 'x' }] }, 2)
  t.is(m.member('p')?.state, 'alive')
  m.handle('x', { type: 'spread', updates: [{ type: 'dead', id: 'p', incarnation: 3, from: 'x' }, { type: 'alive', member: { ...peer, name: 'stale' } }] }, 3)
  t.is(m.member('p')?.state, 'dead')
  t.is(m.member('p')?.member.name, 'p')
  m.handle('p', { type: 'spread', updates: [{ type: 'alive', member: { ...peer, incarnation: 4 } }] }, 4)
  t.is(m.member('p')?.state, 'alive')
})

test('a member declared dead is forgotten after the retention period', (t) => {
  const m = new Membership({ self: { id: 'self', name: 's', addresses: [], meta: {}, incarnation: 0 }, seeds: [], rng: createRng(3), config: { deadRetention: 60_000 } })
  m.start(0)
  m.handle('p', { type: 'spread', updates: [{ type: 'alive', member: { id: 'p', name: 'p', addresses: [], meta: {}, incarnation: 0 } }] }, 1)
  m.handle('x', { type: 'spread', updates: [{ type: 'dead', id: 'p', incarnation: 0, from: 'x' }] }, 2)
  const events: MembershipOutput[] = []
  for (let now = 0; now <= 70_000; now += 1000) events.push(...m.tick(now))
  t.is(m.member('p'), undefined)
  t.true(events.some((o) => o.type === 'member' && o.change === 'forgotten' && o.member.id === 'p'))
})

test('the detection bound grows with N and with the suspicion settings', (t) => {
  t.is(detectionBound(5), 9000 + 4000 + 24_000 + 800)
  t.true(detectionBound(100) > detectionBound(10))
  t.true(detectionBound(5, { suspicionMaxMult: 2 }) < detectionBound(5))
})

/** A membership of self and one peer `p`, started at 0; the probe target is always p. */
function pair (config?: Partial<typeof DEFAULT_MEMBERSHIP_CONFIG>): { m: Membership, peer: MemberRecord } {
  const m = new Membership({ self: { id: 'self', name: 's', addresses: [], meta: {}, incarnation: 0 }, seeds: [], rng: createRng(5), config })
  m.start(0)
  const peer: MemberRecord = { id: 'p', name: 'p', addresses: [], meta: {}, incarnation: 0 }
  m.handle('p', { type: 'spread', updates: [{ type: 'alive', member: peer }] }, 1)
  return { m, peer }
}

/** Ticks `m` at each of its deadlines up to `until`; the outputs, and the seq of every ping to p. */
function runTo (m: Membership, from: number, until: number): { out: MembershipOutput[], pings: Array<{ seq: number, at: number }> } {
  const out: MembershipOutput[] = []
  const pings: Array<{ seq: number, at: number }> = []
  for (let now = Math.max(from, m.nextDeadline() ?? until); now <= until; now = Math.max(now + 1, m.nextDeadline() ?? until + 1)) {
    for (const o of m.tick(now)) {
      out.push(o)
      if (o.type === 'send' && o.to === 'p' && o.message.type === 'ping') pings.push({ seq: o.message.seq, at: now })
    }
  }
  return { out, pings }
}

function counters (m: Membership): Record<string, number> {
  return (m.debugState() as { counters: Record<string, number> }).counters
}

test('a member that refuted a suspicion is given slowGrace: its late ack means no suspicion and no rumour', (t) => {
  const { m, peer } = pair()
  // p is suspected by x and refutes: from now on it is known to be slow.
  m.handle('x', { type: 'spread', updates: [{ type: 'suspect', id: 'p', incarnation: 0, from: 'x' }] }, 2)
  m.handle('p', { type: 'spread', updates: [{ type: 'alive', member: { ...peer, incarnation: 1 } }] }, 3)
  t.is((m.debugState() as { slowMembers: number }).slowMembers, 1)
  const suspicionsBefore = counters(m).suspicions
  // A probe goes unanswered for its whole period.
  const { pings } = runTo(m, 4, 1000)
  const first = pings[0]
  if (first === undefined) return t.fail('no ping to p')
  runTo(m, first.at + 1, first.at + 1000)
  t.is(m.member('p')?.state, 'alive')
  t.is(counters(m).gracedProbes, 1)
  // The ack comes 1.8 s late: taken, and nothing is ever suspected.
  m.handle('p', { type: 'ack', seq: first.seq, updates: [] }, first.at + 1800)
  runTo(m, first.at + 1801, first.at + 1000 + 4000 + 10)
  t.is(counters(m).lateAcks, 1)
  t.is(counters(m).suspicions, suspicionsBefore)
  t.is(m.member('p')?.state, 'alive')
})

test('a slow member that stays silent through its grace is suspected when the grace ends', (t) => {
  const { m, peer } = pair()
  m.handle('p', { type: 'spread', updates: [{ type: 'alive', member: { ...peer, incarnation: 1 } }] }, 2)
  const { pings } = runTo(m, 3, 1000)
  const first = pings[0]
  if (first === undefined) return t.fail('no ping to p')
  // The period ends 1 s after the ping; then slowGrace (4 s) with no ack.
  runTo(m, first.at + 1, first.at + 1000 + 3999)
  t.is(m.member('p')?.state, 'alive')
  runTo(m, first.at + 1000 + 4000, first.at + 1000 + 4000)
  t.is(m.member('p')?.state, 'suspect')
})

test('a member never marked slow is suspected at the end of its probe period, and a mark runs out', (t) => {
  const { m, peer } = pair({ slowMemoryMin: 10_000 })
  const { pings } = runTo(m, 2, 1000)
  const first = pings[0]
  if (first === undefined) return t.fail('no ping to p')
  const { pings: next } = runTo(m, first.at + 1, first.at + 1000)
  t.is(m.member('p')?.state, 'suspect')
  t.is(counters(m).gracedProbes, 0)
  // It refutes, and answers the probe that followed: marked for 10 s, then unmarked.
  m.handle('p', { type: 'spread', updates: [{ type: 'alive', member: { ...peer, incarnation: 1 } }] }, first.at + 1500)
  for (const ping of next) m.handle('p', { type: 'ack', seq: ping.seq, updates: [] }, first.at + 1500)
  t.is(m.member('p')?.state, 'alive')
  const marked = m.debugState() as { slowMembers: number }
  t.is(marked.slowMembers, 1)
  // Answer every probe for 25 s (past the mark and its span), then let one fail: suspected at once.
  let now = first.at + 1501
  while (now < first.at + 26_000) {
    const next = m.nextDeadline() ?? now + 1
    now = Math.max(now + 1, next)
    for (const o of m.tick(now)) if (o.type === 'send' && o.to === 'p' && o.message.type === 'ping') m.handle('p', { type: 'ack', seq: o.message.seq, updates: [] }, now + 2)
  }
  const { pings: later } = runTo(m, now + 1, now + 1000)
  const last = later[0]
  if (last === undefined) return t.fail(`no later ping to p: ${JSON.stringify(m.debugState())}`)
  runTo(m, last.at + 1, last.at + 1000)
  t.is(m.member('p')?.state, 'suspect')
  t.is(counters(m).gracedProbes, 0)
})

test('only a timely ack lowers local health: one after the indirect probes leaves it', (t) => {
  const m = new Membership({ self: { id: 'self', name: 's', addresses: [], meta: {}, incarnation: 0 }, seeds: [], rng: createRng(6) })
  m.start(0)
  for (const id of ['p', 'q', 'r']) m.handle(id, { type: 'spread', updates: [{ type: 'alive', member: { id, name: id, addresses: [], meta: {}, incarnation: 0 } }] }, 1)
  const health = (): number => (m.debugState() as { localHealth: number }).localHealth
  let now = 2
  /** Ticks up to `until` (every deadline on the way). */
  const tickTo = (until: number): void => {
    for (let at = m.nextDeadline(); at !== undefined && at <= until; at = m.nextDeadline()) { now = Math.max(now, at); m.tick(now) }
    now = Math.max(now, until)
  }
  /** Ticks until the next ping goes out. */
  const nextPing = (): { to: string, seq: number, at: number } => {
    for (;;) {
      now = Math.max(now + 1, m.nextDeadline() ?? now + 1)
      for (const o of m.tick(now)) if (o.type === 'send' && o.message.type === 'ping') return { to: o.to, seq: o.message.seq, at: now }
    }
  }
  nextPing()
  let ping = nextPing()
  // The first probe went unanswered (and its relays sent no nack): health is up.
  const raised = health()
  t.true(raised >= 1, `health ${raised} after an unanswered probe`)
  // The second is answered after its probe timeout (500 ms x (health + 1)), within its period.
  tickTo(ping.at + 500 * (raised + 1) + 100)
  m.handle(ping.to, { type: 'ack', seq: ping.seq, updates: [] }, now)
  t.is(health(), raised)
  // The third is answered at once: health comes down by one.
  ping = nextPing()
  t.is(health(), raised)
  m.handle(ping.to, { type: 'ack', seq: ping.seq, updates: [] }, now + 10)
  t.is(health(), raised - 1)
})

test('a refute revives a suspect with the card held and spreads as a refute; one naming another card, or an unknown member, changes nothing', (t) => {
  const { m, peer } = pair()
  m.handle('x', { type: 'spread', updates: [{ type: 'suspect', id: 'p', incarnation: 0, from: 'x' }] }, 2)
  t.is(m.member('p')?.state, 'suspect')
  // p changed its card at some point and we missed it: the refute is not ours to apply.
  m.handle('x', { type: 'spread', updates: [{ type: 'refute', id: 'p', incarnation: 1, card: cardFingerprint({ ...peer, name: 'renamed' }) }] }, 3)
  t.is(m.member('p')?.state, 'suspect')
  t.is(counters(m).refutesUnmatched, 1)
  m.handle('x', { type: 'spread', updates: [{ type: 'refute', id: 'q', incarnation: 1, card: cardFingerprint(peer) }] }, 4)
  t.is(m.member('q'), undefined)
  const revived = m.handle('x', { type: 'spread', updates: [{ type: 'refute', id: 'p', incarnation: 1, card: cardFingerprint(peer) }] }, 5)
  t.deepEqual(revived.filter((o) => o.type === 'member'), [{ type: 'member', change: 'updated', member: { ...peer, incarnation: 1 }, slow: true }])
  t.is(m.member('p')?.state, 'alive')
  t.deepEqual(m.member('p')?.member, { ...peer, incarnation: 1 })
  // Like any refutation, it marks p slow; and it is passed on in its compact form.
  t.is((m.debugState() as { slowMembers: number }).slowMembers, 1)
  const out = m.handle('x', { type: 'ping', seq: 9, updates: [] }, 6)
  const ack = out.find((o) => o.type === 'send' && o.message.type === 'ack')
  const updates = ack?.type === 'send' && ack.message.type === 'ack' ? ack.message.updates : []
  t.deepEqual(updates.filter((u) => u.type === 'alive' ? u.member.id === 'p' : u.id === 'p'), [{ type: 'refute', id: 'p', incarnation: 1, card: cardFingerprint(peer) }])
})

/** A node with members p, q, r, s, ticked by hand; `answer` says what to do with each ping and ping-req. */
function fiveMembers (seed: number): { m: Membership, tickTo: (until: number, answer?: (o: MembershipOutput, now: number) => void) => number } {
  const m = new Membership({ self: { id: 'self', name: 's', addresses: [], meta: {}, incarnation: 0 }, seeds: [], rng: createRng(seed) })
  m.start(0)
  for (const id of ['p', 'q', 'r', 's']) m.handle(id, { type: 'spread', updates: [{ type: 'alive', member: { id, name: id, addresses: [], meta: {}, incarnation: 0 } }] }, 1)
  let now = 2
  const tickTo = (until: number, answer?: (o: MembershipOutput, now: number) => void): number => {
    for (let at = m.nextDeadline(); at !== undefined && at <= until; at = m.nextDeadline()) {
      now = Math.max(now, at)
      for (const o of m.tick(now)) answer?.(o, now)
    }
    now = Math.max(now, until)
    return now
  }
  return { m, tickTo }
}

test('a failed probe that heard none of its relays suspects no one; the second such in a row does', (t) => {
  const { m, tickTo } = fiveMembers(7)
  // Nobody answers anything: the probe's relays are as silent as its target.
  tickTo(2500)
  t.is(counters(m).probesFailed, 1)
  t.is(counters(m).probesUnheard, 1)
  t.is(counters(m).suspicions, 0)
  // Local health rose, so periods are longer now; run until a second probe has failed.
  let at = 2500
  while (counters(m).probesFailed < 2) at = tickTo(at + 100)
  t.is(counters(m).probesUnheard, 1)
  t.is(counters(m).suspicions, 1)
})

test('a failed probe whose relays answered with a nack suspects its target at once', (t) => {
  const { m, tickTo } = fiveMembers(7)
  let at = 2
  while (counters(m).probesFailed < 1) {
    at = tickTo(at + 100, (o, now) => {
      if (o.type === 'send' && o.message.type === 'ping-req') m.handle(o.to, { type: 'nack', seq: o.message.seq }, now + 300)
    })
  }
  t.is(counters(m).probesUnheard, 0)
  t.is(counters(m).suspicions, 1)
})

test('while refutations arrive late, a suspicion waits three times the longest lag, up to its maximum, before the member is declared dead', (t) => {
  const m = new Membership({ self: { id: 'self', name: 's', addresses: [], meta: {}, incarnation: 0 }, seeds: [], rng: createRng(8) })
  m.start(0)
  const card = (id: string): MemberRecord => ({ id, name: id, addresses: [], meta: {}, incarnation: 0 })
  m.handle('x', { type: 'spread', updates: ['p', 'q', 'r'].map((id) => ({ type: 'alive' as const, member: card(id) })) }, 1)
  // p's refutation reaches us 3 s after we began suspecting it.
  m.handle('x', { type: 'spread', updates: [{ type: 'suspect', id: 'p', incarnation: 0, from: 'x' }] }, 10)
  m.handle('x', { type: 'spread', updates: [{ type: 'refute', id: 'p', incarnation: 1, card: cardFingerprint(card('p')) }] }, 3010)
  t.is(m.member('p')?.state, 'alive')
  // q is suspected and confirmed twice: Lifeguard's timeout falls to its minimum, 4 s (N = 4).
  const suspectedBy = (id: string, incarnation: number) => ['x', 'y', 'z'].map((from) => ({ type: 'suspect' as const, id, incarnation, from }))
  m.handle('x', { type: 'spread', updates: suspectedBy('q', 0) }, 20_000)
  // Every probe is answered at once: no suspicion here but the ones the test makes.
  const tickTo = (until: number): void => {
    for (let at = m.nextDeadline(); at !== undefined && at <= until; at = m.nextDeadline()) {
      for (const o of m.tick(at)) if (o.type === 'send' && o.message.type === 'ping') m.handle(o.to, { type: 'ack', seq: o.message.seq, updates: [] }, at)
    }
  }
  tickTo(19_999)
  tickTo(24_000)
  t.is(m.member('q')?.state, 'suspect')
  t.is(counters(m).suspicionsPutOff, 1)
  tickTo(28_999)
  t.is(m.member('q')?.state, 'suspect')
  tickTo(29_000)
  t.is(m.member('q')?.state, 'dead')
  // A lag longer than the suspicion's maximum (6 x 4 s) puts it off only to that maximum.
  m.handle('x', { type: 'spread', updates: [{ type: 'suspect', id: 'r', incarnation: 0, from: 'x' }] }, 30_000)
  m.handle('x', { type: 'spread', updates: [{ type: 'refute', id: 'r', incarnation: 1, card: cardFingerprint(card('r')) }] }, 50_000)
  m.handle('x', { type: 'spread', updates: suspectedBy('p', 1) }, 60_000)
  tickTo(60_000 + 24_000 - 1)
  t.is(m.member('p')?.state, 'suspect')
  tickTo(60_000 + 24_000)
  t.is(m.member('p')?.state, 'dead')
})

test('a refute about ourselves at a newer incarnation is outbid: by a refute if it names our card, else by our whole card', (t) => {
  const self: MemberRecord = { id: 'self', name: 's', addresses: [], meta: {}, incarnation: 2 }
  const outbid = (card: number): MemberUpdate | undefined => {
    const m = new Membership({ self, seeds: [], rng: createRng(9) })
    m.start(0)
    m.handle('other', { type: 'spread', updates: [{ type: 'refute', id: 'self', incarnation: 5, card }] }, 10)
    t.is(m.incarnation, 6)
    const out = m.handle('other', { type: 'ping', seq: 1, updates: [] }, 20)
    const ack = out.find((o) => o.type === 'send' && o.message.type === 'ack')
    const updates = ack?.type === 'send' && ack.message.type === 'ack' ? ack.message.updates : []
    return updates.find((u) => u.type === 'alive' ? u.member.id === 'self' : u.id === 'self')
  }
  t.deepEqual(outbid(cardFingerprint(self)), { type: 'refute', id: 'self', incarnation: 6, card: cardFingerprint(self) })
  // A previous run of ours had another card: the peers that hold it must get ours whole.
  t.deepEqual(outbid(cardFingerprint({ ...self, name: 'before' })), { type: 'alive', member: { ...self, incarnation: 6 } })
})
