/**
 * The protocol core is sans-IO (DESIGN.md): it imports no I/O, clock or network module, never
 * reads the clock or Math.random, arms no timer, and reaches metad only through its face. Read
 * from the source, like test/house/imports.test.ts does for metad/ and render/.
 */
import test from 'ava'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const core = resolve(dirname(fileURLToPath(import.meta.url)), '../../../node/core')
const files = readdirSync(core).filter((f) => f.endsWith('.ts'))

function code (file: string): string {
  // Comments may name what the code must not do; only code counts.
  return readFileSync(join(core, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

function imports (text: string): string[] {
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2] ?? '')
}

test('node/core has the modules of the protocol core', (t) => {
  t.true(files.includes('index.ts') && files.includes('membership.ts') && files.includes('definitions.ts') && files.includes('messages.ts'))
})

test('node/core imports only itself and metad through its face', (t) => {
  const bad = files.flatMap((f) => imports(code(f)).filter((s) => !(s.startsWith('./') || s === '../../metad/index.js')).map((s) => `${f}: ${s}`))
  t.deepEqual(bad, [])
})

test('node/core reads no clock, draws no Math.random and arms no timer', (t) => {
  const bad = files.filter((f) => /\bDate\.now\(|\bnew Date\(|\bMath\.random\(|\bperformance\.now\(|\bset(Timeout|Interval|Immediate)\(|\bprocess\./.test(code(f)))
  t.deepEqual(bad, [])
})
