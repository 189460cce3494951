/**
 * The point store: the crash-safe on-disk side of persist-data. It keeps, per instrumentation,
 * the points the merge tree's root and replicas hold, so that they survive a restart of every
 * node. It is generic over bytes: the binding encodes a stored point with the merge codec, and
 * the store keys the bytes by (instrumentation id, second).
 *
 * THEORY. One append-only log per instrumentation (format in log-format.ts, name in
 * file-name.ts). `put` only buffers: the newest bytes for a second replace older ones in
 * memory, and once per sync interval each instrumentation with something buffered gets one
 * positional write at the end of its valid prefix and one fdatasync, never one fsync per
 * point. A later record for a second supersedes an earlier one, so an update is an append.
 * Retention (`prune`) appends a floor record, so dead points stay dead after a restart.
 *
 * Crash safety rests on three rules:
 * - Appends go at `size`, the end of what is known to be durable, never at the file's end as
 *   the kernel sees it; a failed append is truncated back to `size` (or, if even that fails,
 *   the file is rewritten), so damage can only ever sit after the last good record, and the
 *   next load cuts it off (a torn tail) or reports it (a CRC mismatch).
 * - A file is replaced only whole: the new content goes to `.<name>.new`, is fdatasynced,
 *   renamed over the old name, and the directory is fsynced. A crash at any point leaves the
 *   old file or the new one; a leftover `.new` is removed when the store opens. New files are
 *   created the same way, so a header is never torn. Compaction (when the file exceeds twice
 *   its live records plus a floor) is such a rewrite of the live records only, queued in the
 *   background after the write that crossed the threshold; `put` never waits for it.
 * - Every operation on one file (write, compaction, drop) runs in that file's queue, one at a
 *   time, so a compaction cannot rename a file back into place after a drop unlinked it.
 *
 * Nothing found on disk is ever trusted or deleted unread: a file whose magic, version or
 * header does not check out is reported and left where it is (if its instrumentation is written
 * again, it is first renamed aside to `<name>.unreadable-<ms>`); a corrupt record ends the
 * valid prefix, and the bytes after it are saved to `<name>.corrupt-<ms>` before the file is
 * truncated. `drop` simply unlinks, then fsyncs the directory: unlink is atomic, so after a
 * crash the file is either gone or whole. Whole is the same case as a node that was down while
 * the instrumentation was deleted: its log loads at restart, and the binding must drop logs of
 * instrumentations the definitions no longer hold. A rename to a tombstone name first would add
 * a step and a name to clean up without closing that case.
 *
 * Memory: per instrumentation, an index second -> (offset, size) packed in one number (a
 * Map<number, number>: about 55 heap bytes a record on V8, measured by bench/store.ts), not the
 * payloads; plus the bytes put since the last write (one interval's worth). On disk a record
 * is its payload plus 16 bytes.
 *
 * One store per directory: the daemon's data directory has one owner, so there is no lock.
 */
