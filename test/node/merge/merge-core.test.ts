/** MergeCore alone and in small hand-driven views: the call contract, refusals, queries, storage. */
import test from 'ava'
import { encodeValue, HeatmeshError, valueTotal, type Value } from '../../../metad/index.js'
import { clusterPeerId } from '../../../node/core/cluster.js'
import { contributorsOf } from '../../../node/merge/contributors.js'
import { createMergeCore, type MergeCore, type MergeOutput } from '../../../node/merge/merge-core.js'
import { encodeMergeMessage, MERGE_WIRE_VERSION, type MergeMessage, type PartialMessage } from '../../../node/merge/messages.js'
import type { InstrumentationSpec } from '../../../node/merge/spec.js'
import { holdersOf, indexOfMember, instrumentationKey, memberKey, membersOf, treePosition, WholeTree, type SharedTrees } from '../../../node/merge/tree.js'

const ID = '00000000000000aa'
const T = 1_750_000_000
const ms = (second: number, offset = 0): number => second * 1000 + offset
const SPEC: InstrumentationSpec = { shape: 'scalar', granularity: 1, retentionTime: 600, persistData: true, valueScope: 'interval', expectedSources: 3 }
const scalar = (n: number): Value => ({ type: 'scalar', n })
const sends = (out: MergeOutput[]): Array<{ to: string, message: MergeMessage }> => out.flatMap((o) => (o.type === 'send' ? [{ to: o.to, message: o.message }] : []))

const peers = Array.from({ length: 8 }, (_, i) => clusterPeerId(i))
/** Three members, ordered by their score for ID: [root, replica, replica]. */
const trio = holdersOf(membersOf(peers.slice(0, 3)), instrumentationKey(ID), 3)
const [ROOT, R1, R2] = trio as [string, string, string]

function rootCore (spec: InstrumentationSpec = SPEC): MergeCore {
  const core = createMergeCore({ self: ROOT, now: ms(T), members: trio })
  core.setInstrumentation(ID, spec, ms(T))
  return core
}

function partial (from: string, second: number, n: number, over: Partial<PartialMessage> = {}): PartialMessage {
  return { type: 'partial', id: ID, second, contributors: [memberKey(from)], value: scalar(n), late: false, ...over }
}

const rootValue = (core: MergeCore, second: number): number | undefined => {
  const p = core.queryLocal(ID, second, second + 1)[0]
  return p === undefined ? undefined : valueTotal(p.value)
}

test('a node alone is its own root and finalizes each second as soon as its value is given', (t) => {
  const self = peers[0]!
  const core = createMergeCore({ self, now: ms(T) })
  const setup = core.setInstrumentation(ID, SPEC, ms(T))
  t.deepEqual(setup, [], 'no other holder to ask for history')
  const out = core.contribute(ID, T, scalar(42), ms(T + 1, 10))
  t.deepEqual(out.map((o) => o.type), ['store'])
  t.like(core.queryLocal(ID, T, T + 1)[0], { second: T, minreporting: 1, nsources: 3 })
  t.is(rootValue(core, T), 42)
  t.true(core.isHolder(ID))
  t.is(core.position(ID).parent, undefined)
})

test('a leaf forwards its partial at once, and an empty one when it does not run the instrumentation', (t) => {
  const members = membersOf(peers)
  const tree = peers.map((p) => treePosition(members, instrumentationKey(ID), p, { fanIn: 16, replicas: 2 }))
  const leaf = peers[tree.findIndex((p) => p.children.length === 0)]!
  // Nobody acks here, so the leaf does not watch its parent (avoided-peers.test.ts tests that).
  const core = createMergeCore({ self: leaf, now: ms(T), members, config: { watchIntervalMs: 0 } })
  core.setInstrumentation(ID, SPEC, ms(T))
  const [sent] = sends(core.contribute(ID, T, scalar(7), ms(T + 1, 10)))
  t.is<string | undefined, string | undefined>(sent?.to, core.position(ID).parent)
  t.like(sent?.message, { type: 'partial', second: T, contributors: [memberKey(leaf)], late: false })
  const [empty] = sends(core.contribute(ID, T + 1, undefined, ms(T + 2, 10)))
  t.like(empty?.message, { type: 'partial', second: T + 1, contributors: [], value: undefined })
})

