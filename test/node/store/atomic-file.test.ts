import test from 'ava'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeFileAtomic } from '../../../node/store/index.js'

async function withDir (fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'heatmesh-atomic-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('a write creates or replaces the file with the given mode and leaves no temporary file', async (t) => {
  await withDir(async (dir) => {
    const file = join(dir, 'state.json')
    await writeFileAtomic(file, 'one', { mode: 0o640 })
    t.is(await readFile(file, 'utf8'), 'one')
    t.is((await stat(file)).mode & 0o777, 0o640)
    await writeFileAtomic(file, new Uint8Array([116, 119, 111]), { mode: 0o600 })
    t.is(await readFile(file, 'utf8'), 'two')
    t.is((await stat(file)).mode & 0o777, 0o600)
    t.deepEqual(await readdir(dir), ['state.json'])
  })
})

test('an exclusive write never replaces an existing file', async (t) => {
  await withDir(async (dir) => {
    const file = join(dir, 'once')
    await writeFileAtomic(file, 'first', { mode: 0o600, exclusive: true })
    await t.throwsAsync(writeFileAtomic(file, 'second', { mode: 0o600, exclusive: true }), { code: 'EEXIST' })
    t.is(await readFile(file, 'utf8'), 'first')
    t.deepEqual(await readdir(dir), ['once'])
  })
})

test('concurrent writers leave one complete version, never a mix', async (t) => {
  await withDir(async (dir) => {
    const file = join(dir, 'contended')
    const versions = Array.from({ length: 8 }, (_, i) => String(i).repeat(64 * 1024))
    await Promise.all(versions.map(async (v) => { await writeFileAtomic(file, v, { mode: 0o600 }) }))
    t.true(versions.includes(await readFile(file, 'utf8')))
    t.deepEqual(await readdir(dir), ['contended'])
  })
})

test('a write into a missing directory fails with ENOENT', async (t) => {
  await withDir(async (dir) => {
    await t.throwsAsync(writeFileAtomic(join(dir, 'missing', 'f'), 'x', { mode: 0o600 }), { code: 'ENOENT' })
  })
})
