/** MergeCore routes around suspected and unreachable peers, keeps them as members, and re-sends what a failed send carried. */
import test from 'ava'
import { valueTotal, type Value } from '../../../metad/index.js'
import { clusterPeerId } from '../../../node/core/cluster.js'
import { DEFAULT_MERGE_CONFIG } from '../../../node/merge/config.js'
import { createMergeCore, maxDemoted, type MergeCore, type MergeOutput } from '../../../node/merge/merge-core.js'
import { encodeMergeMessage, type MergeMessage, type PartialMessage } from '../../../node/merge/messages.js'
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

test('a partial asks its parent for an ack at most every watchIntervalMs, and a parent that acks stays the parent', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  const asked: number[] = []
  for (let s = T; s < T + 5; s++) {
    const [sent] = sends(core.contribute(ID, s, scalar(1), ms(s + 1, 20)))
    t.is(sent?.to, parent)
    if (sent?.message.type === 'partial' && sent.message.ack === true) {
      asked.push(s)
      core.handle(parent, { type: 'ack' }, ms(s + 1, 25))
    }
  }
  t.deepEqual(asked, [T, T + 2, T + 4], 'watchIntervalMs is 2000 by default')
  t.is(core.counters.parentsSilent, 0)
})

test('a parent whose ack is overdue is routed around at the next partial, which goes to the new parent with the one it never acked', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  const [first] = sends(core.contribute(ID, T, scalar(1), ms(T + 1, 20)))
  t.like(first, { to: parent, message: { type: 'partial', ack: true } })
  // No ack: the host is gone without a reset. The next second's partial goes elsewhere, and the
  // unacked one with it, marked resent (the silent parent may have forwarded it after all).
  const moved = sends(core.contribute(ID, T + 1, scalar(2), ms(T + 2, 20)))
  const next = parentOf(deep, withoutMember(members, parent))
  t.is(moved.length, 2)
  t.like(moved[0], { to: next, message: { type: 'partial', second: T, value: scalar(1), resent: true, silentParent: true, ack: true } })
  t.like(moved[1], { to: next, message: { type: 'partial', second: T + 1, value: scalar(2) } })
  t.not(moved[1]?.message.type === 'partial' && moved[1].message.resent, true)
  t.is(core.counters.parentsSilent, 1)
  t.is(core.counters.resent, 1)
  t.is(core.position(ID).parent, next)
  t.is(core.members.ids.length, peers.length, 'a silent parent is still a member')
  // A message from it says it is there after all.
  core.handle(parent, { type: 'ack' }, ms(T + 2, 500))
  t.is(core.position(ID).parent, parent)
})

test('a parent taken for silent that answers late is slow, not gone: it may owe an ack twice as long as it was late, for slowParentMemoryMs', (t) => {
  const core = createMergeCore({ self: deep, now: ms(T), members, config: { ...SHAPE, slowParentMemoryMs: 20_000 } })
  core.setInstrumentation(ID, SPEC, ms(T))
  const parent = parentOf(deep)
  const next = parentOf(deep, withoutMember(members, parent))
  sends(core.contribute(ID, T, scalar(1), ms(T + 1, 20)))
  sends(core.contribute(ID, T + 1, scalar(1), ms(T + 2, 20)))
  t.is(core.position(ID).parent, next)
  core.handle(next, { type: 'ack' }, ms(T + 2, 30))
  // Its ack comes 2 s after it was asked: a slow parent, watched with 4 s from now on.
  core.handle(parent, { type: 'ack' }, ms(T + 3, 20))
  t.is(core.counters.slowParents, 1)
  t.is(core.position(ID).parent, parent)
  for (let second = T + 2; second < T + 6; second++) {
    const [sent] = sends(core.contribute(ID, second, scalar(1), ms(second + 1, 20)))
    t.is(sent?.to, parent, `second ${second - T}: the owed ack is ${(second - T - 2) * 1000} ms old`)
  }
  // 4 s without its ack: silent after all.
  const [moved] = sends(core.contribute(ID, T + 6, scalar(1), ms(T + 7, 20)))
  t.is(moved?.to, next)
  core.handle(next, { type: 'ack' }, ms(T + 7, 30))
  t.is(core.counters.parentsSilent, 2)
  // It answers 4 s late (8 s from now on, the cap); 20 s after that answer, 1 s overdue is overdue again.
  core.handle(parent, { type: 'ack' }, ms(T + 7, 40))
  t.is(core.position(ID).parent, parent)
  t.is(core.counters.slowParents, 2)
  sends(core.contribute(ID, T + 30, scalar(1), ms(T + 31, 20)))
  const [after] = sends(core.contribute(ID, T + 31, scalar(1), ms(T + 32, 20)))
  t.is(after?.to, next)
})

test('an ack is not overdue before watchTimeoutMs: a late piece sent soon after asking goes to the same parent', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  sends(core.contribute(ID, T, scalar(1), ms(T + 1, 20)))
  const [late] = sends(core.contribute(ID, T + 1, scalar(2), ms(T + 1, 700)))
  t.is(late?.to, parent)
  t.is(core.counters.parentsSilent, 0)
})

test('an asking partial is acked once its piece went up with the second, a refused one at once (or nacked)', (t) => {
  const parent = parentOf(deep)
  const core = coreOf(parent)
  const asking: PartialMessage = { ...partial(deep, T, 5), ack: true }
  t.deepEqual(sends(core.handle(deep, asking, ms(T + 1, 100))).filter((s) => s.message.type === 'ack'), [], 'held here: not acked yet')
  // At the deadline the second goes up, and then the ack: a parent that dies holding the piece never acked it.
  const flushed = sends(core.tick(ms(T + 2)))
  const up = flushed.findIndex((s) => s.to === parentOf(parent) && s.message.type === 'partial' && s.message.second === T)
  const acked = flushed.findIndex((s) => s.to === deep && s.message.type === 'ack')
  t.true(up >= 0 && acked > up, JSON.stringify(flushed.map((s) => [s.to, s.message.type])))
  const stranger = clusterPeerId(99)
  const refused = sends(core.handle(stranger, { ...partial(stranger, T, 5), ack: true }, ms(T + 1, 110)))
  t.deepEqual(refused.map((o) => o.message.type), ['nack'], 'a sender this view does not know is nacked, not acked (a later test says why)')
  t.is(core.counters.dropped['not-a-member'], 1)
  const early = sends(core.handle(deep, { ...partial(deep, T + 100, 5), ack: true }, ms(T + 1, 120)))
  t.deepEqual(early, [{ to: deep, message: { type: 'ack' } }], 'a member\'s refused piece is acked at once')
})

