/**
 * Crash-safe file writes: a reader (this process after a crash, or another process) sees either
 * the old file or the complete new one, never a torn write.
 *
 * THEORY. The bytes go to a temporary file in the same directory (so the final step stays on one
 * file system), which is fsynced before it takes the target's name; then the directory is fsynced
 * so that the name change itself survives a power cut. The name change is rename(2) when
 * replacing is allowed, and link(2) + unlink when it is not: link fails with EEXIST if the target
 * exists, so "create unless present" is atomic too (two processes creating the same identity
 * file: exactly one wins, the other reads the winner's file). A failed write leaves no
 * temporary file behind.
 */
import { randomUUID } from 'node:crypto'
import { link, open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** Permission bits of the new file (applied with chmod, so the umask cannot widen or narrow them). */
  readonly mode: number
  /** When true, fail with an `EEXIST` error instead of replacing an existing file. */
  readonly exclusive?: boolean
}

/**
 * Writes `data` to `path` crash-safely (see the module comment). Rejects with the file system's
 * error (`code` ENOENT for a missing directory, EEXIST for an existing file when `exclusive`).
 */
export async function writeFileAtomic (path: string, data: Uint8Array | string, options: AtomicWriteOptions): Promise<void> {
  const dir = dirname(path)
  // Hidden, unique per writer: concurrent writers never share a temporary file.
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomUUID()}.tmp`)
  const handle = await open(temp, 'wx', options.mode)
  let named = false
  try {
    try {
      await handle.chmod(options.mode)
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    if (options.exclusive === true) {
      await link(temp, path)
    } else {
      await rename(temp, path)
      named = true
    }
  } finally {
    // After link both names exist and the temporary one goes; after a failure it goes too.
    if (!named) await unlink(temp).catch(() => {})
  }
  await syncDirectory(dir)
}

/** fsyncs a directory so that entries created, renamed or removed in it are durable. */
export async function syncDirectory (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
