/** Probe order: every member number once per round, in a different order each round; newcomers soon. */
import test from 'ava'
import { ProbeOrder } from '../../../node/core/probe-order.js'
import { createRng } from '../../../node/core/rng.js'

function round (order: ProbeOrder, rng: ReturnType<typeof createRng>): number[] {
  const out: number[] = []
  for (let n = order.next(rng); n >= 0; n = order.next(rng)) out.push(n)
  return out
}

test('a round visits every member number exactly once', (t) => {
  const rng = createRng('order')
  const order = new ProbeOrder()
  for (const limit of [1, 2, 3, 17, 100, 1000, 4097]) {
    order.startRound(limit, rng)
    const seen = round(order, rng)
    t.is(seen.length, limit)
    t.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: limit }, (_, i) => i))
  }
})

test('rounds come in different, unsorted orders', (t) => {
  const rng = createRng('orders')
  const order = new ProbeOrder()
  order.startRound(500, rng)
  const one = round(order, rng)
  order.startRound(500, rng)
  const two = round(order, rng)
  t.notDeepEqual(one, two)
  t.notDeepEqual(one, [...one].sort((a, b) => a - b))
})

test('a newcomer whose turn has passed is probed later in the same round, once', (t) => {
  const rng = createRng('newcomer')
  const order = new ProbeOrder()
  order.startRound(200, rng)
  const first = round(order, rng).length
  t.is(first, 200)
  order.startRound(200, rng)
  const seen: number[] = []
  for (let k = 0; k < 100; k++) seen.push(order.next(rng))
  const passed = seen[0] as number
  order.add(passed) // e.g. it died and came back
  order.add(250) // numbered after the round began
  order.add(250)
  const rest = round(order, rng)
  t.is(rest.filter((n) => n === passed).length, 1)
  t.is(rest.filter((n) => n === 250).length, 1)
  t.is(seen.length + rest.length, 202)
})