test('with watchIntervalMs 0 parents are not watched', (t) => {
  const core = createMergeCore({ self: deep, now: ms(T), members, config: { ...SHAPE, watchIntervalMs: 0 } })
  core.setInstrumentation(ID, SPEC, ms(T))
  for (let s = T; s < T + 3; s++) {
    const [sent] = sends(core.contribute(ID, s, scalar(1), ms(s + 1, 20)))
    t.is(sent?.to, parentOf(deep))
    t.false(sent?.message.type === 'partial' && sent.message.ack === true)
  }
})

test('through any sequence of joins, leaves, suspicions, slow marks and failed sends, the kept position is the one computed afresh', (t) => {
  const all = Array.from({ length: 40 }, (_, i) => clusterPeerId(i))
  const set = membersOf(all.slice(0, 30))
  let checked = 0
  let recomputes = 0
  let demotions = 0
  for (const self of [all[0]!, all[7]!, all[13]!]) {
    const core = createMergeCore({ self, now: ms(T), members: set, config: { fanIn: 4, replicas: 1, slowMemberMs: 3000 } })
    core.setInstrumentation(ID, SPEC, ms(T))
    // The view as the test knows it (the core keeps departed members marked gone, not copied out).
    const live = new Set(set.ids)
    let x = 12345
    // The high bits: an LCG's low bits repeat with short periods.
    const rand = (n: number): number => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return (x >>> 16) % n }
    for (let step = 0; step < 300; step++) {
      const peer = all[rand(all.length)]!
      if (peer === self) continue
      const now = ms(T, 100 * step)
      // The per-second sweep forgets slow marks after slowMemberMs (and unreachable peers after unreachableMs).
      core.tick(now)
      switch (rand(6)) {
        case 0: core.memberUp(peer, now); live.add(peer); break
        case 1: core.memberDown(peer, now); live.delete(peer); break
        case 2: core.memberSuspect(peer, now); break
        case 3: core.sendFailed(peer, { type: 'ack' }, now); break
        // Rarely, so that demotions apply (at most a quarter of the view: 6 to 10 here) and also stop.
        case 4: if (rand(3) === 0) core.memberSlow(peer, now); else core.handle(peer, { type: 'ack' }, now); break
        default: core.handle(peer, { type: 'ack' }, now)
      }
      const state = core.debugState() as { suspects: string[], unreachable: Record<string, number>, slowMembers: Record<string, number> }
      const avoided = new Set([...state.suspects, ...Object.keys(state.unreachable)])
      const slow = new Set(Object.keys(state.slowMembers))
      const view = membersOf(live)
      const excluded = view.ids.flatMap((id, i) => (avoided.has(id) ? [i] : []))
      const demoted = slow.size > maxDemoted(live.size) ? [] : view.ids.flatMap((id, i) => (slow.has(id) ? [i] : []))
      if (demoted.length > 0) demotions++
      t.is(core.memberCount, live.size)
      t.deepEqual(core.position(ID), treePosition(view, key, self, { fanIn: 4, replicas: 1 }, undefined, excluded, demoted), `step ${step}`)
      checked++
    }
    recomputes += core.counters.recomputes
  }
  t.true(checked > 800)
  t.true(demotions > 50 && demotions < checked - 50, `${demotions} of ${checked} positions with demotions`)
  // The test means something only if many changes left the position alone.
  t.true(recomputes < checked / 2, `${recomputes} recomputes in ${checked} changes`)
})

test('departed members are members no more, whether still marked gone or compacted out, and can come back', (t) => {
  const many = Array.from({ length: 100 }, (_, i) => clusterPeerId(i))
  const self = many[0]!
  const core = createMergeCore({ self, now: ms(T), members: membersOf(many), config: { fanIn: 4, replicas: 1 } })
  core.setInstrumentation(ID, SPEC, ms(T))
  const departed = many.slice(30)
  departed.forEach((id, i) => {
    core.memberDown(id, ms(T, i))
    // Before and after the view is compacted (64 gone), the position is the one over the rest.
    t.deepEqual(core.position(ID), treePosition(membersOf(many.filter((p) => !departed.slice(0, i + 1).includes(p))), key, self, { fanIn: 4, replicas: 1 }))
  })
  t.is(core.memberCount, 30)
  const gone = departed[5]!
  core.handle(gone, partial(gone, T, 1), ms(T + 1, 100))
  t.is(core.counters.dropped['not-a-member'], 1, 'a departed sender is refused')
  core.memberUp(gone, ms(T + 1, 200))
  t.is(core.memberCount, 31)
  core.handle(gone, partial(gone, T, 1), ms(T + 1, 300))
  t.is(core.counters.dropped['not-a-member'], 1, 'back as a member')
  t.is(core.members.ids.length, 31)
})

test('a parent routed around for silence is asked, not trusted, when unreachableMs ends, and its answer brings it back', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  const next = parentOf(deep, withoutMember(members, parent))
  sends(core.contribute(ID, T, scalar(1), ms(T + 1, 20)))
  sends(core.contribute(ID, T + 1, scalar(1), ms(T + 2, 20)))
  t.is(core.position(ID).parent, next, 'routed around after the missing ack')
  core.handle(next, { type: 'ack' }, ms(T + 2, 100))
  // unreachableMs (10 s) later the sweep asks instead of routing data through it again.
  const asked = sends(core.tick(ms(T + 13)))
  t.deepEqual(asked.filter((s) => s.to === parent), [{ to: parent, message: { type: 'ack-request' } }])
  t.is(core.position(ID).parent, next, 'still routed around')
  // An ack-request is answered with an ack; the parent's answer brings it back.
  t.deepEqual(sends(coreOf(parent).handle(deep, { type: 'ack-request' }, ms(T + 13, 5))), [{ to: deep, message: { type: 'ack' } }])
  core.handle(parent, { type: 'ack' }, ms(T + 13, 10))
  t.is(core.position(ID).parent, parent)
})

