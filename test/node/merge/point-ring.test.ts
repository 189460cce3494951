/** The holders' point ring: slots, roll-up by scope, coverage, exactly once, history merges, memory. */
import test from 'ava'
import { OTHER_KEY, valueTotal, type Value } from '../../../metad/index.js'
import { contributorsOf } from '../../../node/merge/contributors.js'
import { PointRing, type RingConfig } from '../../../node/merge/point-ring.js'

const T = 1_750_000_000 // a multiple of 5 and of 10
const scalar = (n: number): Value => ({ type: 'scalar', n })
const n = (v: Value | undefined): number => (v?.type === 'scalar' ? v.n : NaN)
const ring = (over: Partial<RingConfig> = {}): PointRing =>
  new PointRing({ granularity: 1, retentionTime: 600, valueScope: 'interval', lateWindowSeconds: 120, maxKeys: 1000, ...over })

test('a second is one point at granularity 1 and its coverage is its contributors', (t) => {
  const r = ring()
  t.is(r.merge(T, [1, 2], scalar(5), 3, T), 'merged')
  t.is(r.merge(T, [3], scalar(7), 3, T), 'merged')
  const [p] = r.points(T, T + 1, true)
  t.like(p, { second: T, minreporting: 3, nsources: 3 })
  t.is(n(p?.value), 12)
  t.deepEqual(p?.contributors, [1, 2, 3])
  t.is(r.points(T, T + 1, false)[0]?.contributors, undefined)
})

test('a contribution that names an already merged contributor is refused whole', (t) => {
  const r = ring()
  r.merge(T, [1, 2], scalar(5), 3, T)
  t.is(r.merge(T, [2, 9], scalar(100), 3, T), 'duplicate')
  t.is(n(r.point(T, false)?.value), 5)
  t.is(r.point(T, false)?.minreporting, 2)
  t.is(r.merge(T + 1, [2, 9], scalar(100), 3, T + 1), 'merged', 'the same contributor in another second is fine')
})

test('seconds beyond the late window are closed: too late, and their contributor sets are dropped', (t) => {
  const r = ring({ lateWindowSeconds: 10 })
  r.merge(T, [1], scalar(1), 1, T)
  t.is(r.merge(T, [2], scalar(1), 1, T + 11), 'too-late')
  t.is(r.merge(T, [2], scalar(1), 1, T + 10), 'merged')
  r.sweep(T + 11)
  t.is(r.point(T, true)?.contributors, undefined)
  t.is(r.coverage(T, T + 11), undefined)
  t.is(r.point(T, false)?.minreporting, 2, 'the point itself stays')
})

test('retention drops slots that ended more than retention-time ago', (t) => {
  const r = ring({ retentionTime: 30 })
  for (let s = 0; s < 100; s++) r.merge(T + s, [1], scalar(s), 1, T + s)
  r.sweep(T + 100)
  const pts = r.points(-Infinity, Infinity, false)
  t.is(pts.length, 30)
  t.is(pts[0]?.second, T + 70)
  t.is(r.merge(T + 60, [2], scalar(1), 1, T + 100), 'too-late')
})

test('interval scope sums the seconds of a slot; minreporting is the smallest second', (t) => {
  const r = ring({ granularity: 5 })
  for (let s = 0; s < 5; s++) r.merge(T + s, contributorsOf(Array.from({ length: 3 + (s % 2) }, (_, i) => i)), scalar(10 * s), 4, T + s)
  const [p] = r.points(T, T + 5, true)
  t.is(p?.second, T)
  t.is(n(p?.value), 0 + 10 + 20 + 30 + 40)
  t.is(p?.minreporting, 3)
  t.deepEqual(p?.seconds?.map((c) => c.reporting), [3, 4, 3, 4, 3])
  t.is(r.slotOf(T + 7), T + 5)
})

test('point scope keeps the first second that has data, even when an earlier one arrives late', (t) => {
  const r = ring({ granularity: 5, valueScope: 'point' })
  r.merge(T + 2, [1], scalar(200), 2, T + 2)
  r.merge(T + 2, [2], scalar(22), 2, T + 2)
  t.is(n(r.point(T, false)?.value), 222)
  r.merge(T + 3, [1], scalar(3000), 2, T + 3)
  t.is(n(r.point(T, false)?.value), 222, 'a later second does not change the value')
  r.merge(T + 1, [1], scalar(7), 2, T + 3)
  t.is(n(r.point(T, false)?.value), 7, 'an earlier second replaces it')
})

test('a second with no data counts as 0 only once the slot is past', (t) => {
  const r = ring({ granularity: 5 })
  r.merge(T, [1, 2], scalar(1), 2, T)
  r.merge(T + 1, [1, 2], scalar(1), 2, T + 1)
  t.is(r.point(T, false)?.minreporting, 2, 'seconds 2..4 have not happened yet')
  r.merge(T + 5, [1], scalar(1), 2, T + 5)
  t.is(r.point(T, false)?.minreporting, 0, 'slot T is past and seconds 2..4 never had data')
})

