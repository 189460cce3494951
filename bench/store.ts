/**
 * Point store benchmark (node/store): the append-only point log against a naive baseline
 * measured in the same run, the whole point list of an instrumentation written with
 * writeFileAtomic (temporary file, fsync, rename, directory fsync) once per second.
 *
 * Workload: 10 instrumentations, 1 KiB points (an encoded latency distribution by execname is
 * a few hundred bytes to a few KiB), on the machine's temporary directory (a real file system:
 * fdatasync costs what it costs there). Prints:
 * - steady state: one "second" = per instrumentation one new point, two late updates of recent
 *   seconds and a prune, then flush, with 600 seconds (CA's default retention) already held;
 *   time per second and records/s, log vs baseline;
 * - bulk: 3600 points x 10 instrumentations put, then one flush;
 * - bytes per record on disk, and heap bytes per record of the store's index;
 * - load time of 3600 records x 10 instrumentations (open + load), log vs baseline read+parse.
 * Bounded: about 10-20 s on a 2-core machine.
 *
 * Run: `npm run bench -- store`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { writeFileAtomic } from '../node/store/index.js'
import { openPointStore, type PointStore } from '../node/store/index.js'

const IDS = Array.from({ length: 10 }, (_, i) => `${i.toString(16).padStart(16, '0')}`)
const PAYLOAD = 1024
const RETENTION = 600
const HOUR = 3600
const T0 = 1_700_000_000

function point (second: number, salt: number): Uint8Array {
  const b = new Uint8Array(PAYLOAD)
  for (let i = 0; i < b.length; i += 8) b[i] = (second + salt + i) & 0xff
  return b
}

/** The baseline's file: u32 count, then per point u32 second offset, u32 length, bytes. */
function encodeList (points: Map<number, Uint8Array>): Buffer {
  let n = 4
  for (const p of points.values()) n += 8 + p.length
  const buf = Buffer.allocUnsafe(n)
  buf.writeUInt32LE(points.size, 0)
  let at = 4
  for (const [s, p] of points) {
    buf.writeUInt32LE(s - T0, at)
    buf.writeUInt32LE(p.length, at + 4)
    buf.set(p, at + 8)
    at += 8 + p.length
  }
  return buf
}

function decodeList (buf: Buffer): Array<{ second: number, bytes: Uint8Array }> {
  const out: Array<{ second: number, bytes: Uint8Array }> = []
  let at = 4
  for (let i = buf.readUInt32LE(0); i > 0; i--) {
    const len = buf.readUInt32LE(at + 4)
    out.push({ second: T0 + buf.readUInt32LE(at), bytes: buf.subarray(at + 8, at + 8 + len) })
    at += 8 + len
  }
  return out
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? NaN
}

const fmt = (ms: number): string => ms < 10 ? ms.toFixed(2) : ms.toFixed(1)

/** One second of the steady workload on the log. */
function stepLog (store: PointStore, s: number): void {
  for (const id of IDS) {
    store.put(id, s, point(s, 0))
    store.put(id, s - 1, point(s - 1, 1))
    store.put(id, s - 2, point(s - 2, 2))
    store.prune(id, s - RETENTION + 1)
  }
}

/** One second of the same workload on the baseline's in-memory lists. */
function stepLists (lists: Map<string, Map<number, Uint8Array>>, s: number): void {
  for (const id of IDS) {
    const list = lists.get(id) ?? new Map<number, Uint8Array>()
    lists.set(id, list)
    list.set(s, point(s, 0))
    list.set(s - 1, point(s - 1, 1))
    list.set(s - 2, point(s - 2, 2))
    list.delete(s - RETENTION)
  }
}

async function steadyState (root: string): Promise<void> {
  const rounds = 300
  const dir = join(root, 'steady-log')
  const store = await openPointStore(dir)
  for (let s = T0; s < T0 + RETENTION; s++) stepLog(store, s)
  await store.flush()
  const logMs: number[] = []
  for (let s = T0 + RETENTION; s < T0 + RETENTION + rounds; s++) {
    const t0 = performance.now()
    stepLog(store, s)
    await store.flush()
    logMs.push(performance.now() - t0)
  }
  const { compactions, bytesOnDisk } = store.stats()
  await store.close()

  const baseDir = join(root, 'steady-base')
  await openPointStore(baseDir).then(async (s) => { await s.close() }) // the same 0700 directory
  const lists = new Map<string, Map<number, Uint8Array>>()
  for (let s = T0; s < T0 + RETENTION; s++) stepLists(lists, s)
  const baseMs: number[] = []
  for (let s = T0 + RETENTION; s < T0 + RETENTION + Math.min(rounds, 20); s++) {
    const t0 = performance.now()
    stepLists(lists, s)
    for (const [id, list] of lists) await writeFileAtomic(join(baseDir, id), encodeList(list), { mode: 0o600 })
    baseMs.push(performance.now() - t0)
  }
  const perSecond = IDS.length * 3
  const log = median(logMs)
  const logMax = Math.max(...logMs)
  const base = median(baseMs)
  console.log(`steady state, ${IDS.length} instrumentations x ${RETENTION} s held, ${perSecond} records (1 KiB) + ${IDS.length} prunes per second:`)
  console.log(`  log:      ${fmt(log)} ms per second written+fdatasynced (median of ${logMs.length}, max ${fmt(logMax)}), ${Math.round(perSecond / log * 1000)} records/s; ${compactions} compactions, ${(bytesOnDisk / 1e6).toFixed(2)} MB on disk`)
  console.log(`  baseline: ${fmt(base)} ms per second (writeFileAtomic of each whole list, median of ${baseMs.length}), ${Math.round(perSecond / base * 1000)} records/s`)
  console.log(`  log is ${(base / log).toFixed(1)}x faster`)
}

