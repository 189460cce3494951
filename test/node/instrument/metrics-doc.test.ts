/**
 * docs/METRICS.md is derived from the catalog and the backends' implementations; this test keeps
 * the file true. After changing either, regenerate it with `npm run docs`
 * (UPDATE_DOCS=1 runs this test in write mode).
 */
import test from 'ava'
import { readFileSync, writeFileSync } from 'node:fs'
import { catalog } from '../../../metad/index.js'
import {
  createBpftraceBackend, createProcessBackend, createProcfsBackend, createSyntheticBackend, metricsMarkdown
} from '../../../node/instrument/index.js'

const path = new URL('../../../docs/METRICS.md', import.meta.url)

test('docs/METRICS.md describes every metric and which backend serves which fields', (t) => {
  const backends = [createProcfsBackend(), createProcessBackend(), createSyntheticBackend(), createBpftraceBackend()]
  const want = metricsMarkdown(catalog, backends)
  if (process.env.UPDATE_DOCS === '1') writeFileSync(path, want)
  t.is(readFileSync(path, 'utf8'), want, 'docs/METRICS.md is stale: run `npm run docs`')
  for (const m of catalog.metrics.values()) {
    t.true(want.includes(`### ${m.name} — `), m.name)
    t.true(backends.some((b) => b.implementations.some((i) => i.metric === m.name)), `${m.name} has no backend`)
  }
})