test('a leaf\'s finished second still refuses its own value again and sends late pieces on', (t) => {
  // Once a second went up with the leaf's own value alone, the core keeps one shared record for
  // it, not an assembly: what comes for that second later must be handled as before.
  const members = membersOf(peers)
  const tree = peers.map((p) => treePosition(members, instrumentationKey(ID), p, { fanIn: 16, replicas: 2 }))
  const leafIndex = tree.findIndex((p) => p.children.length === 0)
  const leaf = peers[leafIndex]!
  const other = peers.find((p, i) => i !== leafIndex && tree[i]!.parent !== undefined)!
  const core = createMergeCore({ self: leaf, now: ms(T), members, config: { watchIntervalMs: 0 } })
  core.setInstrumentation(ID, SPEC, ms(T))
  const parent = core.position(ID).parent
  for (const second of [T, T + 1]) t.is(sends(core.contribute(ID, second, scalar(7), ms(second + 1, 10))).length, 1)
  t.deepEqual(core.contribute(ID, T, scalar(7), ms(T + 2, 20)), [], 'its own value again is a duplicate')
  // A piece from a member whose view differs arrives late: it goes up at once, alone.
  const [late] = sends(core.handle(other, partial(other, T, 5), ms(T + 2, 30)))
  t.is<string | undefined, string | undefined>(late?.to, parent)
  t.like(late?.message, { type: 'partial', second: T, contributors: [memberKey(other)], late: true })
  // The same piece again, and a piece that counts the leaf itself, are refused: nothing is sent.
  t.deepEqual(sends(core.handle(other, partial(other, T, 5), ms(T + 2, 40))), [])
  t.deepEqual(sends(core.handle(other, partial(leaf, T, 1), ms(T + 2, 50))), [])
  const dropped = (core.debugState() as { counters: { dropped: Record<string, number> } }).counters.dropped
  t.is(dropped.duplicate, 3)
  // The next second is untouched by all this.
  t.like(sends(core.contribute(ID, T + 2, scalar(7), ms(T + 3, 10)))[0]?.message, { second: T + 2, late: false })
})

test('an inner node waits for its children, then forwards their merged partial; a late piece travels alone', (t) => {
  const members = membersOf(peers.slice(0, 3))
  const core = createMergeCore({ self: R1, now: ms(T), members })
  core.setInstrumentation(ID, SPEC, ms(T))
  const pos = core.position(ID)
  // With three members and fan-in 16 the root leads every prefix: R1 is a leaf below it.
  t.is(pos.parent, ROOT)
  const inner = createMergeCore({ self: ROOT, now: ms(T), members, config: { fanIn: 2 } })
  inner.setInstrumentation(ID, SPEC, ms(T))
  t.true(inner.position(ID).children.length >= 1)
  // A bigger view, where some node has children: use fan-in 2 over 8 members.
  const view = membersOf(peers)
  const positions = peers.map((p) => treePosition(view, instrumentationKey(ID), p, { fanIn: 2, replicas: 2 }))
  const k = positions.findIndex((p) => p.parent !== undefined && p.children.length > 0)
  const mid = createMergeCore({ self: peers[k]!, now: ms(T), members: view, config: { fanIn: 2, watchIntervalMs: 0 } })
  mid.setInstrumentation(ID, SPEC, ms(T))
  const children = positions[k]!.children
  t.deepEqual(sends(mid.contribute(ID, T, scalar(1), ms(T + 1, 10))), [], 'waits for its children')
  let out: MergeOutput[] = []
  children.forEach((c, i) => { out = mid.handle(c, partial(c, T, 10 * (i + 1)), ms(T + 1, 20)) })
  const [fwd] = sends(out)
  t.is<string | undefined, string | undefined>(fwd?.to, positions[k]!.parent)
  t.true(fwd?.message.type === 'partial' && valueTotal(fwd.message.value!) === 1 + children.reduce((s, _, i) => s + 10 * (i + 1), 0))
  t.true(fwd?.message.type === 'partial' && fwd.message.contributors.length === 1 + children.length)
  // A stranger's piece for the same second, after forwarding: sent on as late, never merged in again.
  const other = peers.find((p, i) => i !== k && !children.includes(p))!
  const [late] = sends(mid.handle(other, partial(other, T, 1000), ms(T + 1, 900)))
  t.like(late?.message, { type: 'partial', second: T, late: true, contributors: [memberKey(other)] })
  t.is(mid.counters.late, 1)
  // The same pieces again (a retransmission, a forgery): refused here already, nothing sent.
  t.deepEqual(sends(mid.handle(children[0]!, partial(children[0]!, T, 10), ms(T + 1, 950))), [])
  t.deepEqual(sends(mid.handle(other, partial(other, T, 1000), ms(T + 1, 960))), [])
  t.is(mid.counters.dropped.duplicate, 2)
})