test('an ack confirms the partials sent up to the one that asked; those sent after stay unacked until the next', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  const watched = (): unknown => (core.debugState().watched as Record<string, unknown>)[parent]
  sends(core.contribute(ID, T, scalar(1), ms(T + 1, 20)))
  sends(core.contribute(ID, T + 1, scalar(1), ms(T + 1, 500)))
  t.deepEqual(watched(), { owed: true, unacked: 2 })
  core.handle(parent, { type: 'ack' }, ms(T + 1, 600))
  t.deepEqual(watched(), { owed: false, unacked: 1 }, 'the partial sent after the asking one is not confirmed')
  sends(core.contribute(ID, T + 2, scalar(1), ms(T + 2, 20)))
  t.deepEqual(watched(), { owed: false, unacked: 2 }, 'not asked: within watchIntervalMs of the last ask')
  sends(core.contribute(ID, T + 3, scalar(1), ms(T + 3, 20)))
  t.deepEqual(watched(), { owed: true, unacked: 3 })
  core.handle(parent, { type: 'ack' }, ms(T + 3, 100))
  t.deepEqual(watched(), { owed: false, unacked: 0 })
})

test('an ack names the gaps in the child\'s partials once 500 ms old, and a lost tail at an ack-request; a partial only overtaken is not named', (t) => {
  // The parent's side: partials 0 and 2 of deep's sequence arrived, 1 did not (yet).
  const parent = parentOf(deep)
  const p = coreOf(parent)
  const ackOf = (at: number, next?: number): unknown => sends(p.handle(deep, { type: 'ack-request', ...(next === undefined ? {} : { next }) }, at))[0]?.message
  const numbered = (second: number, seq: number): PartialMessage => ({ ...partial(deep, second, 1), seq })
  p.handle(deep, numbered(T, 0), ms(T + 1, 10))
  p.handle(deep, numbered(T + 1, 2), ms(T + 2, 10))
  t.deepEqual(ackOf(ms(T + 2, 20)), { type: 'ack' }, 'missing for 10 ms: it may only have been overtaken')
  t.deepEqual(ackOf(ms(T + 2, 600)), { type: 'ack', gaps: [[1, 2]] }, 'missing for 500 ms: lost')
  t.deepEqual(ackOf(ms(T + 2, 700)), { type: 'ack' }, 'told once')
  p.handle(deep, numbered(T + 2, 4), ms(T + 2, 740))
  p.handle(deep, numbered(T + 2, 3), ms(T + 2, 745))
  t.deepEqual(ackOf(ms(T + 3, 600)), { type: 'ack' }, 'overtaken, not lost')
  // Numbers never start again: a 0 now is a late one, not a new sequence that would make 1-5 missing.
  p.handle(deep, numbered(T + 3, 0), ms(T + 3, 610))
  p.handle(deep, numbered(T + 3, 5), ms(T + 3, 620))
  t.deepEqual(ackOf(ms(T + 4, 600)), { type: 'ack' })
  // Every gap old enough at once, up to one younger than REORDER_MS (missing since 9 arrived).
  p.handle(deep, numbered(T + 4, 8), ms(T + 4, 610))
  p.handle(deep, numbered(T + 4, 11), ms(T + 4, 620))
  p.handle(deep, numbered(T + 5, 14), ms(T + 5, 100))
  t.deepEqual(ackOf(ms(T + 5, 200)), { type: 'ack', gaps: [[6, 8], [9, 11]] })
  t.deepEqual(ackOf(ms(T + 5, 600)), { type: 'ack', gaps: [[12, 14]] })
  // An ack-request says where the child's numbers are: what never came of the tail is a gap.
  t.deepEqual(ackOf(ms(T + 6, 600), 15), { type: 'ack', upTo: 15 })
  t.deepEqual(ackOf(ms(T + 7, 600), 18), { type: 'ack', gaps: [[15, 18]], upTo: 18 })

  // The child's side: it numbers what it sends its parent, and re-sends what the ack says is missing.
  const core = coreOf(deep)
  const sent = (out: MergeOutput[]): number[] => sends(out).flatMap((o) => (o.message.type === 'partial' ? [o.message.seq ?? -1] : []))
  t.deepEqual(sent(core.contribute(ID, T, scalar(1), ms(T + 1, 20))), [0])
  core.handle(parent, { type: 'ack' }, ms(T + 1, 600))
  t.deepEqual(sent(core.contribute(ID, T + 1, scalar(1), ms(T + 2, 20))), [1])
  t.deepEqual(sent(core.contribute(ID, T + 2, scalar(1), ms(T + 3, 20))), [2], 'asks: watchIntervalMs since the last ask')
  // That ack came before 1 was 500 ms missing: only a later one names it.
  core.handle(parent, { type: 'ack' }, ms(T + 3, 600))
  t.deepEqual(sent(core.contribute(ID, T + 3, scalar(1), ms(T + 4, 20))), [3])
  t.deepEqual(sent(core.contribute(ID, T + 4, scalar(1), ms(T + 5, 20))), [4], 'asks')
  core.handle(parent, { type: 'ack', gaps: [[1, 2], [3, 4]] }, ms(T + 5, 600))
  t.is(core.counters.gapsResent, 2, 'the partials earlier acks confirmed are still at hand')
  const again = sends(core.tick(ms(T + 6))).filter((o) => o.message.type === 'partial')
  t.deepEqual(again.map((o) => [o.to, o.message.type === 'partial' && o.message.second, o.message.type === 'partial' && o.message.resent, o.message.type === 'partial' && o.message.silentParent]), [[parent, T + 1, true, true], [parent, T + 3, true, true]])
  // A gap outside what the watch keeps re-sends nothing, and none is re-sent twice.
  t.deepEqual(sent(core.contribute(ID, T + 5, scalar(1), ms(T + 7, 20))), [7], 'asks (the copies went as 5 and 6)')
  core.handle(parent, { type: 'ack', gaps: [[1, 4], [10, 11]] }, ms(T + 7, 600))
  t.is(core.counters.gapsResent, 2)
  // The numbers go on when the watch starts again (the parent was routed around, then talked).
  const [next] = sends(core.contribute(ID, T + 6, scalar(1), ms(T + 8, 20)))
  core.sendFailed(parent, next!.message, ms(T + 8, 30))
  core.handle(parent, { type: 'history', id: ID, points: [], done: true }, ms(T + 8, 40))
  t.deepEqual(sends(core.contribute(ID, T + 7, scalar(1), ms(T + 9, 20))).map((o) => [o.to, o.message.type === 'partial' ? o.message.seq : -1]), [[parent, 9]])
})

test('more than 64 numbers arrived past a gap: it is named at the next ack however young, not given up on', (t) => {
  const parent = parentOf(deep)
  const p = coreOf(parent)
  const numbered = (seq: number): PartialMessage => ({ ...partial(deep, T, 1), seq })
  p.handle(deep, numbered(0), ms(T + 1, 10))
  for (let seq = 2; seq <= 66; seq++) p.handle(deep, numbered(seq), ms(T + 1, 20))
  t.deepEqual(sends(p.handle(deep, { type: 'ack-request' }, ms(T + 1, 30)))[0]?.message, { type: 'ack', gaps: [[1, 2]] })
})

