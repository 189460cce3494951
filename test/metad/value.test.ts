import test from 'ava'
import fc from 'fast-check'
import { holds } from './property.js'
import { distributionOf, distributionToCa, DistributionBuilder, type Distribution } from '../../metad/distribution.js'
import { HeatmeshError, InvalidFieldError } from '../../metad/errors.js'
import { LATENCY_BUCKETING, parseBucketing, quantizer, type Bucketing } from '../../metad/quantize.js'
import {
  limitValue, mergeValueList, mergeValues, OTHER_KEY, parseValueFromCa, valuesEqual, valueToCa, valueTotal, zeroValue,
  type Value, type ValueShape
} from '../../metad/value.js'


const L = LATENCY_BUCKETING
const LQ = parseBucketing({ kind: 'lquantize', low: 0, high: 1000, step: 10 })

function arbDist (b: Bucketing = L): fc.Arbitrary<Distribution> {
  const n = quantizer(b).nbuckets
  return fc.array(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 1, max: 1e6 })), { maxLength: 20 }).map((pairs) => {
    const builder = new DistributionBuilder(b)
    for (const [i, c] of pairs) builder.addToBucket(i, c)
    return builder.build()
  })
}

/** Keys from a small alphabet, so that values share keys often. */
const arbKey = fc.oneof(fc.constantFrom('sshd', 'node', 'postgres', 'cron', ''), fc.string({ maxLength: 4 }))
const arbInt = fc.integer({ min: -1e12, max: 1e12 })

/** A value of `shape`, possibly already limited (so OTHER_KEY and folded appear). */
function arbValue (shape: ValueShape): fc.Arbitrary<Value> {
  switch (shape) {
    case 'scalar': return arbInt.map((n): Value => ({ type: 'scalar', n }))
    case 'decomposition':
      return fc.tuple(fc.dictionary(arbKey, arbInt, { maxKeys: 8 }), fc.option(fc.integer({ min: 0, max: 4 })))
        .map(([o, k]): Value => {
          const v: Value = { type: 'decomposition', keys: new Map(Object.entries(o)), folded: 0 }
          return k === null ? v : limitValue(v, k)
        })
    case 'distribution': return arbDist().map((dist): Value => ({ type: 'distribution', dist }))
    case 'decomposed-distribution':
      return fc.tuple(fc.array(fc.tuple(arbKey, arbDist()), { maxLength: 6 }), fc.option(fc.integer({ min: 0, max: 3 })))
        .map(([entries, k]): Value => {
          const v: Value = { type: 'decomposed-distribution', bucketing: L, keys: new Map(entries), folded: 0 }
          return k === null ? v : limitValue(v, k)
        })
  }
}

const shapes: ValueShape[] = ['scalar', 'decomposition', 'distribution', 'decomposed-distribution']
const zeroOf = (shape: ValueShape): Value => zeroValue(shape, L)

test('the zero values are CA\'s 0, {}, [] and {}', (t) => {
  t.deepEqual(shapes.map((s) => valueToCa(zeroOf(s))), [0, {}, [], {}])
  t.is(zeroValue('scalar').type, 'scalar')
  t.is(zeroValue('decomposition').type, 'decomposition')
  t.throws(() => zeroValue('distribution', undefined as unknown as Bucketing), { instanceOf: RangeError })
})

test('merge adds scalars, decompositions key by key, and distributions bucket by bucket', (t) => {
  t.deepEqual(valueToCa(mergeValues({ type: 'scalar', n: 3 }, { type: 'scalar', n: 4 })), 7)
  const d = (o: Record<string, number>): Value => ({ type: 'decomposition', keys: new Map(Object.entries(o)), folded: 0 })
  t.deepEqual(valueToCa(mergeValues(d({ sd0: 1249, sd1: 2 }), d({ sd1: 3, cmdk0: 0 }))), { cmdk0: 0, sd0: 1249, sd1: 5 })
  const dist = (xs: number[]): Value => ({ type: 'distribution', dist: distributionOf(L, xs) })
  t.deepEqual(valueToCa(mergeValues(dist([53000]), dist([53500, 100]))), [[[0, 999], 1], [[53000, 53999], 2]])
  const dd = (o: Record<string, number[]>): Value => ({
    type: 'decomposed-distribution', bucketing: L, keys: new Map(Object.entries(o).map(([k, xs]) => [k, distributionOf(L, xs)])), folded: 0
  })
  t.deepEqual(valueToCa(mergeValues(dd({ sd0: [1000] }), dd({ sd0: [1001], sd1: [5000] }))), {
    sd0: [[[1000, 1099], 2]], sd1: [[[5000, 5099], 1]]
  })
})

