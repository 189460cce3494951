import test from 'ava'
import fc from 'fast-check'
import { bucketOf, DIGEST_BUCKETS, hash53, SetDigest } from '../../../node/core/digest.js'

function digestOf (entries: ReadonlyArray<readonly [string, string]>): SetDigest {
  const d = new SetDigest()
  for (const [k, f] of entries) d.add(k, f)
  return d
}

test('the digest of a set does not depend on the order entries were added', (t) => {
  const result = fc.check(fc.property(fc.uniqueArray(fc.tuple(fc.string(), fc.string()), { selector: (e) => e[0] }), fc.integer(), (entries, seed) => {
    const shuffled = [...entries].sort((a, b) => (hash53(a[0], seed) - hash53(b[0], seed)))
    const a = digestOf(entries)
    const b = digestOf(shuffled)
    return a.rootEquals(b.root()) && JSON.stringify(a.buckets()) === JSON.stringify(b.buckets())
  }))
  t.false(result.failed, fc.defaultReportMessage(result))
})

test('removing an entry undoes adding it', (t) => {
  const d = digestOf([['a', 'a@1'], ['b', 'b@1']])
  const before = d.root()
  d.add('c', 'c@1')
  t.false(d.rootEquals(before))
  d.remove('c', 'c@1')
  t.deepEqual(d.root(), before)
})

test('an empty digest has a zero root and no buckets', (t) => {
  const d = new SetDigest()
  t.deepEqual(d.root(), { hash: 0, count: 0 })
  t.deepEqual(d.buckets(), [])
})

test('differing buckets are exactly those whose entries differ', (t) => {
  const base: Array<[string, string]> = Array.from({ length: 200 }, (_, i) => [`peer-${i}`, `peer-${i}@0`])
  const a = digestOf(base)
  const changed = base.map(([k, f]): [string, string] => (k === 'peer-7' ? [k, 'peer-7@1'] : [k, f]))
  changed.push(['peer-new', 'peer-new@0'])
  const b = digestOf(changed)
  const expected = [...new Set([bucketOf('peer-7'), bucketOf('peer-new')])].sort((x, y) => x - y)
  t.deepEqual(a.differingBuckets(b.buckets()), expected)
  t.deepEqual(b.differingBuckets(a.buckets()), expected)
  t.deepEqual(a.differingBuckets(a.buckets()), [])
})

test('a bucket empty on one side differs from a non-empty one', (t) => {
  const a = digestOf([['x', 'x@0']])
  const b = new SetDigest()
  t.deepEqual(a.differingBuckets(b.buckets()), [bucketOf('x')])
  t.deepEqual(b.differingBuckets(a.buckets()), [bucketOf('x')])
})

test('hash53 is a safe integer and buckets are in range', (t) => {
  for (const s of ['', 'a', 'peer-1', '\u{1F600}', 'x'.repeat(1000)]) {
    const h = hash53(s)
    t.true(Number.isSafeInteger(h) && h >= 0)
    const b = bucketOf(s)
    t.true(b >= 0 && b < DIGEST_BUCKETS)
  }
})

test('a digest of many entries (kept as arrays over every bucket) equals one of few (kept as a short list) once they hold the same entries', (t) => {
  // 600 entries fill most buckets (the list is given up past 32), then 590 are removed again.
  const entries = Array.from({ length: 600 }, (_, i) => [`key-${i}`, `key-${i}\u0000v${i % 7}`] as const)
  const big = digestOf(entries)
  for (const [k, f] of entries.slice(10)) big.remove(k, f)
  const small = digestOf(entries.slice(0, 10))
  t.deepEqual(big.root(), small.root())
  t.deepEqual(big.buckets(), small.buckets())
  t.deepEqual(big.differingBuckets(small.buckets()), [])
  t.deepEqual(small.differingBuckets(digestOf(entries.slice(0, 11)).buckets()), [bucketOf('key-10')])
})
