/**
 * MeshCore: the composed core as a binding drives it: determinism, the drop-and-count rule for
 * bad input, persistence and restore, the clock contract, leaving.
 */
import test from 'ava'
import fc from 'fast-check'
import { DecodeError } from '../../../metad/index.js'
import { createCluster, type Cluster } from '../../../node/core/cluster.js'
import { MemberSnapshot } from '../../../node/core/member-table.js'
import { createMeshCore, type MeshCore, type MeshOutput, type SelfCard } from '../../../node/core/mesh-core.js'
import { encodePeerMessage, encodeTopicMessage, memberRecord, type PeerMessage } from '../../../node/core/messages.js'
import { createPeerInterner } from '../../../node/core/peer-interner.js'
import { decodePersistedState, type PersistedState } from '../../../node/core/persisted-state.js'
import { createRng } from '../../../node/core/rng.js'

const DEF = '{"decomposition":[],"enabled":true,"granularity":1,"idle-max":3600,"module":"syscall","persist-data":false,"predicate":{},"retention-time":600,"stat":"syscalls"}'

function solo (id = 'peer-solo', restore?: PersistedState, now = 1_000_000): MeshCore {
  return createMeshCore({ self: { id, name: 'solo', addresses: ['/ip4/127.0.0.1/tcp/1'], meta: {} }, rng: createRng(id), now, restore })
}

function scenario (seed: string, wire: 'bytes' | 'objects' = 'bytes'): Cluster {
  const c = createCluster({ seed, nodes: 6, trace: true, wire, loss: 0.02 })
  c.runFor(5000)
  const a = c.create(0, DEF)
  c.create(3, DEF)
  c.runFor(2000)
  c.crash(4)
  c.act(1, (core, now) => core.deleteDefinition(a, now))
  c.runFor(40_000)
  c.restart(4)
  c.partition([[0, 1, 2]])
  c.runFor(30_000)
  c.heal()
  c.runFor(60_000)
  return c
}

test('the same seed gives the same outputs, another seed different ones', (t) => {
  const one = scenario('det-1')
  const again = scenario('det-1')
  const other = scenario('det-2')
  t.not(one.traceHash, 0)
  t.is(again.traceHash, one.traceHash)
  t.not(other.traceHash, one.traceHash)
  t.deepEqual(again.nodes.map((n) => n.bytesSent), one.nodes.map((n) => n.bytesSent))
})

test('delivering bytes through the codec or objects directly gives the very same run', (t) => {
  const bytes = scenario('det-wire', 'bytes')
  const objects = scenario('det-wire', 'objects')
  t.is(objects.traceHash, bytes.traceHash)
  t.deepEqual(objects.nodes.map((n) => n.bytesSent), bytes.nodes.map((n) => n.bytesSent))
})

test('malformed, unknown-topic and self-sent messages are dropped and counted, never thrown', (t) => {
  const core = solo()
  core.start(1_000_000)
  const inputs: Array<Parameters<MeshCore['handle']>[0]> = [
    { type: 'message', from: 'peer-x', message: new TextEncoder().encode('{"v":1,"type":"ping","seq":-1,"updates":[]}') },
    { type: 'message', from: 'peer-x', message: new Uint8Array([0xff, 0x00, 0x13]) },
    { type: 'gossip', from: 'peer-x', topic: 'definitions', message: new TextEncoder().encode('{"v":1,"type":"def-update","entries":[]}') },
    { type: 'gossip', from: 'peer-x', topic: 'metrics', message: encodeTopicMessage({ type: 'def-access', id: '0123456789abcdef', at: 1 }) },
    { type: 'message', from: 'peer-solo', message: encodePeerMessage({ type: 'nack', seq: 1 }) }
  ]
  for (const input of inputs) t.deepEqual(core.handle(input, 1_000_100), [])
  const debug = core.debugState() as { dropped: Record<string, number> }
  t.deepEqual(debug.dropped, { malformed: 3, unknownTopic: 1, fromSelf: 1, internalErrors: 0 })
})

test('fuzz: no input makes handle throw, and a well-formed ping is still answered afterwards', (t) => {
  const core = solo()
  core.start(1_000_000)
  let now = 1_000_000
  const result = fc.check(fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, gossip) => {
    now += 10
    const outputs = gossip
      ? core.handle({ type: 'gossip', from: 'peer-f', topic: 'definitions', message: bytes }, now)
      : core.handle({ type: 'message', from: 'peer-f', message: bytes }, now)
    return Array.isArray(outputs)
  }), { numRuns: 1000 })
  t.false(result.failed, fc.defaultReportMessage(result))
  const out = core.handle({ type: 'message', from: 'peer-f', message: encodePeerMessage({ type: 'ping', seq: 77, updates: [] }) }, now + 10)
  t.true(out.some((o) => o.type === 'send' && o.to === 'peer-f' && o.message.type === 'ack' && o.message.seq === 77))
})

test('a persist effect follows every change of the replica, and restoring it resumes the definitions', (t) => {
  const core = solo()
  const first = core.start(1_000_000)
  t.true(first.some((o) => o.type === 'persist'))
  const { id, outputs } = core.createDefinition(DEF, 1_000_500)
  const persist = outputs.find((o): o is Extract<MeshOutput, { type: 'persist' }> => o.type === 'persist')
  t.truthy(persist)
  t.deepEqual(core.tick(1_000_600).filter((o) => o.type === 'persist'), [], 'nothing changed, nothing persisted')
  // Through JSON and the validating decoder, as the daemon does with the file.
  const restored = decodePersistedState(JSON.parse(JSON.stringify(persist?.state)))
  const again = solo('peer-solo', restored, 2_000_000)
  const events = again.start(2_000_000)
  t.deepEqual(again.listDefinitions().map((e) => e.id), [id])
  t.true(events.some((o) => o.type === 'definition' && o.change === 'created' && o.id === id))
  t.is(again.self.incarnation, restored.incarnation + 1)
})

