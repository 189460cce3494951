/**
 * node/http/metrics.ts: GET /metrics parsed back by a strict exposition parser: the daemon's
 * health, the routes' counters, and each instrumentation's latest slot as a gauge or histogram
 * with its labels.
 */
import test, { type ExecutionContext } from 'ava'
import { catalog, OTHER_KEY } from '../../../metad/index.js'
import { discreteFieldOf, keyLabel } from '../../../node/http/metrics.js'
import { BY_KEY, byKey, definition, dist, distribution, get, KEYS, keys, LATENCY, OPS, scalar, serve, slot, SourceDouble } from './fixture.js'
import { parseExposition, type ParsedSample } from './exposition.js'

const T0 = 1_700_000_000

function source (): SourceDouble {
  const s = new SourceDouble()
    .add('1', OPS, [slot(T0 + 97, scalar(3)), slot(T0 + 98, scalar(5), 3, 2)])
    .add('2', KEYS, [slot(T0 + 99, keys({ 'we"ird\nkey': 2, b: 1 }))])
    .add('3', LATENCY, [slot(T0 + 99, distribution(dist([1000, 1099, 2], [50000, 50999, 3])))])
    .add('4', BY_KEY, [slot(T0 + 99, byKey({ a: dist([1000, 1099, 1]), [OTHER_KEY]: dist([2000, 2099, 4]) }, 9), 2, 2, true)])
    .add('5', definition({ module: 'syscall', stat: 'syscalls', decomposition: ['execname'] }), [slot(T0 + 99, keys({ sshd: 4 }))])
    .add('quiet', OPS, [])
  s.clock = T0 + 100.5
  return s
}

async function scrape (t: ExecutionContext, s: SourceDouble, health = {}): Promise<{ text: string, families: ReturnType<typeof parseExposition>, type: string | null }> {
  const base = await serve(t, s, { health: () => health, instrumentations: () => [...s.defs.keys()] })
  const r = await get(base, '/metrics')
  t.is(r.status, 200)
  const text = r.bytes.toString('utf8')
  return { text, families: parseExposition(text), type: r.headers.get('content-type') }
}

const find = (samples: readonly ParsedSample[] | undefined, labels: Record<string, string>, name?: string): ParsedSample | undefined =>
  samples?.find((s) => (name === undefined || s.name === name) && Object.entries(labels).every(([k, v]) => s.labels[k] === v))

test('the exposition is text format 0.0.4 and parses strictly', async (t) => {
  const { type, families } = await scrape(t, source(), { members_live: 3 })
  t.is(type, 'text/plain; version=0.0.4; charset=utf-8')
  t.true(families.size > 0)
})

