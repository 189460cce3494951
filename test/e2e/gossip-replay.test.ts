/**
 * Replayed gossip against real daemons. A spy holding the network key (an in-process libp2p node
 * that speaks gossipsub's wire format by hand) subscribes to the definitions topic on one
 * daemon and records the genuine signed messages it is sent. Replaying a definition's creation
 * after its deletion must not bring it back anywhere, and must be counted: as a duplicate by
 * gossipsub's seen cache while the message is recent, as a stale entry by the definition replica
 * once the cache has forgotten it (here: the daemon restarted).
 */
import test from 'ava'
import { join } from 'node:path'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { preSharedKey } from '@libp2p/pnet'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { RPC } from '@libp2p/gossipsub/message'
import { multiaddr } from '@multiformats/multiaddr'
import { decode as lpDecode } from 'it-length-prefixed'
import type { Stream } from '@libp2p/interface'
import { decodeTopicMessage, DEFINITIONS_TOPIC } from '../../node/core/index.js'
import { readNetworkKey } from '../../node/mesh/index.js'
import { pnetKeyBytes } from '../../node/mesh/network-key.js'
import { api, isRunning, keygen, listIds, startDaemon, startMesh, tempDir, waitFor, type Daemon, type Teardown } from './harness.js'

const MESHSUB = '/meshsub/1.2.0'
const CPU = { module: 'cpu', stat: 'cpus', decomposition: ['utilization'] }

interface Counts { duplicates: number, accepted: number, ignoredEntries: number, members: number }
async function counts (d: Daemon): Promise<Counts> {
  const s = (await api(d, 'GET', '/debug/state')).body
  return {
    duplicates: s.host.gossipEnvelope.duplicates as number,
    accepted: (s.host.topics[DEFINITIONS_TOPIC]?.accepted ?? 0) as number,
    ignoredEntries: s.core.definitions.counters.ignored as number,
    members: (s.members as Array<{ state: string }>).filter((m) => m.state === 'alive').length
  }
}

/** The spy: a bare libp2p node with the key, recording every definitions message sent to it. */
async function createSpy (keyFile: string): Promise<{ node: Libp2p, captured: RPC.Message[] }> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionProtector: preSharedKey({ psk: pnetKeyBytes(await readNetworkKey(keyFile)) }),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
    services: { identify: identify() }
  })
  const captured: RPC.Message[] = []
  // Advertising gossipsub (identify) makes the daemons treat the spy as a gossipsub peer.
  await node.handle(MESHSUB, (stream: Stream) => {
    void (async () => {
      try {
        for await (const frame of lpDecode(stream)) {
          for (const m of RPC.decode(frame).messages) if (m.topic === DEFINITIONS_TOPIC) captured.push(m)
        }
      } catch {
        // the daemon closed or reset its stream: nothing more to record
      }
    })()
  })
  return { node, captured }
}

/** Sends one gossipsub RPC to `peer` on a fresh stream (the daemon reads it as the spy's stream). */
async function sendRpc (spy: Libp2p, peer: string, rpc: RPC): Promise<void> {
  const stream = await spy.dialProtocol(peerIdFromString(peer), MESHSUB, { signal: AbortSignal.timeout(5000) })
  await lpStream(stream).write(RPC.encode(rpc), { signal: AbortSignal.timeout(5000) })
}

const subscribe: RPC = { subscriptions: [{ subscribe: true, topic: DEFINITIONS_TOPIC }], messages: [] }

