/**
 * The merge binding over real libp2p on 127.0.0.1: a node running a MergeCore receives partials
 * from real peers on MERGE_PROTOCOL. Bad bytes, an unknown instrumentation, a contributor or a
 * sender that is not a member, a value of the wrong shape and a duplicate are each refused and
 * counted, and never reach the merged point; a good partial is merged exactly once. A query
 * from the second node is answered by the first, the instrumentation's root.
 */
import test from 'ava'
import { generateNetworkKey } from '../../../node/mesh/index.js'
import { createMergeBinding, decodeStoredPoint, encodeStoredPoint, MERGE_PROTOCOL } from '../../../node/mesh/merge-binding.js'
import {
  createMergeCore, encodeMergeMessage, holdersOf, instrumentationKey, memberKey, membersOf, type InstrumentationSpec, type MergeCore, type PartialMessage
} from '../../../node/merge/index.js'
import { Hosts, until } from './hosts.js'

const SPEC: InstrumentationSpec = { shape: 'scalar', granularity: 1, retentionTime: 600, persistData: false, valueScope: 'interval', expectedSources: 2 }

function partial (id: string, second: number, contributors: number[], n: number): PartialMessage {
  return { type: 'partial', id, second, contributors, value: { type: 'scalar', n }, late: false }
}

function dropped (merge: MergeCore): Record<string, number> {
  return (merge.debugState().counters as { dropped: Record<string, number> }).dropped
}

test('partials over real libp2p: the hostile ones are refused and counted, a good one merged once, and a peer\'s query answered', async (t) => {
  const key = generateNetworkKey()
  const hosts = new Hosts()
  try {
    const [a, b, stranger] = await Promise.all([hosts.make(key), hosts.make(key), hosts.make(key)])
    const now = Date.now()
    // An instrumentation whose root is A, so that B's query has to cross the network.
    const ID = Array.from({ length: 64 }, (_, i) => `i${i}`).find((id) => holdersOf(membersOf([a.peerId, b.peerId]), instrumentationKey(id), 1)[0] === a.peerId)!
    const merge = createMergeCore({ self: a.peerId, now, members: [a.peerId, b.peerId] })
    const binding = createMergeBinding({ merge, host: a, connect: async () => {}, now: Date.now })
    await binding.start()
    t.teardown(async () => { await binding.stop() })
    binding.run((at) => ({ outputs: merge.setInstrumentation(ID, SPEC, at), result: undefined }))
    await b.dial(a.addresses()[0]!)
    await stranger.dial(a.addresses()[0]!)

    const second = Math.floor(now / 1000) - 2
    const send = async (from: typeof b, bytes: Uint8Array): Promise<void> => { await from.send(a.peerId, MERGE_PROTOCOL, bytes) }
    await send(b, new Uint8Array([1, 2, 3]))
    await send(b, encodeMergeMessage(partial('no-such-id', second, [memberKey(b.peerId)], 1)))
    await send(b, encodeMergeMessage(partial(ID, second, [memberKey(stranger.peerId)], 1)))
    await send(stranger, encodeMergeMessage(partial(ID, second, [memberKey(stranger.peerId)], 1)))
    await send(b, encodeMergeMessage({ type: 'partial', id: ID, second, contributors: [memberKey(b.peerId)], value: { type: 'decomposition', keys: new Map([['x', 1]]), folded: 0 }, late: false }))
    await send(b, encodeMergeMessage(partial(ID, second, [memberKey(b.peerId)], 5)))
    await send(b, encodeMergeMessage(partial(ID, second, [memberKey(b.peerId)], 5)))
    await until('every frame handled', () => {
      const d = dropped(merge)
      return d.malformed + d['unknown-instrumentation'] + d['not-a-member'] + d['wrong-shape'] + d.duplicate >= 6
    })
    const d = dropped(merge)
    t.is(d.malformed, 1, 'bad bytes')
    t.is(d['unknown-instrumentation'], 1)
    t.is(d['not-a-member'], 2, 'a contributor that is not a member, and a sender that is not one')
    t.is(d['wrong-shape'], 1)
    t.is(d.duplicate, 1, 'the same contributor twice for one second')

    // A's own value completes the second; the root's point is B's 5 plus A's 7, counted once each.
    binding.run((at) => ({ outputs: merge.contribute(ID, second, { type: 'scalar', n: 7 }, at), result: undefined }))
    await until('the second finalized', () => merge.queryLocal(ID, second, second + 1).length === 1)
    const [point] = merge.queryLocal(ID, second, second + 1)
    t.deepEqual(point?.value, { type: 'scalar', n: 12 })
    t.is(point?.minreporting, 2)

    // B, not a holder, asks the root over the same protocol.
    const mergeB = createMergeCore({ self: b.peerId, now: Date.now(), members: [a.peerId, b.peerId] })
    const bindingB = createMergeBinding({ merge: mergeB, host: b, connect: async () => {}, now: Date.now })
    await bindingB.start()
    t.teardown(async () => { await bindingB.stop() })
    bindingB.run((at) => ({ outputs: mergeB.setInstrumentation(ID, SPEC, at), result: undefined }))
    const points = await bindingB.query(ID, second, second + 1)
    t.deepEqual(points.map((p) => [p.second, p.value, p.minreporting]), [[second, { type: 'scalar', n: 12 }, 2]])
  } finally {
    await hosts.stopAll()
  }
})

test('a stored point survives the point log\'s encoding, and bytes of another instrumentation are refused', (t) => {
  const point = { second: 1_700_000_000, value: { type: 'scalar' as const, n: 3 }, minreporting: 2, nsources: 3 }
  const bytes = encodeStoredPoint('i1', point)
  const back = decodeStoredPoint('i1', bytes, { shape: 'scalar' })
  t.deepEqual([back.second, back.value, back.minreporting, back.nsources], [point.second, point.value, 2, 3])
  t.throws(() => decodeStoredPoint('i2', bytes, { shape: 'scalar' }))
  t.throws(() => decodeStoredPoint('i1', bytes, { shape: 'decomposition' }))
})
