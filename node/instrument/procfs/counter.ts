/**
 * Reading procfs counters strictly: every number in /proc is a decimal unsigned integer, and a
 * field that is anything else means the file is garbled or truncated, which the caller reports
 * (DecodeError) instead of guessing.
 */
import { DecodeError } from '../../../metad/index.js'

/** The decimal unsigned integer `text`, or a DecodeError naming `file` and `where`. */
export function counter (text: string | undefined, file: string, where: string): number {
  if (text === undefined || !/^\d{1,16}$/.test(text)) {
    throw new DecodeError(file, `${where}: expected an unsigned integer, got ${text === undefined ? 'nothing' : JSON.stringify(clip(text))}`)
  }
  const n = Number(text)
  if (!Number.isSafeInteger(n)) throw new DecodeError(file, `${where}: ${text} is beyond 2^53 - 1`)
  return n
}

/** A line for a message: at most 80 characters. */
export function clip (text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}...` : text
}
