/** The peer interner: dense numbers, records held once by content, references, cached sizes and hashes. */
import test from 'ava'
import { bucketOf, hash53Parts } from '../../../node/core/digest.js'
import { jsonByteLength, memberRecord, memberRecordBytes } from '../../../node/core/messages.js'
import { createPeerInterner } from '../../../node/core/peer-interner.js'

const card = (id: string, name = id) => ({ id, name, addresses: [`/ip4/10.0.0.1/tcp/1/p2p/${id}`], meta: { backends: ['procfs'] } })

test('peer ids get dense numbers in order, and keep them', (t) => {
  const i = createPeerInterner()
  t.deepEqual(['a', 'b', 'a', 'c'].map((id) => i.number(id)), [0, 1, 0, 2])
  t.is(i.size, 3)
  t.is(i.id(1), 'b')
  t.is(i.lookup('c'), 2)
  t.is(i.lookup('zz'), -1)
  t.is(i.bucket(1), bucketOf('b'))
  t.is(i.idBytes(0), jsonByteLength('a'))
})

test('records equal by content share one handle; another incarnation or card gets its own', (t) => {
  const i = createPeerInterner()
  const a0 = memberRecord(card('peer-a'), 0)
  const h = i.retain(a0)
  t.is(i.retain(memberRecord(card('peer-a'), 0)), h, 'a decoded copy')
  t.not(i.retain(memberRecord(card('peer-a'), 1)), h)
  t.not(i.retain(memberRecord(card('peer-a', 'renamed'), 0)), h)
  t.is(i.record(h), a0)
  t.is(i.owner(h), i.lookup('peer-a'))
  t.is(i.records, 3)
})

test('a record is forgotten with its last reference and its handle reused', (t) => {
  const i = createPeerInterner()
  const r = memberRecord(card('peer-a'), 0)
  const h = i.retain(r)
  i.retain(r)
  i.release(h)
  t.is(i.record(h), r)
  i.release(h)
  t.is(i.records, 0)
  const other = memberRecord(card('peer-b'), 3)
  t.is(i.retain(other), h)
  t.is(i.record(h), other)
  // The old record is gone from peer-a's chain: retaining it again makes a new one.
  t.not(i.retain(memberRecord(card('peer-a'), 0)), h)
})

test('cached fingerprints and sizes equal what is computed from the record', (t) => {
  const i = createPeerInterner()
  const r = memberRecord(card('peer-x'), 7)
  const h = i.retain(r)
  const out = new Uint32Array(2)
  for (const [c, state] of [[0, 'alive'], [1, 'dead'], [2, 'left']] as const) {
    i.fingerprint(h, c, out)
    t.deepEqual([...out], hash53Parts(`peer-x\u00007\u0000${state}`))
  }
  t.is(i.recordBytes(h), memberRecordBytes(r))
})

test('an interner with an arena carves arrays from shared slabs', (t) => {
  const i = createPeerInterner({ arena: true })
  const a = i.arena?.int32(10)
  const b = i.arena?.float64(10)
  t.is(a?.buffer, b?.buffer)
  t.is(createPeerInterner().arena, undefined)
})
