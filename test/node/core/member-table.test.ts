/** The member table: slots, states, times, a digest equal to SetDigest's, snapshots shared until changed. */
import test from 'ava'
import { SetDigest } from '../../../node/core/digest.js'
import { MemberSnapshot, MemberTable, NumberSet } from '../../../node/core/member-table.js'
import { memberRecord, type MemberRecord, type MemberState } from '../../../node/core/messages.js'
import { createPeerInterner } from '../../../node/core/peer-interner.js'
import { createRng } from '../../../node/core/rng.js'

const rec = (id: string, incarnation = 0): MemberRecord => memberRecord({ id, name: id, addresses: [], meta: {} }, incarnation)
const fingerprint = (r: MemberRecord, s: MemberState): string => `${r.id}\u0000${r.incarnation}\u0000${s === 'suspect' ? 'alive' : s}`

test('a table holds records and states, and its digest equals a SetDigest of the same entries', (t) => {
  const interner = createPeerInterner()
  const table = new MemberTable(interner)
  const reference = new SetDigest()
  const rng = createRng('table')
  const held = new Map<string, [MemberRecord, MemberState]>()
  const states: MemberState[] = ['alive', 'suspect', 'dead', 'left']
  for (let k = 0; k < 2000; k++) {
    const id = `peer-${rng.uint32() % 300}`
    const n = interner.number(id)
    const incarnation = (held.get(id)?.[0].incarnation ?? 0) + (rng.uint32() % 3)
    const r = rec(id, incarnation)
    const s = states[rng.uint32() % 4] as MemberState
    const old = held.get(id)
    if (old === undefined) {
      table.insert(n, r, s, k)
      held.set(id, [r, s])
      reference.add(id, fingerprint(r, s))
    } else if (rng.uint32() % 10 === 0) {
      table.remove(n)
      held.delete(id)
      reference.remove(id, fingerprint(old[0], old[1]))
    } else {
      table.set(n, r, s, k)
      held.set(id, [r, s])
      reference.remove(id, fingerprint(old[0], old[1]))
      reference.add(id, fingerprint(r, s))
    }
  }
  t.deepEqual(table.digest.root(), reference.root())
  t.deepEqual(table.digest.buckets(), reference.buckets())
  t.deepEqual(table.digest.differingBuckets(reference.buckets()), [])
  t.is(table.count, held.size)
  t.is(table.liveCount, [...held.values()].filter(([, s]) => s === 'alive' || s === 'suspect').length)
  for (const [id, [r, s]] of held) {
    const n = interner.lookup(id)
    t.is(table.state(n), s)
    t.is(table.incarnation(n), r.incarnation)
  }
  t.is(interner.records, held.size, 'a record per member held, none leaked')
})

test('tables loaded from a snapshot share it until they change, then hold their own copy', (t) => {
  const interner = createPeerInterner({ arena: true })
  const records = Array.from({ length: 100 }, (_, i) => rec(`peer-${i}`))
  const snapshot = new MemberSnapshot(interner, records)
  const a = new MemberTable(interner)
  const b = new MemberTable(interner)
  a.load(snapshot, 5000)
  b.load(snapshot, 5000)
  t.deepEqual(a.digest.root(), snapshot.digest.root())
  t.is(a.count, 100)
  t.is(a.liveCount, 100)
  t.is(a.since(7), 5000)
  const n = interner.number('peer-7')
  a.set(n, rec('peer-7'), 'dead', 6000)
  t.is(a.state(n), 'dead')
  t.is(a.since(n), 6000)
  t.is(b.state(n), 'alive', 'the other table still sees the snapshot')
  t.is(b.since(n), 5000)
  t.deepEqual(b.digest.root(), snapshot.digest.root())
  t.notDeepEqual(a.digest.root(), b.digest.root())
  t.is(a.liveCount, 99)
  t.deepEqual([...a.numbers()].length, 100)
})

test('loading into a table that holds members, or a snapshot of another interner, is refused', (t) => {
  const interner = createPeerInterner()
  const snapshot = new MemberSnapshot(interner, [rec('a')])
  const table = new MemberTable(interner)
  table.insert(interner.number('b'), rec('b'), 'alive', 0)
  t.throws(() => { table.load(snapshot, 0) }, { message: /non-empty/ })
  t.throws(() => { new MemberTable(createPeerInterner()).load(snapshot, 0) }, { message: /another interner/ })
  t.throws(() => new MemberSnapshot(interner, [rec('a'), rec('a')]), { message: /twice/ })
})

test('a number set adds, deletes and picks uniformly', (t) => {
  const set = new NumberSet(4)
  for (const n of [5, 40, 7, 5]) set.add(n)
  t.is(set.size, 3)
  set.delete(40)
  set.delete(41)
  t.false(set.has(40))
  t.true(set.has(7) && set.has(5))
  const rng = createRng('set')
  const seen = new Set<number>()
  for (let k = 0; k < 50; k++) seen.add(set.random(rng))
  t.deepEqual([...seen].sort((x, y) => x - y), [5, 7])
})