test('nsources is the largest seen', (t) => {
  const r = ring()
  r.merge(T, [1], scalar(1), 5, T)
  r.merge(T, [2], scalar(1), 3, T)
  t.is(r.point(T, false)?.nsources, 5)
})

test('a decomposition beyond maxKeys keeps the top keys plus other, exactly, and says truncated', (t) => {
  const r = ring({ maxKeys: 2 })
  const deco = (e: Array<[string, number]>): Value => ({ type: 'decomposition', keys: new Map(e), folded: 0 })
  r.merge(T, [1], deco([['a', 5], ['b', 4]]), 2, T)
  t.is(r.point(T, false)?.truncated, undefined)
  r.merge(T, [2], deco([['c', 3], ['a', 1]]), 2, T)
  const p = r.point(T, false)!
  t.true(p.truncated)
  t.is(valueTotal(p.value), 13)
  t.true(p.value.type === 'decomposition' && p.value.keys.get(OTHER_KEY) === 3)
})

test('history with disjoint coverage merges; overlapping coverage keeps the larger point', (t) => {
  const r = ring()
  r.merge(T, [1, 2], scalar(3), 4, T)
  t.is(r.mergePoint({ second: T, value: scalar(40), minreporting: 2, nsources: 4, contributors: [3, 4] }, T), 'merged')
  t.like(r.point(T, true), { minreporting: 4, contributors: [1, 2, 3, 4] })
  t.is(n(r.point(T, false)?.value), 43)
  t.is(r.mergePoint({ second: T, value: scalar(999), minreporting: 2, nsources: 4, contributors: [4, 5] }, T), 'kept')
  t.is(n(r.point(T, false)?.value), 43)
  t.is(r.mergePoint({ second: T, value: scalar(500), minreporting: 5, nsources: 5, contributors: [1, 2, 3, 4, 5] }, T), 'replaced')
  t.is(n(r.point(T, false)?.value), 500)
  t.is(r.mergePoint({ second: T + 1, value: scalar(1), minreporting: 1, nsources: 1 }, T + 1), 'adopted')
  t.is(r.merge(T + 1, [9], scalar(1), 1, T + 1), 'too-late', 'a point without coverage is closed')
})

test('a history point takes the place of the merged pieces it holds, and the others stay', (t) => {
  const r = ring()
  // A child's piece re-sent after a partition, merged here; a piece of this side; then the
  // cut-off side's point that already holds the re-sent piece.
  r.merge(T, [1, 2], scalar(3), 9, T)
  r.merge(T, [7], scalar(10), 9, T)
  t.is(r.mergePoint({ second: T, value: scalar(40), minreporting: 4, nsources: 9, contributors: [1, 2, 3, 4] }, T), 'replaced')
  t.like(r.point(T, true), { minreporting: 5, contributors: [1, 2, 3, 4, 7] })
  t.is(n(r.point(T, false)?.value), 50, 'the point (which counts 1 and 2) plus the piece of 7')
  // Again, with a point holding that one and more.
  t.is(r.mergePoint({ second: T, value: scalar(60), minreporting: 6, nsources: 9, contributors: [1, 2, 3, 4, 5, 6] }, T), 'replaced')
  t.is(n(r.point(T, false)?.value), 70)
  t.deepEqual(r.point(T, true)?.contributors, [1, 2, 3, 4, 5, 6, 7])
  // A contribution already in is still refused, and a new one merges.
  t.is(r.merge(T, [5], scalar(1), 9, T), 'duplicate')
  t.is(r.merge(T, [8], scalar(1), 9, T), 'merged')
  t.is(n(r.point(T, false)?.value), 71)
})

test('a contribution that holds merged pieces takes their place; the same piece again is a duplicate', (t) => {
  const r = ring()
  // A piece re-sent past a parent thought dead, merged here; then that parent's late piece,
  // which combined it with its siblings'.
  t.is(r.merge(T, [2], scalar(3), 9, T), 'merged')
  t.is(r.merge(T, [7], scalar(10), 9, T), 'merged')
  t.is(r.merge(T, [1, 2, 3], scalar(8), 9, T), 'merged')
  t.is(n(r.point(T, false)?.value), 18)
  t.deepEqual(r.point(T, true)?.contributors, [1, 2, 3, 7])
  t.is(r.merge(T, [1, 2, 3], scalar(8), 9, T), 'duplicate')
  t.is(r.merge(T, [3, 7, 8], scalar(1), 9, T), 'duplicate', 'it straddles the piece of 1, 2 and 3')
  t.is(n(r.point(T, false)?.value), 18)
  t.is(r.point(T, false)?.minreporting, 4)
})

