/**
 * Golden scripts (CA's tst/metad/*.out, for bpftrace): every eBPF metric x {no decomposition;
 * each discrete field; each numeric field; discrete + numeric} x {no predicate; a discrete
 * predicate; a numeric predicate} (golden-cases.ts) is generated and compared with
 * golden/<metric>--<decomposition>--<predicate>.bt. accept.test.ts loads every one into the
 * kernel with bpftrace.
 *
 * To regenerate after a deliberate change, review the diff afterwards:
 *   UPDATE_GOLDEN=1 npx ava test/metad/bpftrace/golden.test.ts
 */
import test from 'ava'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { goldenCases } from './golden-cases.js'

const dir = join(dirname(fileURLToPath(import.meta.url)), 'golden')
const update = process.env.UPDATE_GOLDEN === '1'
const cases = goldenCases()

for (const c of cases) {
  test(`${c.file} is the script generated for ${c.metric.name} by [${c.decomposition.join(', ')}] where ${JSON.stringify(c.predicate)}`, (t) => {
    const script = c.program().script
    const path = join(dir, c.file)
    if (update) writeFileSync(path, script)
    t.true(existsSync(path), `missing golden file ${c.file} (run with UPDATE_GOLDEN=1)`)
    t.is(script, readFileSync(path, 'utf8'))
  })
}

test('the golden folder holds exactly the golden cases', (t) => {
  t.is(cases.length, 200)
  t.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.bt')).sort(), cases.map((c) => c.file).sort())
})