for (const shape of shapes) {
  test(`${shape}: merge is commutative`, (t) => {
    holds(t, fc.property(arbValue(shape), arbValue(shape), (a, b) => valuesEqual(mergeValues(a, b), mergeValues(b, a))))
  })
  test(`${shape}: merge is associative`, (t) => {
    holds(t, fc.property(arbValue(shape), arbValue(shape), arbValue(shape), (a, b, c) =>
      valuesEqual(mergeValues(mergeValues(a, b), c), mergeValues(a, mergeValues(b, c)))))
  })
  test(`${shape}: the zero value is the identity`, (t) => {
    holds(t, fc.property(arbValue(shape), (a) =>
      valuesEqual(mergeValues(a, zeroOf(shape)), a) && valuesEqual(mergeValues(zeroOf(shape), a), a)))
  })
  test(`${shape}: merge conserves the total`, (t) => {
    holds(t, fc.property(arbValue(shape), arbValue(shape), (a, b) => valueTotal(mergeValues(a, b)) === valueTotal(a) + valueTotal(b)))
  })
  test(`${shape}: merging a list equals folding merge`, (t) => {
    holds(t, fc.property(fc.array(arbValue(shape), { maxLength: 6 }), (list) =>
      valuesEqual(mergeValueList(list, zeroOf(shape)), list.reduce(mergeValues, zeroOf(shape)))))
  })
  test(`${shape}: limiting keeps the total exact, also across merges of limited values`, (t) => {
    holds(t, fc.property(arbValue(shape), arbValue(shape), fc.integer({ min: 0, max: 5 }), (a, b, k) => {
      const la = limitValue(a, k)
      const lb = limitValue(b, k)
      return valueTotal(la) === valueTotal(a) && valueTotal(limitValue(mergeValues(la, lb), k)) === valueTotal(a) + valueTotal(b)
    }))
  })
}

test('values of different shapes do not merge', (t) => {
  for (const a of shapes) {
    for (const b of shapes) {
      if (a === b) continue
      const e = t.throws(() => mergeValues(zeroOf(a), zeroOf(b)), { instanceOf: HeatmeshError })
      t.is(e!.code, 'ECA_INCOMPAT')
      t.throws(() => mergeValueList([zeroOf(b)], zeroOf(a)), { instanceOf: HeatmeshError })
      t.throws(() => mergeValueList([zeroOf(a), zeroOf(b)], zeroOf(a)), { instanceOf: HeatmeshError })
    }
  }
})

test('distribution values of different bucketings do not merge', (t) => {
  const a: Value = { type: 'distribution', dist: distributionOf(L, [1]) }
  const b: Value = { type: 'distribution', dist: distributionOf(LQ, [1]) }
  t.is(t.throws(() => mergeValues(a, b), { instanceOf: HeatmeshError })!.code, 'ECA_INCOMPAT')
  const c = zeroValue('decomposed-distribution', L)
  const d = zeroValue('decomposed-distribution', LQ)
  t.is(t.throws(() => mergeValues(c, d), { instanceOf: HeatmeshError })!.code, 'ECA_INCOMPAT')
  t.is(t.throws(() => mergeValueList([c, d], c), { instanceOf: HeatmeshError })!.code, 'ECA_INCOMPAT')
})

test('merge refuses to round a sum of integers beyond 2^53 - 1', (t) => {
  const big: Value = { type: 'scalar', n: Number.MAX_SAFE_INTEGER }
  const e = t.throws(() => mergeValues(big, { type: 'scalar', n: 1 }), { instanceOf: HeatmeshError })
  t.is(e!.code, 'ECA_INVAL')
  const dec = (n: number): Value => ({ type: 'decomposition', keys: new Map([['a', n]]), folded: 0 })
  t.throws(() => mergeValues(dec(2 ** 52), dec(2 ** 52)), { instanceOf: HeatmeshError })
  t.is((mergeValues({ type: 'scalar', n: 0.5 }, { type: 'scalar', n: 0.25 }) as { n: number }).n, 0.75)
})

test('limit keeps the top k keys by count, ties by key, and folds the rest into OTHER_KEY', (t) => {
  const v: Value = { type: 'decomposition', keys: new Map([['b', 5], ['a', 5], ['c', 9], ['d', 1], ['e', 0]]), folded: 0 }
  const l = limitValue(v, 2)
  t.deepEqual(valueToCa(l), { [OTHER_KEY]: 6, a: 5, c: 9 })
  t.is((l as { folded: number }).folded, 3)
  t.is(limitValue(v, 5), v)
  t.deepEqual(valueToCa(limitValue(v, 0)), { [OTHER_KEY]: 20 })
  // Limiting again folds into the same OTHER_KEY; folded stays a lower bound.
  const again = limitValue(mergeValues(l, { type: 'decomposition', keys: new Map([['f', 100], ['g', 50]]), folded: 0 }), 2)
  t.deepEqual(valueToCa(again), { [OTHER_KEY]: 6 + 5 + 9, f: 100, g: 50 })
  t.is((again as { folded: number }).folded, 3)
})

