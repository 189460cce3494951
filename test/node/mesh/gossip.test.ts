/**
 * The gossip rate limit and the score it feeds, on real hosts over 127.0.0.1 TCP: a token bucket
 * per author in the topic hook, the excess of a neighbour's own messages rejected (and scored
 * against it), the excess of relayed messages ignored (and the relay left alone).
 */
import test from 'ava'
import { validateTopicScoreParams } from '@libp2p/gossipsub/score'
import { generateNetworkKey, type MeshHost } from '../../../node/mesh/index.js'
import { TOPIC_SCORE_PARAMS } from '../../../node/mesh/gossip.js'
import { Hosts, sleep, until } from './hosts.js'

const TOPIC = 'test-rate'
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const str = (b: Uint8Array): string => new TextDecoder().decode(b)
/** Three messages at once, then (practically) nothing: the outcome does not depend on timing. */
const TIGHT = { perSecond: 0.001, burst: 3 }

function record (host: MeshHost): Array<[string, string]> {
  const got: Array<[string, string]> = []
  host.subscribe(TOPIC, (from, data) => { got.push([from, str(data)]) })
  return got
}

test('the topic score parameters pass gossipsub\'s own validation and score nothing but invalid messages', (t) => {
  t.notThrows(() => { validateTopicScoreParams(TOPIC_SCORE_PARAMS) })
  t.like(TOPIC_SCORE_PARAMS, { timeInMeshWeight: 0, firstMessageDeliveriesWeight: 0, meshMessageDeliveriesWeight: 0, meshFailurePenaltyWeight: 0 })
  t.true(TOPIC_SCORE_PARAMS.invalidMessageDeliveriesWeight < 0)
})

test('a neighbour publishing over its rate has the excess rejected and counted, loses score, and does not starve another author', async (t) => {
  const key = generateNetworkKey()
  const hosts = new Hosts()
  try {
    const a = await hosts.make(key, { gossipRate: TIGHT })
    const [b, c] = await Promise.all([hosts.make(key), hosts.make(key)])
    await b.dial(a.addresses()[0] as string)
    await c.dial(a.addresses()[0] as string)
    const atA = record(a)
    b.subscribe(TOPIC, () => {})
    c.subscribe(TOPIC, () => {})
    await until('the gossip mesh forms', () => a.meshPeers(TOPIC).length === 2 && b.meshPeers(TOPIC).length === 1)

    for (let i = 0; i < 20; i++) await b.publish(TOPIC, text(`flood ${i}`))
    await until('A has judged all 20', () => (a.debugState().topics[TOPIC]?.rateLimited ?? 0) + atA.length >= 20)
    t.deepEqual(atA.map(([, m]) => m), ['flood 0', 'flood 1', 'flood 2'], 'the burst is delivered, in order')
    t.like(a.debugState().topics[TOPIC], { accepted: 3, rejected: 17, ignored: 0, rateLimited: 17, invalid: 0 })
    t.regex(a.debugState().topics[TOPIC]?.lastRejection ?? '', /over the rate/)
    // gossipsub caches a score for up to a heartbeat, and the penalty decays within seconds.
    await until('B\'s score at A turns negative', () => a.gossipScore(b.peerId) < 0, 3000)

    await c.publish(TOPIC, text('from c'))
    await until('C\'s message is delivered', () => atA.length === 4)
    t.deepEqual(atA[3], [c.peerId, 'from c'])
    t.true(a.gossipScore(c.peerId) >= 0)
  } finally {
    await hosts.stopAll()
  }
})

test('a relayed message over its author\'s rate is ignored, not forwarded, and the relay keeps its score', async (t) => {
  const key = generateNetworkKey()
  const hosts = new Hosts()
  try {
    // A line: author C - relay B - A. B's limit is the default (a burst of 100), A's is tight.
    const a = await hosts.make(key, { gossipRate: TIGHT })
    const [b, c, d] = await Promise.all([hosts.make(key), hosts.make(key), hosts.make(key)])
    await b.dial(a.addresses()[0] as string)
    await c.dial(b.addresses()[0] as string)
    await d.dial(a.addresses()[0] as string) // behind A, to see what A forwards
    const atA = record(a)
    const atB = record(b)
    const atD = record(d)
    c.subscribe(TOPIC, () => {})
    await until('the gossip mesh forms', () => a.meshPeers(TOPIC).length === 2 && b.meshPeers(TOPIC).length === 2)

    for (let i = 0; i < 10; i++) await c.publish(TOPIC, text(`relayed ${i}`))
    await until('B relays all 10', () => atB.length === 10)
    await until('A has judged all 10', () => (a.debugState().topics[TOPIC]?.rateLimited ?? 0) + atA.length >= 10)
    t.true(atA.every(([from]) => from === c.peerId))
    t.is(atA.length, 3)
    t.like(a.debugState().topics[TOPIC], { accepted: 3, rejected: 0, ignored: 7, rateLimited: 7 })
    await until('D gets what A accepted', () => atD.length === 3)
    await sleep(1200) // past gossipsub's score cache (one heartbeat)
    t.true(a.gossipScore(b.peerId) >= 0, 'the relay is not penalised for the author\'s flood')
    t.is(atD.length, 3, 'A forwarded only what it accepted')
  } finally {
    await hosts.stopAll()
  }
})

test('a duplicate of a message already seen is dropped by gossipsub and counted', async (t) => {
  const key = generateNetworkKey()
  const hosts = new Hosts()
  try {
    // A triangle: B's message reaches C directly and again through A.
    const [a, b, c] = await Promise.all([hosts.make(key), hosts.make(key), hosts.make(key)])
    await b.dial(a.addresses()[0] as string)
    await c.dial(a.addresses()[0] as string)
    await c.dial(b.addresses()[0] as string)
    const [atA, atC] = [record(a), record(c)]
    b.subscribe(TOPIC, () => {})
    await until('the gossip mesh forms', () => a.meshPeers(TOPIC).length === 2 && b.meshPeers(TOPIC).length === 2 && c.meshPeers(TOPIC).length === 2)
    await b.publish(TOPIC, text('once'))
    await until('A and C get it', () => atA.length === 1 && atC.length === 1)
    await until('a second copy reaches A or C and is counted', () => a.debugState().gossipEnvelope.duplicates + c.debugState().gossipEnvelope.duplicates >= 1)
    await sleep(200)
    t.deepEqual([atA.length, atC.length], [1, 1], 'delivered once each')
  } finally {
    await hosts.stopAll()
  }
})
