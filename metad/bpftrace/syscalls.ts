/**
 * System call names <-> numbers (x86_64), for the `syscall` field: raw_syscalls tracepoints
 * carry the number, users read and filter by name.
 *
 * A number without a name (a call newer than ./syscall-table.ts) is shown as `syscall_<n>` by
 * the runtime; syscallNumber accepts that spelling back, but only for such numbers, so every
 * number has exactly one spelling ("syscall_0" is not "read").
 */
import { SYSCALL_TABLE } from './syscall-table.js'

const BY_NUMBER: ReadonlyMap<number, string> = new Map(SYSCALL_TABLE)
const BY_NAME: ReadonlyMap<string, number> = new Map(SYSCALL_TABLE.map(([n, name]) => [name, n]))
/** Syscall numbers are small; this bounds `syscall_<n>` to a sane int. */
const MAX_SYSCALL_NUMBER = 2 ** 31 - 1

/** The name of syscall `n`, or undefined if the table has none. */
export function syscallName (n: number): string | undefined {
  return BY_NUMBER.get(n)
}

/** The number of a syscall named `name` (or spelled `syscall_<n>` for an unnamed n), or undefined. */
export function syscallNumber (name: string): number | undefined {
  const known = BY_NAME.get(name)
  if (known !== undefined) return known
  const m = /^syscall_(0|[1-9][0-9]{0,9})$/.exec(name)
  if (m === null) return undefined
  const n = Number(m[1])
  return n <= MAX_SYSCALL_NUMBER && !BY_NUMBER.has(n) ? n : undefined
}
