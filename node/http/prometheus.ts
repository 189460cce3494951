/**
 * Prometheus' text exposition format, version 0.0.4: metric families (HELP, TYPE, samples)
 * written out with the format's grammar and escaping, and a distribution as a Prometheus
 * histogram.
 *
 * Grammar: metric names match `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*`
 * and may not start with `__` (reserved); in label values `\`, `"` and newline are escaped as
 * `\\`, `\"` and `\n`, in HELP text `\` and newline. A family's samples are written together,
 * after its HELP and TYPE lines; two samples of a family may not share a label set. A name that
 * breaks the grammar is a caller's bug here (the caller validates names from outside with
 * {@link isMetricName} and {@link isLabelName} first): formatExposition throws RangeError.
 *
 * A histogram's buckets are cumulative: `_bucket{le="b"}` counts the observations <= b. A
 * heatmesh distribution counts integer values per bucket [lo, hi], so the bucket's count is
 * exactly the count of values <= hi; the cumulative counts at each non-empty bucket's `hi`, then
 * `le="+Inf"` equal to `_count`, are exact (the overflow bucket, up to INT64_MAX, is only in
 * +Inf). `_sum` is not kept by a distribution: it is estimated as the sum of count x the
 * bucket's midpoint (metad's distributionStats), the same estimate CA's `weights=weight` used.
 */
import { distributionStats, quantizer, type Distribution } from '../../metad/index.js'

export type PrometheusType = 'counter' | 'gauge' | 'histogram' | 'untyped'

/** One sample: the family's name plus `suffix` (histograms: `_bucket`, `_sum`, `_count`). */
export interface Sample {
  readonly suffix?: '' | '_bucket' | '_sum' | '_count'
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** A metric family. */
export interface MetricFamily {
  readonly name: string
  readonly help: string
  readonly type: PrometheusType
  readonly samples: readonly Sample[]
}

/** The content type of the text exposition format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Whether `name` is a valid metric name. */
export function isMetricName (name: string): boolean {
  return /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)
}

/** Whether `name` is a valid label name that is not reserved (`__...`). */
export function isLabelName (name: string): boolean {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) && !name.startsWith('__')
}

/** A label value with `\`, `"` and newline escaped. */
export function escapeLabelValue (value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** HELP text with `\` and newline escaped. */
export function escapeHelp (text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

/** A sample value as the format writes floats: `NaN`, `+Inf`, `-Inf`, or the number. */
export function formatNumber (n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return '+Inf'
  if (n === -Infinity) return '-Inf'
  return String(n)
}

function formatLabels (labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels)
  if (names.length === 0) return ''
  return `{${names.map((k) => {
    if (!isLabelName(k)) throw new RangeError(`invalid Prometheus label name ${JSON.stringify(k)}`)
    return `${k}="${escapeLabelValue(labels[k]!)}"`
  }).join(',')}}`
}

/** The exposition text of `families` (ending with a newline). */
export function formatExposition (families: readonly MetricFamily[]): string {
  const lines: string[] = []
  const seen = new Set<string>()
  for (const f of families) {
    if (!isMetricName(f.name)) throw new RangeError(`invalid Prometheus metric name ${JSON.stringify(f.name)}`)
    if (seen.has(f.name)) throw new RangeError(`metric family ${f.name} given twice`)
    seen.add(f.name)
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`)
    lines.push(`# TYPE ${f.name} ${f.type}`)
    for (const s of f.samples) lines.push(`${f.name}${s.suffix ?? ''}${formatLabels(s.labels)} ${formatNumber(s.value)}`)
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n'
}

/** The samples of one histogram: cumulative `_bucket`s, `+Inf`, `_sum` and `_count` (see the module header). */
export function histogramSamples (labels: Readonly<Record<string, string>>, d: Distribution): Sample[] {
  if ('le' in labels) throw new RangeError('a histogram\'s own labels may not include "le"')
  const q = quantizer(d.bucketing)
  const out: Sample[] = []
  let cumulative = 0
  for (let k = 0; k < d.index.length; k++) {
    const i = d.index[k]!
    cumulative += d.count[k]!
    if (i === q.nbuckets - 1) continue // the overflow bucket: only +Inf bounds it
    out.push({ suffix: '_bucket', labels: { ...labels, le: formatNumber(q.hi(i)) }, value: cumulative })
  }
  out.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: d.total })
  out.push({ suffix: '_sum', labels, value: distributionStats(d).sum })
  out.push({ suffix: '_count', labels, value: d.total })
  return out
}
