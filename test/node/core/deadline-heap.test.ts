/** The deadline heap: what is due comes out earliest first, ties in push order, nothing early. */
import test from 'ava'
import { DeadlineHeap } from '../../../node/core/deadline-heap.js'
import { createRng } from '../../../node/core/rng.js'

test('due entries come out earliest first, ties in the order pushed, and nothing before its time', (t) => {
  const heap = new DeadlineHeap()
  const rng = createRng('heap')
  const pushed: Array<[number, number]> = []
  for (let k = 0; k < 500; k++) {
    const at = rng.uint32() % 100
    heap.push(at, k)
    pushed.push([at, k])
  }
  t.is(heap.peek(), Math.min(...pushed.map(([at]) => at)))
  const out: Array<[number, number]> = []
  const collect = (subject: number, at: number): void => { out.push([at, subject]) }
  while (heap.popDue(49.5, collect));
  t.deepEqual(out, pushed.filter(([at]) => at <= 49.5).sort((a, b) => a[0] - b[0] || a[1] - b[1]))
  t.true((heap.peek() ?? 0) >= 50)
  t.false(heap.popDue(49.9, collect))
  while (heap.popDue(Infinity, collect));
  t.is(out.length, 500)
  t.is(heap.size, 0)
  t.is(heap.peek(), undefined)
})