test('the deadline forwards what has arrived when a child stays silent', (t) => {
  const view = membersOf(peers)
  const positions = peers.map((p) => treePosition(view, instrumentationKey(ID), p, { fanIn: 2, replicas: 2 }))
  const k = positions.findIndex((p) => p.parent !== undefined && p.children.length > 0)
  const mid = createMergeCore({ self: peers[k]!, now: ms(T), members: view, config: { fanIn: 2, watchIntervalMs: 0 } })
  mid.setInstrumentation(ID, SPEC, ms(T))
  t.deepEqual(sends(mid.contribute(ID, T, scalar(5), ms(T + 1, 10))), [])
  // Drive the timers (the once-a-second sweep among them) until the partial leaves.
  let fwd: { to: string, message: MergeMessage } | undefined
  let at = 0
  for (let steps = 0; fwd === undefined && steps < 10; steps++) {
    at = mid.nextDeadline()!
    fwd = sends(mid.tick(at)).find((s) => s.message.type === 'partial')
  }
  t.like(fwd?.message, { type: 'partial', second: T, contributors: [memberKey(peers[k]!)], late: false })
  // end of the second + collectDelayMs + hopMs per estimated level below (at most log2(8) + 1).
  t.true(at > ms(T + 1, 50) && at <= ms(T + 1, 50 + 150 * 4), `forwarded ${at - ms(T + 1)} ms after the second`)
})

test('the root merges, finalizes, replicates what it merged and stores the point', (t) => {
  const core = rootCore()
  core.handle(R1, partial(R1, T, 10), ms(T + 1, 20))
  core.handle(R2, partial(R2, T, 20), ms(T + 1, 25))
  const out = core.contribute(ID, T, scalar(1), ms(T + 1, 30))
  const replicas = sends(out)
  t.deepEqual(replicas.map((s) => s.to).sort(), [R1, R2].sort())
  t.like(replicas[0]?.message, { type: 'replica', second: T, contributors: contributorsOf(trio.map(memberKey)), nsources: 3 })
  t.true(out.some((o) => o.type === 'store' && o.point.second === T && o.point.minreporting === 3))
  t.is(rootValue(core, T), 31)
  t.is(core.debugState().instrumentations && (core.debugState().instrumentations as Record<string, { lastFinalized: number }>)[ID]!.lastFinalized, T)
})

test('a replica merges replica messages exactly once and stores them', (t) => {
  const replica = createMergeCore({ self: R1, now: ms(T), members: trio })
  replica.setInstrumentation(ID, SPEC, ms(T))
  const m: MergeMessage = { type: 'replica', id: ID, second: T, contributors: contributorsOf(trio.map(memberKey)), value: scalar(31), nsources: 3 }
  t.true(replica.handle(ROOT, encodeMergeMessage(m), ms(T + 1, 100)).some((o) => o.type === 'store'))
  replica.handle(ROOT, m, ms(T + 1, 200))
  t.is(replica.counters.dropped.duplicate, 1)
  t.is(valueTotal(replica.queryLocal(ID, T, T + 1)[0]!.value), 31)
})

// ---- refusals ------------------------------------------------------------------------------------

const refusals: Array<[string, (core: MergeCore) => MergeOutput[], string]> = [
  ['bytes that are not a message', (c) => c.handle(R1, Uint8Array.of(MERGE_WIRE_VERSION, 1, 0, 0), ms(T + 1)), 'malformed'],
  ['an instrumentation it does not know', (c) => c.handle(R1, partial(R1, T, 5, { id: 'ffffffffffffffff' }), ms(T + 1)), 'unknown-instrumentation'],
  ['unknown-instrumentation bytes', (c) => c.handle(R1, encodeMergeMessage(partial(R1, T, 5, { id: 'ffffffffffffffff' })), ms(T + 1)), 'unknown-instrumentation'],
  ['a sender that is not a member', (c) => c.handle(peers[7]!, partial(peers[7]!, T, 5), ms(T + 1)), 'not-a-member'],
  ['a contributor that is not a member', (c) => c.handle(R1, partial(R1, T, 5, { contributors: contributorsOf([memberKey(R1), memberKey(peers[7]!)]) }), ms(T + 1)), 'not-a-member'],
  ['a value of the wrong shape (object)', (c) => c.handle(R1, partial(R1, T, 5, { value: { type: 'decomposition', keys: new Map([['a', 5]]), folded: 0 } }), ms(T + 1)), 'wrong-shape'],
  ['a value of the wrong shape (bytes)', (c) => c.handle(R1, wrongShapeBytes(), ms(T + 1)), 'wrong-shape'],
  ['a second beyond the late window', (c) => c.handle(R1, partial(R1, T - 200, 5), ms(T + 1)), 'too-late'],
  ['a second from the future', (c) => c.handle(R1, partial(R1, T + 60, 5), ms(T + 1)), 'too-early'],
  ['a value without contributors (object)', (c) => c.handle(R1, partial(R1, T, 5, { contributors: [] }), ms(T + 1)), 'malformed'],
  ['a query reply nobody asked for', (c) => c.handle(R1, { type: 'query-reply', requestId: 99, id: ID, points: [], holder: true }, ms(T + 1)), 'unsolicited']
]