test('health numbers are gauges named heatmesh_<name>; invalid names are left out and said so', async (t) => {
  const { families, text } = await scrape(t, source(), { members_live: 3, gossip_rejected: 0, 'bad-name': 1, instrumentation_up: 7 })
  t.is(families.get('heatmesh_members_live')?.type, 'gauge')
  t.is(families.get('heatmesh_members_live')?.samples[0]?.value, 3)
  t.is(families.get('heatmesh_gossip_rejected')?.samples[0]?.value, 0)
  t.false([...families.keys()].some((k) => k.includes('bad')))
  t.regex(text, /^# heatmesh: health number "bad-name" left out: not a valid metric name$/m)
  // A health number may not shadow the per-instrumentation families.
  t.regex(text, /^# heatmesh: health number "instrumentation_up" left out: the name of a family of the values API$/m)
})

test('the values routes count their requests and errors', async (t) => {
  const s = source()
  const base = await serve(t, s, { instrumentations: () => [] })
  await get(base, '/ca/instrumentations/1/value/raw?timeout=0')
  await get(base, '/ca/instrumentations/1/value/raw?duration=0')
  const families = parseExposition((await get(base, '/metrics')).bytes.toString('utf8'))
  t.is(families.get('heatmesh_http_value_requests_total')?.type, 'counter')
  t.is(families.get('heatmesh_http_value_requests_total')?.samples[0]?.value, 2)
  t.is(families.get('heatmesh_http_value_errors_total')?.samples[0]?.value, 1)
})

test('each instrumentation says whether its slots could be fetched and the coverage of its latest slot', async (t) => {
  const { families } = await scrape(t, source())
  t.is(find(families.get('heatmesh_instrumentation_up')?.samples, { instrumentation: '1', metric: 'synthetic.ops' })?.value, 1)
  t.is(find(families.get('heatmesh_instrumentation_latest_second')?.samples, { instrumentation: '1' })?.value, T0 + 98)
  t.is(find(families.get('heatmesh_instrumentation_nsources')?.samples, { instrumentation: '1' })?.value, 3)
  t.is(find(families.get('heatmesh_instrumentation_minreporting')?.samples, { instrumentation: '1' })?.value, 2)
  // No slot in the lookback window: up, but no value.
  t.is(find(families.get('heatmesh_instrumentation_up')?.samples, { instrumentation: 'quiet' })?.value, 1)
  t.is(find(families.get('heatmesh_instrumentation_latest_second')?.samples, { instrumentation: 'quiet' }), undefined)
})

test('a scalar is a gauge of its latest slot', async (t) => {
  const { families } = await scrape(t, source())
  t.is(find(families.get('heatmesh_value')?.samples, { instrumentation: '1', metric: 'synthetic.ops' })?.value, 5)
})

test('a decomposition is a gauge per key, under a label named after the field, escaped', async (t) => {
  const { families, text } = await scrape(t, source())
  t.is(find(families.get('heatmesh_value')?.samples, { instrumentation: '2', key: 'we"ird\nkey' })?.value, 2)
  t.is(find(families.get('heatmesh_value')?.samples, { instrumentation: '2', key: 'b' })?.value, 1)
  t.true(text.includes('key="we\\"ird\\nkey"'))
  t.is(find(families.get('heatmesh_value')?.samples, { instrumentation: '5', metric: 'syscall.syscalls', execname: 'sshd' })?.value, 4)
})

test('a distribution is a histogram: cumulative buckets, +Inf equal to the count, a midpoint sum', async (t) => {
  const { families } = await scrape(t, source())
  const h = families.get('heatmesh_distribution')
  t.is(h?.type, 'histogram')
  const mine = h!.samples.filter((s) => s.labels.instrumentation === '3')
  t.deepEqual(mine.filter((s) => s.name.endsWith('_bucket')).map((s) => [s.labels.le, s.value]), [['1099', 2], ['50999', 5], ['+Inf', 5]])
  t.is(find(mine, {}, 'heatmesh_distribution_count')?.value, 5)
  t.is(find(mine, {}, 'heatmesh_distribution_sum')?.value, 2 * 1049.5 + 3 * 50499.5)
})

test('a decomposed distribution is a histogram per key; the folded keys appear as (other) with folded="true"', async (t) => {
  const { families } = await scrape(t, source())
  const mine = families.get('heatmesh_distribution')!.samples.filter((s) => s.labels.instrumentation === '4')
  t.is(find(mine, { key: 'a', le: '+Inf' })?.value, 1)
  t.is(find(mine, { key: '(other)', folded: 'true', le: '+Inf' })?.value, 4)
})

test('an instrumentation whose slots do not fit its definition is up 0', async (t) => {
  const s = source()
  s.add('bad', OPS, [slot(T0 + 99, keys({ a: 1 }))])
  const { families } = await scrape(t, s)
  t.is(find(families.get('heatmesh_instrumentation_up')?.samples, { instrumentation: 'bad' })?.value, 0)
  t.is(find(families.get('heatmesh_value')?.samples, { instrumentation: 'bad' }), undefined)
})

test('an instrumentation whose slots cannot be fetched is up 0 and the scrape still succeeds', async (t) => {
  const s = source()
  s.failure = new Error('root unreachable')
  const { families } = await scrape(t, s, { members_live: 1 })
  t.is(find(families.get('heatmesh_instrumentation_up')?.samples, { instrumentation: '1' })?.value, 0)
  t.is(families.get('heatmesh_members_live')?.samples[0]?.value, 1)
})

test('keys go under the discrete field\'s name unless it clashes with a label of ours', (t) => {
  t.is(keyLabel('execname'), 'execname')
  t.is(keyLabel('key'), 'key')
  t.is(keyLabel('metric'), 'key')
  t.is(keyLabel('le'), 'key')
  t.is(keyLabel(undefined), 'key')
  t.is(discreteFieldOf(BY_KEY, catalog), 'key')
  t.is(discreteFieldOf(LATENCY, catalog), undefined)
})
