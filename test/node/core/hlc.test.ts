import test from 'ava'
import fc from 'fast-check'
import { compareHlc, HLC_ZERO, receiveHlc, tickHlc, type Hlc } from '../../../node/core/hlc.js'

const arbHlc = fc.record({ wall: fc.integer({ min: 0, max: 1e6 }), logical: fc.integer({ min: 0, max: 1000 }) })

test('a local tick follows the physical clock when it moves ahead', (t) => {
  t.deepEqual(tickHlc(HLC_ZERO, 100), { wall: 100, logical: 0 })
  t.deepEqual(tickHlc({ wall: 100, logical: 3 }, 200), { wall: 200, logical: 0 })
})

test('a local tick never goes back when the physical clock does', (t) => {
  t.deepEqual(tickHlc({ wall: 100, logical: 3 }, 50), { wall: 100, logical: 4 })
})

test('a tick is always greater than the clock before it', (t) => {
  const result = fc.check(fc.property(arbHlc, fc.integer({ min: 0, max: 1e6 }), (last, now) => compareHlc(tickHlc(last, now), last) > 0))
  t.false(result.failed, fc.defaultReportMessage(result))
})

test('receiving gives a clock greater than both the local and the remote one, and at least now', (t) => {
  const result = fc.check(fc.property(arbHlc, arbHlc, fc.integer({ min: 0, max: 1e6 }), (last: Hlc, remote: Hlc, now) => {
    const next = receiveHlc(last, remote, now)
    return compareHlc(next, last) > 0 && compareHlc(next, remote) > 0 && next.wall >= now
  }))
  t.false(result.failed, fc.defaultReportMessage(result))
})

test('compareHlc orders by wall time, then by logical counter', (t) => {
  t.true(compareHlc({ wall: 1, logical: 9 }, { wall: 2, logical: 0 }) < 0)
  t.true(compareHlc({ wall: 2, logical: 1 }, { wall: 2, logical: 0 }) > 0)
  t.is(compareHlc({ wall: 2, logical: 1 }, { wall: 2, logical: 1 }), 0)
})
