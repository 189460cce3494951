import test from 'ava'
import { DecodeError } from '../../../../metad/index.js'
import { isPhysicalDisk, parseDiskstats } from '../../../../node/instrument/procfs/diskstats.js'

const DISKSTATS = `   7       0 loop0 5 0 10 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 87437 32325 4271882 19290 12637 31567 1153152 5517 0 11992 26055 5058 28 159696 973 1308 274
 254       1 vda1 80000 30000 4000000 19000 12000 31000 1100000 5000 0 11000 25000
   8       0 sda 10 0 80 0 5 0 40 0 0 0 0 0 0 0 0
`

test('reads every device with reads, writes and sectors, whatever the number of columns (11, 15 or 17 counters)', (t) => {
  const disks = parseDiskstats(DISKSTATS)
  t.deepEqual(disks.map((d) => d.name), ['loop0', 'vda', 'vda1', 'sda'])
  t.deepEqual(disks[1], { major: 254, minor: 0, name: 'vda', readsCompleted: 87437, sectorsRead: 4271882, writesCompleted: 12637, sectorsWritten: 1153152 })
})

test('rejects a truncated line', (t) => {
  const err = t.throws(() => parseDiskstats(' 254 0 vda 87437 32325 4271882\n'), { instanceOf: DecodeError })
  t.regex(err.message, /line 1: .* has 6 columns, expected at least 14/)
})

test('rejects a garbled counter anywhere on the line', (t) => {
  t.throws(() => parseDiskstats(' 254 0 vda 1 2 3 4 5 6 7 8 9 10 x1\n'), { instanceOf: DecodeError, message: /vda column 14/ })
  t.throws(() => parseDiskstats(' 254 0 vda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 -1\n'), { instanceOf: DecodeError })
})

test('with /sys/block readable, a disk is an entry backed by hardware', (t) => {
  const hardware = new Set(['vda', 'nvme0n1'])
  t.true(isPhysicalDisk('vda', hardware))
  t.true(isPhysicalDisk('nvme0n1', hardware))
  t.false(isPhysicalDisk('vda1', hardware), 'partitions are not /sys/block entries')
  t.false(isPhysicalDisk('zram0', hardware), 'zram has no device link')
  t.false(isPhysicalDisk('dm-0', hardware))
})

test('without /sys/block, the name rule skips partitions and virtual devices', (t) => {
  for (const name of ['sda', 'vda', 'xvdb', 'nvme0n1', 'mmcblk0', 'hdc']) t.true(isPhysicalDisk(name, undefined), name)
  for (const name of ['sda1', 'vda2', 'xvdb1', 'nvme0n1p1', 'mmcblk0p2', 'loop0', 'ram0', 'zram0', 'fd0', 'dm-0', 'md127']) {
    t.false(isPhysicalDisk(name, undefined), name)
  }
})
