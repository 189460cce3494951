/** The syscall table and its lookups: what the `syscall` field's keys and constants mean. */
import test from 'ava'
import { SYSCALL_TABLE } from '../../../metad/bpftrace/syscall-table.js'
import { syscallName, syscallNumber } from '../../../metad/bpftrace/syscalls.js'

test('the table is sorted by number, and every number and name appears once', (t) => {
  const numbers = SYSCALL_TABLE.map(([n]) => n)
  t.deepEqual(numbers, [...numbers].sort((a, b) => a - b))
  t.is(new Set(numbers).size, numbers.length)
  t.is(new Set(SYSCALL_TABLE.map(([, name]) => name)).size, numbers.length)
  t.true(SYSCALL_TABLE.every(([, name]) => /^[a-z_][a-z0-9_]*$/.test(name)))
})

test('well-known numbers have their names, the 6.18 additions included', (t) => {
  t.is(syscallName(0), 'read')
  t.is(syscallName(1), 'write')
  t.is(syscallName(59), 'execve')
  t.is(syscallName(231), 'exit_group')
  t.is(syscallName(334), 'rseq')
  t.is(syscallName(335), 'uretprobe')
  t.is(syscallName(435), 'clone3')
  t.is(syscallName(450), 'set_mempolicy_home_node')
  t.is(syscallName(451), 'cachestat')
  t.is(syscallName(469), 'file_setattr')
  t.is(syscallName(400), undefined)
  t.is(syscallName(-1), undefined)
})

test('names map back to numbers; syscall_<n> only for a number without a name', (t) => {
  for (const [n, name] of SYSCALL_TABLE) t.is(syscallNumber(name), n)
  t.is(syscallNumber('syscall_400'), 400)
  t.is(syscallNumber('syscall_0'), undefined)
  t.is(syscallNumber('syscall_0400'), undefined)
  t.is(syscallNumber('syscall_-1'), undefined)
  t.is(syscallNumber('syscall_2147483648'), undefined)
  t.is(syscallNumber('READ'), undefined)
  t.is(syscallNumber('constructor'), undefined)
  t.is(syscallNumber('__proto__'), undefined)
})
