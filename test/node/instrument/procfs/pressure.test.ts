import test from 'ava'
import { DecodeError } from '../../../../metad/index.js'
import { parsePressure } from '../../../../node/instrument/procfs/pressure.js'

test('reads the some and full lines', (t) => {
  const p = parsePressure('some avg10=1.50 avg60=2.00 avg300=3.25 total=123\nfull avg10=0.00 avg60=0.01 avg300=0.00 total=7\n')
  t.deepEqual(p, { some: { avg10: 1.5, avg60: 2, avg300: 3.25, total: 123 }, full: { avg10: 0, avg60: 0.01, avg300: 0, total: 7 } })
})

test('a file with only the some line (cpu before Linux 5.13) has no full line', (t) => {
  t.deepEqual(parsePressure('some avg10=100.00 avg60=0.00 avg300=0.00 total=0\n'), { some: { avg10: 100, avg60: 0, avg300: 0, total: 0 } })
})

test('rejects a file without the some line, e.g. empty or truncated', (t) => {
  t.throws(() => parsePressure(''), { instanceOf: DecodeError, message: /no "some" line/ })
  t.throws(() => parsePressure('full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n'), { instanceOf: DecodeError, message: /no "some" line/ })
})

test('rejects a garbled or cut line, naming the file', (t) => {
  const err = t.throws(() => parsePressure('some avg10=1.50 avg60=2.0', '/proc/pressure/io'), { instanceOf: DecodeError })
  t.regex(err.message, /^cannot decode \/proc\/pressure\/io: line 1:/)
  t.throws(() => parsePressure('some avg10=x avg60=2.00 avg300=3.25 total=1\n'), { instanceOf: DecodeError })
  t.throws(() => parsePressure('some avg10=1.00 avg60=2.00 avg300=3.25 total=-1\n'), { instanceOf: DecodeError })
})

test('rejects a second some line', (t) => {
  const line = 'some avg10=1.00 avg60=2.00 avg300=3.25 total=1\n'
  t.throws(() => parsePressure(line + line), { instanceOf: DecodeError, message: /a second "some" line/ })
})
