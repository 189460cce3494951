import test from 'ava'
import { DecodeError } from '../../../../metad/index.js'
import { parseNetDev } from '../../../../node/instrument/procfs/net-dev.js'

const HEADER = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
`

test('reads bytes and packets received and sent for every interface, loopback included', (t) => {
  const nics = parseNetDev(`${HEADER}    lo:   35749     157    0    0    0     0          0         0    35749     157    0    0    0     0       0          0
  eth0: 104807137    5586    0    0    0     0          0         0   602653    4501    0    0    0     0       0          0
`)
  t.deepEqual(nics, [
    { nic: 'lo', rxBytes: 35749, rxPackets: 157, txBytes: 35749, txPackets: 157 },
    { nic: 'eth0', rxBytes: 104807137, rxPackets: 5586, txBytes: 602653, txPackets: 4501 }
  ])
})

test('reads the old format with no space between the colon and a wide counter', (t) => {
  const [eth0] = parseNetDev(`${HEADER}  eth0:1234567890 5 0 0 0 0 0 0 7 8 0 0 0 0 0 0\n`)
  t.deepEqual(eth0, { nic: 'eth0', rxBytes: 1234567890, rxPackets: 5, txBytes: 7, txPackets: 8 })
})

test('rejects a file without its header lines', (t) => {
  t.throws(() => parseNetDev(''), { instanceOf: DecodeError, message: /header lines are missing/ })
  t.throws(() => parseNetDev('  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n'), { instanceOf: DecodeError })
})

test('rejects a truncated line', (t) => {
  const err = t.throws(() => parseNetDev(`${HEADER}  eth0: 1 2 3 4 5\n`), { instanceOf: DecodeError })
  t.regex(err.message, /line 3: eth0 has 5 counters, expected 16/)
})

test('rejects a line without a name, and a garbled counter', (t) => {
  t.throws(() => parseNetDev(`${HEADER} 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n`), { instanceOf: DecodeError, message: /does not start with "name:"/ })
  t.throws(() => parseNetDev(`${HEADER}  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 1.6\n`), { instanceOf: DecodeError, message: /eth0 counter 16/ })
})
