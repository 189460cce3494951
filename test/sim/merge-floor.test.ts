/**
 * The bench's merge floor (bench/_merge-floor.ts) must count what it claims to: every node's
 * value of every instrumentation reaches its tree's root once, each second, or its figure is
 * not the floor of a merge.
 */
import test from 'ava'
import { runMergeFloor } from '../../bench/_merge-floor.js'

test('the merge floor brings every node of every instrumentation to the root once a second', (t) => {
  const { points, counted } = runMergeFloor(200, 10)
  // Seconds 0..8 are contributed within the 10 simulated seconds (second 9 ends with the run), for 5 instrumentations.
  t.is(points, 9 * 5)
  t.is(counted, 9 * 5 * 200)
})
