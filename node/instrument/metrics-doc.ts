/**
 * docs/METRICS.md, derived: the catalog's descriptions and, per metric, which backend serves
 * which fields. Generated (not hand-kept) so the document cannot drift from the code; a test
 * compares the file with this output, and `npm run docs` rewrites it.
 */
import type { Catalog } from '../../metad/index.js'
import type { MetricImplementation } from './backend.js'

export interface BackendImplementations {
  readonly name: string
  readonly cost: number
  readonly implementations: readonly MetricImplementation[]
}

/** The Markdown of docs/METRICS.md for a catalog and the backends' implementations. */
export function metricsMarkdown (catalog: Catalog, backends: readonly BackendImplementations[]): string {
  const out: string[] = [
    '# Metrics',
    '',
    '<!-- Generated from metad/catalog and the backends\' implementations by `npm run docs`; do not edit by hand. -->',
    '',
    `heatmesh's catalog: ${catalog.metrics.size} metrics. Every metric has \`hostname\`; the instrumenter handles it`,
    'itself, so backends list only the other fields. Where several backends serve a metric, an',
    'instrumentation goes to the cheapest available one that serves every field it uses',
    '(lower cost wins: ' + [...backends].sort((a, b) => a.cost - b.cost).map((b) => `${b.name} ${b.cost}`).join(', ') + ').',
    ''
  ]
  let module = ''
  for (const m of catalog.metrics.values()) {
    if (m.module !== module) {
      module = m.module
      out.push(`## ${module}: ${catalog.modules.get(module)?.label ?? module}`, '')
    }
    const unit = m.unit !== undefined ? m.unit : `type ${m.type as string}`
    out.push(`### ${m.name} — ${m.label}`, '', m.description, '')
    out.push(`- unit: ${unit}; scope: ${m.interval}`)
    out.push(`- fields: ${m.fields.map((f) => `\`${f.name}\` (${f.arity === 'numeric' ? `${f.type}, numeric` : 'discrete'})`).join(', ')}`)
    const served = backends.flatMap((b) => b.implementations.filter((i) => i.metric === m.name).map((i) => `${b.name} (${i.fields.length === 0 ? 'no decomposition' : i.fields.join(', ')})`))
    out.push(`- served by: ${served.length === 0 ? 'no backend yet' : served.join('; ')}`, '')
  }
  return out.join('\n')
}
