/**
 * node/http/prometheus.ts: the text exposition format, parsed back by an independent strict
 * parser (exposition.ts): names, escaping, histograms cumulative with +Inf equal to the count.
 */
import test from 'ava'
import { distributionFromCa, LATENCY_BUCKETING } from '../../../metad/index.js'
import {
  escapeHelp, escapeLabelValue, formatExposition, formatNumber, histogramSamples, isLabelName, isMetricName, type MetricFamily
} from '../../../node/http/prometheus.js'
import { dist } from './fixture.js'
import { parseExposition } from './exposition.js'

test('metric names follow the grammar [a-zA-Z_:][a-zA-Z0-9_:]*', (t) => {
  for (const ok of ['heatmesh_members_live', 'a', '_x', 'ns:sub_total', 'A9']) t.true(isMetricName(ok), ok)
  for (const bad of ['', '9a', 'a-b', 'a.b', 'a b', 'é']) t.false(isMetricName(bad), bad)
})

test('label names follow [a-zA-Z_][a-zA-Z0-9_]* and may not start with __', (t) => {
  for (const ok of ['execname', '_x', 'le', 'a1']) t.true(isLabelName(ok), ok)
  for (const bad of ['', '1a', 'a:b', '__name__', '__x', 'a-b']) t.false(isLabelName(bad), bad)
})

test('label values escape backslash, double quote and newline; HELP escapes backslash and newline', (t) => {
  t.is(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd')
  t.is(escapeHelp('a\\b"c\nd'), 'a\\\\b"c\\nd')
})

test('numbers are written as Prometheus floats', (t) => {
  t.is(formatNumber(3), '3')
  t.is(formatNumber(0.25), '0.25')
  t.is(formatNumber(Infinity), '+Inf')
  t.is(formatNumber(-Infinity), '-Inf')
  t.is(formatNumber(NaN), 'NaN')
})

test('an exposition parses back with its help, type, labels and values', (t) => {
  const families: MetricFamily[] = [
    { name: 'heatmesh_members_live', help: 'live members', type: 'gauge', samples: [{ labels: {}, value: 5 }] },
    { name: 'heatmesh_value', help: 'values\nper slot', type: 'gauge', samples: [{ labels: { instrumentation: '1', execname: 'we"ird\\name\n' }, value: 2.5 }] }
  ]
  const text = formatExposition(families)
  const parsed = parseExposition(text)
  t.is(parsed.get('heatmesh_members_live')?.samples[0]?.value, 5)
  t.is(parsed.get('heatmesh_value')?.type, 'gauge')
  t.is(parsed.get('heatmesh_value')?.help, 'values\\nper slot')
  t.deepEqual(parsed.get('heatmesh_value')?.samples[0]?.labels, { instrumentation: '1', execname: 'we"ird\\name\n' })
})

test('an invalid metric or label name is refused, never written', (t) => {
  t.throws(() => formatExposition([{ name: 'bad-name', help: '', type: 'gauge', samples: [] }]), { instanceOf: RangeError })
  t.throws(() => formatExposition([{ name: 'ok', help: '', type: 'gauge', samples: [{ labels: { 'bad-label': 'x' }, value: 1 }] }]), { instanceOf: RangeError })
  t.throws(() => formatExposition([{ name: 'ok', help: '', type: 'gauge', samples: [{ labels: { __name__: 'x' }, value: 1 }] }]), { instanceOf: RangeError })
})

test('a family given twice is refused', (t) => {
  const f: MetricFamily = { name: 'x', help: '', type: 'gauge', samples: [] }
  t.throws(() => formatExposition([f, f]), { instanceOf: RangeError })
})

test('a histogram is cumulative over the buckets\' upper bounds, +Inf equal to the count, sum from midpoints', (t) => {
  const d = dist([1000, 1099, 2], [3000, 3099, 1], [50000, 50999, 4])
  const text = formatExposition([{ name: 'lat', help: 'h', type: 'histogram', samples: histogramSamples({ instrumentation: '7' }, d) }])
  t.is(text, [
    '# HELP lat h',
    '# TYPE lat histogram',
    'lat_bucket{instrumentation="7",le="1099"} 2',
    'lat_bucket{instrumentation="7",le="3099"} 3',
    'lat_bucket{instrumentation="7",le="50999"} 7',
    'lat_bucket{instrumentation="7",le="+Inf"} 7',
    `lat_sum{instrumentation="7"} ${2 * 1049.5 + 3049.5 + 4 * 50499.5}`,
    'lat_count{instrumentation="7"} 7',
    ''
  ].join('\n'))
  t.notThrows(() => parseExposition(text))
})

test('the overflow bucket is counted only in +Inf', (t) => {
  const d = distributionFromCa([[[1000, 1099], 1], [[1e12, 2 ** 63], 2]], LATENCY_BUCKETING)
  const samples = histogramSamples({}, d)
  t.deepEqual(samples.filter((s) => s.suffix === '_bucket').map((s) => [s.labels.le, s.value]), [['1099', 1], ['+Inf', 3]])
  t.notThrows(() => parseExposition(formatExposition([{ name: 'h', help: '', type: 'histogram', samples }])))
})

test('an empty histogram has only +Inf 0, a zero sum and count', (t) => {
  const samples = histogramSamples({}, dist())
  t.deepEqual(samples.map((s) => [s.suffix, s.labels.le, s.value]), [['_bucket', '+Inf', 0], ['_sum', undefined, 0], ['_count', undefined, 0]])
})

test('the strict parser refuses non-cumulative buckets and a +Inf that is not the count', (t) => {
  t.throws(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="2"} 3\nh_bucket{le="+Inf"} 5\nh_sum 1\nh_count 5\n'), { message: /not cumulative/ })
  t.throws(() => parseExposition('# TYPE h histogram\nh_bucket{le="+Inf"} 4\nh_sum 1\nh_count 5\n'), { message: /differs from _count/ })
})