test('an ack naming gaps that comes after its parent was routed around still has them sent again: what the watch confirmed is kept a while', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  const seqs = (out: MergeOutput[]): unknown[] => sends(out).map((o) => o.message.type === 'partial' && [o.to === parent, o.message.seq, o.message.ack === true])
  t.deepEqual(seqs(core.contribute(ID, T, scalar(1), ms(T + 1, 20))), [[true, 0, true]])
  core.handle(parent, { type: 'ack' }, ms(T + 1, 600))
  t.deepEqual(seqs(core.contribute(ID, T + 1, scalar(1), ms(T + 2, 20))), [[true, 1, false]])
  t.deepEqual(seqs(core.contribute(ID, T + 2, scalar(1), ms(T + 3, 20))), [[true, 2, true]])
  core.handle(parent, { type: 'ack' }, ms(T + 3, 600))
  t.deepEqual(seqs(core.contribute(ID, T + 3, scalar(1), ms(T + 4, 20))), [[true, 3, false]])
  t.deepEqual(seqs(core.contribute(ID, T + 4, scalar(1), ms(T + 5, 20))), [[true, 4, true]])
  // No ack in time: routed around at the next partial (3 and 4 go elsewhere with it).
  core.contribute(ID, T + 5, scalar(1), ms(T + 6, 20))
  t.is(core.counters.parentsSilent, 1)
  // It was slow: its ack comes, and says 1 never arrived.
  core.handle(parent, { type: 'ack', gaps: [[1, 2]] }, ms(T + 6, 500))
  t.is(core.counters.gapsResent, 1)
  const again = sends(core.tick(ms(T + 7))).filter((o) => o.message.type === 'partial' && o.message.second === T + 1)
  t.like(again[0], { message: { type: 'partial', resent: true, silentParent: true } })
})

test('a parent the membership suspects is asked once more, 500 ms later, with the next number, and the gaps its ack names go to the new parent', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  const askedOf = (out: MergeOutput[]): unknown[] => sends(out).filter((o) => o.to === parent && o.message.type === 'ack-request').map((o) => o.message)
  sends(core.contribute(ID, T, scalar(1), ms(T + 1, 20)))
  core.handle(parent, { type: 'ack' }, ms(T + 1, 600))
  sends(core.contribute(ID, T + 1, scalar(1), ms(T + 2, 20)))
  sends(core.contribute(ID, T + 2, scalar(1), ms(T + 3, 20)))
  // This ack confirms 1 and 2; 1 was lost, but the parent had not missed it for 500 ms yet.
  core.handle(parent, { type: 'ack' }, ms(T + 3, 100))
  core.memberSuspect(parent, ms(T + 3, 200))
  t.deepEqual(askedOf(core.tick(ms(T + 3, 500))), [], 'not before REORDER_MS')
  t.deepEqual(askedOf(core.tick(ms(T + 4))), [{ type: 'ack-request', next: 3 }])
  t.deepEqual(askedOf(core.tick(ms(T + 5))), [], 'once')
  core.handle(parent, { type: 'ack', gaps: [[1, 2]] }, ms(T + 5, 10))
  t.is(core.counters.gapsResent, 1)
  const again = sends(core.tick(ms(T + 6))).filter((o) => o.message.type === 'partial' && o.message.second === T + 1)
  t.is(again.length, 1)
  t.like(again[0], { to: parentOf(deep, withoutMember(members, parent)), message: { type: 'partial', resent: true, silentParent: true } })
})

test('a gap named among partials not confirmed yet has them sent again too, and the ask is answered all the same', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  const watched = (): unknown => (core.debugState().watched as Record<string, unknown>)[parent]
  const seqs = (out: MergeOutput[]): unknown[] => sends(out).flatMap((o) => (o.to === parent && o.message.type === 'partial' ? [[o.message.seq, o.message.ack === true]] : []))
  t.deepEqual(seqs(core.contribute(ID, T, scalar(1), ms(T + 1, 20))), [[0, true]])
  t.deepEqual(seqs(core.contribute(ID, T + 1, scalar(1), ms(T + 1, 500))), [[1, false]])
  // The ask was slow on its way: its answer comes once 1, sent after it, is missing.
  core.handle(parent, { type: 'ack', gaps: [[1, 2]], upTo: 1 }, ms(T + 1, 790))
  t.is(core.counters.gapsResent, 1)
  t.deepEqual(watched(), { owed: false, unacked: 0 }, '0 confirmed, 1 out of the watch: it goes again')
  const again = sends(core.tick(ms(T + 3))).filter((o) => o.message.type === 'partial' && o.message.second === T + 1)
  t.is(again.length, 1)
  t.like(again[0], { to: parent, message: { type: 'partial', resent: true, silentParent: true } })
})

test('an ack answering an ask of an earlier watch of the same parent confirms nothing the new watch asked about', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  const watched = (): unknown => (core.debugState().watched as Record<string, unknown>)[parent]
  const asks = (out: MergeOutput[]): number[] => sends(out).flatMap((o) => (o.to === parent && o.message.type === 'partial' && o.message.ack === true ? [o.message.seq ?? -1] : []))
  t.deepEqual(asks(core.contribute(ID, T, scalar(1), ms(T + 1, 20))), [0])
  // Suspected, then refuted: the watch is dropped (its partial re-sent) and starts again.
  core.memberSuspect(parent, ms(T + 1, 100))
  core.memberUp(parent, ms(T + 1, 200))
  const asked = [...asks(core.tick(ms(T + 1, 300))), ...asks(core.contribute(ID, T + 1, scalar(1), ms(T + 2, 20)))]
  t.is(asked.length, 1, 'the new watch asks once')
  t.true(asked[0]! > 0, 'numbers go on')
  t.like(watched(), { owed: true })
  // The answer to the first ask comes now: it must not confirm what the new ask covers.
  core.handle(parent, { type: 'ack', upTo: 1 }, ms(T + 2, 30))
  t.like(watched(), { owed: true })
  core.handle(parent, { type: 'ack', upTo: asked[0]! + 1 }, ms(T + 2, 40))
  t.like(watched(), { owed: false })
})

