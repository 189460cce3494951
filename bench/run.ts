/**
 * Runs benchmarks: `npm run bench -- <name>...` runs bench/<name>.ts; with no name it lists the
 * benchmarks and runs them all, in name order. A benchmark module's default export is
 * `async () => void`; it measures in its own process and prints its figures (ratios against a
 * baseline measured in the same run). Profile one with
 * `node --cpu-prof --import tsx bench/run.ts <name>`.
 */
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const dir = dirname(fileURLToPath(import.meta.url))
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -'.ts'.length))
  .sort()

const asked = process.argv.slice(2).filter((a) => a !== '--')
const unknown = asked.filter((a) => !available.includes(a))
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ') || '(none)'}`)
  process.exit(2)
}
if (asked.length === 0) console.log(`benchmarks: ${available.join(', ') || '(none)'}; running all`)

for (const name of asked.length > 0 ? asked : available) {
  const mod = await import(pathToFileURL(join(dir, `${name}.ts`)).href) as { default?: unknown }
  if (typeof mod.default !== 'function') {
    console.error(`bench/${name}.ts has no default export of type () => Promise<void>`)
    process.exit(2)
  }
  console.log(`\n=== ${name}`)
  const started = performance.now()
  await (mod.default as () => Promise<void>)()
  console.log(`=== ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`)
}
