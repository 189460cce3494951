/**
 * The gossipsub model on a bare host (fixed 1 ms links, nodes up or down, optional loss):
 * mesh degrees, flood publishing, dedup, IHAVE/IWANT repair, mesh repair after a crash, the
 * IHAVE fan-out (gossipFactor), determinism, and frame sizes against gossipsub's own codec.
 */
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { RPC } from '@libp2p/gossipsub/message'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import test from 'ava'
import { createRng, DEFINITIONS_TOPIC, type TopicMessage } from '../../node/core/index.js'
import { frameBytes, GOSSIPSUB, GossipModel, ihaveFanout, RPC_BYTES, type GossipCpu, type GossipRpc } from '../../sim/gossipsub.js'

const PAYLOAD: TopicMessage = { type: 'def-access', id: '0123456789abcdef', at: 1 }

/** One frame the model sent. */
interface Frame {
  readonly at: number
  readonly from: number
  readonly to: number
  readonly kind: GossipRpc['kind']
  readonly bytes: number
}

interface Harness {
  model: GossipModel
  up: boolean[]
  delivered: number[][]
  /** When each delivery happened, by node (as delivered). */
  deliveredAt: number[][]
  sent: number[]
  /** Every frame sent, in order. */
  frames: Frame[]
  run: (until: number) => void
}

function harness (n: number, options: { loss?: (from: number, to: number, rpc: GossipRpc) => boolean, connections?: number, seed?: string, cpu?: GossipCpu } = {}): Harness {
  const up = Array.from({ length: n }, () => true)
  const delivered: number[][] = Array.from({ length: n }, () => [])
  const deliveredAt: number[][] = Array.from({ length: n }, () => [])
  const sent = new Array<number>(n).fill(0)
  const frames: Frame[] = []
  let events: Array<{ at: number, seq: number, run: () => void }> = []
  let seq = 0
  let now = 0
  const model: GossipModel = new GossipModel(n, options.connections ?? 32, {
    isUp: (i) => up[i] === true,
    send: (from, to, rpc, bytes, at) => {
      sent[from] = (sent[from] ?? 0) + bytes
      frames.push({ at, from, to, kind: rpc.kind, bytes })
      if (options.loss?.(from, to, rpc) === true) return
      events.push({ at: at + 1, seq: ++seq, run: () => { if (up[to] === true) model.receive(to, from, rpc, now) } })
    },
    deliver: (i, m, at) => { delivered[i]?.push(m.id); deliveredAt[i]?.push(at) },
    armHeartbeat: (i, at) => { events.push({ at, seq: ++seq, run: () => { model.heartbeat(i, now) } }) },
    later: (at, run) => { events.push({ at, seq: ++seq, run }) }
  }, createRng(options.seed ?? 'gossip-test'), options.cpu)
  const run = (until: number): void => {
    for (;;) {
      events.sort((a, b) => a.at - b.at || a.seq - b.seq)
      const e = events[0]
      if (e === undefined || e.at > until) break
      events = events.slice(1)
      now = e.at
      e.run()
    }
    now = until
  }
  return { model, up, delivered, deliveredAt, sent, frames, run }
}

test('after subscription every mesh degree is between D_lo and D_hi, and links are mutual', (t) => {
  const { model } = harness(300)
  for (let i = 0; i < 300; i++) {
    const mesh = model.mesh(i)
    t.true(mesh.length >= GOSSIPSUB.Dlo && mesh.length <= GOSSIPSUB.Dhi, `node ${i}: ${mesh.length}`)
    for (const j of mesh) t.true(model.mesh(j).includes(i))
  }
})

test('a publication reaches every node once, and duplicates are dropped', (t) => {
  const h = harness(300)
  h.model.publish(7, PAYLOAD, 100, 0)
  h.run(10_000)
  t.true(h.delivered.every((ids, i) => (i === 7 ? ids.length === 0 : ids.length === 1)))
  t.is(h.model.counters.delivered, 299)
  t.true(h.model.counters.duplicates > 0)
  // The author's flood publication: every peer once, payload plus envelope.
  t.true((h.sent[7] ?? 0) >= h.model.peers(7).length * frameBytes.message(100))
})

test('a message received first costs its node the CPU time before it is delivered and forwarded, one at a time', (t) => {
  // Fixed 1 ms links: with no processing time every node has it by 1 ms per hop; with 3 ms per
  // message each hop adds 3 ms, and copies forwarded at 4 ms reach the next hop at 5 ms.
  const h = harness(60, { cpu: { ms: 3, shared: false } })
  h.model.publish(0, PAYLOAD, 100, 0)
  h.run(10_000)
  t.is(h.model.counters.delivered, 59)
  const first = h.model.peers(0)
  for (const j of first) t.deepEqual(h.deliveredAt[j], [4], `direct peer ${j}: arrives at 1, processed until 4`)
  const later = h.deliveredAt.flatMap((at, i) => (i === 0 || first.includes(i) ? [] : at))
  t.true(later.length > 0 && later.every((at) => at >= 8), `the next hop: 4 + 1 + 3 at the earliest, got ${Math.min(...later)}`)
  // Forwards leave when the processing ends, not when the frame arrived.
  const forwarded = h.frames.filter((f) => f.kind === 'message' && f.from !== 0)
  t.true(forwarded.length > 0 && forwarded.every((f) => f.at >= 4))
})