test('a parent this node routed around itself, or the membership removed, is not asked again: its answer would bring it back, or it is gone', (t) => {
  for (const leave of ['send failed', 'removed'] as const) {
    const core = coreOf(deep)
    const parent = parentOf(deep)
    sends(core.contribute(ID, T, scalar(1), ms(T + 1, 20)))
    core.handle(parent, { type: 'ack' }, ms(T + 1, 600))
    const [second] = sends(core.contribute(ID, T + 1, scalar(1), ms(T + 2, 20)))
    if (leave === 'send failed') core.sendFailed(parent, second!.message, ms(T + 2, 30))
    else core.memberDown(parent, ms(T + 2, 30))
    t.not(core.position(ID).parent, parent, leave)
    for (let s = 3; s <= 9; s++) t.deepEqual(sends(core.tick(ms(T + s))).filter((o) => o.to === parent), [], `${leave}, second ${s}`)
  }
})

test('a watch no longer sent to asks for its ack with the number of its next partial, so the parent can name a lost tail', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  t.deepEqual(sends(core.contribute(ID, T, scalar(1), ms(T + 1, 20))).map((o) => o.message.type === 'partial' && o.message.seq), [0])
  core.handle(parent, { type: 'ack' }, ms(T + 1, 600))
  t.deepEqual(sends(core.contribute(ID, T + 1, scalar(1), ms(T + 2, 20))).map((o) => o.message.type === 'partial' && o.message.seq), [1])
  // No partial for a while (this node stopped contributing): the sweep asks, naming the next number.
  const asked = sends(core.tick(ms(T + 5))).filter((o) => o.to === parent)
  t.deepEqual(asked.map((o) => o.message), [{ type: 'ack-request', next: 2 }])
  core.handle(parent, { type: 'ack', gaps: [[1, 2]] }, ms(T + 5, 10))
  t.is(core.counters.gapsResent, 1, 'the tail the parent never got')
})

test('a failed send re-sends the partials the parent had not acked, and the failed one as it was', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  const next = parentOf(deep, withoutMember(members, parent))
  sends(core.contribute(ID, T, scalar(1), ms(T + 1, 20)))
  const [failed] = sends(core.contribute(ID, T + 1, scalar(2), ms(T + 1, 500)))
  t.truthy(failed)
  const out = sends(core.sendFailed(parent, failed!.message, ms(T + 1, 510)))
  t.deepEqual(out.map((o) => [o.to, o.message.type === 'partial' ? [o.message.second, o.message.resent === true, o.message.silentParent === true] : o.message.type]), [[next, [T, true, false]], [next, [T + 1, false, false]]])
  t.is(core.counters.resent, 1)
})

test('a parent the membership suspects or removes: its unacked partials go to the new parent at the next tick, marked silentParent', (t) => {
  for (const change of ['suspect', 'down'] as const) {
    const core = coreOf(deep)
    const parent = parentOf(deep)
    const next = parentOf(deep, withoutMember(members, parent))
    sends(core.contribute(ID, T, scalar(1), ms(T + 1, 20)))
    if (change === 'suspect') core.memberSuspect(parent, ms(T + 1, 300))
    else core.memberDown(parent, ms(T + 1, 300))
    t.true((core.nextDeadline() ?? Infinity) <= ms(T + 1, 300), change)
    const out = sends(core.tick(ms(T + 1, 300)))
    t.like(out, [{ to: next, message: { type: 'partial', second: T, resent: true } }], change)
    // A suspect may be slow, not gone, and one removed may be alive on the other side of a
    // partition: either may forward the piece yet (the root's ring takes it in the copy's place).
    t.is(out[0]?.message.type === 'partial' && out[0].message.silentParent === true, true, change)
    t.is(out.length, 1, change)
  }
})

test('a parent no longer sent to (the tree moved) is asked while it holds unacked partials, and routed around if it stays silent', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  sends(core.contribute(ID, T, scalar(1), ms(T + 1, 20)))
  core.handle(parent, { type: 'ack' }, ms(T + 1, 100))
  sends(core.contribute(ID, T + 1, scalar(1), ms(T + 2, 20)))
  // A join moves the tree: the next partials go elsewhere, the one above stays unacked.
  const newcomer = peers.map((_, i) => clusterPeerId(100 + i)).find((p) => parentOf(deep, membersOf([...peers, p])) !== parent)!
  t.truthy(newcomer)
  core.memberUp(newcomer, ms(T + 2, 100))
  const elsewhere = parentOf(deep, membersOf([...peers, newcomer]))
  core.handle(elsewhere, { type: 'ack' }, ms(T + 2, 200))
  // The sweep asks the old parent once watchIntervalMs passed since the last partial to it.
  const asked = sends(core.tick(ms(T + 4, 100)))
  t.deepEqual(asked.filter((o) => o.to === parent), [{ to: parent, message: { type: 'ack-request', next: 2 } }], 'with the number of its next partial to it')
  // Silent still: routed around, and the unacked partial goes to this node's parent now.
  const moved = sends(core.tick(ms(T + 6)))
  t.like(moved.filter((o) => o.to !== parent), [{ to: elsewhere, message: { type: 'partial', second: T + 1, resent: true, silentParent: true } }])
  t.is(core.counters.parentsSilent, 1)
  t.true(parent in (core.debugState().unreachable as Record<string, number>))
})

test('a resent piece travels alone: an inner node forwards it at once, before its own deadline, never combined', (t) => {
  const inner = peers.find((p) => { const pos = treePosition(members, key, p, SHAPE); return pos.children.length > 0 && pos.parent !== undefined })!
  const child = treePosition(members, key, inner, SHAPE).children[0]!
  const up = parentOf(inner)
  for (const silentParent of [false, true]) {
    const core = coreOf(inner)
    const resent: PartialMessage = { ...partial(child, T, 4), resent: true, ...(silentParent ? { silentParent } : {}) }
    const out = sends(core.handle(child, resent, ms(T + 1, 60)))
    t.like(out.filter((o) => o.to === up), [{ to: up, message: { type: 'partial', second: T, contributors: [memberKey(child)], value: scalar(4), late: true, resent: true } }])
    // Its own value, at its deadline, goes without the resent piece.
    const own = sends([...core.contribute(ID, T, scalar(1), ms(T + 1, 70)), ...core.tick(ms(T + 2))]).filter((o) => o.to === up)
    t.like(own, [{ message: { type: 'partial', second: T, contributors: [memberKey(inner)], value: scalar(1), late: false } }])
    core.handle(up, { type: 'ack' }, ms(T + 2, 5))
    const first = sends(core.handle(child, partial(child, T, 4), ms(T + 2, 10)))
    if (silentParent) {
      // From a parent only silent: not recorded on the way, so the first copy, coming late
      // (from a slow parent, maybe combined with others), is not refused here but goes up too.
      t.like(first, [{ to: up, message: { type: 'partial', second: T, contributors: [memberKey(child)], late: true } }])
      t.is(core.counters.dropped.duplicate, 0)
    } else {
      // From a parent known gone: recorded, and a later copy is refused here, alone.
      t.deepEqual(first, [])
      t.is(core.counters.dropped.duplicate, 1)
    }
  }
})

