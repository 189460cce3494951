import test from 'ava'
import { InvalidFieldError } from '../../../../metad/index.js'
import { DEFAULT_SYNTHETIC_PROFILE, parseSyntheticProfile, syntheticWorkload } from '../../../../node/instrument/index.js'

test('the same seed, host and second give the same events', (t) => {
  t.deepEqual(syntheticWorkload(7, 'node-1', 1_700_000_000), syntheticWorkload(7, 'node-1', 1_700_000_000))
})

test('another second, host or seed gives other events', (t) => {
  const base = syntheticWorkload(7, 'node-1', 1_700_000_000)
  t.notDeepEqual(syntheticWorkload(7, 'node-1', 1_700_000_001), base)
  t.notDeepEqual(syntheticWorkload(7, 'node-2', 1_700_000_000), base)
  t.notDeepEqual(syntheticWorkload(8, 'node-1', 1_700_000_000), base)
})

test('each second has the profile keys in order, hundreds of events, latencies positive integers', (t) => {
  const events = syntheticWorkload(1, 'node-1', 42)
  t.deepEqual(events.map((e) => e.key), ['read', 'write', 'stat'])
  const n = events.reduce((s, e) => s + e.latencies.length, 0)
  t.true(n > 200 && n < 2000, `${n} events`)
  for (const e of events) t.true(e.latencies.every((l) => Number.isSafeInteger(l) && l >= 1))
})

test('over many seconds, rates and medians follow the profile within the host factor', (t) => {
  const profile = parseSyntheticProfile({ keys: [{ key: 'a', rate: 200, medianNs: 10_000, sigma: 0.5 }], hostSpread: 0 })
  let n = 0
  const all: number[] = []
  for (let s = 0; s < 100; s++) {
    const [a] = syntheticWorkload(3, 'h', s, profile)
    n += a!.latencies.length
    all.push(...a!.latencies)
  }
  t.true(Math.abs(n / 100 - 200) < 5, `rate ${n / 100}`)
  all.sort((x, y) => x - y)
  const median = all[all.length >> 1]!
  t.true(median > 9_500 && median < 10_500, `median ${median}`)
})

test('hosts differ steadily by their factor when hostSpread is positive', (t) => {
  const profile = parseSyntheticProfile({ keys: [{ key: 'a', rate: 100, medianNs: 10_000, sigma: 0 }], hostSpread: 1 })
  // With sigma 0 every latency of a host is its median: the host's factor times 10 us.
  const medianOf = (host: string): number => syntheticWorkload(1, host, 0, profile)[0]!.latencies[0]!
  t.is(syntheticWorkload(1, 'x', 5, profile)[0]!.latencies[0], medianOf('x'), 'the same factor every second')
  t.notDeepEqual(['x', 'y', 'z'].map(medianOf), [10_000, 10_000, 10_000])
})

test('changing one key of the profile leaves the other keys\' events as they were', (t) => {
  const p1 = parseSyntheticProfile({ keys: [{ key: 'a', rate: 50, medianNs: 1000, sigma: 1 }, { key: 'b', rate: 50, medianNs: 1000, sigma: 1 }], hostSpread: 0 })
  const p2 = parseSyntheticProfile({ keys: [{ key: 'a', rate: 500, medianNs: 99, sigma: 2 }, { key: 'b', rate: 50, medianNs: 1000, sigma: 1 }], hostSpread: 0 })
  t.deepEqual(syntheticWorkload(1, 'h', 9, p1)[1], syntheticWorkload(1, 'h', 9, p2)[1])
})

test('the default profile is valid', (t) => {
  t.deepEqual(parseSyntheticProfile(DEFAULT_SYNTHETIC_PROFILE), DEFAULT_SYNTHETIC_PROFILE)
})

test('a profile defaults hostSpread to 0.25', (t) => {
  t.is(parseSyntheticProfile({ keys: [{ key: 'a', rate: 1, medianNs: 1, sigma: 0 }] }).hostSpread, 0.25)
})

const BAD_PROFILES: Array<[string, unknown, RegExp]> = [
  ['that is not an object', [], /must be an object/],
  ['without keys', { keys: [] }, /"keys" must be an array of 1 to 64 keys/],
  ['with too many keys', { keys: Array.from({ length: 65 }, (_, i) => ({ key: `k${i}`, rate: 1, medianNs: 1, sigma: 0 })) }, /1 to 64 keys/],
  ['with a key twice', { keys: [{ key: 'a', rate: 1, medianNs: 1, sigma: 0 }, { key: 'a', rate: 1, medianNs: 1, sigma: 0 }] }, /given twice/],
  ['with an empty key', { keys: [{ key: '', rate: 1, medianNs: 1, sigma: 0 }] }, /non-empty string/],
  ['with a NUL in a key', { keys: [{ key: 'a\u0000', rate: 1, medianNs: 1, sigma: 0 }] }, /without NUL/],
  ['with a negative rate', { keys: [{ key: 'a', rate: -1, medianNs: 1, sigma: 0 }] }, /keys\[0\]\.rate must be a number from 0 to 100000/],
  ['with a rate too high', { keys: [{ key: 'a', rate: 1e9, medianNs: 1, sigma: 0 }] }, /rate/],
  ['with a median of zero', { keys: [{ key: 'a', rate: 1, medianNs: 0, sigma: 0 }] }, /medianNs/],
  ['with a sigma that is not a number', { keys: [{ key: 'a', rate: 1, medianNs: 1, sigma: '1' }] }, /sigma/],
  ['with a hostSpread out of range', { keys: [{ key: 'a', rate: 1, medianNs: 1, sigma: 0 }], hostSpread: 3 }, /hostSpread/]
]
for (const [what, input, reason] of BAD_PROFILES) {
  test(`rejects a profile ${what}`, (t) => {
    const err = t.throws(() => parseSyntheticProfile(input), { instanceOf: InvalidFieldError })
    t.is(err.field, 'profile')
    t.regex(err.reason, reason)
  })
}
