/** IP address text -> bytes for raddr predicates: the spellings ntop() prints, and others of the same address. */
import test from 'ava'
import { parseIpAddress } from '../../../metad/bpftrace/ip-address.js'

test('IPv4 dotted quads parse to four bytes', (t) => {
  t.deepEqual(parseIpAddress('127.0.0.1'), { family: 4, bytes: [127, 0, 0, 1] })
  t.deepEqual(parseIpAddress('255.255.255.255'), { family: 4, bytes: [255, 255, 255, 255] })
})

test('IPv4 with leading zeros, out-of-range parts or the wrong count is not an address', (t) => {
  for (const bad of ['127.0.0.01', '256.0.0.1', '1.2.3', '1.2.3.4.5', '1.2.3.', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.-4', '0x7f.0.0.1']) {
    t.is(parseIpAddress(bad), undefined, bad)
  }
})

test('IPv6 parses with and without ::, in any case, with an IPv4 tail', (t) => {
  const loopback = [...new Array<number>(15).fill(0), 1]
  t.deepEqual(parseIpAddress('::1'), { family: 6, bytes: loopback })
  t.deepEqual(parseIpAddress('0:0:0:0:0:0:0:1'), { family: 6, bytes: loopback })
  t.deepEqual(parseIpAddress('::'), { family: 6, bytes: new Array<number>(16).fill(0) })
  t.deepEqual(parseIpAddress('FE80::aB:1'), { family: 6, bytes: [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0, 1] })
  t.deepEqual(parseIpAddress('::ffff:127.0.0.1'), { family: 6, bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1] })
  t.deepEqual(parseIpAddress('1:2:3:4:5:6:7::'), { family: 6, bytes: [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0] })
})

test('malformed IPv6 is not an address', (t) => {
  for (const bad of ['1::2::3', ':::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::1', 'g::1', '::1%eth0', '[::1]', '1:2:3:4:5:6:7:8::', '::1.2.3.4:1', '1.2.3.4::1', '::1/128', '']) {
    t.is(parseIpAddress(bad), undefined, bad)
  }
})