function wrongShapeBytes (): Uint8Array {
  const good = encodeMergeMessage(partial(R1, T, 5))
  const value = encodeValue({ type: 'scalar', n: 5 })
  const deco = encodeValue({ type: 'decomposition', keys: new Map([['k', 5]]), folded: 0 })
  // Same message with the value bytes (length-prefixed, at the end) replaced by a decomposition's.
  return Uint8Array.from([...good.subarray(0, good.length - value.length - 1), deco.length, ...deco])
}

for (const [name, act, reason] of refusals) {
  test(`the core refuses ${name} and counts it as ${reason}`, (t) => {
    const core = rootCore()
    const out = act(core)
    // Refusals another node may not make (an unknown sender, contributor or definition) are
    // nacked, so the sender sends the piece again ("Refusals and acks"); the others say nothing.
    const answers = out.filter((o) => o.type !== 'send' || o.message.type !== 'history-request')
    t.deepEqual(answers.map((o) => o.type === 'send' ? o.message.type : o.type), reason === 'not-a-member' || reason === 'unknown-instrumentation' ? ['nack'] : [])
    t.is((core.counters.dropped as Record<string, number>)[reason], 1)
    t.is(rootValue(core, T), undefined, 'nothing was merged')
    t.is(core.counters.internalErrors, 0)
  })
}

test('history carries the pieces of an open second while the point fits a message with room to spare', (t) => {
  const spec: InstrumentationSpec = { ...SPEC, shape: 'decomposition' }
  const keys = (n: number, len: number): Value => ({ type: 'decomposition', keys: new Map(Array.from({ length: n }, (_, i) => [String(i).padStart(len, 'k'), 1])), folded: 0 })
  const answer = (value: Value): MergeMessage | undefined => {
    const core = rootCore(spec)
    core.handle(R1, { ...partial(R1, T, 0), value }, ms(T, 100))
    core.handle(R2, { ...partial(R2, T, 0), value }, ms(T, 200))
    const out = sends(core.handle(R1, { type: 'history-request', id: ID, from: T, to: T + 1 }, ms(T, 300)))
    return out.find((o) => o.message.type === 'history')?.message
  }
  const small = answer(keys(3, 1))
  t.true(small?.type === 'history' && small.points[0]?.pieces?.length === 2)
  // 1,000 keys of 400 characters: each piece ~1.2 MB by the size bound, the point with its pieces ~3.6.
  const big = answer(keys(1000, 400))
  t.true(big?.type === 'history' && big.points.length === 1 && big.points[0]!.pieces === undefined)
  t.notThrows(() => encodeMergeMessage(big!), 'it fits a message')
})

test('a duplicate contributor is refused and never counted twice', (t) => {
  const core = rootCore()
  core.handle(R1, partial(R1, T, 10), ms(T + 1, 20))
  core.handle(R2, partial(R2, T, 99, { contributors: contributorsOf([memberKey(R1), memberKey(R2)]) }), ms(T + 1, 30))
  core.handle(R1, partial(R1, T, 10), ms(T + 1, 40))
  t.is(core.counters.dropped.duplicate, 2)
  t.is(rootValue(core, T), 10)
})

