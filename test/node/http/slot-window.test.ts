/**
 * node/http/slot-window.ts: slots as render/'s columns (one per slot, missing slots empty), and
 * the cache of conversions keyed by the immutable values.
 */
import test from 'ava'
import { OTHER_KEY } from '../../../metad/index.js'
import { ColumnCache, heatmapWindow, keyColumns, OTHER_LABEL, scalarColumns } from '../../../node/http/slot-window.js'
import { indexSlots } from '../../../node/http/value-points.js'
import { BY_KEY, byKey, dist, distribution, KEYS, keys, LATENCY, OPS_G5, scalar, slot } from './fixture.js'

test('a heatmap window has one column per slot; a missing slot is an empty column', (t) => {
  const index = indexSlots([slot(100, distribution(dist([1000, 1099, 2]))), slot(102, distribution(dist([2000, 2099, 1])))], LATENCY)
  const w = heatmapWindow(index, 100, 3)
  t.like(w, { base: 100, step: 1, ncolumns: 3 })
  t.deepEqual(w.total, [[[[1000, 1099], 2]], undefined, [[[2000, 2099], 1]]])
  t.is(w.byKey, undefined)
})

test('a decomposed window has each key\'s series and the total of the keys per column', (t) => {
  const index = indexSlots([slot(100, byKey({ a: dist([1000, 1099, 2]), b: dist([1000, 1099, 1], [3000, 3099, 1]) }))], BY_KEY)
  const w = heatmapWindow(index, 100, 2)
  t.deepEqual(w.total, [[[[1000, 1099], 3], [[3000, 3099], 1]], undefined])
  t.deepEqual(w.byKey?.get('a'), [[[[1000, 1099], 2]], undefined])
  t.deepEqual([...w.byKey!.keys()].sort(), ['a', 'b'])
})

test('columns step by the granularity', (t) => {
  const index = indexSlots([slot(100, scalar(1)), slot(110, scalar(3))], OPS_G5)
  t.deepEqual(scalarColumns(index, 100, 15), [1, null, 3])
})

test('key columns count events per key and label the folded keys (other)', (t) => {
  const index = indexSlots([slot(100, keys({ a: 2, [OTHER_KEY]: 5 })), slot(101, keys({ b: 1 }))], KEYS)
  t.deepEqual(keyColumns(index, 100, 3).map((c) => c === undefined ? undefined : { ...c }), [{ a: 2, [OTHER_LABEL]: 5 }, { b: 1 }, undefined])
  const lat = indexSlots([slot(100, byKey({ a: dist([1000, 1099, 2], [2000, 2099, 3]) }))], BY_KEY)
  t.deepEqual({ ...keyColumns(lat, 100, 1)[0] }, { a: 5 })
})

test('the cache converts a value once and gives the same array back', (t) => {
  const cache = new ColumnCache()
  const d = dist([1000, 1099, 2])
  t.is(cache.ca(d), cache.ca(d))
  const v = byKey({ a: d })
  if (v.type !== 'decomposed-distribution') throw new Error('fixture')
  t.is(cache.total(v), cache.total(v))
  const index = indexSlots([slot(100, v)], BY_KEY)
  t.is(heatmapWindow(index, 100, 1, cache).total[0], heatmapWindow(index, 100, 1, cache).total[0])
})
