/**
 * The house's dependency rules, read from the source: metad/ and render/ are pure, and
 * dependencies point one way (node -> metad, render; sim -> node core, metad, render;
 * render -> metad). A violation fails here before it spreads.
 */
import test from 'ava'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

function sources (dir: string): string[] {
  const out: string[] = []
  if (!existsSync(join(root, dir))) return out // a folder whose issue has not landed yet
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name)
    if (statSync(join(root, path)).isDirectory()) out.push(...sources(path))
    else if (name.endsWith('.ts')) out.push(path)
  }
  return out
}

function importsOf (file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8')
  const specs: string[] = []
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) {
    specs.push(m[1] ?? m[2] ?? m[3] ?? '')
  }
  return specs
}

/** The top-level folder an import lands in, or the package name. */
function target (file: string, spec: string): string {
  if (spec.startsWith('.')) return relative(root, resolve(root, dirname(file), spec)).split('/')[0] ?? ''
  return spec
}

const impure = /^(node:)?(fs|fs\/promises|net|child_process|timers|timers\/promises|dgram|http|https|worker_threads|cluster)$|^(libp2p|@libp2p\/|@chainsafe\/)/

for (const folder of ['metad', 'render']) {
  test(`${folder}/ imports no I/O, clock or network module`, (t) => {
    const bad = sources(folder).flatMap((f) => importsOf(f).filter((s) => impure.test(s)).map((s) => `${f}: ${s}`))
    t.deepEqual(bad, [])
  })
  test(`${folder}/ calls neither Date.now nor Math.random`, (t) => {
    const bad = sources(folder).filter((f) => /\bDate\.now\(|\bMath\.random\(|new Date\(\)/.test(readFileSync(join(root, f), 'utf8')))
    t.deepEqual(bad, [])
  })
}

// The merge tree's protocol core (node/merge/) is sans-IO like metad/ and render/ (DESIGN.md).
test('node/merge/ imports no I/O, clock or network module', (t) => {
  const files = sources('node/merge')
  t.true(files.length > 0)
  const bad = files.flatMap((f) => importsOf(f).filter((s) => impure.test(s)).map((s) => `${f}: ${s}`))
  t.deepEqual(bad, [])
})
test('node/merge/ calls neither Date.now nor Math.random', (t) => {
  const bad = sources('node/merge').filter((f) => /\bDate\.now\(|\bMath\.random\(|new Date\(\)/.test(readFileSync(join(root, f), 'utf8')))
  t.deepEqual(bad, [])
})

const allowed: Record<string, string[]> = {
  metad: ['metad'],
  render: ['render', 'metad'],
  node: ['node', 'metad', 'render'],
  sim: ['sim', 'node', 'metad', 'render']
}

test('dependencies between top-level folders point one way', (t) => {
  const bad: string[] = []
  for (const [folder, ok] of Object.entries(allowed)) {
    for (const f of sources(folder)) {
      for (const spec of importsOf(f)) {
        if (!spec.startsWith('.')) continue
        const to = target(f, spec)
        if (!ok.includes(to)) bad.push(`${f} -> ${spec}`)
      }
    }
  }
  t.deepEqual(bad, [])
})

test('other folders import metad and render only through their index faces', (t) => {
  const bad: string[] = []
  for (const folder of ['node', 'sim', 'render']) {
    for (const f of sources(folder)) {
      for (const spec of importsOf(f)) {
        const to = spec.startsWith('.') ? target(f, spec) : ''
        if ((to === 'metad' || to === 'render') && to !== folder && !/\/(metad|render)\/index\.js$/.test(spec)) bad.push(`${f} -> ${spec}`)
      }
    }
  }
  t.deepEqual(bad, [])
})