import { constants } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { mkdir, open, readdir, rename, unlink, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { DecodeError, HeatmeshError, InvalidFieldError } from '../../metad/index.js'
import { syncDirectory } from './atomic-file.js'
import { DEFAULT_COMPACTION_FLOOR_BYTES, DEFAULT_SYNC_INTERVAL_MS } from './constants.js'
import { isPendingFileName, isPointFileName, pendingFileName, pointFileName } from './file-name.js'
import {
  decodeHeader, encodeHeader, type LogHeader, encodeRecordInto, MAX_ID_LENGTH, MAX_PAYLOAD_BYTES, RECORD_FLOOR,
  RECORD_HEADER_BYTES, RECORD_POINT, scanRecords
} from './log-format.js'

/** What the store was doing when something went wrong. */
export type StoreOperation = 'open' | 'load' | 'write' | 'create' | 'compact' | 'drop'

/** Where a reported error happened. */
export interface StoreErrorContext {
  readonly op: StoreOperation
  /** The file's name inside the store's directory (a directory's path when fsyncing a new one failed). */
  readonly file: string
  /** The instrumentation, when the file's header could be read. */
  readonly id?: string
}

/** Options of {@link openPointStore}. */
export interface PointStoreOptions {
  /**
   * Called for every I/O failure and every damaged or unreadable file found; the store counts it
   * (stats) and keeps going. An exception thrown by it is ignored.
   * @default ignore (the counts in stats() remain)
   */
  readonly onError?: (context: StoreErrorContext, err: unknown) => void
  /**
   * How often buffered points are written: one write and one fdatasync per instrumentation
   * with something buffered, per interval. Positive, in milliseconds.
   * @default DEFAULT_SYNC_INTERVAL_MS (1000)
   */
  readonly syncIntervalMs?: number
  /**
   * The wall clock in milliseconds, used only to name the files kept aside.
   * @default Date.now
   */
  readonly now?: () => number
  /**
   * A log is compacted when its size exceeds twice its live records' size plus this much.
   * @default DEFAULT_COMPACTION_FLOOR_BYTES (64 KiB)
   */
  readonly compactionFloorBytes?: number
}

/** One stored point: its second and the bytes put for it last. */
export interface StoredRecord {
  readonly second: number
  readonly bytes: Uint8Array
}

/** Counters of the store, or of one instrumentation's log. */
export interface PointStoreStats {
  /** Logs present on disk. */
  readonly files: number
  /** Seconds with a live point, written or buffered. */
  readonly recordsLive: number
  /** Seconds whose newest bytes are buffered, not yet written. */
  readonly recordsPending: number
  /** Bytes of the logs on disk (valid prefixes). */
  readonly bytesOnDisk: number
  /** Background compactions done. */
  readonly compactions: number
  /** Failed writes, syncs, renames and unlinks (each also reported to onError). */
  readonly writeFailures: number
  /** Damage found when the store opened: torn tails, corrupt records, unreadable files. */
  readonly damaged: number
}

/**
 * A crash-safe store of points on disk, one log per instrumentation. See the module comment
 * for the guarantees. Methods other than flush and close never throw or reject on I/O failure;
 * they throw only on misuse (invalid arguments, use after close).
 */
export interface PointStore {
  /**
   * Every instrumentation's live points found when the store opened, in second order (the
   * newest bytes for each second). Call once, at start: the store lets go of them after. The
   * bytes are views of each log as read at open, not copies (36,000 small allocations fewer
   * for an hour of 10 instrumentations): decode them, or copy what you keep, so that the
   * buffers can go.
   */
  load (): Promise<Map<string, StoredRecord[]>>
  /**
   * Buffers `bytes` as the point of (`id`, `second`), replacing what was put for it before;
   * written within syncIntervalMs. A second before the instrumentation's prune floor is dead on
   * arrival and ignored. The store keeps a reference: do not modify `bytes` after.
   */
  put (id: string, second: number, bytes: Uint8Array): void
  /** Marks every point of `id` before `beforeSecond` dead (retention); durable at the next write. */
  prune (id: string, beforeSecond: number): void
  /**
   * Removes the instrumentation's log (and anything buffered for it). Resolves when the unlink
   * is durable, or was reported as failed: never rejects. A later put starts a new log.
   */
  drop (id: string): Promise<void>
  /**
   * Resolves when everything put before the call is on disk (written and fdatasynced). Rejects
   * with a HeatmeshError (`ECA_IO`) if some of it could not be written (each failure was also
   * reported); the store keeps retrying at its interval.
   */
  flush (): Promise<void>
  /** Flushes, waits for background work, closes every file. Rejects as flush does. */
  close (): Promise<void>
  /** Counters of the whole store, or of one instrumentation's log (all zero if unknown). */
  stats (id?: string): PointStoreStats
}

/**
 * Opens (creating it with mode 0700 if needed) the store in `dir`: removes replacements left by
 * a crash, reads every log, truncates torn tails, reports damage. Rejects only if the directory
 * cannot be created or listed.
 *
 * @example
 * ```ts
 * const store = await openPointStore('/var/lib/heatmesh/points', { onError: (ctx, err) => log.warn(ctx, err) })
 * const restore = await store.load()            // Map<id, Array<{ second, bytes }>>
 * store.put(id, 1700000000, encodePoint(point))  // for each 'store' effect
 * store.prune(id, now - retention)
 * await store.drop(id)                          // for each 'drop-store' effect
 * await store.close()
 * ```
 */
export async function openPointStore (dir: string, options: PointStoreOptions = {}): Promise<PointStore> {
  const syncIntervalMs = options.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS
  if (!(Number.isFinite(syncIntervalMs) && syncIntervalMs > 0)) throw new InvalidFieldError('syncIntervalMs', syncIntervalMs, 'not a positive number of milliseconds')
  const compactionFloorBytes = options.compactionFloorBytes ?? DEFAULT_COMPACTION_FLOOR_BYTES
  if (!(Number.isSafeInteger(compactionFloorBytes) && compactionFloorBytes >= 0)) throw new InvalidFieldError('compactionFloorBytes', compactionFloorBytes, 'not a non-negative integer')
  const created = await mkdir(dir, { recursive: true, mode: 0o700 })
  const store = new PointLogStore(dir, {
    onError: options.onError ?? (() => {}),
    syncIntervalMs,
    now: options.now ?? Date.now,
    compactionFloorBytes
  })
  await store.open(created)
  return store
}

/**
 * A record's place in its log, packed as offset * 2^24 + size: sizes are below 2^24
 * (MAX_RECORD_BYTES) and offsets below MAX_FILE_BYTES, so the product stays a safe integer.
 */
const OFFSET_UNIT = 2 ** 24
/** Largest log: 512 MiB (offset * 2^24 must stay below 2^53). Far above 3600 points of any real size. */
const MAX_FILE_BYTES = 2 ** 29
const EMPTY = new Uint8Array(0)

function pack (offset: number, size: number): number { return offset * OFFSET_UNIT + size }
function offsetOf (place: number): number { return Math.floor(place / OFFSET_UNIT) }
function sizeOf (place: number): number { return place % OFFSET_UNIT }

/** One instrumentation's log: what is on disk (index), what is not yet (pending). */
interface LogFile {
  readonly id: string
  readonly name: string
  /** Open on the log; undefined until the log exists (or after a drop). */
  fd: FileHandle | undefined
  /** Whether fd was opened for writing (a read-only one forces a rewrite before appending). */
  writable: boolean
  /** End of the durable valid prefix: where the next append goes. */
  size: number
  /** Second -> packed place of its newest durable record, for seconds >= floor. */
  index: Map<number, number>
  /** Sum of the sizes of the records in index. */
  liveBytes: number
  /** Points before this second are dead (0: none pruned). */
  floor: number
  /** Newest bytes put per second, not yet written. */
  pending: Map<number, Uint8Array>
  /** The batch being written, if any (taken from pending; given back if the write fails). */
  inflight: Map<number, Uint8Array> | undefined
  /** A floor record to write with the next batch (0: none). */
  pendingFloor: number
  /** The log must be rewritten whole before the next append (opened read-only, or a failed append could not be cut off). */
  needsRewrite: boolean
  /** Bytes past `size` may exist (a truncation at open failed): truncate before appending. */
  tailDirty: boolean
  /** A write or rewrite is on its way to disk (a prune meanwhile must be written as a floor record). */
  writing: boolean
  /** The write queued in this file's queue and not started yet, if any. */
  queued: Promise<boolean> | undefined
  compactionQueued: boolean
  dropped: boolean
  compactions: number
  writeFailures: number
  damaged: number
}

interface ResolvedOptions {
  readonly onError: (context: StoreErrorContext, err: unknown) => void
  readonly syncIntervalMs: number
  readonly now: () => number
  readonly compactionFloorBytes: number
}

class PointLogStore implements PointStore {
  private readonly dir: string
  private readonly options: ResolvedOptions
  private readonly files = new Map<string, LogFile>()
  /** Per file name, the tail of its queue of operations (never rejects). */
  private readonly tails = new Map<string, Promise<void>>()
  private loaded: Map<string, StoredRecord[]> | undefined = new Map()
  private timer: ReturnType<typeof setTimeout> | undefined
  private closed = false
  private compactions = 0
  private writeFailures = 0
  /** Damage found in files that could not be loaded at all (no LogFile to count it on). */
  private unreadable = 0

  constructor (dir: string, options: ResolvedOptions) {
    this.dir = dir
    this.options = options
  }

  /**
   * Reads the directory: called once by openPointStore. `created` is the first directory that
   * mkdir created, if any: the new entries are fsynced up to it, or a crash could lose the
   * directory with every log in it.
   */
  async open (created: string | undefined): Promise<void> {
    if (created !== undefined) {
      for (let d = resolve(this.dir); ; d = dirname(d)) {
        await syncDirectory(dirname(d)).catch((err: unknown) => { this.fail(undefined, { op: 'open', file: dirname(d) }, err) })
        if (d === resolve(created) || d === dirname(d)) break
      }
    }
    const names = (await readdir(this.dir)).sort()
    for (const name of names) {
      if (isPendingFileName(name)) {
        // A replacement that a crash kept from being renamed into place: the old file is intact.
        await unlink(join(this.dir, name)).catch((err: unknown) => { this.report({ op: 'open', file: name }, err) })
      } else if (isPointFileName(name)) {
        await this.loadFile(name)
      }
    }
  }

  async load (): Promise<Map<string, StoredRecord[]>> {
    const loaded = this.loaded
    if (loaded === undefined) throw new Error('PointStore.load() may be called only once')
    this.loaded = undefined
    return loaded
  }

  put (id: string, second: number, bytes: Uint8Array): void {
    this.assertOpen()
    checkSecond('second', second)
    if (!(bytes instanceof Uint8Array) || bytes.length > MAX_PAYLOAD_BYTES) throw new InvalidFieldError('bytes', bytes?.length, `not a Uint8Array of at most ${MAX_PAYLOAD_BYTES} bytes`)
    let file = this.files.get(id)
    if (file === undefined) {
      if (typeof id !== 'string' || id.length > MAX_ID_LENGTH) throw new InvalidFieldError('id', id, `not a string of at most ${MAX_ID_LENGTH} characters`)
      file = newLogFile(id, pointFileName(id))
      this.files.set(id, file)
    }
    if (second < file.floor) return
    file.pending.set(second, bytes)
    this.armTimer()
  }

  prune (id: string, beforeSecond: number): void {
    this.assertOpen()
    checkSecond('beforeSecond', beforeSecond)
    const file = this.files.get(id)
    if (file === undefined || beforeSecond <= file.floor) return
    file.floor = beforeSecond
    for (const second of file.pending.keys()) if (second < beforeSecond) file.pending.delete(second)
    // A floor record is needed only if dead records are (or may be about to be) on disk.
    let dead = file.writing
    for (const [second, place] of file.index) {
      if (second < beforeSecond) {
        file.index.delete(second)
        file.liveBytes -= sizeOf(place)
        dead = true
      }
    }
    if (dead) {
      file.pendingFloor = beforeSecond
      this.armTimer()
    }
  }

  drop (id: string): Promise<void> {
    this.assertOpen()
    const name = pointFileName(id)
    const file = this.files.get(id)
    if (file !== undefined) {
      file.dropped = true
      file.pending = new Map()
      this.files.delete(id)
    }
    return this.enqueue(name, async () => {
      const fd = file?.fd
      if (file !== undefined) file.fd = undefined
      await fd?.close().catch(() => {})
      try {
        await unlink(join(this.dir, name))
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') this.fail(file, { op: 'drop', file: name, id }, err)
        return
      }
      await syncDirectory(this.dir).catch((err: unknown) => { this.fail(file, { op: 'drop', file: name, id }, err) })
    })
  }

  async flush (): Promise<void> {
    const results = await Promise.all([...this.files.values()].map((file) => this.scheduleWrite(file)))
    const failed = results.filter((ok) => !ok).length
    if (failed > 0) throw new HeatmeshError('ECA_IO', `${failed} point log(s) could not be written (reported to onError); retrying every ${this.options.syncIntervalMs} ms`)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    let failure: unknown
    try {
      await this.flush()
    } catch (err) {
      failure = err
    }
    // Background compactions and drops finish before the files close.
    for (let tails = [...this.tails.values()]; tails.length > 0; tails = [...this.tails.values()]) await Promise.all(tails)
    for (const file of this.files.values()) {
      await file.fd?.close().catch(() => {})
      file.fd = undefined
    }
    this.files.clear()
    if (failure !== undefined) throw failure
  }

  stats (id?: string): PointStoreStats {
    const files = id === undefined ? [...this.files.values()] : [this.files.get(id)].filter((f) => f !== undefined)
    let onDisk = 0
    let recordsLive = 0
    let recordsPending = 0
    let bytesOnDisk = 0
    for (const f of files) {
      if (f.fd !== undefined) {
        onDisk++
        bytesOnDisk += f.size
      }
      recordsLive += f.index.size
      const unwritten = new Set(f.pending.keys())
      for (const second of f.inflight?.keys() ?? []) if (second >= f.floor) unwritten.add(second)
      for (const second of unwritten) if (!f.index.has(second)) recordsLive++
      recordsPending += unwritten.size
    }
    const sum = (pick: (f: LogFile) => number): number => files.reduce((n, f) => n + pick(f), 0)
    return {
      files: onDisk,
      recordsLive,
      recordsPending,
      bytesOnDisk,
      compactions: id === undefined ? this.compactions : sum((f) => f.compactions),
      writeFailures: id === undefined ? this.writeFailures : sum((f) => f.writeFailures),
      damaged: id === undefined ? this.unreadable + sum((f) => f.damaged) : sum((f) => f.damaged)
    }
  }

  /** Reads one log at open: its header, its valid prefix (cutting off the rest), its live points. */
  private async loadFile (name: string): Promise<void> {
    const path = join(this.dir, name)
    const what = `point log ${name}`
    const unreadable = (err: unknown): void => {
      this.unreadable++
      this.report({ op: 'load', file: name }, err)
    }
    let fd: FileHandle
    let writable = true
    // O_NOFOLLOW: a symbolic link under a log's name is refused (ELOOP), so a load can never
    // read, truncate or rewrite a file outside the directory.
    try {
      fd = await open(path, constants.O_RDWR | constants.O_NOFOLLOW)
    } catch {
      writable = false
      try {
        fd = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
      } catch (err) {
        unreadable(err)
        return
      }
    }
    let bytes: Buffer
    let header: LogHeader
    try {
      const st = await fd.stat()
      if (!st.isFile()) throw new DecodeError(what, 'not a regular file')
      if (st.size > MAX_FILE_BYTES) throw new DecodeError(what, `${st.size} bytes, more than a log may hold (${MAX_FILE_BYTES})`)
      bytes = Buffer.allocUnsafe(st.size)
      await readAll(fd, bytes, 0)
      header = decodeHeader(bytes, what)
      if (pointFileName(header.id) !== name) throw new DecodeError(what, `its id ${JSON.stringify(header.id.slice(0, 100))} belongs in another file`)
    } catch (err) {
      // Left where it is, unread: it may be a newer heatmesh's file, or evidence.
      await fd.close().catch(() => {})
      unreadable(err)
      return
    }
    const file = newLogFile(header.id, name)
    file.fd = fd
    file.writable = writable
    file.needsRewrite = !writable
    const index = file.index
    const scan = scanRecords(bytes, header.length, (kind, second, offset, size) => {
      if (kind === RECORD_POINT) index.set(second, pack(offset, size))
      else if (second > file.floor) file.floor = second
    })
    file.size = scan.end
    if (scan.damage !== undefined) {
      const { kind, offset, reason } = scan.damage
      file.damaged++
      const cut = bytes.length - scan.end
      if (kind === 'corrupt') {
        const aside = `${name}.corrupt-${this.options.now()}`
        await writeFile(join(this.dir, aside), bytes.subarray(scan.end), { mode: 0o600, flag: 'wx' })
          .catch((err: unknown) => { this.fail(file, { op: 'load', file: aside, id: file.id }, err) })
        this.report({ op: 'load', file: name, id: file.id }, new DecodeError(what, `${reason} at offset ${offset}: kept the ${scan.end} bytes before it, saved the ${cut} after it to ${aside}`))
      } else {
        this.report({ op: 'load', file: name, id: file.id }, new DecodeError(what, `torn tail at offset ${offset} (${reason}): cut off ${cut} bytes`))
      }
      if (writable) {
        try {
          await fd.truncate(scan.end)
          await fd.datasync()
        } catch (err) {
          file.tailDirty = true
          this.fail(file, { op: 'load', file: name, id: file.id }, err)
        }
      }
    }
    const points: StoredRecord[] = []
    for (const [second, place] of index) {
      if (second < file.floor) {
        index.delete(second)
        continue
      }
      file.liveBytes += sizeOf(place)
      const at = offsetOf(place) + RECORD_HEADER_BYTES
      points.push({ second, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset + at, sizeOf(place) - RECORD_HEADER_BYTES) })
    }
    points.sort((a, b) => a.second - b.second)
    if (points.length > 0) this.loaded?.set(file.id, points)
    this.files.set(file.id, file)
    this.maybeCompact(file)
  }

  /** Arms the one interval timer, if it is not armed; unref'd: it never keeps the process alive. */
  private armTimer (): void {
    if (this.timer !== undefined || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      for (const file of this.files.values()) {
        if (file.pending.size > 0 || file.pendingFloor > 0) void this.scheduleWrite(file)
      }
    }, this.options.syncIntervalMs)
    this.timer.unref()
  }

  /** The write queued for `file`, or a new one: one waiting write takes everything buffered when it starts. */
  private scheduleWrite (file: LogFile): Promise<boolean> {
    file.queued ??= this.enqueue(file.name, () => this.writePending(file))
    return file.queued
  }

  /** Appends what is buffered for `file` (one write, one fdatasync). True if all of it is durable. */
  private async writePending (file: LogFile): Promise<boolean> {
    file.queued = undefined
    if (file.dropped) return true
    if (file.pending.size === 0 && file.pendingFloor === 0) return true
    const batch = file.pending
    const floorMark = file.pendingFloor
    file.pending = new Map()
    file.inflight = batch
    file.pendingFloor = 0
    file.writing = true
    let op: StoreOperation = 'write'
    let appending = false
    try {
      let length = floorMark > 0 ? RECORD_HEADER_BYTES : 0
      for (const [second, bytes] of batch) if (second >= file.floor) length += RECORD_HEADER_BYTES + bytes.length
      if (length === 0) return true
      if (file.fd === undefined || file.needsRewrite || !file.writable || file.size + length > MAX_FILE_BYTES) {
        // A new log, one that cannot be appended to safely, or one about to outgrow its limit:
        // written whole, batch included (its floor is the file's, written first).
        op = file.fd === undefined ? 'create' : 'compact'
        await this.rewrite(file, batch)
        this.maybeCompact(file)
        return true
      }
      if (file.tailDirty) {
        await fdOf(file).truncate(file.size)
        file.tailDirty = false
      }
      const buf = Buffer.allocUnsafe(length)
      let at = floorMark > 0 ? encodeRecordInto(buf, 0, RECORD_FLOOR, floorMark, EMPTY) : 0
      const written: Array<[second: number, at: number, size: number]> = []
      for (const [second, bytes] of batch) {
        if (second < file.floor) continue
        const size = encodeRecordInto(buf, at, RECORD_POINT, second, bytes)
        written.push([second, at, size])
        at += size
      }
      const fd = fdOf(file)
      appending = true
      await writeAll(fd, buf, file.size)
      await fd.datasync()
      appending = false
      const base = file.size
      file.size += length
      for (const [second, offset, size] of written) {
        if (second < file.floor) continue // pruned while on its way: dead bytes
        const old = file.index.get(second)
        if (old !== undefined) file.liveBytes -= sizeOf(old)
        file.index.set(second, pack(base + offset, size))
        file.liveBytes += size
      }
      this.maybeCompact(file)
      return true
    } catch (err) {
      this.fail(file, { op, file: file.name, id: file.id }, err)
      // The batch goes back, under anything put since.
      for (const [second, bytes] of batch) if (second >= file.floor && !file.pending.has(second)) file.pending.set(second, bytes)
      if (floorMark > file.pendingFloor) file.pendingFloor = floorMark
      if ((appending || file.tailDirty) && file.fd !== undefined) {
        // Cut off whatever part of the append reached the file; failing that, rewrite it whole.
        try {
          await file.fd.truncate(file.size)
          file.tailDirty = false
        } catch {
          file.needsRewrite = true
        }
      }
      this.armTimer()
      return false
    } finally {
      file.writing = false
      file.inflight = undefined
    }
  }

  /** Queues a compaction of `file` if it has grown past twice its live records plus the floor. */
  private maybeCompact (file: LogFile): void {
    if (file.dropped || file.compactionQueued || file.fd === undefined || !this.bloated(file)) return
    file.compactionQueued = true
    void this.enqueue(file.name, async () => {
      file.compactionQueued = false
      if (file.dropped || file.fd === undefined || !this.bloated(file)) return
      file.writing = true
      try {
        await this.rewrite(file)
        file.compactions++
        this.compactions++
      } catch (err) {
        this.fail(file, { op: 'compact', file: file.name, id: file.id }, err)
      } finally {
        file.writing = false
      }
    })
  }

  private bloated (file: LogFile): boolean {
    return file.size > 2 * file.liveBytes + this.options.compactionFloorBytes
  }

  /**
   * Replaces `file`'s log by a new one holding its header, its floor, its live records and the
   * points of `batch`, in second order, or creates it: write `.<name>.new`, fdatasync, rename
   * over, fsync the directory. One sync for a new log and its first points. Throws on failure,
   * leaving the old file and state as they were (except when only the directory fsync failed:
   * the new file is then already the file).
   */
  private async rewrite (file: LogFile, batch: ReadonlyMap<number, Uint8Array> = new Map()): Promise<void> {
    // The batch's bytes supersede the durable record of the same second.
    const records: Array<{ second: number, place: number, bytes: Uint8Array | undefined }> = []
    for (const [second, place] of file.index) if (second >= file.floor && !batch.has(second)) records.push({ second, place, bytes: undefined })
    for (const [second, bytes] of batch) if (second >= file.floor) records.push({ second, place: 0, bytes })
    records.sort((a, b) => a.second - b.second)
    let old: Buffer | undefined
    if (file.index.size > 0) {
      old = Buffer.allocUnsafe(file.size)
      await readAll(fdOf(file), old, 0)
    }
    const header = encodeHeader(file.id)
    const floor = file.floor
    let total = header.length + (floor > 0 ? RECORD_HEADER_BYTES : 0)
    for (const r of records) total += r.bytes === undefined ? sizeOf(r.place) : RECORD_HEADER_BYTES + r.bytes.length
    if (total > MAX_FILE_BYTES) throw new HeatmeshError('ECA_NORESOURCE', `the live points of ${file.name} exceed ${MAX_FILE_BYTES} bytes`)
    const buf = Buffer.allocUnsafe(total)
    let at = header.copy(buf, 0)
    if (floor > 0) at += encodeRecordInto(buf, at, RECORD_FLOOR, floor, EMPTY)
    const index = new Map<number, number>()
    let liveBytes = 0
    for (const { second, place, bytes } of records) {
      let size: number
      if (bytes !== undefined) {
        size = encodeRecordInto(buf, at, RECORD_POINT, second, bytes)
      } else {
        // Copied verbatim, CRC included: damage since it was written is still caught at load.
        if (old === undefined) throw new Error('unreachable: durable records without a file')
        size = sizeOf(place)
        old.copy(buf, at, offsetOf(place), offsetOf(place) + size)
      }
      index.set(second, pack(at, size))
      at += size
      liveBytes += size
    }
    const path = join(this.dir, file.name)
    const temp = join(this.dir, pendingFileName(file.name))
    const fd = await open(temp, 'w+', 0o600)
    let placed = false
    try {
      await writeAll(fd, buf, 0)
      await fd.datasync()
      if (file.fd === undefined) await this.keepAside(file, path)
      await rename(temp, path)
      placed = true
    } finally {
      if (!placed) {
        await fd.close().catch(() => {})
        await unlink(temp).catch(() => {})
      }
    }
    const oldFd = file.fd
    file.fd = fd
    file.writable = true
    file.size = total
    file.needsRewrite = false
    file.tailDirty = false
    // A prune may have come while the copy was on its way (its floor record is then pending).
    for (const [second, place] of index) {
      if (second < file.floor) {
        index.delete(second)
        liveBytes -= sizeOf(place)
      }
    }
    file.index = index
    file.liveBytes = liveBytes
    await oldFd?.close().catch(() => {})
    await syncDirectory(this.dir)
  }

  /** Before a log is created: an unreadable file under its name is renamed aside, never replaced. */
  private async keepAside (file: LogFile, path: string): Promise<void> {
    const aside = `${file.name}.unreadable-${this.options.now()}`
    try {
      await rename(path, join(this.dir, aside))
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return
      throw err
    }
    this.report({ op: 'create', file: file.name, id: file.id }, new HeatmeshError('ECA_IO', `an unreadable ${file.name} was in the way of a new log: kept as ${aside}`))
  }

  /** Runs `op` after every earlier operation on the same file; the queue survives a failing op. */
  private enqueue<T> (name: string, op: () => Promise<T>): Promise<T> {
    const run = (this.tails.get(name) ?? Promise.resolve()).then(op)
    const tail = run.then(() => {}, () => {})
    this.tails.set(name, tail)
    void tail.then(() => { if (this.tails.get(name) === tail) this.tails.delete(name) })
    return run
  }

  private fail (file: LogFile | undefined, context: StoreErrorContext, err: unknown): void {
    if (file !== undefined) file.writeFailures++
    this.writeFailures++
    this.report(context, err)
  }

  private report (context: StoreErrorContext, err: unknown): void {
    try {
      this.options.onError(context, err)
    } catch {
      // A reporter that throws must not take the store down with it.
    }
  }

  private assertOpen (): void {
    if (this.closed) throw new Error('PointStore used after close()')
  }
}

