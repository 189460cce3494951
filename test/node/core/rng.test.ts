import test from 'ava'
import fc from 'fast-check'
import { createRng, random64Hex, randomFloat, randomInt, sample, shuffle } from '../../../node/core/rng.js'

test('the same seed gives the same stream, another seed another one', (t) => {
  const a = createRng('seed-1')
  const b = createRng('seed-1')
  const c = createRng('seed-2')
  const xs = Array.from({ length: 100 }, () => a.uint32())
  t.deepEqual(Array.from({ length: 100 }, () => b.uint32()), xs)
  t.notDeepEqual(Array.from({ length: 100 }, () => c.uint32()), xs)
})

test('seed 0 and nearby numeric seeds give well-mixed, distinct streams', (t) => {
  const firsts = new Set([0, 1, 2, 3].map((s) => createRng(s).uint32()))
  t.is(firsts.size, 4)
  const r = createRng(0)
  const words = Array.from({ length: 1000 }, () => r.uint32())
  t.true(words.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32))
  t.true(new Set(words).size > 990)
})

test('randomInt stays in range and hits every value', (t) => {
  const r = createRng(5)
  const seen = new Set<number>()
  for (let i = 0; i < 2000; i++) {
    const x = randomInt(r, 7)
    t.true(x >= 0 && x < 7)
    seen.add(x)
  }
  t.is(seen.size, 7)
  t.throws(() => randomInt(r, 0), { instanceOf: RangeError })
  t.throws(() => randomInt(r, 1.5), { instanceOf: RangeError })
})

test('randomFloat is in [0, 1) with a mean near one half', (t) => {
  const r = createRng(9)
  let sum = 0
  for (let i = 0; i < 10_000; i++) {
    const x = randomFloat(r)
    t.true(x >= 0 && x < 1)
    sum += x
  }
  t.true(Math.abs(sum / 10_000 - 0.5) < 0.02)
})

test('shuffle returns a permutation of its input', (t) => {
  const result = fc.check(fc.property(fc.array(fc.integer()), fc.integer(), (items, seed) => {
    const shuffled = shuffle(createRng(seed), [...items])
    return JSON.stringify([...shuffled].sort((a, b) => a - b)) === JSON.stringify([...items].sort((a, b) => a - b))
  }))
  t.false(result.failed, fc.defaultReportMessage(result))
})

test('sample returns distinct accepted items, as many as exist up to k', (t) => {
  const result = fc.check(fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 60 }), fc.integer({ min: 0, max: 10 }), fc.integer(), (raw, k, seed) => {
    const items = [...new Set(raw)]
    const accept = (x: number): boolean => x % 3 !== 0
    const picked = sample(createRng(seed), items, k, accept)
    const eligible = items.filter(accept).length
    return picked.length === Math.min(k, eligible) && new Set(picked).size === picked.length && picked.every(accept) && picked.every((x) => items.includes(x))
  }))
  t.false(result.failed, fc.defaultReportMessage(result))
})

test('random64Hex gives 16 lowercase hex digits', (t) => {
  const r = createRng(3)
  for (let i = 0; i < 100; i++) t.regex(random64Hex(r), /^[0-9a-f]{16}$/)
})