test('a root merges a piece re-sent past a silent parent at once and alone; the combined piece that holds it takes its place, at the replicas too', (t) => {
  const root = peers.find((p) => treePosition(members, key, p, SHAPE).parent === undefined)!
  const [replica] = treePosition(members, key, root, SHAPE).holders.filter((h) => h !== root) as [string]
  const [x, y] = treePosition(members, key, root, SHAPE).children as [string, string]
  const core = coreOf(root)
  // y's piece comes resent (its first parent, x, looked gone), then x forwards it late,
  // combined with its own: were the copy to refuse it, x's own count would be lost.
  const out = sends(core.handle(y, { ...partial(y, T, 4), resent: true, silentParent: true }, ms(T + 1, 100)))
  t.is(valueTotal(core.queryLocal(ID, T, T + 1)[0]!.value), 4)
  const copy = out.find((o) => o.to === replica && o.message.type === 'replica')
  t.like(copy, { message: { type: 'replica', second: T, contributors: [memberKey(y)] } })
  const combined: PartialMessage = { type: 'partial', id: ID, second: T, contributors: [memberKey(x), memberKey(y)].sort((a, b) => a - b), value: scalar(7), late: true }
  const again = sends(core.handle(x, combined, ms(T + 3, 500)))
  const [point] = core.queryLocal(ID, T, T + 1)
  t.is(point?.minreporting, 2)
  t.is(valueTotal(point!.value), 7)
  t.is(core.counters.dropped.duplicate, 0)
  core.handle(y, { ...partial(y, T, 4), resent: true, silentParent: true }, ms(T + 4))
  t.is(core.counters.dropped.duplicate, 1, 'the copy again')
  // The replica took the copy, then the combined piece in its place: the root may die.
  const rep = coreOf(replica)
  rep.handle(root, copy!.message, ms(T + 1, 110))
  t.is(valueTotal(rep.queryLocal(ID, T, T + 1)[0]!.value), 4)
  const second = again.find((o) => o.to === replica && o.message.type === 'replica')
  rep.handle(root, second!.message, ms(T + 3, 510))
  t.is(valueTotal(rep.queryLocal(ID, T, T + 1)[0]!.value), 7)
})

test('a piece re-sent from a parent known gone joins the root at once, and a later copy of it is refused', (t) => {
  const root = peers.find((p) => treePosition(members, key, p, SHAPE).parent === undefined)!
  const [, y] = treePosition(members, key, root, SHAPE).children as [string, string]
  const core = coreOf(root)
  core.handle(y, { ...partial(y, T, 4), resent: true }, ms(T + 1, 100))
  t.is(valueTotal(core.queryLocal(ID, T, T + 1)[0]!.value), 4)
  core.handle(y, { ...partial(y, T, 4), resent: true }, ms(T + 2))
  t.is(core.counters.dropped.duplicate, 1)
  t.is(valueTotal(core.queryLocal(ID, T, T + 1)[0]!.value), 4)
})

test('a parent that drops an instrumentation while holding an asking piece acks it, so the child does not take it for silent', (t) => {
  const parent = parentOf(deep)
  const core = coreOf(parent)
  t.deepEqual(sends(core.handle(deep, { ...partial(deep, T, 5), ack: true }, ms(T + 1, 100))), [])
  t.deepEqual(sends(core.removeInstrumentation(ID, ms(T + 1, 150))), [{ to: deep, message: { type: 'ack' } }])
})

test('a member the membership found slow leads nothing: its children go past it, it waits for none itself, and it comes back after slowMemberMs', (t) => {
  const parent = parentOf(deep)
  const config = { ...SHAPE, slowMemberMs: 30_000 }
  const child = createMergeCore({ self: deep, now: ms(T), members, config })
  child.setInstrumentation(ID, SPEC, ms(T))
  const slow = createMergeCore({ self: parent, now: ms(T), members, config })
  slow.setInstrumentation(ID, SPEC, ms(T))
  const demoted = [members.ids.indexOf(parent)]
  const expected = treePosition(members, key, deep, SHAPE, undefined, [], demoted)
  t.not(expected.parent, parent)
  child.memberSlow(parent, ms(T, 100))
  t.is(child.position(ID).parent, expected.parent, 'the child goes to the leader that took the slow member\'s prefix')
  // The slow member, told it refuted, keeps its place in its own trees (a cycle with a node that
  // has not heard yet would lose pieces) but waits for none of its children: its value goes up at once.
  const plain = treePosition(members, key, parent, SHAPE)
  t.true(plain.children.length > 0)
  slow.memberSlow(parent, ms(T, 100))
  t.deepEqual(slow.position(ID), plain)
  const [up] = sends(slow.contribute(ID, T, scalar(2), ms(T + 1, 20)))
  t.is(up?.to, plain.parent!)
  t.deepEqual((up?.message as PartialMessage).contributors, [memberKey(parent)])
  // A child that had not heard yet: its piece goes up at once, late, on its own.
  const [late] = sends(slow.handle(plain.children[0]!, partial(plain.children[0]!, T, 3), ms(T + 1, 30)))
  t.like(late?.message, { type: 'partial', late: true, contributors: [memberKey(plain.children[0]!)] })
  // And a parent does not wait for a demoted child, which sends where its own trees say.
  const above = createMergeCore({ self: plain.parent!, now: ms(T), members, config })
  above.setInstrumentation(ID, SPEC, ms(T))
  above.memberSlow(parent, ms(T, 100))
  const others = above.position(ID).children
  t.false(others.includes(parent), 'demoted: not a child any more')
  for (const c of others) above.handle(c, partial(c, T + 1, 1), ms(T + 2, 10))
  const [flushed] = sends(above.contribute(ID, T + 1, scalar(1), ms(T + 2, 20)))
  t.like(flushed?.message, { type: 'partial', second: T + 1, late: false })
  t.deepEqual(Object.keys(child.debugState().slowMembers as object), [parent])
  // A refutation again renews the demotion; slowMemberMs after the last one, the member leads again.
  child.memberSlow(parent, ms(T + 10))
  child.tick(ms(T + 35))
  t.is(child.position(ID).parent, expected.parent, 'renewed at T + 10: still demoted at T + 35')
  child.tick(ms(T + 41))
  t.is(child.position(ID).parent, parent)
})