test('with one shared CPU the nodes take turns: the k-th delivery ends k × ms after the first arrival', (t) => {
  // Everyone is the author's peer (flood publishing reaches all at 1 ms): 19 deliveries in a row.
  const h = harness(20, { connections: 40, cpu: { ms: 2, shared: true } })
  h.model.publish(0, PAYLOAD, 100, 0)
  h.run(10_000)
  const at = h.deliveredAt.flat().sort((a, b) => a - b)
  t.deepEqual(at, Array.from({ length: 19 }, (_, k) => 1 + 2 * (k + 1)))
})

test('a node that crashes while it processes a message neither forwards nor delivers it', (t) => {
  const h = harness(30, { connections: 60, cpu: { ms: 5, shared: false } })
  h.model.publish(0, PAYLOAD, 100, 0)
  h.run(2) // node 1 received it at 1 ms and is busy until 6
  h.up[1] = false
  h.model.nodeDown(1, 2)
  h.run(10_000)
  t.deepEqual(h.delivered[1], [])
  t.false(h.frames.some((f) => f.from === 1 && f.kind === 'message'))
  t.is(h.model.counters.delivered, 29, 'counted on arrival, as gossipsub\'s seen-cache')
})

test('a node whose mesh holds D_hi refuses a graft with a PRUNE; below, it takes the grafter in', (t) => {
  const h = harness(40, { connections: 80 })
  const j = 0
  const outside = Array.from({ length: 40 }, (_, i) => i).filter((i) => i !== j && !h.model.mesh(j).includes(i))
  for (const i of outside) {
    const before = h.model.mesh(j).length
    h.model.receive(j, i, { kind: 'graft' }, 0)
    if (before < GOSSIPSUB.Dhi) t.true(h.model.mesh(j).includes(i), `taken at ${before}`)
    else {
      t.false(h.model.mesh(j).includes(i), `refused at ${before}`)
      t.true(h.frames.some((f) => f.from === j && f.to === i && f.kind === 'prune'))
    }
  }
  t.is(h.model.mesh(j).length, GOSSIPSUB.Dhi)
})

test('gossip repairs what the mesh lost: IHAVE, IWANT, then the message', (t) => {
  // Node 5 gets no message pushed to it: only what it asks for with IWANT gets through.
  let asked = false
  const h = harness(100, {
    loss: (from, to, rpc) => {
      if (from === 5 && rpc.kind === 'iwant') asked = true
      return to === 5 && rpc.kind === 'message' && !asked
    }
  })
  h.model.publish(0, PAYLOAD, 100, 0)
  h.run(10_000)
  t.true(asked)
  t.deepEqual(h.delivered[5], [0])
  t.true(h.model.counters.ihave > 0 && h.model.counters.iwant > 0)
})

test('when a mesh peer crashes, its peers graft others at their next heartbeat', (t) => {
  const h = harness(200)
  const victim = 3
  const neighbours = [...h.model.mesh(victim)]
  h.up[victim] = false
  h.model.nodeDown(victim, 0)
  h.run(3000)
  for (const k of neighbours) {
    t.false(h.model.mesh(k).includes(victim))
    t.true(h.model.mesh(k).length >= GOSSIPSUB.Dlo)
  }
  h.up[victim] = true
  h.model.nodeUp(victim, 3000)
  h.run(6000)
  t.true(h.model.mesh(victim).length >= GOSSIPSUB.Dlo)
})

test('a node with nothing to gossip and a healthy mesh schedules no heartbeat', (t) => {
  const h = harness(50)
  let beats = 0
  const original = h.model.heartbeat.bind(h.model)
  h.model.heartbeat = (i, now) => { beats++; original(i, now) }
  h.run(60_000)
  t.is(beats, 0)
  h.model.publish(1, PAYLOAD, 10, 60_000)
  h.run(80_000)
  // Each node gossips for history_length heartbeats after it received the message, then stops.
  t.true(beats >= 50 * GOSSIPSUB.historyGossip && beats <= 50 * (GOSSIPSUB.historyLength + 1), `${beats} heartbeats`)
})

test('IHAVE goes to gossipFactor of the peers outside the mesh, at least D_lazy, at most all', (t) => {
  t.is(ihaveFanout(0), 0)
  t.is(ihaveFanout(4), 4)
  t.is(ihaveFanout(6), 6)
  t.is(ihaveFanout(27), 6)
  t.is(ihaveFanout(28), 7)
  // 0.25 x 67 = 16.75: gossipsub slices 16 peers.
  t.is(ihaveFanout(67), 16)
  t.is(ihaveFanout(94), 23)
})