test('a piece whose counts would overflow the sum is refused alone as malformed', (t) => {
  const core = rootCore()
  core.handle(R1, partial(R1, T, Number.MAX_SAFE_INTEGER - 10), ms(T + 1, 20))
  core.handle(R2, partial(R2, T, 100), ms(T + 1, 30))
  t.is(core.counters.dropped.malformed, 1)
  t.is(core.counters.internalErrors, 0)
  t.is(rootValue(core, T), Number.MAX_SAFE_INTEGER - 10)
  core.handle(R2, partial(R2, T, 5), ms(T + 1, 40))
  t.is(rootValue(core, T), Number.MAX_SAFE_INTEGER - 5, 'the sender is not punished for it')
})

test('contributions of a member that went down stay acceptable for the late window', (t) => {
  const core = rootCore()
  core.memberDown(R2, ms(T + 1))
  core.handle(R1, partial(R1, T, 10, { contributors: contributorsOf([memberKey(R1), memberKey(R2)]), value: scalar(30) }), ms(T + 1, 100))
  t.is(rootValue(core, T), 30)
  core.handle(R1, partial(R1, T + 200, 1, { contributors: [memberKey(R2)] }), ms(T + 200))
  t.is(core.counters.dropped['not-a-member'], 1, 'but not after it')
})

test('garbage objects from a binding bug are caught and counted, never thrown', (t) => {
  const core = rootCore()
  t.notThrows(() => core.handle(R1, { type: 'partial', id: ID, second: T, contributors: [memberKey(R1)], value: null } as unknown as MergeMessage, ms(T + 1)))
  t.notThrows(() => core.handle(R1, { type: 'nonsense' } as unknown as MergeMessage, ms(T + 1)))
  t.true(core.counters.internalErrors + core.counters.dropped.malformed >= 2)
})

test('commands throw for caller bugs: an unknown id, a value of the wrong shape, an invalid spec', (t) => {
  const core = rootCore()
  t.is(t.throws(() => core.contribute('nope', T, scalar(1), ms(T + 1)), { instanceOf: HeatmeshError })?.code, 'ECA_NOENT')
  t.is(t.throws(() => core.contribute(ID, T, { type: 'decomposition', keys: new Map(), folded: 0 }, ms(T + 1)), { instanceOf: HeatmeshError })?.code, 'ECA_INCOMPAT')
  t.throws(() => core.setInstrumentation('x', { ...SPEC, shape: 'distribution' }, ms(T)), { instanceOf: RangeError })
  t.throws(() => createMergeCore({ self: ROOT, now: 0, config: { fanIn: 12 } }), { instanceOf: RangeError })
  // The accepted window bounds the slots a core keeps per instrumentation.
  t.throws(() => createMergeCore({ self: ROOT, now: 0, config: { lateWindowSeconds: 3595, maxClockSkewSeconds: 10 } }), { instanceOf: RangeError, message: /more than 3600/ })
  t.truthy(createMergeCore({ self: ROOT, now: 0, config: { lateWindowSeconds: 3590, maxClockSkewSeconds: 10 } }))
})

// ---- queries -------------------------------------------------------------------------------------

test('a query goes to the root, then to each replica on timeout, then fails', (t) => {
  // An asker that is not a holder itself (a holder would answer from its own ring).
  const asker = peers.slice(3).find((p) => !holdersOf(membersOf([...trio, p]), instrumentationKey(ID), 3).includes(p))!
  const members = [...trio, asker]
  const core = createMergeCore({ self: asker, now: ms(T), members, config: { queryTimeoutMs: 500 } })
  core.setInstrumentation(ID, SPEC, ms(T))
  const holders = core.position(ID).holders
  const { requestId, outputs } = core.requestQuery(ID, T, T + 60, ms(T))
  t.like(sends(outputs)[0], { to: holders[0], message: { type: 'query', requestId, from: T, to: T + 60 } })
  t.is(core.nextDeadline(), ms(T, 500))
  t.like(sends(core.tick(ms(T, 500)))[0], { to: holders[1] })
  t.like(sends(core.tick(ms(T, 1000)))[0], { to: holders[2] })
  const end = core.tick(ms(T, 1500))
  t.like(end[0], { type: 'query-failed', requestId, id: ID })
})

test('a holder answers a query from its ring, and the asker reports it', (t) => {
  const root = rootCore()
  root.contribute(ID, T, scalar(5), ms(T + 1, 10))
  root.handle(R1, partial(R1, T, 10), ms(T + 1, 20))
  const asker = createMergeCore({ self: R2, now: ms(T), members: trio })
  asker.setInstrumentation(ID, SPEC, ms(T))
  const { requestId, outputs } = asker.requestQuery(ID, T, T + 10, ms(T + 2))
  const [query] = sends(outputs)
  const [reply] = sends(root.handle(R2, encodeMergeMessage(query!.message), ms(T + 2, 5)))
  t.like(reply, { to: R2, message: { type: 'query-reply', requestId, holder: true } })
  const [result] = asker.handle(ROOT, encodeMergeMessage(reply!.message), ms(T + 2, 10))
  t.like(result, { type: 'query-result', requestId, from: ROOT })
  t.true(result?.type === 'query-result' && result.points.length === 1 && valueTotal(result.points[0]!.value) === 15)
})

