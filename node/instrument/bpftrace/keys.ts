/**
 * Key decoding: a printed key element to the field value it stands for, per the generator's
 * KeyDecoding (/tmp/bpf-contract.md). The script keeps keys cheap for the kernel (numbers where
 * it can: a syscall number, a cgroup id, a dev_t); user space turns them into the names a user
 * filters and reads by. A number the tables do not know still gets a stable, readable name
 * ("syscall_999", "cgroup_4242", "8:17"), so an event is never lost for want of a name; an
 * element that is not even of the printed form (a word where a number belongs, an enum index
 * past the generator's list) does not decode, and the caller rejects its map line.
 */
import type { BlockDevices } from './blockdevs.js'
import type { CgroupPaths } from './cgroups.js'
import type { KeyDecoding } from './program.js'

/** What key decoding consults. */
export interface KeyTables {
  /** Syscall name by number (x86_64), or undefined for an unknown number. */
  readonly syscallName: (n: number) => string | undefined
  /** The names of an `enum:<name>` decoding, index = printed integer, or undefined if unknown. */
  readonly enumNames: (name: string) => readonly string[] | undefined
  readonly cgroups: CgroupPaths
  readonly blockdevs: BlockDevices
}

/** Turns key elements into field values. */
export type KeyDecoder = (element: string) => string | undefined

const UNSIGNED = /^[0-9]{1,20}$/
const SIGNED = /^-?[0-9]{1,20}$/

/**
 * The decoder for one KeyDecoding. Returns undefined when `decoding` itself is unknown (the
 * generator and runtime disagree: the caller fails the instrumentation, not each line).
 */
export function keyDecoder (decoding: KeyDecoding, tables: KeyTables): KeyDecoder | undefined {
  switch (decoding) {
    case 'string':
    case 'ipv4':
      return (e) => e
    case 'decimal':
      return (e) => SIGNED.test(e) ? e : undefined
    case 'cpu':
      return (e) => UNSIGNED.test(e) ? `cpu${e}` : undefined
    case 'syscall':
      // Signed: raw_syscalls:sys_exit reports id -1 when a signal was delivered during the call
      // (seen here on EINTR returns and around sigreturn); still an event, named syscall_-1.
      return (e) => {
        if (!SIGNED.test(e)) return undefined
        return tables.syscallName(Number(e)) ?? `syscall_${e}`
      }
    case 'cgroup':
      return (e) => UNSIGNED.test(e) ? tables.cgroups.path(e) ?? `cgroup_${e}` : undefined
    case 'blockdev':
      return (e) => tables.blockdevs.name(e)
    default: {
      if (!decoding.startsWith('enum:')) return undefined
      const names = tables.enumNames(decoding.slice('enum:'.length))
      if (names === undefined) return undefined
      return (e) => UNSIGNED.test(e) ? names[Number(e)] : undefined
    }
  }
}