test('limit ranks keyed distributions by their totals', (t) => {
  const v: Value = {
    type: 'decomposed-distribution',
    bucketing: L,
    keys: new Map([['x', distributionOf(L, [1000])], ['y', distributionOf(L, [1000, 5000, 6000])], ['z', distributionOf(L, [2000, 2000])]]),
    folded: 0
  }
  const l = limitValue(v, 1)
  t.deepEqual(valueToCa(l), { [OTHER_KEY]: [[[1000, 1099], 1], [[2000, 2099], 2]], y: [[[1000, 1099], 1], [[5000, 5099], 1], [[6000, 6099], 1]] })
  t.is((l as { folded: number }).folded, 2)
})

test('limit leaves scalars and distributions alone and refuses a bad k', (t) => {
  const s: Value = { type: 'scalar', n: 4 }
  t.is(limitValue(s, 0), s)
  const d: Value = { type: 'distribution', dist: distributionOf(L, [1]) }
  t.is(limitValue(d, 0), d)
  t.throws(() => limitValue(s, -1), { instanceOf: RangeError })
  t.throws(() => limitValue(s, 1.5), { instanceOf: RangeError })
})

test('OTHER_KEY cannot be a real key: it starts with NUL', (t) => {
  t.is(OTHER_KEY, '\u0000other')
  t.is(OTHER_KEY.charCodeAt(0), 0)
})

test('CA JSON round-trips for every shape', (t) => {
  for (const shape of shapes) {
    holds(t, fc.property(arbValue(shape), (v) => {
      if (v.type !== 'scalar' && v.type !== 'distribution' && v.folded > 0) return true // OTHER_KEY has no CA form to read back
      const back = parseValueFromCa(JSON.parse(JSON.stringify(valueToCa(v))), shape, L)
      return valuesEqual(back, v)
    }))
  }
})

test('valueToCa sorts keys', (t) => {
  const v: Value = { type: 'decomposition', keys: new Map([['b', 1], ['a', 2]]), folded: 0 }
  t.deepEqual(Object.keys(valueToCa(v) as object), ['a', 'b'])
})

/** Each rule of parseValueFromCa with an input that breaks it. */
const badCa: Array<[unknown, ValueShape, RegExp, string]> = [
  ['5', 'scalar', /must be a finite number/, 'a scalar as a string'],
  [Infinity, 'scalar', /must be a finite number/, 'an infinite scalar'],
  [[], 'decomposition', /must be an object/, 'a decomposition as an array'],
  [null, 'decomposition', /must be an object/, 'a null decomposition'],
  [{ a: '1' }, 'decomposition', /key "a": must be a finite number/, 'a decomposition count as a string'],
  [{ [OTHER_KEY]: 1 }, 'decomposition', /reserved/, 'the reserved key'],
  [{ x: [[[1000, 1099], 1]], [OTHER_KEY]: [] }, 'decomposed-distribution', /reserved/, 'the reserved key among distributions'],
  [{}, 'distribution', /must be an array/, 'a distribution as an object'],
  [{ sd0: [[[1000, 1098], 1]] }, 'decomposed-distribution', /is not a bucket/, 'a keyed distribution with a non-bucket range']
]
for (const [input, shape, reason, note] of badCa) {
  test(`parseValueFromCa rejects ${note}`, (t) => {
    const e = t.throws(() => parseValueFromCa(input, shape, L, 'value'), { instanceOf: InvalidFieldError })
    t.regex(e!.reason, reason)
  })
}

test('parseValueFromCa names the key of a bad keyed distribution', (t) => {
  const e = t.throws(() => parseValueFromCa({ sd0: [[[1000, 1098], 1]] }, 'decomposed-distribution', L, 'value'), { instanceOf: InvalidFieldError })
  t.is(e!.field, 'value["sd0"]')
})

test('parseValueFromCa keeps "__proto__" as an ordinary key', (t) => {
  const v = parseValueFromCa(JSON.parse('{"__proto__": 3, "a": 1}'), 'decomposition')
  t.deepEqual(valueToCa(v), JSON.parse('{"__proto__": 3, "a": 1}'))
  t.is(v.type === 'decomposition' ? v.keys.get('__proto__') : undefined, 3)
  t.deepEqual(distributionToCa((parseValueFromCa([[[1000, 1099], 2]], 'distribution', L) as { dist: Distribution }).dist), [[[1000, 1099], 2]])
})