test('a history point that straddles a merged piece cannot be split: the larger is kept', (t) => {
  const r = ring()
  r.merge(T, [1, 2], scalar(3), 9, T)
  r.merge(T, [7], scalar(10), 9, T)
  t.is(r.mergePoint({ second: T, value: scalar(20), minreporting: 2, nsources: 9, contributors: [2, 3] }, T), 'kept')
  t.is(n(r.point(T, false)?.value), 13)
  t.is(r.mergePoint({ second: T, value: scalar(50), minreporting: 4, nsources: 9, contributors: [2, 3, 4, 5] }, T), 'replaced')
  t.is(n(r.point(T, false)?.value), 50, 'the larger point, whole: 1 and 7 are lost with it')
  // Past the late window the pieces are gone with the sets: nothing is taken apart.
  const old = ring({ lateWindowSeconds: 10 })
  old.merge(T, [1], scalar(1), 9, T)
  old.sweep(T + 11)
  t.is(old.mergePoint({ second: T, value: scalar(5), minreporting: 2, nsources: 9, contributors: [1, 2] }, T + 11), 'replaced')
  t.is(n(old.point(T, false)?.value), 5)
})

test('history carries the pieces of an open second, and a piece held inside a larger one is refused alone', (t) => {
  const there = ring()
  // A child's own piece re-sent past its silent parent, merged at a node that was not the
  // real root, beside that node's other pieces.
  there.merge(T, [2], scalar(3), 9, T)
  there.merge(T, [5, 6], scalar(20), 9, T)
  const p = there.point(T, true, true)
  t.deepEqual(p?.pieces?.map((x) => x.contributors), [[2], [5, 6]])
  t.is(there.point(T, true)?.pieces, undefined, 'only history asks for them')
  // The real root has the silent parent's combined piece, which holds the copy.
  const root = ring()
  root.merge(T, [1, 2, 3], scalar(8), 9, T)
  t.is(root.mergePoint(p!, T), 'merged')
  t.is(n(root.point(T, false)?.value), 28, 'the combined piece and the pieces of 5 and 6; the copy refused alone')
  t.deepEqual(root.point(T, true)?.contributors, [1, 2, 3, 5, 6])
  // Closed seconds carry no pieces; pieces that do not add up to the point are refused.
  there.sweep(T + 200)
  t.is(there.point(T, true, true)?.pieces, undefined)
  const bad = { second: T + 1, value: scalar(1), minreporting: 2, nsources: 9, contributors: [1, 2] }
  t.is(root.mergePoint({ ...bad, pieces: [{ contributors: [1], value: scalar(1) }] }, T + 1), 'invalid')
  t.is(root.mergePoint({ ...bad, pieces: [{ contributors: [1, 2], value: scalar(1) }, { contributors: [2], value: scalar(0) }] }, T + 1), 'invalid')
  t.is(root.mergePoint({ ...bad, pieces: [{ contributors: [], value: scalar(0) }, { contributors: [1, 2], value: scalar(1) }] }, T + 1), 'invalid')
})

test('history of granularity 5 merges per second and refuses misaligned or misshapen points', (t) => {
  const r = ring({ granularity: 5 })
  r.merge(T + 1, [1], scalar(1), 2, T + 1)
  const seconds = [{ reporting: 1, contributors: [2] }, { reporting: 1, contributors: [2] }, { reporting: 0, contributors: [] }, { reporting: 0, contributors: [] }, { reporting: 0, contributors: [] }]
  t.is(r.mergePoint({ second: T, value: scalar(20), minreporting: 1, nsources: 2, seconds }, T + 2), 'merged')
  t.deepEqual(r.point(T, true)?.seconds?.map((c) => c.reporting), [1, 2, 0, 0, 0])
  t.is(n(r.point(T, false)?.value), 21)
  t.is(r.mergePoint({ second: T + 1, value: scalar(1), minreporting: 1, nsources: 1 }, T + 2), 'invalid')
  t.is(r.mergePoint({ second: T, value: scalar(1), minreporting: 1, nsources: 1, seconds: seconds.slice(0, 2) }, T + 2), 'invalid')
  t.is(r.mergePoint({ second: T - 10_000, value: scalar(1), minreporting: 1, nsources: 1 }, T + 2), 'too-late')
})

test('memory is bounded by retention, and contributor sets by the late window', (t) => {
  const r = ring({ retentionTime: 60, lateWindowSeconds: 10 })
  const big = contributorsOf(Array.from({ length: 1000 }, (_, i) => i * 7919))
  for (let s = 0; s < 300; s++) {
    r.merge(T + s, big, scalar(1), 1000, T + s)
    r.sweep(T + s)
  }
  const { points, approxBytes } = r.stats()
  t.is(points, 61, 'retention-time seconds before the current one, and the current one')
  // 11 open seconds of 1,000 keys at 8 bytes, plus 60 small points: well under 100 KB.
  t.true(approxBytes > 11 * 8000 && approxBytes < 100_000, `${approxBytes} bytes`)
})
