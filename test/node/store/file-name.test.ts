import test from 'ava'
import { isPendingFileName, isPointFileName, pendingFileName, pointFileName } from '../../../node/store/file-name.js'

test('a short id is spelled in hex, so separators, dots and NUL cannot reach the path', (t) => {
  t.is(pointFileName('0123456789abcdef'), `p-${Buffer.from('0123456789abcdef').toString('hex')}.points`)
  t.is(pointFileName('../x'), 'p-2e2e2f78.points')
  t.is(pointFileName('a\u0000/b'), 'p-61002f62.points')
  t.is(pointFileName(''), 'p-.points')
})

test('a long id, or one UTF-8 cannot carry, is named by its SHA-256 and two such ids never share a name', (t) => {
  const long = pointFileName('x'.repeat(101))
  t.regex(long, /^h-[0-9a-f]{64}\.points$/)
  t.regex(pointFileName('\ud800'), /^h-[0-9a-f]{64}\.points$/)
  t.not(pointFileName('\ud800'), pointFileName('\udc00'))
  t.not(long, pointFileName('x'.repeat(102)))
  t.true(pointFileName('é'.repeat(4096)).length <= 255 - 25)
})

test('only names the store writes are recognised as logs or leftover replacements', (t) => {
  t.true(isPointFileName(pointFileName('abc')))
  t.true(isPointFileName(pointFileName('y'.repeat(500))))
  t.false(isPointFileName('p-6.points')) // odd hex: not a spelled id
  t.false(isPointFileName('p-61.points.corrupt-1'))
  t.false(isPointFileName('notes.txt'))
  t.true(isPendingFileName(pendingFileName(pointFileName('abc'))))
  t.false(isPendingFileName('.notes.new'))
})
