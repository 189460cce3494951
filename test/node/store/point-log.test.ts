import test from 'ava'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import {
  openPointStore, pointFileName, type PointStore, type PointStoreOptions, type StoreErrorContext, type StoredRecord
} from '../../../node/store/index.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

/** A temporary root holding the store's directory `<root>/points` (not created: the store does). */
async function withRoot (fn: (root: string, dir: string) => Promise<void>): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'heatmesh-store-'))
  try {
    await fn(tmp, join(tmp, 'points'))
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

/** Opens a store that records what it reports. */
async function openRecording (dir: string, options: PointStoreOptions = {}): Promise<{ store: PointStore, errors: Array<{ context: StoreErrorContext, err: unknown }> }> {
  const errors: Array<{ context: StoreErrorContext, err: unknown }> = []
  const store = await openPointStore(dir, { now: () => 1_700_000_000_000, ...options, onError: (context, err) => { errors.push({ context, err }) } })
  return { store, errors }
}

/** The payload of second `s`: its length and content both depend on `s`, so a mix-up shows. */
function payload (s: number, salt = 0): Uint8Array {
  const bytes = new Uint8Array(20 + (s % 13))
  for (let i = 0; i < bytes.length; i++) bytes[i] = (s * 7 + i * 3 + salt) & 0xff
  return bytes
}

function records (seconds: number[], salt = 0): StoredRecord[] {
  return seconds.map((second) => ({ second, bytes: payload(second, salt) }))
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

/** Reopens `dir` and returns what it loads (closing it again). */
async function reload (dir: string): Promise<{ loaded: Map<string, StoredRecord[]>, errors: Array<{ context: StoreErrorContext, err: unknown }> }> {
  const { store, errors } = await openRecording(dir)
  const loaded = await store.load()
  await store.close()
  return { loaded, errors }
}

const message = (err: unknown): string => err instanceof Error ? err.message : String(err)

test('points put, flushed and closed load back after a reopen, per instrumentation and in second order', async (t) => {
  await withRoot(async (_root, dir) => {
    const store = await openPointStore(dir)
    t.is((await stat(dir)).mode & 0o777, 0o700)
    t.deepEqual(await store.load(), new Map())
    for (const s of [5, 3, 4, 1, 2]) store.put('aaaa', s, payload(s))
    for (const s of [10, 11]) store.put('bbbb', s, payload(s, 1))
    await store.flush()
    t.like(store.stats(), { files: 2, recordsLive: 7, recordsPending: 0, writeFailures: 0 })
    store.put('aaaa', 6, payload(6))
    await store.close()
    const { loaded, errors } = await reload(dir)
    t.deepEqual(loaded, new Map([['aaaa', records(range(1, 7))], ['bbbb', records([10, 11], 1)]]))
    t.deepEqual(errors, [])
  })
})

test('load may be called once: the payloads are released after', async (t) => {
  await withRoot(async (_root, dir) => {
    const store = await openPointStore(dir)
    await store.load()
    await t.throwsAsync(store.load(), { message: /only once/ })
    await store.close()
  })
})

test('the newest bytes put for a second win, whether replaced in memory or on disk', async (t) => {
  await withRoot(async (_root, dir) => {
    const store = await openPointStore(dir)
    store.put('a', 1, payload(1, 1))
    store.put('a', 1, payload(1, 2)) // replaced before any write
    store.put('a', 2, payload(2, 1))
    await store.flush()
    store.put('a', 2, payload(2, 3)) // replaced by a later record
    await store.flush()
    t.like(store.stats('a'), { recordsLive: 2 })
    await store.close()
    t.deepEqual((await reload(dir)).loaded.get('a'), [{ second: 1, bytes: payload(1, 2) }, { second: 2, bytes: payload(2, 3) }])
  })
})

test('buffered points reach the disk at the sync interval without a flush', async (t) => {
  await withRoot(async (_root, dir) => {
    const store = await openPointStore(dir, { syncIntervalMs: 10 })
    store.put('a', 1, payload(1))
    t.like(store.stats('a'), { recordsPending: 1, files: 0 })
    for (let i = 0; i < 500 && store.stats('a').recordsPending > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    t.like(store.stats('a'), { recordsPending: 0, files: 1, recordsLive: 1 })
    await store.close()
    t.deepEqual((await reload(dir)).loaded.get('a'), records([1]))
  })
})

test('a torn tail (a crash mid-append) is cut off: the records before it load and appending resumes', async (t) => {
  await withRoot(async (_root, dir) => {
    const store = await openPointStore(dir)
    for (const s of range(1, 6)) store.put('a', s, payload(s))
    await store.flush()
    store.put('a', 6, payload(6))
    await store.close()
    const file = join(dir, pointFileName('a'))
    const size = (await stat(file)).size
    await truncate(file, size - 5) // second 6's record loses its last 5 bytes
    const { store: again, errors } = await openRecording(dir)
    t.deepEqual((await again.load()).get('a'), records(range(1, 6)))
    t.is(errors.length, 1)
    t.like(errors[0]?.context, { op: 'load', file: pointFileName('a'), id: 'a' })
    t.regex(message(errors[0]?.err), /torn tail/)
    t.is((await stat(file)).size, size - (16 + payload(6).length))
    t.like(again.stats('a'), { damaged: 1 })
    again.put('a', 7, payload(7))
    await again.close()
    const final = await reload(dir)
    t.deepEqual(final.loaded.get('a'), records([1, 2, 3, 4, 5, 7]))
    t.deepEqual(final.errors, [])
  })
})

test('a record failing its CRC in the middle keeps the valid prefix, reports it, and saves the rest aside', async (t) => {
  await withRoot(async (_root, dir) => {
    const store = await openPointStore(dir)
    for (const s of [1, 2, 3]) {
      store.put('a', s, payload(s))
      await store.flush()
    }
    await store.close()
    const file = join(dir, pointFileName('a'))
    const bytes = await readFile(file)
    const second = bytes.length - (16 + payload(3).length) - (16 + payload(2).length)
    bytes[second + 16 + 4] ^= 0x40 // a payload byte of second 2
    await writeFile(file, bytes)
    const { store: again, errors } = await openRecording(dir)
    t.deepEqual((await again.load()).get('a'), records([1]))
    t.is(errors.length, 1)
    t.regex(message(errors[0]?.err), /record CRC mismatch at offset \d+/)
    const aside = `${pointFileName('a')}.corrupt-1700000000000`
    t.deepEqual(await readFile(join(dir, aside)), bytes.subarray(second))
    t.is((await stat(file)).size, second)
    await again.close()
    t.deepEqual((await reload(dir)).loaded.get('a'), records([1]))
  })
})

test('a file of unknown magic or version is reported and left untouched, and kept aside if its id is written again', async (t) => {
  await withRoot(async (_root, dir) => {
    await mkdir(dir)
    const junk = join(dir, pointFileName('junk'))
    await writeFile(junk, 'NOPE, not a point log')
    const store = await openPointStore(dir)
    store.put('newer', 1, payload(1))
    await store.close()
    const newer = join(dir, pointFileName('newer'))
    const future = await readFile(newer)
    future.writeUInt16LE(9, 4) // as a later heatmesh might write it
    await writeFile(newer, future)

    const { store: again, errors } = await openRecording(dir)
    t.deepEqual(await again.load(), new Map())
    t.deepEqual(errors.map((e) => e.context), [{ op: 'load', file: pointFileName('junk') }, { op: 'load', file: pointFileName('newer') }])
    t.regex(message(errors[0]?.err), /unknown magic/)
    t.regex(message(errors[1]?.err), /unsupported format version 9/)
    t.like(again.stats(), { damaged: 2 })
    t.is(await readFile(junk, 'utf8'), 'NOPE, not a point log')
    again.put('newer', 2, payload(2))
    await again.close()
    t.deepEqual(await readFile(join(dir, `${pointFileName('newer')}.unreadable-1700000000000`)), future)
    t.regex(message(errors[2]?.err), /kept as/)
    t.deepEqual((await reload(dir)).loaded.get('newer'), records([2]))
  })
})

test('a log replaced by a directory is reported at load, and moved aside when its id is written', async (t) => {
  await withRoot(async (_root, dir) => {
    await mkdir(join(dir, pointFileName('a')), { recursive: true })
    const { store, errors } = await openRecording(dir)
    t.deepEqual(await store.load(), new Map())
    t.is(errors.length, 1)
    t.regex(message(errors[0]?.err), /not a regular file|EISDIR/)
    store.put('a', 1, payload(1))
    await store.close()
    t.true((await stat(join(dir, `${pointFileName('a')}.unreadable-1700000000000`))).isDirectory())
    t.deepEqual((await reload(dir)).loaded.get('a'), records([1]))
  })
})

test('a symbolic link under a log\'s name is refused at load, and its target is never touched', async (t) => {
  await withRoot(async (tmp, dir) => {
    const outside = join(tmp, 'precious')
    await writeFile(outside, 'not yours')
    await mkdir(dir)
    await symlink(outside, join(dir, pointFileName('a')))
    const { store, errors } = await openRecording(dir)
    t.deepEqual(await store.load(), new Map())
    t.like(errors[0]?.err, { code: 'ELOOP' })
    store.put('a', 1, payload(1))
    await store.close()
    t.is(await readFile(outside, 'utf8'), 'not yours')
    t.deepEqual((await reload(dir)).loaded.get('a'), records([1]))
  })
})

test('pruned points stay dead after a reopen, and a later put before the floor is ignored', async (t) => {
  await withRoot(async (_root, dir) => {
    const store = await openPointStore(dir)
    for (const s of range(1, 11)) store.put('a', s, payload(s))
    await store.flush()
    store.prune('a', 6)
    store.put('a', 3, payload(3, 9))
    store.put('a', 11, payload(11))
    t.like(store.stats('a'), { recordsLive: 6 })
    await store.close()
    t.deepEqual((await reload(dir)).loaded.get('a'), records(range(6, 12)))
  })
})

test('a prune of points still buffered keeps them off the disk', async (t) => {
  await withRoot(async (_root, dir) => {
    const store = await openPointStore(dir)
    for (const s of range(1, 5)) store.put('a', s, payload(s))
    store.prune('a', 3)
    await store.close()
    t.deepEqual((await reload(dir)).loaded.get('a'), records([3, 4]))
  })
})

test('a dropped instrumentation is gone after a reopen, and a later put starts a new log', async (t) => {
  await withRoot(async (_root, dir) => {
    const store = await openPointStore(dir)
    store.put('a', 1, payload(1))
    store.put('b', 1, payload(1))
    await store.flush()
    store.put('a', 2, payload(2)) // buffered, dropped with the rest
    await store.drop('a')
    t.false((await readdir(dir)).includes(pointFileName('a')))
    t.like(store.stats('a'), { files: 0, recordsLive: 0 })
    store.put('c', 1, payload(1))
    void store.drop('c') // dropped before its log was ever written
    await store.close()
    t.deepEqual((await reload(dir)).loaded, new Map([['b', records([1])]]))

    const again = await openPointStore(dir)
    await again.drop('b')
    again.put('b', 5, payload(5))
    await again.close()
    t.deepEqual((await reload(dir)).loaded, new Map([['b', records([5])]]))
  })
})

test('rewriting the same seconds many times triggers compaction: the content stays, the file shrinks', async (t) => {
  await withRoot(async (_root, dir) => {
    const { store, errors } = await openRecording(dir, { compactionFloorBytes: 4096 })
    const big = (s: number, round: number): Uint8Array => new Uint8Array(1000).fill((s + round) & 0xff)
    for (let round = 0; round < 60; round++) {
      for (let s = 0; s < 10; s++) store.put('a', s, big(s, round))
      await store.flush()
    }
    await store.close()
    const { size } = await stat(join(dir, pointFileName('a')))
    const live = 10 * (16 + 1000)
    t.true(store.stats().compactions >= 5, `compactions: ${store.stats().compactions}`)
    t.true(size <= 2 * live + 4096 + 64, `${size} bytes on disk for ${live} live`)
    t.deepEqual(errors, [])
    t.deepEqual((await reload(dir)).loaded.get('a'), range(0, 10).map((s) => ({ second: s, bytes: big(s, 59) })))
    t.deepEqual((await readdir(dir)).sort(), [pointFileName('a')])
  })
})

test('hostile ids are stored under encoded names inside the directory and load back exactly', async (t) => {
  await withRoot(async (tmp, dir) => {
    const ids = ['../x', 'a/b', '/etc/passwd', '.', '..', 'x'.repeat(1000), 'nul\u0000id', '', '\ud800', 'CON', '..\\..\\y']
    const store = await openPointStore(dir)
    ids.forEach((id, i) => { store.put(id, i, payload(i)) })
    await store.close()
    t.deepEqual(await readdir(tmp), ['points'])
    const names = await readdir(dir)
    t.deepEqual(names.sort(), ids.map(pointFileName).sort())
    t.true(names.every((n) => /^[ph]-[0-9a-f]*\.points$/.test(n) && n.length <= 255))
    const { loaded, errors } = await reload(dir)
    t.deepEqual(errors, [])
    const byId = (a: [string, unknown], b: [string, unknown]): number => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
    t.deepEqual([...loaded].sort(byId), ids.map((id, i): [string, StoredRecord[]] => [id, records([i])]).sort(byId))
  })
})

test('invalid arguments are the caller\'s bug and throw, before anything is buffered', async (t) => {
  await withRoot(async (_root, dir) => {
    const store = await openPointStore(dir)
    t.throws(() => { store.put('y'.repeat(4097), 1, payload(1)) }, { name: 'InvalidFieldError', message: /field "id"/ })
    t.throws(() => { store.put('a', -1, payload(1)) }, { name: 'InvalidFieldError', message: /field "second"/ })
    t.throws(() => { store.put('a', 1.5, payload(1)) }, { name: 'InvalidFieldError' })
    t.throws(() => { store.prune('a', Number.NaN) }, { name: 'InvalidFieldError', message: /field "beforeSecond"/ })
    t.like(store.stats(), { recordsLive: 0, recordsPending: 0 })
    await store.close()
    t.throws(() => { store.put('a', 1, payload(1)) }, { message: /after close/ })
    await t.throwsAsync(openPointStore(dir, { syncIntervalMs: 0 }), { name: 'InvalidFieldError' })
  })
})

test('a write failure is reported and counted, never thrown by put; flush rejects, and the store recovers', async (t) => {
  await withRoot(async (_root, dir) => {
    const { store, errors } = await openRecording(dir, { syncIntervalMs: 60_000 })
    store.put('a', 1, payload(1))
    await store.flush()
    // The directory becomes a regular file: creating anything in it fails, for root too (ENOTDIR).
    await rm(dir, { recursive: true })
    await writeFile(dir, 'in the way')
    store.put('b', 1, payload(1))
    const failed = await store.flush().then(() => undefined, (err: unknown) => err)
    t.like(failed, { code: 'ECA_IO' })
    t.like(errors[0]?.context, { op: 'create', file: pointFileName('b'), id: 'b' })
    t.like(errors[0]?.err, { code: 'ENOTDIR' })
    t.like(store.stats('b'), { writeFailures: 1, recordsPending: 1, files: 0 })
    store.put('b', 2, payload(2)) // still accepted
    // The directory comes back: the next flush writes what failed.
    await rm(dir)
    await mkdir(dir)
    await store.flush()
    t.like(store.stats('b'), { recordsPending: 0, files: 1, writeFailures: 1 })
    await store.close()
    t.deepEqual((await reload(dir)).loaded, new Map([['b', records([1, 2])]]))
  })
})

test('a replacement left half-written by a crash during compaction is discarded, and the old log loads', async (t) => {
  await withRoot(async (_root, dir) => {
    const store = await openPointStore(dir)
    store.put('a', 1, payload(1))
    await store.close()
    const leftover = join(dir, `.${pointFileName('a')}.new`)
    await writeFile(leftover, 'half a compaction')
    const { loaded, errors } = await reload(dir)
    t.deepEqual(loaded.get('a'), records([1]))
    t.deepEqual(errors, [])
    t.deepEqual(await readdir(dir), [pointFileName('a')])
  })
})

/** Runs a TypeScript script in a child Node with a shell prefix (e.g. a ulimit); resolves with its stdout. */
async function runChild (script: string, prefix: string, timeoutMs: number): Promise<string> {
  const child = spawn('sh', ['-c', `${prefix} exec "$0" "$@"`, process.execPath, '--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`the child did not finish within ${timeoutMs} ms: ${err}`)) }, timeoutMs)
      child.once('exit', (code) => {
        clearTimeout(timer)
        if (code === 0) resolve(out)
        else reject(new Error(`the child exited with ${String(code)}: ${err}`))
      })
    })
  } finally {
    child.kill('SIGKILL')
  }
}

/** A store under a 1 MiB file size limit (RLIMIT_FSIZE binds root too): an append fails halfway. */
function appendFailureSource (dir: string): string {
  const store = pathToFileURL(join(root, 'node/store/index.ts')).href
  return `
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { openPointStore, pointFileName } from ${JSON.stringify(store)}
process.on('SIGXFSZ', () => {}) // past the limit, write(2) fails with EFBIG instead of killing us
const big = (s) => new Uint8Array(100_000).fill(s + 1)
const dir = ${JSON.stringify(dir)}
const file = join(dir, pointFileName('a'))
const errors = []
const onError = (context, err) => { errors.push({ op: context.op, code: err.code }) }
const store = await openPointStore(dir, { syncIntervalMs: 60_000, onError })
for (let s = 0; s < 5; s++) store.put('a', s, big(s))
await store.flush()
const sizeBefore = statSync(file).size
for (let s = 5; s < 11; s++) store.put('a', s, big(s))
const failed = await store.flush().then(() => 'resolved', (err) => err.code)
const sizeAfterFailure = statSync(file).size
const statsAfterFailure = store.stats('a')
store.prune('a', 8)
const retried = await store.flush().then(() => 'resolved', (err) => err.code)
await store.close()
const reopenErrors = []
const again = await openPointStore(dir, { onError: (context, err) => { reopenErrors.push(String(err)) } })
const loaded = (await again.load()).get('a') ?? []
await again.close()
const intact = loaded.every(({ second, bytes }) => bytes.length === 100_000 && bytes.every((x) => x === second + 1))
process.stdout.write(JSON.stringify({ failed, errors, sizeBefore, sizeAfterFailure, statsAfterFailure, retried, seconds: loaded.map((r) => r.second), intact, reopenErrors }))
`
}

test('an append that fails halfway (file size limit) is reported, cut back to the last good record, and retried by the next flush', async (t) => {
  await withRoot(async (tmp, dir) => {
    const script = join(tmp, 'append-failure.mts')
    await writeFile(script, appendFailureSource(dir))
    const result = JSON.parse(await runChild(script, 'ulimit -f 2048 &&', 30_000)) as Record<string, unknown>
    t.is(result.failed, 'ECA_IO')
    t.deepEqual(result.errors, [{ op: 'write', code: 'EFBIG' }])
    t.is(result.sizeAfterFailure, result.sizeBefore) // the part that reached the file was cut off
    t.like(result.statsAfterFailure, { recordsLive: 11, recordsPending: 6, writeFailures: 1 })
    t.is(result.retried, 'resolved')
    t.deepEqual(result.seconds, [8, 9, 10])
    t.true(result.intact)
    t.deepEqual(result.reopenErrors, [])
  })
})

/** The writer killed mid-write: puts in a loop, flushing every 20 seconds' worth, printing the last second flushed. */
function writerSource (dir: string): string {
  const store = pathToFileURL(join(root, 'node/store/index.ts')).href
  return `
import { openPointStore } from ${JSON.stringify(store)}
const payload = (s) => { const b = new Uint8Array(20 + (s % 13)); for (let i = 0; i < b.length; i++) b[i] = (s * 7 + i * 3) & 0xff; return b }
const store = await openPointStore(${JSON.stringify(dir)}, { syncIntervalMs: 1 })
for (let s = 0; ; s++) {
  store.put('a', s, payload(s))
  store.put('b', s, payload(s))
  if (s % 20 === 19) { await store.flush(); process.stdout.write('flushed ' + s + '\\n') }
  else if (s % 3 === 0) await new Promise((r) => setImmediate(r))
}
`
}

test('a writer killed with SIGKILL mid-write leaves a valid prefix holding at least everything it flushed', async (t) => {
  await withRoot(async (tmp, dir) => {
    const script = join(tmp, 'writer.mts')
    await writeFile(script, writerSource(dir))
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    let flushed = -1
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error(`the writer flushed up to ${flushed} within 20 s: ${stderr}`)) }, 20_000)
        let out = ''
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          for (const m of out.matchAll(/flushed (\d+)\n/g)) flushed = Math.max(flushed, Number(m[1]))
          out = out.slice(out.lastIndexOf('\n') + 1)
          if (flushed >= 2000) { clearTimeout(timer); resolve() }
        })
        child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the writer exited (${String(code)}): ${stderr}`)) })
      })
      const gone = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
      child.kill('SIGKILL')
      await gone
    } finally {
      child.kill('SIGKILL')
    }
    const { loaded, errors } = await reload(dir)
    for (const id of ['a', 'b']) {
      const got = loaded.get(id) ?? []
      // A prefix of the seconds, each with its own bytes, reaching at least the last reported flush.
      t.true(got.length > flushed, `${id}: ${got.length} seconds loaded, ${flushed + 1} flushed`)
      t.deepEqual(got, records(range(0, got.length)))
    }
    t.true(errors.every((e) => /torn tail|CRC mismatch/.test(message(e.err))), errors.map((e) => message(e.err)).join('; '))
    t.log(`flushed through second ${flushed}; loaded ${loaded.get('a')?.length} and ${loaded.get('b')?.length}; ${errors.length} damaged tail(s) repaired`)
  })
})
