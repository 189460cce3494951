/**
 * Where an instrumentation's point log lives: its id, a string that came from the network,
 * turned into a file name that is safe in any directory.
 *
 * An id is never used as a path. A well-formed id of up to 100 UTF-8 bytes is written in hex
 * (`p-<hex>.points`: readable with xxd -r, one file per id, no separator, dot or NUL can
 * survive); a longer one, or one with a lone surrogate (which UTF-8 cannot carry), is named by
 * the SHA-256 of its UTF-16 code units (`h-<64 hex>.points`). Either way the name has at most
 * 209 characters, inside NAME_MAX (255) with room for the store's affixes (`.…new`,
 * `.corrupt-<ms>`, `.unreadable-<ms>`: at most 25 more). The file's header carries the id itself
 * (log-format.ts), and the store loads a file only when its id maps back to its name.
 */
import { createHash } from 'node:crypto'

/** The extension of a point log. */
export const POINT_FILE_SUFFIX = '.points'

/** Longest id, in UTF-8 bytes, whose file name spells it out in hex; longer ids are hashed. */
const MAX_SPELLED_ID_BYTES = 100

const POINT_FILE = /^(?:p-(?:[0-9a-f]{2})*|h-[0-9a-f]{64})\.points$/

/** The file name (no directory) of the point log of instrumentation `id`. */
export function pointFileName (id: string): string {
  const utf8 = Buffer.from(id, 'utf8')
  if (utf8.length <= MAX_SPELLED_ID_BYTES && utf8.toString('utf8') === id) return `p-${utf8.toString('hex')}${POINT_FILE_SUFFIX}`
  return `h-${createHash('sha256').update(Buffer.from(id, 'utf16le')).digest('hex')}${POINT_FILE_SUFFIX}`
}

/** Whether `name` is shaped like a point log's name (the store ignores every other file). */
export function isPointFileName (name: string): boolean {
  return POINT_FILE.test(name)
}

/** The name a point log's replacement is written under before it is renamed into place. */
export function pendingFileName (name: string): string {
  return `.${name}.new`
}

/** Whether `name` is a replacement left behind by a crash (removed when the store opens). */
export function isPendingFileName (name: string): boolean {
  return name.startsWith('.') && name.endsWith('.new') && isPointFileName(name.slice(1, -'.new'.length))
}