test('a creation replayed after its deletion resurrects nothing and is counted as a duplicate, then as stale after a restart', async (t) => {
  t.timeout(150_000)
  const cleanups: Array<() => Promise<void> | void> = []
  const scope: Teardown = { teardown: (fn) => { cleanups.push(fn) } }
  t.teardown(async () => { for (const fn of cleanups.reverse()) await fn() })
  const dir = await tempDir(scope, 'replay')
  const key = join(dir, 'network.key')
  await keygen(key)
  const mesh = await startMesh(scope, 3, { key, dir })
  const [a, b, c] = mesh as [Daemon, Daemon, Daemon]
  await waitFor('three members alive everywhere', 60_000, async () => (await Promise.all(mesh.map(counts))).every((x) => x.members === 3), 200)

  const { node: spy, captured } = await createSpy(key)
  cleanups.push(async () => { await spy.stop() })
  await spy.dial(multiaddr(a.addresses[0]!))
  // A takes the spy's subscription once identify has told it the spy speaks gossipsub: resend
  // until A has grafted the spy into its mesh for the topic.
  await waitFor('A grafts the spy', 30_000, async () => {
    await sendRpc(spy, a.peerId, subscribe)
    const s = (await api(a, 'GET', '/debug/state')).body
    return (s.host.gossipMesh[DEFINITIONS_TOPIC] as string[]).includes(spy.peerId.toString())
  }, 500)

  // Capture: a genuine creation, signed by A.
  const id = (await api(a, 'POST', '/ca/instrumentations', CPU)).body.id as string
  const isCreation = (m: RPC.Message): boolean => {
    const message = decodeTopicMessage(m.data ?? new Uint8Array(0))
    return message.type === 'def-update' && message.entries.some((e) => e.id === id && e.state === 'live')
  }
  await waitFor('the spy captures the creation', 30_000, async () => captured.some(isCreation))
  const creation = captured.find(isCreation)!
  t.deepEqual(creation.from, peerIdFromString(a.peerId).toMultihash().bytes, 'the message is A\'s, signed by A')
  t.true((creation.signature?.byteLength ?? 0) > 0)
  await waitFor('running everywhere', 45_000, async () => (await Promise.all(mesh.map(async (d) => await isRunning(d, id)))).every(Boolean))

  t.is((await api(a, 'DELETE', `/ca/instrumentations/${id}`)).status, 204)
  await waitFor('deleted everywhere', 45_000, async () => (await Promise.all(mesh.map(listIds))).every((ids) => !ids.includes(id)))
  await new Promise((resolve) => setTimeout(resolve, 1000)) // the delete's own echoes settle

  // Replay to B while the message is recent: gossipsub's seen cache drops it as a duplicate.
  await spy.dial(multiaddr(b.addresses[0]!))
  const before = await counts(b)
  await waitFor('B counts the replay as a duplicate', 30_000, async () => {
    await sendRpc(spy, b.peerId, { ...subscribe, messages: [creation] })
    return (await counts(b)).duplicates > before.duplicates
  }, 500)
  const after = await counts(b)
  t.is(after.accepted, before.accepted, 'the duplicate never reached the validator')
  t.is(after.ignoredEntries, before.ignoredEntries)
  for (const d of mesh) t.false((await listIds(d)).includes(id), `${d.name} does not list the replayed definition`)

  // Restart B: its seen cache is gone, its tombstone is on disk. The replay now reaches the
  // definition replica, which keeps the tombstone (a deletion beats any live version) and counts it.
  await b.stop()
  const b2 = await startDaemon(scope, { name: 'B', dataDir: b.dataDir, key, bootstrap: a.addresses })
  await waitFor('B back in the mesh', 60_000, async () => (await counts(b2)).members === 3, 200)
  await spy.dial(multiaddr(b2.addresses[0]!))
  const fresh = await counts(b2)
  await waitFor('B\'s replica counts the replayed entry as stale', 30_000, async () => {
    await sendRpc(spy, b2.peerId, { ...subscribe, messages: [creation] })
    return (await counts(b2)).ignoredEntries > fresh.ignoredEntries
  }, 500)
  const stale = await counts(b2)
  t.true(stale.accepted > fresh.accepted, 'the signed, well-formed message passed the validator')
  await new Promise((resolve) => setTimeout(resolve, 1000)) // time for a resurrection to show, had there been one
  for (const d of [a, b2, c]) {
    t.false((await listIds(d)).includes(id), `${d.name} does not list the replayed definition`)
    t.false(await isRunning(d, id))
  }
  t.deepEqual(await listIds(b2), [])
})
