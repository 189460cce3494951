/** Contributor sets: sorted member keys, set algebra, and their delta-varint wire form. */
import test from 'ava'
import fc from 'fast-check'
import { holds } from '../../metad/property.js'
import { DecodeError } from '../../../metad/index.js'
import {
  contributorCount, contributorsOf, decodeContributors, disjoint, encodeContributors, hasContributor, isContributorSet, isSubset,
  MAX_CONTRIBUTORS, NO_CONTRIBUTORS, union
} from '../../../node/merge/contributors.js'
import { FieldDecodeError } from '../../../node/merge/wire.js'
import { memberKey } from '../../../node/merge/tree.js'
import { clusterPeerId } from '../../../node/core/cluster.js'

const arbKey = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }))
const arbSet = fc.array(arbKey, { maxLength: 40 }).map(contributorsOf)

test('contributorsOf sorts and removes repeats', (t) => {
  t.deepEqual(contributorsOf([5, 1, 5, 3]), [1, 3, 5])
  t.is(contributorCount(contributorsOf([9, 9, 9])), 1)
  t.throws(() => contributorsOf([1.5]), { instanceOf: RangeError })
  t.throws(() => contributorsOf([-1]), { instanceOf: RangeError })
})

test('a contributor is named by the 53-bit hash of its peer id', (t) => {
  const key = memberKey(clusterPeerId(3))
  t.true(Number.isSafeInteger(key) && key >= 0)
  t.is(key, memberKey(clusterPeerId(3)))
  t.not(key, memberKey(clusterPeerId(4)))
})

test('disjoint and union agree with the sets they stand for', (t) => {
  holds(t, fc.property(arbSet, arbSet, (a, b) => {
    const sa = new Set(a)
    const expectDisjoint = b.every((k) => !sa.has(k))
    const u = union(a, b)
    return disjoint(a, b) === expectDisjoint && disjoint(b, a) === expectDisjoint && isContributorSet(u) &&
      u.length === new Set([...a, ...b]).size && b.every((k) => hasContributor(u, k)) && a.every((k) => hasContributor(u, k))
  }))
})

test('isSubset agrees with the sets it stands for', (t) => {
  holds(t, fc.property(arbSet, arbSet, (a, b) => {
    const sb = new Set(b)
    return isSubset(a, b) === a.every((k) => sb.has(k)) && isSubset(a, union(a, b)) && isSubset(NO_CONTRIBUTORS, b)
  }))
})

test('union of a set with the empty set is the set itself', (t) => {
  const a = contributorsOf([1, 2, 3])
  t.is(union(a, NO_CONTRIBUTORS), a)
  t.is(union(NO_CONTRIBUTORS, a), a)
  t.true(disjoint(a, NO_CONTRIBUTORS))
})

test('isContributorSet refuses unsorted, repeated and non-integer keys', (t) => {
  t.true(isContributorSet([0, 1, 2 ** 53 - 1]))
  t.false(isContributorSet([2, 1]))
  t.false(isContributorSet([1, 1]))
  t.false(isContributorSet([0.5]))
  t.false(isContributorSet([2 ** 53]))
})

test('sets round-trip through the wire form', (t) => {
  holds(t, fc.property(arbSet, (a) => {
    const back = decodeContributors(encodeContributors(a))
    return back.length === a.length && back.every((k, i) => k === a[i])
  }))
})

test('a set of 10,000 random member keys takes about 7 bytes a key', (t) => {
  const keys = contributorsOf(Array.from({ length: 10_000 }, (_, i) => memberKey(clusterPeerId(i))))
  const bytes = encodeContributors(keys).length
  t.true(bytes < 7.5 * 10_000, `${bytes} bytes`)
})

test('decoding refuses truncation, trailing bytes, oversized counts and keys beyond 2^53', (t) => {
  const good = encodeContributors(contributorsOf([1, 1000, 2 ** 40]))
  const cases: Array<[string, Uint8Array]> = [
    ['truncated', good.subarray(0, good.length - 1)],
    ['trailing', Uint8Array.of(...good, 0)],
    ['count larger than the bytes', Uint8Array.of(50, 1, 2)],
    ['count above the limit', encodeWithCount(MAX_CONTRIBUTORS + 1)],
    // first key 2^53 - 1, then a gap of 0: the next key would be 2^53
    ['key beyond 2^53 - 1', Uint8Array.of(2, ...varint(2 ** 53 - 1), 0)]
  ]
  for (const [name, bytes] of cases) {
    const err = t.throws(() => decodeContributors(bytes), { instanceOf: FieldDecodeError }, name)
    t.true(err instanceof DecodeError, name)
    t.is(err?.field, 'contributors', name)
  }
})

function varint (v: number): number[] {
  const out: number[] = []
  while (v >= 0x80) { out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80) }
  out.push(v)
  return out
}

function encodeWithCount (n: number): Uint8Array {
  const head = varint(n)
  const bytes = new Uint8Array(head.length + n) // n zero gaps: enough bytes, too many keys
  bytes.set(head)
  return bytes
}