test('with 100 peers each, every heartbeat that announces a message sends IHAVE to a quarter of the peers outside the mesh', (t) => {
  // 101 nodes dialling 100 each (random draws, a bounded number of tries): nearly every pair is
  // connected, as in calibration.
  const n = 101
  const h = harness(n, { connections: 2 * (n - 1) })
  h.model.publish(0, PAYLOAD, 100, 0)
  h.run(10_000)
  t.is(h.model.counters.grafts + h.model.counters.prunes, 0) // so the meshes stayed as they are now
  let total = 0
  for (let i = 0; i < n; i++) {
    const peers = h.model.peers(i)
    const mesh = h.model.mesh(i)
    t.true(peers.length >= n - 3, `node ${i}: ${peers.length} peers`)
    const fanout = ihaveFanout(peers.length - mesh.length)
    t.true(fanout > GOSSIPSUB.Dlazy, `node ${i}: ${fanout}`)
    const ihave = h.frames.filter((f) => f.kind === 'ihave' && f.from === i)
    // One heartbeat a second, each message announced for history_gossip of them.
    const beats = [...new Set(ihave.map((f) => f.at))]
    t.is(beats.length, GOSSIPSUB.historyGossip, `node ${i}`)
    for (const at of beats) {
      const to = ihave.filter((f) => f.at === at).map((f) => f.to)
      t.is(to.length, fanout, `node ${i} at ${at}`)
      t.is(new Set(to).size, to.length)
      t.true(to.every((j) => !mesh.includes(j)))
    }
    total += ihave.length
  }
  t.is(h.model.counters.ihave, total)
})

test('the same seed gives the same frames, another seed other frames', (t) => {
  const trace = (seed: string): Frame[] => {
    const h = harness(120, { connections: 64, seed })
    h.model.publish(3, PAYLOAD, 100, 0)
    h.model.publish(50, PAYLOAD, 200, 1500)
    h.up[9] = false
    h.model.nodeDown(9, 2000)
    h.run(10_000)
    return h.frames
  }
  const a = trace('seed-a')
  t.true(a.some((f) => f.kind === 'ihave'))
  t.deepEqual(trace('seed-a'), a)
  t.notDeepEqual(trace('seed-b'), a)
})

test('frames cost what gossipsub\'s own protobuf codec makes of them', async (t) => {
  const key = await generateKeyPair('Ed25519')
  const from = peerIdFromPrivateKey(key).toMultihash().bytes
  const publicKey = publicKeyToProtobuf(key.publicKey)
  const seqno = new Uint8Array(8).fill(0xab)
  // msgIdFnStrictSign: the key's protobuf form, then the seqno.
  const messageId = new Uint8Array([...publicKey, ...seqno])
  t.is(from.length, RPC_BYTES.from)
  t.is(publicKey.length, RPC_BYTES.key)
  t.is(messageId.length, RPC_BYTES.messageId)
  const control = (c: Partial<RPC.ControlMessage>): RPC => ({ subscriptions: [], messages: [], control: { ihave: [], iwant: [], graft: [], prune: [], idontwant: [], ...c } })
  for (const payload of [1, 100, 127, 128, 415, 600, 20_000]) {
    const data = new Uint8Array(payload).fill(7)
    const unsigned = { from, data, seqno, topic: DEFINITIONS_TOPIC }
    const signature = await key.sign(RPC.Message.encode(unsigned))
    t.is(signature.length, RPC_BYTES.signature)
    const rpc: RPC = { subscriptions: [], messages: [{ ...unsigned, signature, key: publicKey }] }
    t.is(frameBytes.message(payload), RPC.encode(rpc).length, `payload ${payload}`)
  }
  for (const ids of [1, 2, 3, 10, 300]) {
    const messageIDs = Array.from({ length: ids }, () => messageId)
    t.is(frameBytes.ihave(ids), RPC.encode(control({ ihave: [{ topicID: DEFINITIONS_TOPIC, messageIDs }] })).length, `IHAVE of ${ids}`)
    t.is(frameBytes.iwant(ids), RPC.encode(control({ iwant: [{ messageIDs }] })).length, `IWANT of ${ids}`)
  }
  t.is(frameBytes.graft, RPC.encode(control({ graft: [{ topicID: DEFINITIONS_TOPIC }] })).length)
  // makePrune without peer exchange: the topic and a 60 s backoff.
  t.is(frameBytes.prune, RPC.encode(control({ prune: [{ topicID: DEFINITIONS_TOPIC, peers: [], backoff: 60 }] })).length)
  // What calibration measured on the real stack: IHAVE of one id, 63 bytes; GRAFT, 17.
  t.is(frameBytes.ihave(1), 63)
  t.is(frameBytes.graft, 17)
})