function newLogFile (id: string, name: string): LogFile {
  return {
    id,
    name,
    fd: undefined,
    writable: false,
    size: 0,
    index: new Map(),
    liveBytes: 0,
    floor: 0,
    pending: new Map(),
    inflight: undefined,
    pendingFloor: 0,
    needsRewrite: false,
    tailDirty: false,
    writing: false,
    queued: undefined,
    compactionQueued: false,
    dropped: false,
    compactions: 0,
    writeFailures: 0,
    damaged: 0
  }
}

function checkSecond (field: string, second: number): void {
  if (!(Number.isSafeInteger(second) && second >= 0)) throw new InvalidFieldError(field, second, 'not a non-negative integer')
}

function fdOf (file: LogFile): FileHandle {
  if (file.fd === undefined) throw new Error(`unreachable: ${file.name} has no open file`)
  return file.fd
}

function errorCode (err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
}

/** Writes all of `buf` at `position` (a write may be short: it is continued). */
async function writeAll (fd: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let done = 0; done < buf.length;) {
    const { bytesWritten } = await fd.write(buf, done, buf.length - done, position + done)
    if (bytesWritten <= 0) throw new HeatmeshError('ECA_IO', 'write made no progress')
    done += bytesWritten
  }
}

/** Fills `buf` from `position`; the file is expected to be at least that long. */
async function readAll (fd: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let done = 0; done < buf.length;) {
    const { bytesRead } = await fd.read(buf, done, buf.length - done, position + done)
    if (bytesRead <= 0) throw new HeatmeshError('ECA_IO', 'file shorter than expected')
    done += bytesRead
  }
}

