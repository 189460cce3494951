/** The calendar queue: events come out in (time, scheduling order), whatever their spread. */
import test from 'ava'
import { createRng } from '../../node/core/index.js'
import { EventQueue } from '../../sim/event-queue.js'

test('events come out ordered by time, ties in the order they were scheduled', (t) => {
  const rng = createRng('queue')
  const q = new EventQueue(1000.25)
  const popped: Array<[number, number]> = []
  let now = 1000.25
  let seq = 0
  for (let i = 0; i < 50_000; i++) {
    if (q.size === 0 || rng.uint32() % 100 < 55) {
      const r = rng.uint32() % 100
      // Same millisecond, sub-millisecond, latencies, a period, and far beyond the ring.
      const d = r < 20 ? 0 : r < 40 ? (rng.uint32() % 1000) / 1000 : r < 70 ? rng.uint32() % 5 : r < 95 ? rng.uint32() % 1000 : rng.uint32() % 200_000
      q.push(1, now + d, ++seq, 0, undefined)
    } else {
      const s = q.pop()
      now = q.time(s)
      popped.push([now, q.a(s)])
      q.free(s)
    }
  }
  for (let s = q.pop(); s >= 0; s = q.pop()) { popped.push([q.time(s), q.a(s)]); q.free(s) }
  t.is(popped.length, seq)
  let ordered = true
  for (let i = 1; i < popped.length; i++) {
    const [a0, s0] = popped[i - 1] as [number, number]
    const [a1, s1] = popped[i] as [number, number]
    if (a1 < a0 || (a1 === a0 && s1 < s0)) ordered = false
  }
  t.true(ordered)
})

test('an event scheduled into the millisecond being drained comes out in its place', (t) => {
  const q = new EventQueue(0)
  q.push(1, 5.1, 1, 0, undefined)
  q.push(1, 5.9, 3, 0, undefined)
  const first = q.pop()
  t.is(q.a(first), 1)
  q.free(first)
  q.push(1, 5.5, 2, 0, undefined)
  q.push(1, 5.5, 4, 0, undefined)
  const order: number[] = []
  for (let s = q.pop(); s >= 0; s = q.pop()) { order.push(q.a(s)); q.free(s) }
  t.deepEqual(order, [2, 4, 3])
})

test('an empty queue pops nothing and peeks at infinity; far events are reached directly', (t) => {
  const q = new EventQueue(0)
  t.is(q.pop(), -1)
  t.is(q.peekTime(), Infinity)
  q.push(7, 3_600_000.5, 42, 9, 'payload')
  t.is(q.peekTime(), 3_600_000.5)
  const s = q.pop()
  t.deepEqual([q.kind(s), q.a(s), q.b(s), q.payload(s)], [7, 42, 9, 'payload'])
  q.free(s)
  t.is(q.payload(s), undefined)
  t.is(q.size, 0)
})

test('a crowded millisecond (a gossip flood) comes out ordered by time, ties in scheduling order', (t) => {
  const rng = createRng('crowd')
  const q = new EventQueue(0)
  // 5,000 events in millisecond 7, on 50 distinct times so that many tie, plus a few around it.
  const expected: Array<[number, number]> = []
  for (let i = 0; i < 5000; i++) {
    const at = 7 + (rng.uint32() % 50) / 64
    q.push(1, at, i, 0, undefined)
    expected.push([at, i])
  }
  q.push(1, 6.5, 5000, 0, undefined)
  q.push(1, 8.25, 5001, 0, undefined)
  expected.push([6.5, 5000], [8.25, 5001])
  expected.sort((x, y) => x[0] - y[0] || x[1] - y[1])
  const popped: Array<[number, number]> = []
  for (let s = q.pop(); s >= 0; s = q.pop()) { popped.push([q.time(s), q.a(s)]); q.free(s) }
  t.deepEqual(popped, expected)
})
