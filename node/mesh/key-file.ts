/**
 * Small secret files (the network key, the node identity): read with a size bound and with
 * errors that name the file and say what is wrong in an operator's terms; written crash-safely
 * with mode 0600 so that only the daemon's user can read them.
 */
import { open } from 'node:fs/promises'
import { writeFileAtomic } from '../store/index.js'
import { MAX_KEY_FILE_BYTES } from './constants.js'
import { KeyFileError, type KeyFileKind } from './errors.js'

/** Owner read/write only. */
export const KEY_FILE_MODE = 0o600

/**
 * Reads a key file whole, or rejects with a KeyFileError naming the file: missing, a directory,
 * unreadable, empty, or larger than MAX_KEY_FILE_BYTES (checked before reading, so a wrong path
 * pointing at a huge file costs nothing). Returns undefined for a missing file when `missingOk`.
 */
export async function readKeyFile (kind: KeyFileKind, file: string, hint: string): Promise<Uint8Array>
export async function readKeyFile (kind: KeyFileKind, file: string, hint: string, missingOk: true): Promise<Uint8Array | undefined>
export async function readKeyFile (kind: KeyFileKind, file: string, hint: string, missingOk = false): Promise<Uint8Array | undefined> {
  let handle
  try {
    handle = await open(file, 'r')
  } catch (err) {
    const code = errnoCode(err)
    if (code === 'ENOENT' && missingOk) return undefined
    throw new KeyFileError(kind, file, describeOpenError(code, hint), { cause: err })
  }
  try {
    const stat = await handle.stat()
    if (stat.isDirectory()) throw new KeyFileError(kind, file, 'is a directory, not a file')
    if (!stat.isFile()) throw new KeyFileError(kind, file, 'is not a regular file')
    if (stat.size > MAX_KEY_FILE_BYTES) throw new KeyFileError(kind, file, `too large: ${stat.size} bytes (at most ${MAX_KEY_FILE_BYTES}); is this the right file?`)
    if (stat.size === 0) throw new KeyFileError(kind, file, `is empty; ${hint}`)
    const buffer = new Uint8Array(stat.size)
    const { bytesRead } = await handle.read(buffer, 0, stat.size, 0)
    return buffer.subarray(0, bytesRead)
  } catch (err) {
    if (err instanceof KeyFileError) throw err
    throw new KeyFileError(kind, file, `cannot be read: ${errnoCode(err) ?? String(err)}`, { cause: err })
  } finally {
    await handle.close()
  }
}

/**
 * Writes a key file crash-safely with mode 0600. With `exclusive`, an existing file is never
 * replaced and the promise resolves false (the caller decides: read the winner's file, or
 * refuse); otherwise it resolves true once the file is durable.
 */
export async function writeKeyFile (kind: KeyFileKind, file: string, data: Uint8Array | string, exclusive: boolean): Promise<boolean> {
  try {
    await writeFileAtomic(file, data, { mode: KEY_FILE_MODE, exclusive })
    return true
  } catch (err) {
    const code = errnoCode(err)
    if (code === 'EEXIST' && exclusive) return false
    const problem = code === 'ENOENT'
      ? 'cannot be created: its directory does not exist'
      : `cannot be written: ${code ?? String(err)}`
    throw new KeyFileError(kind, file, problem, { cause: err })
  }
}

/** The `code` of a Node.js system error (ENOENT, EACCES, ...), if it is one. */
export function errnoCode (err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

function describeOpenError (code: string | undefined, hint: string): string {
  switch (code) {
    case 'ENOENT': return `does not exist; ${hint}`
    case 'EACCES':
    case 'EPERM': return 'cannot be read: permission denied'
    case 'EISDIR': return 'is a directory, not a file'
    default: return `cannot be opened: ${code ?? 'unknown error'}`
  }
}