test('state persisted by another peer is not restored', (t) => {
  const core = solo('peer-a')
  core.start(1_000_000)
  const { outputs } = core.createDefinition(DEF, 1_000_000)
  const state = outputs.find((o): o is Extract<MeshOutput, { type: 'persist' }> => o.type === 'persist')?.state
  const other = solo('peer-b', state)
  t.deepEqual(other.listDefinitions(), [])
  t.is(other.self.incarnation, 0)
})

const goodState = (): Record<string, unknown> => ({
  format: 1,
  self: 'peer-a',
  incarnation: 2,
  replica: { hlc: { wall: 5, logical: 0 }, lastContact: null, entries: [{ id: '0123456789abcdef', version: { wall: 5, logical: 0, origin: 'peer-a' }, state: 'deleted' }] }
})

test('decodePersistedState accepts a valid state and rejects corrupt ones with DecodeError', (t) => {
  t.is(decodePersistedState(goodState()).replica.entries.length, 1)
  const broken: Array<[string, (s: Record<string, unknown>) => unknown]> = [
    ['not an object', () => 'hello'],
    ['another format', (s) => ({ ...s, format: 2 })],
    ['no self', (s) => ({ ...s, self: undefined })],
    ['a negative incarnation', (s) => ({ ...s, incarnation: -1 })],
    ['an unknown key', (s) => ({ ...s, extra: 1 })],
    ['a duplicate id', (s) => ({ ...s, replica: { ...(s.replica as object), entries: [...((s.replica as { entries: unknown[] }).entries), ...((s.replica as { entries: unknown[] }).entries)] } })],
    ['a fractional lastContact', (s) => ({ ...s, replica: { ...(s.replica as object), lastContact: 1.5 } })],
    ['an entry with a bad id', (s) => ({ ...s, replica: { ...(s.replica as object), entries: [{ id: 'x', version: { wall: 1, logical: 0, origin: 'a' }, state: 'deleted' }] } })]
  ]
  for (const [note, corrupt] of broken) t.throws(() => decodePersistedState(corrupt(goodState())), { instanceOf: DecodeError }, note)
  const result = fc.check(fc.property(fc.jsonValue(), (v) => {
    try { decodePersistedState(v) } catch (err) { return err instanceof DecodeError }
    return true
  }), { numRuns: 500 })
  t.false(result.failed, fc.defaultReportMessage(result))
})

test('a clock that goes back is clamped: versions never go back', (t) => {
  const core = solo()
  core.start(1_000_000)
  core.tick(2_000_000)
  const { id } = core.createDefinition(DEF, 1_500_000)
  const entry = core.getDefinition(id)
  t.true((entry?.version.wall ?? 0) >= 2_000_000)
  t.true((core.nextDeadline() ?? 0) > 2_000_000)
})

test('after leaving, the core goes quiet: no deadline, inputs ignored', (t) => {
  const core = solo()
  core.start(1_000_000)
  core.leave(1_000_100)
  let now = 1_000_100
  for (let guard = 0; core.nextDeadline() !== undefined && guard < 100; guard++) {
    now = Math.max(now, core.nextDeadline() ?? now)
    core.tick(now)
  }
  t.is(core.nextDeadline(), undefined)
  t.deepEqual(core.handle({ type: 'message', from: 'peer-x', message: encodePeerMessage({ type: 'ping', seq: 1, updates: [] }) }, now + 1), [])
})

test('a mesh of one keeps a deadline and stays quiet on the network', (t) => {
  const core = solo()
  const outputs = [...core.start(1_000_000)]
  for (let now = 1_000_000; now < 1_600_000; now = Math.max(now + 1, core.nextDeadline() ?? now + 1000)) outputs.push(...core.tick(now))
  t.deepEqual(outputs.filter((o) => o.type === 'send' || o.type === 'send-address' || o.type === 'publish'), [])
  t.not(core.nextDeadline(), undefined)
})

test('with a shared interner, member numbers stand in for peer ids: our own number is dropped as self-sent, and probes name their target\'s number', (t) => {
  const interner = createPeerInterner()
  const card = (id: string): SelfCard => ({ id, name: id, addresses: [`/ip4/10.0.0.1/tcp/1/p2p/${id}`], meta: {} })
  const snapshot = new MemberSnapshot(interner, [memberRecord(card('peer-a'), 0), memberRecord(card('peer-b'), 0)])
  const a = createMeshCore({ self: card('peer-a'), rng: createRng('a'), now: 1_000_000, interner, snapshot })
  a.start(1_000_000)
  const self = interner.lookup('peer-a')
  const other = interner.lookup('peer-b')
  const ping: PeerMessage = { type: 'ping', seq: 7, updates: [] }
  // A binding that says the message came from our own number: dropped, whatever the id says.
  t.deepEqual(a.handle({ type: 'message', from: 'peer-b', message: ping, fromMember: self }, 1_000_001), [])
  t.is((a.debugState() as { dropped: Record<string, number> }).dropped.fromSelf, 1)
  // From the other member's number: answered as usual.
  const answer = a.handle({ type: 'message', from: 'peer-b', message: ping, fromMember: other }, 1_000_002)
  t.deepEqual(answer.map((o) => o.type === 'send' ? [o.to, o.message.type] : [o.type]), [['peer-b', 'ack']])
  // The probe of the one other member carries its number.
  const deadline = a.nextDeadline() as number
  const probe = a.tick(deadline).find((o) => o.type === 'send' && o.message.type === 'ping')
  t.true(probe?.type === 'send' && probe.to === 'peer-b' && probe.member === other)
})