test('a demoted root stays the root, and when more than a quarter of the view is slow no one is demoted', (t) => {
  const root = holdersOf(members, key, 1)[0]!
  const core = coreOf(deep)
  core.memberSlow(root, ms(T))
  t.is(core.position(ID).holders[0], root)
  t.is(treePosition(members, key, root, SHAPE, undefined, [], [members.ids.indexOf(root)]).parent, undefined)
  const parent = parentOf(deep)
  const view = createMergeCore({ self: deep, now: ms(T), members, config: SHAPE })
  view.setInstrumentation(ID, SPEC, ms(T))
  view.memberSlow(parent, ms(T))
  t.not(view.position(ID).parent, parent, 'one slow member of 16 is demoted')
  const others = peers.filter((p) => p !== parent && p !== deep)
  for (const other of others.slice(0, 3)) view.memberSlow(other, ms(T))
  t.not(view.position(ID).parent, parent, 'four of 16 are demoted')
  // A fifth one is more than 16 / 4: a network fault, not slow members; the trees are the plain ones again.
  view.memberSlow(others[3]!, ms(T))
  t.is(view.position(ID).parent, parent)
  // A member outside the view is ignored.
  view.memberSlow(clusterPeerId(999), ms(T))
  t.is(Object.keys(view.debugState().slowMembers as object).length, 5)
})

test('a child that sent nothing absentChildSeconds seconds in a row is not waited for, until a piece of it comes before a deadline again', (t) => {
  const mid = peers.find((p) => { const pos = treePosition(members, key, p, SHAPE); return pos.parent !== undefined && pos.children.length === 2 })!
  const up = (out: MergeOutput[]): PartialMessage[] => sends(out).flatMap((s) => (s.message.type === 'partial' ? [s.message] : []))
  for (const absentChildSeconds of [3, 0]) {
    // Parents are not watched here: this one never acks.
    const core = createMergeCore({ self: mid, now: ms(T), members, config: { ...SHAPE, absentChildSeconds, watchIntervalMs: 0 } })
    core.setInstrumentation(ID, SPEC, ms(T))
    const [present, absent] = core.position(ID).children as [string, string]
    // Its own trees send `absent` elsewhere: every second waits for it until the deadline.
    const second = (s: number): { atOnce: PartialMessage[], atDeadline: PartialMessage[] } => {
      core.handle(present, partial(present, s, 1), ms(s + 1, 5))
      const atOnce = up(core.contribute(ID, s, scalar(1), ms(s + 1, 10)))
      return { atOnce, atDeadline: up(core.tick(ms(s + 1, 900))) }
    }
    for (let s = T + 1; s <= T + 3; s++) {
      const { atOnce, atDeadline } = second(s)
      t.deepEqual(atOnce, [], `second ${s - T}: waits for the absent child`)
      t.like(atDeadline[0], { second: s, late: false })
    }
    if (absentChildSeconds === 0) {
      t.deepEqual(second(T + 4).atOnce, [], 'with absentChildSeconds 0 every child is always waited for')
      continue
    }
    // Three seconds missed in a row: the fourth goes up as soon as the others came.
    core.handle(present, partial(present, T + 4, 1), ms(T + 5, 5))
    const fourth = up(core.contribute(ID, T + 4, scalar(1), ms(T + 5, 10)))
    t.like(fourth[0], { second: T + 4, late: false })
    t.deepEqual(fourth[0]?.contributors, [memberKey(mid), memberKey(present)].sort((a, b) => a - b))
    // A piece of it before the deadline: it goes up at once, on its own (nothing is lost)...
    const [late] = up(core.handle(absent, partial(absent, T + 4, 1), ms(T + 5, 20)))
    t.like(late, { second: T + 4, late: true, contributors: [memberKey(absent)] })
    core.tick(ms(T + 5, 900))
    // ...and it is on time again, so the next second waits for it.
    t.deepEqual(second(T + 5).atOnce, [])
  }
})

test('a refused partial is acked, or nacked when another node may take it: its sender, a contributor or its definition unknown here', (t) => {
  const parent = parentOf(deep)
  const core = coreOf(parent)
  const asking = (from: string, second: number): PartialMessage => ({ ...partial(from, second, 1), ack: true })
  const nack = (m: PartialMessage): { to: string, message: MergeMessage } => ({ to: deep, message: { type: 'nack', id: m.id, second: m.second, contributors: m.contributors } })
  // Refused for its second (too far ahead): it would be refused anywhere, and the sender is told this node is there.
  t.deepEqual(sends(core.handle(deep, asking(deep, T + 100), ms(T + 1))), [{ to: deep, message: { type: 'ack' } }])
  // Refused for its sender, whom this view counts gone (a partition healing: others may know it already).
  core.memberDown(deep, ms(T + 1, 100))
  core.tick(ms(T + 1000))
  const fromGone = asking(deep, T + 1000)
  t.deepEqual(sends(core.handle(deep, fromGone, ms(T + 1001, 10))), [nack(fromGone)])
  t.is(core.counters.dropped['not-a-member'], 1)
  // An ack-request is answered all the same: every piece refused here was nacked.
  t.deepEqual(sends(core.handle(deep, { type: 'ack-request' }, ms(T + 1001, 20))), [{ to: deep, message: { type: 'ack' } }])
  core.memberUp(deep, ms(T + 1001, 30))
  // Refused for a contributor this view does not know (a restarted node's view is not whole yet).
  const combined: PartialMessage = { ...asking(deep, T + 1000), contributors: [memberKey(deep), memberKey(clusterPeerId(99))].sort((x, y) => x - y), value: scalar(2) }
  t.deepEqual(sends(core.handle(deep, combined, ms(T + 1001, 40))), [nack(combined)])
  // Refused for a definition that has not reached this node yet, as objects and as bytes (the daemon's way).
  const OTHER = '00000000000000bb'
  const unknown: PartialMessage = { ...asking(deep, T + 1000), id: OTHER }
  t.deepEqual(sends(core.handle(deep, unknown, ms(T + 1001, 50))), [nack(unknown)])
  t.deepEqual(sends(core.handle(deep, encodeMergeMessage(unknown), ms(T + 1001, 60))), [nack(unknown)])
  t.is(core.counters.dropped['unknown-instrumentation'], 2)
  // One removed here is refused anywhere soon: acked.
  core.setInstrumentation(OTHER, SPEC, ms(T + 1001, 70))
  core.removeInstrumentation(OTHER, ms(T + 1001, 80))
  t.deepEqual(sends(core.handle(deep, unknown, ms(T + 1001, 90))), [{ to: deep, message: { type: 'ack' } }])
})

