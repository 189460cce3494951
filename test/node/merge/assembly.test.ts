/** Assemblies: the per-second table a core keeps them in, against a Map over the accepted window. */
import test from 'ava'
import fc from 'fast-check'
import { holds } from '../../metad/property.js'
import { newAssembly, SecondTable, type Assembly } from '../../../node/merge/assembly.js'

const T0 = 1_750_000_000

test('a second table gets what was set, and a newer second in the same slot replaces it', (t) => {
  const table = new SecondTable(4)
  const a = newAssembly(T0, 0)
  const b = newAssembly(T0 + 4, 0)
  t.is(table.get(T0), undefined)
  table.set(T0, a)
  t.is(table.get(T0), a)
  t.is(table.get(T0 + 4), undefined, 'same slot, other second')
  table.set(T0 + 4, b)
  t.is(table.get(T0 + 4), b)
  t.is(table.get(T0), undefined, 'taken over by a newer second')
})

test('a second table lists its assemblies by ascending second, forgets before a cutoff, and clears', (t) => {
  const table = new SecondTable(8)
  const made = [T0 + 5, T0 + 1, T0 + 3, T0 + 2].map((s) => { const a = newAssembly(s, 0); table.set(s, a); return a })
  t.deepEqual(table.values().map((a) => a.second), [T0 + 1, T0 + 2, T0 + 3, T0 + 5])
  t.true(table.values().every((a) => made.includes(a)))
  table.forgetBefore(T0 + 3)
  t.deepEqual(table.values().map((a) => a.second), [T0 + 3, T0 + 5])
  t.is(table.get(T0 + 2), undefined)
  table.clear()
  t.deepEqual(table.values(), [])
})

test('a second table takes negative seconds and refuses a span that is not a positive integer', (t) => {
  const table = new SecondTable(3)
  const a = newAssembly(-2, 0)
  table.set(-2, a)
  t.is(table.get(-2), a)
  t.is(table.get(1), undefined)
  for (const span of [0, -1, 1.5, Number.NaN]) t.throws(() => new SecondTable(span), { instanceOf: RangeError })
})

test('within the window a core accepts, a second table answers as a Map that forgets before now - late', (t) => {
  const late = 6
  const skew = 2
  // Steps: the clock advances (0-3 s), then a second in [now - late, now + skew] is set or looked up.
  const arbStep = fc.record({ advance: fc.integer({ min: 0, max: 3 }), offset: fc.integer({ min: -late, max: skew }), set: fc.boolean(), forget: fc.boolean() })
  holds(t, fc.property(fc.array(arbStep, { maxLength: 200 }), (steps) => {
    const table = new SecondTable(late + skew + 2)
    const model = new Map<number, Assembly>()
    let now = T0
    for (const step of steps) {
      now += step.advance
      const second = now + step.offset
      if (step.forget) {
        table.forgetBefore(now - late)
        for (const s of model.keys()) if (s < now - late) model.delete(s)
      }
      if (step.set) {
        const a = newAssembly(second, 0)
        table.set(second, a)
        model.set(second, a)
      }
      if (table.get(second) !== model.get(second)) return false
      // Every second the window still accepts answers as the model does.
      for (let s = now - late; s <= now + skew; s++) if (table.get(s) !== model.get(s)) return false
    }
    return true
  }))
})
