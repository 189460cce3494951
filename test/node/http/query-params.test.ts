/**
 * node/http/query-params.ts: CA's typed parameters (caHttpParam) with CA's reasons, and the
 * fixes (strict integers, a parameter given twice, the empty array).
 */
import test from 'ava'
import { HeatmeshError, InvalidFieldError } from '../../../metad/index.js'
import {
  booleanParam, choiceParam, floatListParam, floatParam, integerListParam, integerParam, listParam, MAX_LIST_ENTRIES, parseQuery, requireParam
} from '../../../node/http/query-params.js'

const q = (s: string): ReturnType<typeof parseQuery> => parseQuery(new URLSearchParams(s))

test('an absent parameter reads as undefined', (t) => {
  t.is(integerParam(q(''), 'width'), undefined)
  t.is(booleanParam(q(''), 'isolate'), undefined)
  t.is(listParam(q(''), 'selected'), undefined)
  t.is(floatParam(q(''), 'percentile'), undefined)
})

test('integers are decimal digits with an optional minus, within limits', (t) => {
  t.is(integerParam(q('w=600'), 'w', { min: 10, max: 1000 }), 600)
  t.is(integerParam(q('w=-5'), 'w'), -5)
  t.is(integerParam(q('w=007'), 'w'), 7)
})

// [text, reason]
const badIntegers: Array<[string, string]> = [
  ['10.5', 'not an integer'],
  ['10abc', 'not a number'],
  ['%2010', 'not a number'], // " 10": CA's parseInt took it
  ['1e3', 'not a number'],
  ['0x10', 'not a number'],
  ['', 'not a number'],
  ['9', 'value too small (min: 10)'],
  ['1001', 'value too large (max: 1000)'],
  ['99999999999999999999', 'value too large']
]
for (const [text, reason] of badIntegers) {
  test(`an integer parameter refuses ${JSON.stringify(decodeURIComponent(text))}: ${reason}`, (t) => {
    const err = t.throws(() => integerParam(q(`width=${text}`), 'width', { min: 10, max: 1000 }), { instanceOf: InvalidFieldError })
    t.is(err?.field, 'width')
    t.is(err?.reason, reason)
  })
}

test('booleans are the strings true and false only', (t) => {
  t.true(booleanParam(q('isolate=true'), 'isolate'))
  t.false(booleanParam(q('isolate=false'), 'isolate'))
  for (const text of ['1', 'TRUE', 'yes', '']) {
    t.throws(() => booleanParam(q(`isolate=${text}`), 'isolate'), { instanceOf: InvalidFieldError, message: /for field "isolate" is invalid: not a boolean/ })
  }
})

test('arrays come as repeated keys (each whole) or one comma-separated string', (t) => {
  t.deepEqual(listParam(q('selected=a,b'), 'selected'), ['a', 'b'])
  t.deepEqual(listParam(q('selected=a,b&selected=c'), 'selected'), ['a,b', 'c'])
  t.deepEqual(listParam(q('selected=a'), 'selected'), ['a'])
})

test('an empty array parameter is the empty array, not one empty key', (t) => {
  t.deepEqual(listParam(q('selected='), 'selected'), [])
})

test('an array has at most MAX_LIST_ENTRIES entries', (t) => {
  const many = Array.from({ length: MAX_LIST_ENTRIES + 1 }, (_, i) => `k${i}`).join(',')
  t.throws(() => listParam(q(`selected=${many}`), 'selected'), { instanceOf: InvalidFieldError, message: /too many entries/ })
  t.is(listParam(q(`selected=${many.split(',').slice(0, MAX_LIST_ENTRIES).join(',')}`), 'selected')?.length, MAX_LIST_ENTRIES)
})

test('integer arrays refuse an entry out of range with the given reason (CA: invalid hue)', (t) => {
  t.deepEqual(integerListParam(q('hues=21,112'), 'hues', { min: 0, max: 359 }, 'invalid hue'), [21, 112])
  t.throws(() => integerListParam(q('hues=21,360'), 'hues', { min: 0, max: 359 }, 'invalid hue'), { message: /for field "hues" is invalid: invalid hue/ })
  t.throws(() => integerListParam(q('hues=red'), 'hues', { min: 0, max: 359 }, 'invalid hue'), { message: /invalid hue/ })
})

test('floats accept decimal notation within limits', (t) => {
  t.is(floatParam(q('p=0.99'), 'p', { min: 0, max: 1 }), 0.99)
  t.is(floatParam(q('p=.5'), 'p', { min: 0, max: 1 }), 0.5)
  t.is(floatParam(q('p=1e-3'), 'p', { min: 0, max: 1 }), 0.001)
  t.throws(() => floatParam(q('p=1.5'), 'p', { min: 0, max: 1 }), { message: /value too large \(max: 1\)/ })
  t.throws(() => floatParam(q('p=NaN'), 'p'), { message: /not a number/ })
  t.throws(() => floatParam(q('p=Infinity'), 'p'), { message: /not a number/ })
})

test('float arrays name the bad entry and bound their length', (t) => {
  t.deepEqual(floatListParam(q('percentiles=0.5,0.99'), 'percentiles', { min: 0, max: 1 }, 3), [0.5, 0.99])
  t.throws(() => floatListParam(q('percentiles=0.5,2'), 'percentiles', { min: 0, max: 1 }, 3), { message: /entry "2" is out of range/ })
  t.throws(() => floatListParam(q('percentiles=0.1,0.2,0.3,0.4'), 'percentiles', { min: 0, max: 1 }, 3), { message: /too many entries \(max: 3\)/ })
})

test('a choice outside its set is CA\'s unsupported value', (t) => {
  t.is(choiceParam(q('coloring=linear'), 'coloring', ['rank', 'linear']), 'linear')
  t.throws(() => choiceParam(q('coloring=log'), 'coloring', ['rank', 'linear']), { message: 'value "log" for field "coloring" is invalid: unsupported value' })
})

test('a required parameter that is absent is CA\'s param "x" must be specified', (t) => {
  t.is(requireParam('x', 3), 3)
  const err = t.throws(() => requireParam('x', undefined), { instanceOf: HeatmeshError })
  t.is(err?.code, 'ECA_INVAL')
  t.is(err?.message, 'param "x" must be specified')
})
