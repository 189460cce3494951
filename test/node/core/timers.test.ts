import test from 'ava'
import { TimerTable } from '../../../node/core/timers.js'

type Kind = 'a' | 'b' | 'c'

test('next is the earliest armed timer, and nothing when empty', (t) => {
  const timers = new TimerTable<Kind>()
  t.is(timers.next(), undefined)
  timers.set('a', 30)
  timers.set('b', 10)
  timers.set('c', 20, 'x')
  t.deepEqual(timers.next(), { kind: 'b', subject: '', at: 10 })
  timers.stop('b')
  t.deepEqual(timers.next(), { kind: 'c', subject: 'x', at: 20 })
})

test('setting an armed timer moves it, later as well as earlier', (t) => {
  const timers = new TimerTable<Kind>()
  timers.set('a', 10)
  timers.set('b', 20)
  timers.set('a', 30)
  t.is(timers.next()?.kind, 'b')
  timers.set('a', 5)
  t.is(timers.next()?.kind, 'a')
  t.is(timers.get('a'), 5)
  t.is(timers.size, 2)
})

test('timers of one kind with different subjects coexist', (t) => {
  const timers = new TimerTable<Kind>()
  timers.set('a', 10, 'p')
  timers.set('a', 20, 'q')
  t.true(timers.has('a', 'p'))
  t.true(timers.has('a', 'q'))
  t.false(timers.has('a'))
  timers.stop('a', 'p')
  t.deepEqual(timers.next(), { kind: 'a', subject: 'q', at: 20 })
})

test('due removes and returns the timers due, earliest first, ties in arming order', (t) => {
  const timers = new TimerTable<Kind>()
  timers.set('c', 10)
  timers.set('a', 5)
  timers.set('b', 10)
  timers.set('a', 50, 'later')
  t.deepEqual(timers.due(4), [])
  t.deepEqual(timers.due(10).map((x) => x.kind), ['a', 'c', 'b'])
  t.is(timers.size, 1)
  t.is(timers.next()?.at, 50)
})

test('stopping a timer that is not armed does nothing, and clear empties the table', (t) => {
  const timers = new TimerTable<Kind>()
  timers.stop('a')
  timers.set('a', 1)
  timers.clear()
  t.is(timers.next(), undefined)
  t.is(timers.size, 0)
})
