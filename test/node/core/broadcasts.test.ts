import test from 'ava'
import { BroadcastQueue } from '../../../node/core/broadcasts.js'
import type { MemberUpdate } from '../../../node/core/messages.js'

const dead = (id: string, incarnation = 0): MemberUpdate => ({ type: 'dead', id, incarnation, from: 'me' })

test('a rumour is sent at most limit times, then leaves the queue', (t) => {
  const q = new BroadcastQueue()
  q.enqueue('a', dead('a'))
  for (let i = 0; i < 3; i++) t.deepEqual(q.take(1000, 10, 3), [dead('a')])
  t.deepEqual(q.take(1000, 10, 3), [])
  t.is(q.size, 0)
})

test('a newer rumour about a member replaces the older one and starts over', (t) => {
  const q = new BroadcastQueue()
  q.enqueue('a', dead('a', 1))
  q.take(1000, 10, 2)
  q.enqueue('a', dead('a', 2))
  t.is(q.size, 1)
  t.deepEqual(q.take(1000, 10, 2), [dead('a', 2)])
  t.deepEqual(q.take(1000, 10, 2), [dead('a', 2)])
  t.deepEqual(q.take(1000, 10, 2), [])
})

test('the least-sent rumours go first', (t) => {
  const q = new BroadcastQueue()
  q.enqueue('a', dead('a'))
  q.take(1000, 1, 10) // a sent once
  q.enqueue('b', dead('b'))
  t.deepEqual(q.take(1000, 1, 10), [dead('b')])
})

test('rumours are packed into the byte budget, but one always fits', (t) => {
  const q = new BroadcastQueue()
  for (const id of ['a', 'b', 'c', 'd']) q.enqueue(id, dead(id))
  const one = JSON.stringify(dead('a')).length
  t.is(q.take(2 * one + 2, 10, 5).length, 2)
  t.is(q.take(1, 10, 5).length, 1)
  t.is(q.take(10_000, 3, 5).length, 3)
})

test('a rumour named first is put first whatever its count', (t) => {
  const q = new BroadcastQueue()
  q.enqueue('a', dead('a'))
  q.take(1000, 1, 10)
  q.enqueue('b', dead('b'))
  t.deepEqual(q.take(1000, 10, 10, 'a'), [dead('a'), dead('b')])
})

test('dropping a rumour removes it', (t) => {
  const q = new BroadcastQueue()
  q.enqueue('a', dead('a'))
  q.drop('a')
  q.drop('nobody')
  t.is(q.size, 0)
  t.deepEqual(q.take(1000, 10, 5), [])
})
