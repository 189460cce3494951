/**
 * The gossipsub model on a bare host (fixed 1 ms links, nodes up or down, optional loss):
 * mesh degrees, flood publishing, dedup, IHAVE/IWANT repair, mesh repair after a crash.
 */
import test from 'ava'
import { createRng, type TopicMessage } from '../../node/core/index.js'
import { GOSSIPSUB, GossipModel, RPC_BYTES, type GossipRpc } from '../../sim/gossipsub.js'

const PAYLOAD: TopicMessage = { type: 'def-access', id: '0123456789abcdef', at: 1 }

interface Harness {
  model: GossipModel
  up: boolean[]
  delivered: number[][]
  sent: number[]
  run: (until: number) => void
}

function harness (n: number, options: { loss?: (from: number, to: number, rpc: GossipRpc) => boolean, connections?: number } = {}): Harness {
  const up = Array.from({ length: n }, () => true)
  const delivered: number[][] = Array.from({ length: n }, () => [])
  const sent = new Array<number>(n).fill(0)
  let events: Array<{ at: number, seq: number, run: () => void }> = []
  let seq = 0
  let now = 0
  const model: GossipModel = new GossipModel(n, options.connections ?? 32, {
    isUp: (i) => up[i] === true,
    send: (from, to, rpc, bytes, at) => {
      sent[from] = (sent[from] ?? 0) + bytes
      if (options.loss?.(from, to, rpc) === true) return
      events.push({ at: at + 1, seq: ++seq, run: () => { if (up[to] === true) model.receive(to, from, rpc, now) } })
    },
    deliver: (i, m) => { delivered[i]?.push(m.id) },
    armHeartbeat: (i, at) => { events.push({ at, seq: ++seq, run: () => { model.heartbeat(i, now) } }) }
  }, createRng('gossip-test'))
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
  return { model, up, delivered, sent, run }
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
  t.true((h.sent[7] ?? 0) >= h.model.peers(7).length * (100 + RPC_BYTES.messageOverhead))
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
