/**
 * Test helper: a small, strict parser of Prometheus' text exposition format 0.0.4, independent
 * of the writer under test. It refuses what Prometheus would refuse (bad names, bad escapes,
 * samples of a family split apart or before its TYPE, a repeated series, a value that is not a
 * float) and checks histograms: buckets per series cumulative and non-decreasing in `le`, a
 * `+Inf` bucket equal to `_count`, and a `_sum`.
 */

export interface ParsedSample {
  readonly name: string
  readonly labels: Record<string, string>
  readonly value: number
}

export interface ParsedFamily {
  readonly name: string
  help?: string
  type?: string
  readonly samples: ParsedSample[]
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/

function parseValue (text: string, line: string): number {
  if (text === '+Inf') return Infinity
  if (text === '-Inf') return -Infinity
  if (text === 'NaN') return NaN
  if (!/^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text)) throw new Error(`bad value ${JSON.stringify(text)} in ${JSON.stringify(line)}`)
  return Number(text)
}

function parseLabels (text: string, line: string): { labels: Record<string, string>, rest: string } {
  const labels: Record<string, string> = {}
  let s = text
  if (!s.startsWith('{')) return { labels, rest: s }
  s = s.slice(1)
  while (!s.startsWith('}')) {
    const m = LABEL.exec(s)
    if (m === null) throw new Error(`bad label name in ${JSON.stringify(line)}`)
    const name = m[0]
    if (name.startsWith('__')) throw new Error(`reserved label name ${name}`)
    if (name in labels) throw new Error(`label ${name} twice in ${JSON.stringify(line)}`)
    s = s.slice(name.length)
    if (!s.startsWith('="')) throw new Error(`expected =" after ${name} in ${JSON.stringify(line)}`)
    s = s.slice(2)
    let value = ''
    for (;;) {
      const c = s[0]
      if (c === undefined) throw new Error(`unterminated label value in ${JSON.stringify(line)}`)
      s = s.slice(1)
      if (c === '"') break
      if (c === '\\') {
        const e = s[0]
        s = s.slice(1)
        if (e === '\\') value += '\\'
        else if (e === '"') value += '"'
        else if (e === 'n') value += '\n'
        else throw new Error(`bad escape \\${String(e)} in ${JSON.stringify(line)}`)
      } else {
        value += c
      }
    }
    labels[name] = value
    if (s.startsWith(',')) s = s.slice(1)
    else if (!s.startsWith('}')) throw new Error(`expected , or } in ${JSON.stringify(line)}`)
  }
  return { labels, rest: s.slice(1) }
}

function familyOf (sample: string, types: ReadonlyMap<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sample.endsWith(suffix)) {
      const base = sample.slice(0, -suffix.length)
      if (types.get(base) === 'histogram') return base
    }
  }
  return sample
}

/** Parses an exposition, strictly; throws Error on anything Prometheus would refuse. */
export function parseExposition (text: string): Map<string, ParsedFamily> {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the exposition must end with a newline')
  const families = new Map<string, ParsedFamily>()
  const types = new Map<string, string>()
  const closed = new Set<string>()
  const series = new Set<string>()
  let current: string | undefined
  const family = (name: string): ParsedFamily => {
    let f = families.get(name)
    if (f === undefined) {
      if (closed.has(name)) throw new Error(`family ${name} appears twice`)
      f = { name, samples: [] }
      families.set(name, f)
    }
    if (current !== name) {
      if (current !== undefined) closed.add(current)
      if (closed.has(name)) throw new Error(`the lines of family ${name} are not together`)
      current = name
    }
    return f
  }
  for (const line of text.split('\n').slice(0, -1)) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
      const [, kind, name, ...rest] = line.split(' ')
      if (name === undefined || !METRIC.test(name) || METRIC.exec(name)![0] !== name) throw new Error(`bad metric name in ${JSON.stringify(line)}`)
      const f = family(name)
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`two HELP lines for ${name}`)
        f.help = rest.join(' ')
      } else {
        if (f.type !== undefined || f.samples.length > 0) throw new Error(`TYPE of ${name} repeated or after its samples`)
        const type = rest.join(' ')
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type)) throw new Error(`bad type ${type}`)
        f.type = type
        types.set(name, type)
      }
      continue
    }
    if (line.startsWith('#') || line === '') continue
    const m = METRIC.exec(line)
    if (m === null) throw new Error(`bad sample line ${JSON.stringify(line)}`)
    const { labels, rest } = parseLabels(line.slice(m[0].length), line)
    const parts = rest.trim().split(/ +/)
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2) throw new Error(`bad sample line ${JSON.stringify(line)}`)
    const value = parseValue(parts[0]!, line)
    const key = `${m[0]}${JSON.stringify(Object.entries(labels).sort())}`
    if (series.has(key)) throw new Error(`series repeated: ${line}`)
    series.add(key)
    family(familyOf(m[0], types)).samples.push({ name: m[0], labels, value })
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f)
  return families
}

function checkHistogram (f: ParsedFamily): void {
  const groups = new Map<string, { buckets: Array<[number, number]>, sum?: number, count?: number }>()
  for (const s of f.samples) {
    const { le, ...rest } = s.labels
    const key = JSON.stringify(Object.entries(rest).sort())
    let g = groups.get(key)
    if (g === undefined) groups.set(key, g = { buckets: [] })
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}_bucket without le`)
      g.buckets.push([parseValue(le, le), s.value])
    } else if (s.name === `${f.name}_sum`) g.sum = s.value
    else if (s.name === `${f.name}_count`) g.count = s.value
    else throw new Error(`sample ${s.name} in histogram ${f.name}`)
  }
  for (const [key, g] of groups) {
    if (g.count === undefined || g.sum === undefined) throw new Error(`histogram ${f.name}${key} lacks _count or _sum`)
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i]![0] > g.buckets[i - 1]![0])) throw new Error(`histogram ${f.name}${key}: le not increasing`)
      if (g.buckets[i]![1] < g.buckets[i - 1]![1]) throw new Error(`histogram ${f.name}${key}: buckets not cumulative`)
    }
    const inf = g.buckets[g.buckets.length - 1]
    if (inf === undefined || inf[0] !== Infinity) throw new Error(`histogram ${f.name}${key} lacks the +Inf bucket`)
    if (inf[1] !== g.count) throw new Error(`histogram ${f.name}${key}: +Inf bucket ${inf[1]} differs from _count ${g.count}`)
  }
}