test('the root answers its own query locally', (t) => {
  const root = rootCore()
  root.contribute(ID, T, scalar(5), ms(T + 1, 10))
  const { requestId, outputs } = root.requestQuery(ID, T, T + 1, ms(T + 2))
  t.like(outputs, [{ type: 'query-result', requestId, from: ROOT }])
})

// ---- storage -------------------------------------------------------------------------------------

test('restored points come back, and points of the wrong shape are refused', (t) => {
  const restore = new Map([[ID, [
    { second: T - 10, value: scalar(77), minreporting: 3, nsources: 3 },
    { second: T - 9, value: { type: 'decomposition', keys: new Map(), folded: 0 } as Value, minreporting: 3, nsources: 3 }
  ]]])
  const core = createMergeCore({ self: ROOT, now: ms(T), members: trio, restore })
  core.setInstrumentation(ID, SPEC, ms(T))
  t.is(rootValue(core, T - 10), 77)
  t.is(core.counters.restoreRejected, 1)
  t.deepEqual(core.ringStats(ID).points, 1)
})

test('removing an instrumentation or turning persist-data off drops its stored points', (t) => {
  const core = rootCore()
  core.contribute(ID, T, scalar(5), ms(T + 1, 10))
  t.deepEqual(core.setInstrumentation(ID, { ...SPEC, persistData: false }, ms(T + 2)), [{ type: 'drop-store', id: ID }])
  t.true(core.setInstrumentation(ID, SPEC, ms(T + 2)).some((o) => o.type === 'store'), 'turned back on: everything is stored again')
  t.deepEqual(core.removeInstrumentation(ID, ms(T + 3)), [{ type: 'drop-store', id: ID }])
  t.throws(() => core.queryLocal(ID, T, T + 1), { instanceOf: HeatmeshError })
})

test('a change of shape restarts the history; a change of expected sources does not', (t) => {
  const core = rootCore()
  core.contribute(ID, T, scalar(5), ms(T + 1, 10))
  core.setInstrumentation(ID, { ...SPEC, expectedSources: 9 }, ms(T + 2))
  t.is(rootValue(core, T), 5)
  core.contribute(ID, T + 2, scalar(5), ms(T + 3, 10))
  t.is(core.queryLocal(ID, T + 2, T + 3)[0]?.nsources, 9)
  t.deepEqual(core.setInstrumentation(ID, { ...SPEC, granularity: 5 }, ms(T + 4)).filter((o) => o.type === 'drop-store').length, 1)
  t.deepEqual(core.queryLocal(ID, 0, T + 10), [])
})

test('debugState says where the node sits in each tree and what it dropped', (t) => {
  const core = rootCore()
  const state = core.debugState() as { instrumentations: Record<string, Record<string, unknown>>, counters: { dropped: Record<string, number> } }
  t.like(state.instrumentations[ID], { parent: null, depth: 0, isHolder: true, holders: trio })
  t.is(state.counters.dropped.duplicate, 0)
})

test('a core reads its positions from shared trees while it routes around no one, and computes them alone otherwise', (t) => {
  const view = membersOf(peers)
  const asked: string[] = []
  const sharedTrees: SharedTrees = {
    position: (set, inst, self, shape) => { asked.push(self); return new WholeTree(set, inst, shape).position(indexOfMember(set, self)) }
  }
  const self = peers[3]!
  const core = createMergeCore({ self, now: ms(T), members: view, sharedTrees })
  core.setInstrumentation(ID, SPEC, ms(T))
  t.deepEqual(core.position(ID), treePosition(view, instrumentationKey(ID), self, { fanIn: 16, replicas: 2 }))
  t.deepEqual(asked, [self])
  const suspect = core.position(ID).holders.find((h) => h !== self)!
  core.memberSuspect(suspect, ms(T, 10))
  t.false(core.position(ID).holders.includes(suspect))
  t.deepEqual(asked, [self], 'with a member left out, the core computes its position alone')
})
