import test from 'ava'
import {
  catalog, distributionOf, LATENCY_BUCKETING, parsePredicate, valuesEqual, valueToCa, valueTotal,
  type Decomposition, type Value
} from '../../../../metad/index.js'
import { createSyntheticBackend, syntheticWorkload, type Measurement } from '../../../../node/instrument/index.js'
import { backendContract } from '../contract.js'

// The contract, with a clock that moves one second per collect.
backendContract({
  create: () => {
    let second = 1_700_000_000
    return createSyntheticBackend({ seed: 5, hostname: 'contract', second: () => second++ })
  }
})

const metric = catalog.metrics.get('synthetic.ops')!

async function measure (clock: () => number, decomposition: Decomposition, predicate: unknown = {}): Promise<Measurement> {
  const backend = createSyntheticBackend({ seed: 11, hostname: 'node-9', second: clock })
  return await backend.instrument({ id: 't', metric, predicate: parsePredicate(predicate, metric), decomposition })
}

/** The exact value syntheticWorkload implies for `seconds`, by key and latency. */
function truth (seconds: number[]): Value {
  const keys = new Map<string, number[]>()
  for (const s of seconds) {
    for (const e of syntheticWorkload(11, 'node-9', s)) keys.set(e.key, [...(keys.get(e.key) ?? []), ...e.latencies])
  }
  return {
    type: 'decomposed-distribution',
    bucketing: LATENCY_BUCKETING,
    keys: new Map([...keys].filter(([, l]) => l.length > 0).map(([k, l]) => [k, distributionOf(LATENCY_BUCKETING, l)])),
    folded: 0
  }
}

test('each collect reports exactly the workload of the clock\'s second, by key and latency', async (t) => {
  let now = 1000
  const m = await measure(() => now, ['key', 'latency'])
  t.true(valuesEqual(m.collect(), truth([1000])))
  now = 1001
  t.true(valuesEqual(m.collect(), truth([1001])))
})

test('a second passed to collect wins over the clock, so a late timer still reports exactly its second', async (t) => {
  const m = await measure(() => 5000, ['key', 'latency'])
  t.true(valuesEqual(m.collect(4000), truth([4000])))
  // The daemon's timer fired late for 4001 and 4002: each collect still gets its own second.
  t.true(valuesEqual(m.collect(4001), truth([4001])))
  t.true(valuesEqual(m.collect(4002), truth([4002])))
})

test('a collect in a second already reported adds nothing', async (t) => {
  const m = await measure(() => 77, [])
  t.true(valueTotal(m.collect()) > 0)
  t.deepEqual(valueToCa(m.collect()), 0)
})

test('a clock that jumped reports every second skipped, at most 60 of them', async (t) => {
  let now = 2000
  const m = await measure(() => now, ['key', 'latency'])
  m.collect()
  now = 2003
  t.true(valuesEqual(m.collect(), truth([2001, 2002, 2003])))
  now = 3000
  const seconds = Array.from({ length: 60 }, (_, i) => 2941 + i)
  t.true(valuesEqual(m.collect(), truth(seconds)))
})

test('a clock that went back reports nothing until it passes the last second again', async (t) => {
  let now = 500
  const m = await measure(() => now, [])
  m.collect()
  now = 400
  t.deepEqual(valueToCa(m.collect()), 0)
  now = 501
  t.is(valueTotal(m.collect()), syntheticWorkload(11, 'node-9', 501).reduce((s, e) => s + e.latencies.length, 0))
})

test('the predicate filters events by key and latency', async (t) => {
  const m = await measure(() => 9, ['key'], { and: [{ eq: ['key', 'read'] }, { lt: ['latency', 20_000] }] })
  const reads = syntheticWorkload(11, 'node-9', 9).find((e) => e.key === 'read')!.latencies
  t.deepEqual(valueToCa(m.collect()), { read: reads.filter((l) => l < 20_000).length })
})

test('a clock that gives no whole second fails the measurement with the reason, which recovers when the clock does', async (t) => {
  let now = Number.NaN
  const m = await measure(() => now, [])
  t.deepEqual(valueToCa(m.collect()), 0)
  t.deepEqual(m.state(), { state: 'failed', reason: 'the clock gave NaN, not a whole second' })
  now = 5
  t.true(valueTotal(m.collect()) > 0)
  t.is(m.state().state, 'running')
})

test('instrument() refuses a metric other than synthetic.ops', async (t) => {
  const backend = createSyntheticBackend({ second: () => 0 })
  const other = catalog.metrics.get('cpu.cpus')!
  await t.throwsAsync(backend.instrument({ id: 't', metric: other, predicate: { op: 'true' }, decomposition: [] }), { message: /synthetic does not implement cpu\.cpus/ })
})

test('the probe names the host, the seed and the keys', async (t) => {
  const status = await createSyntheticBackend({ seed: 3, hostname: 'h1' }).probe()
  t.true(status.available)
  t.regex(status.detail, /host "h1", seed 3: keys read, write, stat/)
})
