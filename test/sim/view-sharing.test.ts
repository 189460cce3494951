import test from 'ava'
import { instrumentationKey, membersOf, treePosition, withMember, withoutMember, type MemberSet } from '../../node/merge/index.js'
import { createTreeSharing, createViewSharing } from '../../sim/view-sharing.js'

const ids = Array.from({ length: 64 }, (_, i) => `peer-${i}`)

function sameMembers (a: MemberSet, b: MemberSet): boolean {
  return a.ids.length === b.ids.length && a.ids.every((id, i) => id === b.ids[i] && a.keys[i] === b.keys[i])
}

test('cores that learn the same deaths in different orders end up holding one set', (t) => {
  const sharing = createViewSharing()
  const base = membersOf(ids)
  const dead = ['peer-3', 'peer-17', 'peer-40', 'peer-41']
  const orders = [dead, [...dead].reverse(), ['peer-40', 'peer-3', 'peer-41', 'peer-17']]
  const ends = orders.map((order) => order.reduce((set, id) => sharing.withoutMembers(set, [id]), base))
  t.is(ends[1], ends[0])
  t.is(ends[2], ends[0])
  t.true(sameMembers(ends[0]!, dead.reduce(withoutMember, base)))
  t.true(sharing.stats.interned > 0)
})

test('the same join of the same set is derived once, and the same departures give the same set', (t) => {
  const sharing = createViewSharing()
  const base = membersOf(ids)
  t.is(sharing.withMember(base, 'newcomer'), sharing.withMember(base, 'newcomer'))
  t.is(sharing.stats.derived, 1)
  t.is(sharing.stats.memoHits, 1)
  t.is(sharing.withoutMembers(base, ['peer-5', 'peer-6']), sharing.withoutMembers(base, ['peer-6', 'peer-5']))
  t.is(sharing.stats.interned, 1)
})

test('batches of departures in any grouping end at one set', (t) => {
  const sharing = createViewSharing()
  const base = membersOf(ids)
  const one = sharing.withoutMembers(sharing.withoutMembers(base, ['peer-1', 'peer-2']), ['peer-3'])
  const other = sharing.withoutMembers(sharing.withoutMembers(base, ['peer-3']), ['peer-2', 'peer-1', 'not-a-member'])
  t.is(one, other)
  t.true(sameMembers(one, ['peer-1', 'peer-2', 'peer-3'].reduce(withoutMember, base)))
})

test('a crash and its restart lead back to the warm start set', (t) => {
  const sharing = createViewSharing()
  const base = membersOf(ids)
  const back = sharing.withMember(sharing.withoutMembers(base, ['peer-9']), 'peer-9')
  t.is(back, base)
})

test('with and without never answer for each other, and a newcomer is added in key order', (t) => {
  const sharing = createViewSharing()
  const base = membersOf(ids)
  const grown = sharing.withMember(base, 'newcomer')
  t.true(sameMembers(grown, withMember(base, 'newcomer')))
  t.is(sharing.withoutMembers(base, ['newcomer']), base)
  t.is(sharing.withMember(base, 'peer-1'), base)
  t.true(sameMembers(sharing.withoutMembers(grown, ['newcomer']), base))
})

test('sets with equal hashes but different members are not merged', (t) => {
  const sharing = createViewSharing()
  const base = membersOf(ids)
  // Every removal of a distinct member gives a distinct content: none may come back as another.
  const removed = ids.map((id) => sharing.withoutMembers(base, [id]))
  for (let i = 0; i < removed.length; i++) {
    t.false(removed[i]!.ids.includes(ids[i]!))
    t.is(removed[i]!.ids.length, ids.length - 1)
  }
})

test('tree sharing answers a view alone the first time, then from one whole tree, with treePosition\'s positions', (t) => {
  const sharing = createTreeSharing()
  const shape = { fanIn: 4, replicas: 2 }
  const inst = instrumentationKey('inst-1')
  const base = membersOf(ids)
  for (const id of ids) t.deepEqual(sharing.position(base, inst, id, shape), treePosition(base, inst, id, shape))
  t.deepEqual(sharing.stats, { built: 1, shared: ids.length - 1, alone: 1 })
  // Another view, instrumentation or shape is another tree.
  const smaller = withoutMember(base, 'peer-9')
  sharing.position(smaller, inst, 'peer-1', shape)
  sharing.position(base, instrumentationKey('inst-2'), 'peer-1', shape)
  sharing.position(base, inst, 'peer-1', { fanIn: 16, replicas: 2 })
  t.is(sharing.stats.alone, 4)
  t.deepEqual(sharing.position(smaller, inst, 'peer-2', shape), treePosition(smaller, inst, 'peer-2', shape))
  t.is(sharing.stats.built, 2)
  t.throws(() => sharing.position(smaller, inst, 'peer-9', shape), { instanceOf: RangeError })
})
