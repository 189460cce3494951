/**
 * One-way messages on long-lived streams, on real hosts over 127.0.0.1 TCP: order, one stream
 * per peer and protocol, frame limits both ways, a restarted peer, a missing handler, stop.
 */
import test from 'ava'
import { generateIdentity, generateNetworkKey, MeshRequestError } from '../../../node/mesh/index.js'
import { freePort, Hosts, until } from './hosts.js'

const PROTOCOL = '/heatmesh-test/messages/1.0.0'
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const str = (b: Uint8Array): string => new TextDecoder().decode(b)

test('messages sent to a peer arrive in the order sent, on one stream, with the sender named', async (t) => {
  const key = generateNetworkKey()
  const hosts = new Hosts()
  try {
    const [a, b] = await Promise.all([hosts.make(key), hosts.make(key)])
    const got: Array<[string, string]> = []
    await a.handleMessages(PROTOCOL, (from, message) => { got.push([from, str(message)]) })
    await b.dial(a.addresses()[0] as string)
    // Sent without waiting for each other: the channel keeps them in order.
    await Promise.all(Array.from({ length: 50 }, async (_, i) => { await b.send(a.peerId, PROTOCOL, text(String(i))) }))
    await b.send(a.peerId, PROTOCOL, new Uint8Array(0))
    await until('A receives all 51', () => got.length === 51)
    t.deepEqual(got.map(([, m]) => m), [...Array.from({ length: 50 }, (_, i) => String(i)), ''])
    t.true(got.every(([from]) => from === b.peerId))
    t.like(b.debugState().channels, { sent: 51, opened: 1, open: 1 })
    t.like(a.debugState().channels, { received: 51, failedStreams: 0 })
    t.true(a.debugState().protocols.includes(PROTOCOL))
  } finally {
    await hosts.stopAll()
  }
})

test('a message over our frame limit is refused before anything is sent', async (t) => {
  const key = generateNetworkKey()
  const hosts = new Hosts()
  try {
    const [a, b] = await Promise.all([hosts.make(key), hosts.make(key, { maxFrameBytes: 1024 })])
    await a.handleMessages(PROTOCOL, () => {})
    const err = await t.throwsAsync(b.send(a.peerId, PROTOCOL, new Uint8Array(1025)), { instanceOf: MeshRequestError })
    t.is(err?.failure, 'too-large')
    t.is(err?.code, 'ECA_INVAL')
    t.is(b.debugState().channels.opened, 0)
  } finally {
    await hosts.stopAll()
  }
})

test('an inbound frame over the limit is refused from its prefix, the stream reset, and the next send gets through on a new one', async (t) => {
  const key = generateNetworkKey()
  const hosts = new Hosts()
  try {
    const a = await hosts.make(key, { maxFrameBytes: 1024 })
    const b = await hosts.make(key)
    const got: number[] = []
    await a.handleMessages(PROTOCOL, (_from, message) => { got.push(message.byteLength) })
    await b.dial(a.addresses()[0] as string)
    await b.send(a.peerId, PROTOCOL, new Uint8Array(100))
    await b.send(a.peerId, PROTOCOL, new Uint8Array(64 * 1024))
    await until('A refuses the oversized frame', () => a.debugState().channels.oversizedFrames === 1)
    await until('B sees its stream reset', () => b.debugState().channels.open === 0)
    await b.send(a.peerId, PROTOCOL, new Uint8Array(1024))
    await until('the next message arrives', () => got.length === 2)
    t.deepEqual(got, [100, 1024])
    t.is(b.debugState().channels.opened, 2)
    t.deepEqual(b.peers(), [a.peerId], 'the connection survived')
  } finally {
    await hosts.stopAll()
  }
})

test('messages reach a peer restarted with the same identity, on a new stream', async (t) => {
  const key = generateNetworkKey()
  const hosts = new Hosts()
  try {
    const identity = await generateIdentity()
    const port = await freePort()
    const listen = [`/ip4/127.0.0.1/tcp/${port}`]
    const got: string[] = []
    const b1 = await hosts.make(key, { identity, listen })
    await b1.handleMessages(PROTOCOL, (_from, message) => { got.push(`b1 ${str(message)}`) })
    const a = await hosts.make(key)
    await a.dial(b1.addresses()[0] as string)
    await a.send(b1.peerId, PROTOCOL, text('one'))
    await until('B1 gets the first', () => got.length === 1)
    await b1.stop()
    await until('A notices', () => a.peers().length === 0)
    const b2 = await hosts.make(key, { identity, listen })
    await b2.handleMessages(PROTOCOL, (_from, message) => { got.push(`b2 ${str(message)}`) })
    await a.dial(b2.addresses()[0] as string)
    await a.send(b2.peerId, PROTOCOL, text('two'))
    await until('B2 gets the second', () => got.length === 2)
    t.deepEqual(got, ['b1 one', 'b2 two'])
    t.is(a.debugState().channels.opened, 2)
  } finally {
    await hosts.stopAll()
  }
})

test('a send fails with a named failure: no handler there, nobody there, host stopped', async (t) => {
  const key = generateNetworkKey()
  const hosts = new Hosts()
  try {
    const [a, b] = await Promise.all([hosts.make(key), hosts.make(key)])
    await b.dial(a.addresses()[0] as string)
    const unsupported = await t.throwsAsync(b.send(a.peerId, PROTOCOL, text('x')), { instanceOf: MeshRequestError })
    t.is(unsupported?.failure, 'unsupported')
    const nobody = (await generateIdentity()).peerId
    const unreachable = await t.throwsAsync(b.send(nobody, PROTOCOL, text('x'), { timeoutMs: 2000 }), { instanceOf: MeshRequestError })
    t.true(unreachable?.failure === 'unreachable' || unreachable?.failure === 'timeout', unreachable?.message)
    await b.stop()
    const stopped = await t.throwsAsync(b.send(a.peerId, PROTOCOL, text('x')), { instanceOf: MeshRequestError })
    t.is(stopped?.failure, 'stopped')
  } finally {
    await hosts.stopAll()
  }
})

test('a protocol has either a request handler or a message handler, and unhandle removes either', async (t) => {
  const key = generateNetworkKey()
  const hosts = new Hosts()
  try {
    const a = await hosts.make(key)
    await a.handle('/heatmesh-test/req/1.0.0', (_from, request) => request)
    await t.throwsAsync(a.handleMessages('/heatmesh-test/req/1.0.0', () => {}), { message: /already registered/ })
    await a.handleMessages(PROTOCOL, () => {})
    await t.throwsAsync(a.handleMessages(PROTOCOL, () => {}), { message: /already registered/ })
    await t.throwsAsync(a.handle(PROTOCOL, (_from, request) => request), { message: /already registered/ })
    await a.unhandle(PROTOCOL)
    await a.unhandle('/heatmesh-test/req/1.0.0')
    t.deepEqual(a.debugState().protocols, [])
  } finally {
    await hosts.stopAll()
  }
})