test('a nacked partial leaves the unacked list, answers the ask if it made one, and goes again at the next sweep, to the parent of the moment', (t) => {
  const core = coreOf(deep)
  const parent = parentOf(deep)
  const [first] = sends(core.contribute(ID, T, scalar(1), ms(T + 1, 20)))
  t.like(first, { to: parent, message: { type: 'partial', second: T, ack: true } })
  const m = first!.message as PartialMessage
  core.handle(parent, { type: 'nack', id: ID, second: T, contributors: m.contributors }, ms(T + 1, 30))
  t.is(core.counters.nacked, 1)
  // The nack answered the ask: no watch is owed, nothing is left unacked.
  t.deepEqual(core.debugState().watched, { [parent]: { owed: false, unacked: 0 } })
  // Not at once: at the next sweep, to its parent then (here the same one).
  const again = sends(core.tick(ms(T + 2)))
  t.like(again.filter((o) => o.message.type === 'partial' && o.message.second === T), [{ to: parent, message: { type: 'partial', second: T, contributors: m.contributors } }])
  // A nack that arrives after the ack sent after it (links need not keep order) still finds its piece.
  core.handle(parent, { type: 'ack' }, ms(T + 2, 10))
  core.handle(parent, { type: 'nack', id: ID, second: T, contributors: m.contributors }, ms(T + 2, 20))
  t.is(core.counters.nacked, 2)
  // A nack for nothing sent is dropped.
  core.handle(parent, { type: 'nack', id: ID, second: T + 50, contributors: m.contributors }, ms(T + 2, 30))
  t.is(core.counters.dropped.unsolicited, 1)
  t.is(core.counters.nacked, 2)
})

test('a root that steps down hands its points over, and again to each new root its view sees, for the late window', (t) => {
  const SHAPE1 = { fanIn: 2, replicas: 0 }
  const rootOf = (set: typeof members): string => peers.concat(newcomers).find((p) => indexIn(set, p) && treePosition(set, key, p, SHAPE1).parent === undefined)!
  const newcomers = Array.from({ length: 200 }, (_, i) => clusterPeerId(1000 + i))
  const indexIn = (set: typeof members, p: string): boolean => set.ids.includes(p)
  const root = rootOf(members)
  const core = createMergeCore({ self: root, now: ms(T), members, config: SHAPE1 })
  core.setInstrumentation(ID, SPEC, ms(T))
  core.contribute(ID, T, scalar(3), ms(T + 1, 20))
  core.tick(ms(T + 2))
  t.is(core.queryLocal(ID, T, T + 1)[0]?.minreporting, 1)
  // Two newcomers, each the root of the view it joins.
  let set = members
  const [first, second, third] = newcomers.filter((p) => { const next = membersOf([...set.ids, p]); if (rootOf(next) !== p) return false; set = next; return true }).slice(0, 3) as [string, string, string]
  t.truthy(first && second && third)
  const historyTo = (out: MergeOutput[]): string[] => sends(out).filter((o) => o.message.type === 'history' && o.message.points.some((p) => p.second === T)).map((o) => o.to)
  core.memberUp(first, ms(T + 3))
  t.deepEqual(historyTo(core.tick(ms(T + 3, 10))), [first], 'handed over to the new root')
  // Views disagree after a heal: `first` may not be the root the others see, or may refuse
  // this node; when this node's view sees another root, it hands the same points over again.
  core.memberUp(second, ms(T + 4))
  t.deepEqual(historyTo(core.tick(ms(T + 4, 10))), [second], 'again, to the next root')
  // Not again to the same root, nor after the late window.
  core.memberSuspect(first, ms(T + 5))
  t.deepEqual(historyTo(core.tick(ms(T + 5, 10))), [])
  core.memberUp(third, ms(T + 200))
  t.deepEqual(historyTo(core.tick(ms(T + 200, 10))), [], 'a new root after the late window gets nothing')
})

test('a holder keeps a stranger\'s refused history and takes it once the stranger is a member', (t) => {
  const root = peers.find((p) => treePosition(members, key, p, SHAPE).parent === undefined)!
  const core = coreOf(root)
  // The cut-off side's root hands over before this node has heard it is alive again.
  const stranger = clusterPeerId(99)
  const point = { second: T, value: scalar(6), minreporting: 1, nsources: 3, contributors: [memberKey(stranger)] }
  core.handle(stranger, { type: 'history', id: ID, points: [point], done: true }, ms(T + 2))
  t.is(core.counters.dropped['not-a-member'], 1)
  core.tick(ms(T + 3))
  t.deepEqual(core.queryLocal(ID, T, T + 1), [], 'not taken from a stranger')
  core.memberUp(stranger, ms(T + 4))
  t.true((core.nextDeadline() ?? Infinity) <= ms(T + 4))
  core.tick(ms(T + 4))
  t.is(valueTotal(core.queryLocal(ID, T, T + 1)[0]!.value), 6)
  // Taken once: a second memberUp replays nothing.
  core.memberDown(stranger, ms(T + 5))
  core.memberUp(stranger, ms(T + 6))
  core.tick(ms(T + 6))
  t.is(core.counters.historyMerged, 1)
})

test('a holder keeps the latest 64 refused stranger histories, not more', (t) => {
  const root = peers.find((p) => treePosition(members, key, p, SHAPE).parent === undefined)!
  const core = coreOf(root)
  const strangers = Array.from({ length: 65 }, (_, i) => clusterPeerId(200 + i))
  strangers.forEach((s, i) => {
    const point = { second: T + i, value: scalar(1), minreporting: 1, nsources: 3, contributors: [memberKey(s)] }
    core.handle(s, { type: 'history', id: ID, points: [point], done: true }, ms(T + 70, i))
  })
  core.memberUp(strangers[0]!, ms(T + 71))
  core.memberUp(strangers[64]!, ms(T + 71))
  core.tick(ms(T + 71))
  t.deepEqual(core.queryLocal(ID, T, T + 65).map((p) => p.second), [T + 64], 'the oldest went first')
})