async function gcHeap (): Promise<number> {
  const gc = runInNewContext('gc') as () => void
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return process.memoryUsage().heapUsed
}

async function bulkAndLoad (root: string): Promise<void> {
  // Payloads made beforehand (shared by the instrumentations), so that only storing is timed.
  const points = Array.from({ length: HOUR }, (_, i) => point(T0 + i, 0))
  const n = IDS.length * HOUR
  const dir = join(root, 'bulk-log')
  const baseDir = join(root, 'bulk-base')
  const logMs: number[] = []
  const baseMs: number[] = []
  let bytesOnDisk = 0
  let recordsLive = 0
  for (let rep = 0; rep < 3; rep++) {
    await rm(dir, { recursive: true, force: true })
    await rm(baseDir, { recursive: true, force: true })
    const store = await openPointStore(dir)
    let t0 = performance.now()
    for (const id of IDS) for (let i = 0; i < HOUR; i++) store.put(id, T0 + i, points[i] as Uint8Array)
    await store.flush()
    logMs.push(performance.now() - t0);
    ({ bytesOnDisk, recordsLive } = store.stats())
    await store.close()

    await openPointStore(baseDir).then(async (s) => { await s.close() }) // the same 0700 directory
    t0 = performance.now()
    for (const id of IDS) {
      const list = new Map<number, Uint8Array>()
      for (let i = 0; i < HOUR; i++) list.set(T0 + i, points[i] as Uint8Array)
      await writeFileAtomic(join(baseDir, id), encodeList(list), { mode: 0o600 })
    }
    baseMs.push(performance.now() - t0)
  }
  const putFlushMs = median(logMs)
  const baseWriteMs = median(baseMs)
  console.log(`bulk: ${n} records of ${PAYLOAD} B put then flushed (median of 3): log ${fmt(putFlushMs)} ms (${Math.round(n / putFlushMs * 1000)} records/s), baseline ${fmt(baseWriteMs)} ms (one writeFileAtomic per instrumentation); baseline/log ${(baseWriteMs / putFlushMs).toFixed(2)}`)
  console.log(`bytes per record on disk: ${(bytesOnDisk / recordsLive).toFixed(1)} (payload ${PAYLOAD} + 16 record header + header amortized)`)

  const loadMs: number[] = []
  const baseLoadMs: number[] = []
  for (let i = 0; i < 5; i++) {
    let t0 = performance.now()
    const s = await openPointStore(dir)
    const loaded = await s.load()
    loadMs.push(performance.now() - t0)
    if ([...loaded.values()].reduce((k, r) => k + r.length, 0) !== n) throw new Error('the log lost records')
    await s.close()
    t0 = performance.now()
    let count = 0
    for (const id of IDS) count += decodeList(await readFile(join(baseDir, id))).length
    baseLoadMs.push(performance.now() - t0)
    if (count !== n) throw new Error('the baseline lost records')
  }
  const load = median(loadMs)
  const baseLoad = median(baseLoadMs)
  console.log(`load ${HOUR} records x ${IDS.length} instrumentations: log ${fmt(load)} ms (open + load, median of 5), baseline ${fmt(baseLoad)} ms (readFile + parse); log/baseline ${(load / baseLoad).toFixed(2)}`)

  // Heap of the index: open (which reads everything), take and drop the payloads, collect.
  const before = await gcHeap()
  const s = await openPointStore(dir)
  await s.load()
  const after = await gcHeap()
  console.log(`index memory: ${((after - before) / n).toFixed(1)} heap bytes per record held (${s.stats().recordsLive} records, ${((after - before) / 1024).toFixed(0)} KiB)`)
  await s.close()
}

export default async function run (): Promise<void> {
  setFlagsFromString('--expose-gc')
  const root = await mkdtemp(join(tmpdir(), 'heatmesh-bench-store-'))
  try {
    await steadyState(root)
    await bulkAndLoad(root)
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}
