/**
 * node/http/value-points.ts: slots to CA's data points: interval scope sums, point scope takes
 * the first slot, minreporting is the minimum over slots with a missing slot counting 0,
 * nsources the largest; slots from the mesh are checked against the definition.
 */
import test from 'ava'
import { HeatmeshError, OTHER_KEY, valueToCa } from '../../../metad/index.js'
import { foldedKeys, indexSlots, pointData, slotsIn, valueShape } from '../../../node/http/value-points.js'
import { BY_KEY, byKey, CPUS, dist, distribution, KEYS, keys, LATENCY, OPS, OPS_G5, scalar, slot } from './fixture.js'

test('the value shape follows the decomposition', (t) => {
  t.is(valueShape(OPS), 'scalar')
  t.is(valueShape(KEYS), 'decomposition')
  t.is(valueShape(LATENCY), 'distribution')
  t.is(valueShape(BY_KEY), 'decomposed-distribution')
})

test('an interval-scope point sums its slots', (t) => {
  const index = indexSlots([slot(100, scalar(3)), slot(101, scalar(4)), slot(103, scalar(10))], OPS)
  const p = pointData(index, 100, 4, 'interval')
  t.deepEqual(p.value, scalar(17))
})

test('an interval-scope point of decompositions adds key by key', (t) => {
  const index = indexSlots([slot(100, keys({ a: 1, b: 2 })), slot(101, keys({ b: 3, c: 4 }))], KEYS)
  t.deepEqual(valueToCa(pointData(index, 100, 2, 'interval').value!), { a: 1, b: 5, c: 4 })
})

test('an interval-scope point of distributions adds bucket by bucket', (t) => {
  const index = indexSlots([slot(100, distribution(dist([1000, 1099, 2]))), slot(101, distribution(dist([1000, 1099, 1], [5000, 5099, 4])))], LATENCY)
  t.deepEqual(valueToCa(pointData(index, 100, 2, 'interval').value!), [[[1000, 1099], 3], [[5000, 5099], 4]])
})

test('a point-scope point is its first slot, not a sum of levels', (t) => {
  const index = indexSlots([slot(100, scalar(8)), slot(101, scalar(8)), slot(102, scalar(6))], CPUS)
  t.deepEqual(pointData(index, 100, 3, 'point').value, scalar(8))
})

test('a point-scope point whose first slot has no data has no value', (t) => {
  const index = indexSlots([slot(101, scalar(8))], CPUS)
  t.is(pointData(index, 100, 2, 'point').value, undefined)
})

test('minreporting is the minimum over the point\'s slots', (t) => {
  const index = indexSlots([slot(100, scalar(1), 3, 3), slot(101, scalar(1), 3, 2), slot(102, scalar(1), 3, 3)], OPS)
  t.like(pointData(index, 100, 3, 'interval'), { minreporting: 2, nsources: 3 })
})

test('a slot without data counts 0 reporting', (t) => {
  const index = indexSlots([slot(100, scalar(1), 3, 3), slot(102, scalar(1), 3, 3)], OPS)
  t.like(pointData(index, 100, 3, 'interval'), { minreporting: 0, nsources: 3 })
  t.like(pointData(index, 100, 1, 'interval'), { minreporting: 3, nsources: 3 })
})

test('nsources is the largest over the slots (the mesh grew during the point)', (t) => {
  const index = indexSlots([slot(100, scalar(1), 3, 3), slot(101, scalar(1), 4, 4)], OPS)
  t.like(pointData(index, 100, 2, 'interval'), { nsources: 4, minreporting: 3 })
})

test('a point without any slot has no value, reports 0, and takes the fallback nsources', (t) => {
  const index = indexSlots([], OPS)
  t.deepEqual(pointData(index, 100, 5, 'interval', 7), { value: undefined, nsources: 7, minreporting: 0, truncated: false })
})

test('a point is truncated when one of its slots was', (t) => {
  const index = indexSlots([slot(100, keys({ a: 1 })), slot(101, keys({ a: 1 }), 2, 2, true)], KEYS)
  t.true(pointData(index, 100, 2, 'interval').truncated)
  t.false(pointData(index, 100, 1, 'interval').truncated)
})

test('slots are walked at the granularity', (t) => {
  const index = indexSlots([slot(100, scalar(1)), slot(105, scalar(2)), slot(115, scalar(4))], OPS_G5)
  t.deepEqual(slotsIn(index, 100, 15).map((s) => s.second), [100, 105])
  t.like(pointData(index, 100, 15, 'interval'), { value: scalar(3), minreporting: 0 })
})

test('folded keys are reported only with the other key present', (t) => {
  t.is(foldedKeys(byKey({ a: dist([1000, 1099, 1]) })), 0)
  t.is(foldedKeys(byKey({ a: dist([1000, 1099, 1]), [OTHER_KEY]: dist([1000, 1099, 5]) }, 12)), 12)
  t.is(foldedKeys(undefined), 0)
  t.is(foldedKeys(scalar(3)), 0)
})

// [name, slots, message part]
const unusable: Array<[string, Parameters<typeof indexSlots>[0], RegExp]> = [
  ['a second off the granularity', [slot(101, scalar(1))], /not a multiple of the granularity 5/],
  ['the same second twice', [slot(100, scalar(1)), slot(100, scalar(2))], /given twice/],
  ['a value of another shape', [slot(100, keys({ a: 1 }))], /a decomposition value where the definition makes scalar values/],
  ['a negative nsources', [slot(100, scalar(1), -1, 0)], /nsources -1 is not a count/],
  ['a fractional minreporting', [slot(100, scalar(1), 2, 1.5)], /minreporting 1.5 is not a count/]
]
for (const [name, slots, message] of unusable) {
  test(`a slot from the mesh is refused for ${name}`, (t) => {
    const err = t.throws(() => indexSlots(slots, OPS_G5), { instanceOf: HeatmeshError, message })
    t.is(err?.code, 'ECA_INCOMPAT')
  })
}
