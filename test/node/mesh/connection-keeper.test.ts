/**
 * The connection keeper's rule, with a fake host: which members it dials, and when.
 */
import test from 'ava'
import { ConnectionKeeper } from '../../../node/mesh/connection-keeper.js'
import { seededRandom } from './hosts.js'

/**
 * A fake host: `connect` succeeds unless the peer is listed as unreachable; with `slow`, only
 * after a turn of the event loop (a dial in flight).
 */
function fakeHost (connected: string[] = [], unreachable: string[] = [], slow = false): {
  keeper: (minPeers: number) => ConnectionKeeper
  connected: Set<string>
  dialed: string[]
} {
  const state = { connected: new Set(connected), dialed: [] as string[] }
  return {
    ...state,
    keeper: (minPeers) => new ConnectionKeeper({
      peers: () => [...state.connected],
      connect: async (peer) => {
        state.dialed.push(peer)
        if (slow) await new Promise((resolve) => setImmediate(resolve))
        if (unreachable.includes(peer)) throw new Error('unreachable')
        state.connected.add(peer)
      },
      random: seededRandom(7)
    }, { self: 'me', minPeers })
  }
}

const settle = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

test('below minPeers, each member that joins is dialed at once; this node never', async (t) => {
  const host = fakeHost(['seed'])
  const keeper = host.keeper(3)
  for (const peer of ['seed', 'me', 'x', 'y', 'z']) keeper.memberChanged(peer, 'joined')
  await settle()
  t.deepEqual(host.dialed, ['x', 'y'], 'the seed was connected already; z came when three were')
  t.deepEqual([...host.connected].sort(), ['seed', 'x', 'y'])
  t.is(keeper.liveMembers, 4)
})

test('a join that reports many members at once dials only up to minPeers', async (t) => {
  const host = fakeHost([], [], true)
  const keeper = host.keeper(3)
  for (let i = 0; i < 100; i++) keeper.memberChanged(`m${i}`, 'joined')
  await settle()
  await settle()
  t.deepEqual(host.dialed, ['m0', 'm1', 'm2'])
  t.is(host.connected.size, 3)
})

test('a lost connection is replaced by a live member not yet connected', async (t) => {
  const host = fakeHost(['a', 'b'])
  const keeper = host.keeper(2)
  for (const peer of ['a', 'b', 'c', 'd']) keeper.memberChanged(peer, 'joined')
  keeper.memberChanged('d', 'left')
  await settle()
  t.deepEqual(host.dialed, [])
  host.connected.delete('a')
  keeper.peerDisconnected('a')
  await settle()
  // a (just lost) and c are candidates; d left and b is connected.
  t.is(host.dialed.length, 1)
  t.true(['a', 'c'].includes(host.dialed[0]!))
  t.is(host.connected.size, 2)
})

test('an unreachable member counts as a failed dial and is not retried in a loop', async (t) => {
  const host = fakeHost([], ['x'])
  const keeper = host.keeper(4)
  keeper.memberChanged('x', 'joined')
  await settle()
  t.deepEqual(host.dialed, ['x'])
  t.like(keeper.counters, { dials: 1, dialFailures: 1 })
  await settle()
  t.is(host.dialed.length, 1)
})

test('a member declared dead is no longer a candidate, but its connection is left alone; a suspected one stays a candidate', async (t) => {
  const host = fakeHost(['a', 'b'])
  const keeper = host.keeper(8)
  keeper.memberChanged('a', 'joined')
  keeper.memberChanged('b', 'joined')
  keeper.memberChanged('a', 'suspected')
  keeper.memberChanged('b', 'failed')
  await settle()
  t.true(host.connected.has('b'), 'a member declared dead on a loaded machine is often alive: its connection stays')
  t.is(keeper.liveMembers, 1)
  host.connected.delete('a')
  host.connected.delete('b')
  keeper.peerDisconnected('a')
  keeper.peerDisconnected('b')
  await settle()
  t.deepEqual(host.dialed, ['a'], 'the dead member is not redialed; the suspected one is')
  keeper.memberChanged('b', 'joined')
  await settle()
  t.deepEqual(host.dialed, ['a', 'b'], 'a member back from the dead is dialed again')
})

test('after stop nothing is dialed', async (t) => {
  const host = fakeHost()
  const keeper = host.keeper(8)
  keeper.stop()
  keeper.memberChanged('a', 'joined')
  keeper.peerDisconnected('a')
  await settle()
  t.deepEqual(host.dialed, [])
})

test('minPeers must be a non-negative integer', (t) => {
  t.throws(() => fakeHost().keeper(-1), { instanceOf: RangeError })
  t.throws(() => fakeHost().keeper(1.5), { instanceOf: RangeError })
})
