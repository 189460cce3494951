import test from 'ava'
/** The rumour queue: retransmission limits, replacement, least-sent first, packing, the buddy rumour. */
import { jsonByteLength, type MemberUpdate } from '../../../node/core/messages.js'
import { MAX_MISSES, RumourQueue } from '../../../node/core/rumour-queue.js'

const dead = (id: string, incarnation = 0): MemberUpdate => ({ type: 'dead', id, incarnation, from: 'me' })

test('a rumour is sent at most limit times, then leaves the queue', (t) => {
  const q = new RumourQueue()
  q.enqueue('a', dead('a'), jsonByteLength(dead('a')))
  for (let i = 0; i < 3; i++) t.deepEqual(q.take(1000, 10, 3), [dead('a')])
  t.deepEqual(q.take(1000, 10, 3), [])
  t.is(q.size, 0)
})

test('a newer rumour about a member replaces the older one and starts over', (t) => {
  const q = new RumourQueue()
  q.enqueue('a', dead('a', 1), jsonByteLength(dead('a', 1)))
  q.take(1000, 10, 2)
  q.enqueue('a', dead('a', 2), jsonByteLength(dead('a', 2)))
  t.is(q.size, 1)
  t.deepEqual(q.take(1000, 10, 2), [dead('a', 2)])
  t.deepEqual(q.take(1000, 10, 2), [dead('a', 2)])
  t.deepEqual(q.take(1000, 10, 2), [])
})

test('the least-sent rumours go first', (t) => {
  const q = new RumourQueue()
  q.enqueue('a', dead('a'), jsonByteLength(dead('a')))
  q.take(1000, 1, 10) // a sent once
  q.enqueue('b', dead('b'), jsonByteLength(dead('b')))
  t.deepEqual(q.take(1000, 1, 10), [dead('b')])
})

test('rumours are packed into the byte budget, but one always fits', (t) => {
  const q = new RumourQueue()
  for (const id of ['a', 'b', 'c', 'd']) q.enqueue(id, dead(id), jsonByteLength(dead(id)))
  const one = JSON.stringify(dead('a')).length
  t.is(q.take(2 * one + 2, 10, 5).length, 2)
  t.is(q.take(1, 10, 5).length, 1)
  t.is(q.take(10_000, 3, 5).length, 3)
})

test('a rumour named first is put first whatever its count', (t) => {
  const q = new RumourQueue()
  q.enqueue('a', dead('a'), jsonByteLength(dead('a')))
  q.take(1000, 1, 10)
  q.enqueue('b', dead('b'), jsonByteLength(dead('b')))
  t.deepEqual(q.take(1000, 10, 10, 'a'), [dead('a'), dead('b')])
})

test('dropping a rumour removes it', (t) => {
  const q = new RumourQueue()
  q.enqueue('a', dead('a'), jsonByteLength(dead('a')))
  q.drop('a')
  q.drop('nobody')
  t.is(q.size, 0)
  t.deepEqual(q.take(1000, 10, 5), [])
})

test('packing stops after a run of rumours that do not fit, rather than scanning the whole queue', (t) => {
  const q = new RumourQueue()
  const big = (id: string): MemberUpdate => ({ type: 'alive', member: { id, name: 'x'.repeat(200), addresses: [], meta: {}, incarnation: 0 } })
  q.enqueue('small-0', dead('small-0'), 60)
  for (let i = 0; i < MAX_MISSES; i++) q.enqueue(`big-${i}`, big(`big-${i}`), 300)
  q.enqueue('small-1', dead('small-1'), 60)
  // 60 + 1 used; no big one fits in 100; the small one behind them is not reached.
  t.deepEqual(q.take(100, 64, 10), [dead('small-0')])
  t.is(q.size, MAX_MISSES + 2)
})
