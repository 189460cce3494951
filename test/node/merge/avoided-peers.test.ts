/** MergeCore routes around suspected and unreachable peers, keeps them as members, and re-sends what a failed send carried. */
import test from 'ava'
import { valueTotal, type Value } from '../../../metad/index.js'
import { clusterPeerId } from '../../../node/core/cluster.js'
import { createMergeCore, type MergeCore, type MergeOutput } from '../../../node/merge/merge-core.js'
import type { MergeMessage, PartialMessage } from '../../../node/merge/messages.js'
import type { InstrumentationSpec } from '../../../node/merge/spec.js'
import { holdersOf, instrumentationKey, memberKey, membersOf, treePosition, withoutMember } from '../../../node/merge/tree.js'

const ID = '00000000000000aa'
const T = 1_750_000_000
const ms = (second: number, offset = 0): number => second * 1000 + offset
const SPEC: InstrumentationSpec = { shape: 'scalar', granularity: 1, retentionTime: 600, persistData: false, valueScope: 'interval', expectedSources: 3 }
const SHAPE = { fanIn: 2, replicas: 1 }
const scalar = (n: number): Value => ({ type: 'scalar', n })
const sends = (out: MergeOutput[]): Array<{ to: string, message: MergeMessage }> => out.flatMap((o) => (o.type === 'send' ? [{ to: o.to, message: o.message }] : []))

const peers = Array.from({ length: 16 }, (_, i) => clusterPeerId(i))
const members = membersOf(peers)
const key = instrumentationKey(ID)
/** A leaf two levels down or more (it forwards at once, to a parent that is not the root). */
const deep = peers.find((p) => { const pos = treePosition(members, key, p, SHAPE); return pos.depth >= 2 && pos.children.length === 0 })!
const parentOf = (p: string, set = members): string => treePosition(set, key, p, SHAPE).parent!

function coreOf (self: string, set = members): MergeCore {
  const core = createMergeCore({ self, now: ms(T), members: set, config: SHAPE })
  core.setInstrumentation(ID, SPEC, ms(T))
  return core
}

function partial (from: string, second: number, n: number): PartialMessage {
  return { type: 'partial', id: ID, second, contributors: [memberKey(from)], value: scalar(n), late: false }
}

test('a suspected parent is routed around, and a refuted suspicion puts it back', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  core.memberSuspect(parent, ms(T, 100))
  t.is(core.position(ID).parent, parentOf(deep, withoutMember(members, parent)), 'the parent of the view without the suspect')
  t.not(core.position(ID).parent, parent)
  t.is(core.members.ids.length, peers.length, 'the suspect is still a member')
  core.memberUp(parent, ms(T, 200))
  t.is(core.position(ID).parent, parent)
})

test('a suspect\'s own partials are still merged: a false suspicion costs no contribution', (t) => {
  const parent = parentOf(deep)
  const core = coreOf(parent)
  core.memberSuspect(deep, ms(T, 100))
  core.handle(deep, partial(deep, T, 5), ms(T + 1, 100))
  t.is(core.counters.merged, 1)
  t.is(core.counters.dropped['not-a-member'], 0)
})

test('a confirmed suspect leaves the view; the routing view is the view again', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  core.memberSuspect(parent, ms(T, 100))
  core.memberDown(parent, ms(T, 200))
  t.is(core.members.ids.length, peers.length - 1)
  t.is(core.position(ID).parent, parentOf(deep, withoutMember(members, parent)))
  t.deepEqual(core.debugState().suspects, [])
})

test('a partial whose send failed goes to the new parent, and the failed peer is avoided until it talks', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  const [sent] = sends(core.contribute(ID, T, scalar(7), ms(T + 1, 20)))
  t.is(sent?.to, parent)
  const again = sends(core.sendFailed(parent, sent!.message, ms(T + 1, 30)))
  const next = parentOf(deep, withoutMember(members, parent))
  t.deepEqual(again, [{ to: next, message: sent!.message }], 'the same partial, to the parent of the view without the failed peer')
  t.is(core.counters.sendFailures, 1)
  t.is(core.position(ID).parent, next)
  // A message from the peer says it is reachable again.
  core.handle(parent, { type: 'history', id: ID, points: [], done: true }, ms(T + 2))
  t.is(core.position(ID).parent, parent)
})

test('an unreachable peer is routed through again after unreachableMs', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  core.sendFailed(parent, partial(deep, T, 1), ms(T, 500))
  t.not(core.position(ID).parent, parent)
  for (let s = 1; s <= 11; s++) core.tick(ms(T + s))
  t.is(core.position(ID).parent, parent)
})

test('a node that becomes the root when its root is unreachable merges the piece into its ring, once', (t) => {
  const trio = holdersOf(membersOf(peers.slice(0, 3)), key, 3)
  const [root, next] = trio as [string, string, string]
  const core = createMergeCore({ self: next, now: ms(T), members: trio, config: { fanIn: 16, replicas: 2 } })
  core.setInstrumentation(ID, SPEC, ms(T))
  const [sent] = sends(core.contribute(ID, T, scalar(9), ms(T + 1, 20)))
  t.is(sent?.to, root)
  const out = core.sendFailed(root, sent!.message, ms(T + 1, 30))
  t.true(core.isHolder(ID))
  t.is(core.position(ID).parent, undefined, 'the next holder is the root of the view without the old one')
  t.is(valueTotal(core.queryLocal(ID, T, T + 1)[0]!.value), 9)
  t.true(sends(out).some((s) => s.message.type === 'replica'), 'replicated to the remaining holder')
  // The same piece once more (a second failure report): the ring refuses the overlap.
  core.sendFailed(root, sent!.message, ms(T + 1, 40))
  t.is(valueTotal(core.queryLocal(ID, T, T + 1)[0]!.value), 9)
  t.is(core.counters.dropped.duplicate, 1)
})

test('a failed send to a non-member, or of a query, changes no route', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  t.deepEqual(core.sendFailed(clusterPeerId(99), partial(deep, T, 1), ms(T, 10)), [])
  t.is(core.position(ID).parent, parent)
  // A leaf leads no one: routing around it moves no other member.
  const leaf = peers.find((p) => p !== deep && treePosition(members, key, p, SHAPE).children.length === 0)!
  t.deepEqual(core.sendFailed(leaf, { type: 'query', requestId: 1, id: ID, from: T, to: T + 1 }, ms(T, 20)), [], 'only a partial is re-sent')
  t.is(core.position(ID).parent, parent)
  t.deepEqual(Object.keys(core.debugState().unreachable as object), [leaf])
})
