import test from 'ava'
import { TypedArena } from '../../../node/core/arena.js'
import { createRng } from '../../../node/core/rng.js'
import { TimerTable } from '../../../node/core/timers.js'

type Kind = 'a' | 'b' | 'c'

test('next is the earliest armed timer, and nothing when empty', (t) => {
  const timers = new TimerTable<Kind>()
  t.is(timers.next(), undefined)
  timers.set('a', 30)
  timers.set('b', 10)
  timers.set('c', 20, 'x')
  t.deepEqual(timers.next(), { kind: 'b', subject: '', at: 10 })
  timers.stop('b')
  t.deepEqual(timers.next(), { kind: 'c', subject: 'x', at: 20 })
})

test('setting an armed timer moves it, later as well as earlier', (t) => {
  const timers = new TimerTable<Kind>()
  timers.set('a', 10)
  timers.set('b', 20)
  timers.set('a', 30)
  t.is(timers.next()?.kind, 'b')
  timers.set('a', 5)
  t.is(timers.next()?.kind, 'a')
  t.is(timers.get('a'), 5)
  t.is(timers.size, 2)
})

test('timers of one kind with different subjects coexist', (t) => {
  const timers = new TimerTable<Kind>()
  timers.set('a', 10, 'p')
  timers.set('a', 20, 'q')
  t.true(timers.has('a', 'p'))
  t.true(timers.has('a', 'q'))
  t.false(timers.has('a'))
  timers.stop('a', 'p')
  t.deepEqual(timers.next(), { kind: 'a', subject: 'q', at: 20 })
})

test('due removes and returns the timers due, earliest first, ties in arming order', (t) => {
  const timers = new TimerTable<Kind>()
  timers.set('c', 10)
  timers.set('a', 5)
  timers.set('b', 10)
  timers.set('a', 50, 'later')
  t.deepEqual(timers.due(4), [])
  t.deepEqual(timers.due(10).map((x) => x.kind), ['a', 'c', 'b'])
  t.is(timers.size, 1)
  t.is(timers.next()?.at, 50)
})

test('stopping a timer that is not armed does nothing, and clear empties the table', (t) => {
  const timers = new TimerTable<Kind>()
  timers.stop('a')
  timers.set('a', 1)
  timers.clear()
  t.is(timers.next(), undefined)
  t.is(timers.size, 0)
})

/**
 * The table's contract as the simplest model: a Map by (kind, subject) in arming order (a moved
 * timer keeps its place), due sorted stably by deadline.
 */
class ModelTable {
  readonly timers = new Map<string, { kind: Kind, subject: string, at: number }>()
  set (kind: Kind, at: number, subject = ''): void {
    const key = `${kind}/${subject}`
    const old = this.timers.get(key)
    if (old === undefined) this.timers.set(key, { kind, subject, at })
    else old.at = at
  }

  stop (kind: Kind, subject = ''): void { this.timers.delete(`${kind}/${subject}`) }
  get (kind: Kind, subject = ''): number | undefined { return this.timers.get(`${kind}/${subject}`)?.at }
  next (): { kind: Kind, subject: string, at: number } | undefined {
    let best: { kind: Kind, subject: string, at: number } | undefined
    for (const t of this.timers.values()) if (best === undefined || t.at < best.at) best = t
    return best === undefined ? undefined : { ...best }
  }

  due (now: number): Array<{ kind: Kind, subject: string, at: number }> {
    const out = [...this.timers.entries()].filter(([, t]) => t.at <= now)
    for (const [key] of out) this.timers.delete(key)
    return out.map(([, t]) => ({ ...t })).sort((x, y) => x.at - y.at)
  }
}

test('random operations give what the simplest model of the contract gives, with and without a kinds list and an arena', (t) => {
  const rng = createRng('timers-model')
  const arena = new TypedArena(1 << 16)
  for (const variant of ['plain', 'kinds', 'arena'] as const) {
    const table = variant === 'plain' ? new TimerTable<Kind>() : new TimerTable<Kind>(['c', 'a', 'b'], { arena: variant === 'arena' ? arena : undefined })
    const model = new ModelTable()
    const kinds: Kind[] = ['a', 'b', 'c']
    let now = 0
    for (let step = 0; step < 5000; step++) {
      const kind = kinds[rng.uint32() % 3] as Kind
      const subject = rng.uint32() % 3 === 0 ? `s${rng.uint32() % 4}` : ''
      // Coarse deadlines, so that ties are frequent.
      const at = now + (rng.uint32() % 8) * 5
      switch (rng.uint32() % 6) {
        case 0: case 1: table.set(kind, at, subject); model.set(kind, at, subject); break
        case 2: table.stop(kind, subject); model.stop(kind, subject); break
        case 3: t.is(table.get(kind, subject), model.get(kind, subject)); break
        case 4: t.deepEqual(table.next(), model.next()); t.is(table.nextAt(), model.next()?.at); break
        default: now += rng.uint32() % 12; t.deepEqual(table.due(now), model.due(now))
      }
      t.is(table.size, model.timers.size)
    }
  }
})
