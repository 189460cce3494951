/**
 * The redial schedule (pure) and the Redialer driven by a virtual clock and scripted dials: no
 * sockets, no real timers.
 */
import test from 'ava'
import fc from 'fast-check'
import { failuresAfterDisconnect, meshDefaults, parseBootstrapAddress, redialDelay, type BackoffPolicy } from '../../../node/mesh/index.js'
import { Redialer } from '../../../node/mesh/redial.js'
import { seededRandom } from './hosts.js'

const policy: BackoffPolicy = meshDefaults.DEFAULT_REDIAL_BACKOFF
const PEER_A = '12D3KooWEtEG2fP5LYkKutyo155rZVpsEbnH4Q35oLzyf4xFBZrv'
const PEER_B = '12D3KooWNXA3Ckmp5K1MfHrBfm8vwBkbyTq5jF9a8oZDCH7cQ6Wk'
const SELF = '12D3KooWHSYvJjBB7GV3xZrXKqdGsFBTmTDm4d2kqQkA9JymStzX'
const addressOf = (peer: string, port = 4001): string => `/ip4/127.0.0.1/tcp/${port}/p2p/${peer}`

test('the first dial is immediate and retries double from 0.5 s up to 30 s', (t) => {
  t.is(redialDelay(0, policy, 0.3), 0)
  t.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 20].map((f) => redialDelay(f, policy, 0)), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000])
})

test('jitter shortens a delay by at most the jitter fraction, never lengthens it', (t) => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (failures, u) => {
    const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** (failures - 1))
    const delay = redialDelay(failures, policy, u)
    return delay <= base && delay >= Math.floor(base * (1 - policy.jitter))
  }))
  t.is(redialDelay(1, policy, 0.999999), 250)
  t.is(redialDelay(1_000_000, policy, 0), 30_000, 'a huge failure count stays capped')
})

test('a stable connection resets the failure count when it ends; a short one makes it grow', (t) => {
  t.is(failuresAfterDisconnect(6, policy.stableMs, policy), 1)
  t.is(failuresAfterDisconnect(0, 120_000, policy), 1)
  t.is(failuresAfterDisconnect(3, 50, policy), 4)
})

test('a bootstrap address must be a multiaddr that ends with the peer id', (t) => {
  t.deepEqual(parseBootstrapAddress(addressOf(PEER_A)), { address: addressOf(PEER_A), peer: PEER_A })
  t.throws(() => parseBootstrapAddress('/ip4/127.0.0.1/tcp/4001'), { name: 'InvalidFieldError', message: /must end with \/p2p\/<peer id>/ })
  t.throws(() => parseBootstrapAddress('127.0.0.1:4001'), { name: 'InvalidFieldError', message: /not a multiaddr/ })
  t.throws(() => parseBootstrapAddress('/ip4/127.0.0.1/tcp/4001/p2p/QmNotAPeer'), { name: 'InvalidFieldError' })
})

/** A Redialer on a virtual clock with peers that are up or down as the test says. */
function harness (targets: string[]): {
  redialer: Redialer
  up: Set<string>
  connected: Set<string>
  dials: Array<{ at: number, peer: string }>
  advance: (ms: number) => Promise<void>
  drop: (peer: string) => void
  pending: () => number
} {
  let now = 0
  const timers: Array<{ at: number, fn: () => void, cancelled: boolean }> = []
  const up = new Set<string>()
  const connected = new Set<string>()
  const dials: Array<{ at: number, peer: string }> = []
  const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve)) }
  const redialer: Redialer = new Redialer({
    selfId: SELF,
    isConnected: (peer) => connected.has(peer),
    dial: async (address) => {
      const peer = parseBootstrapAddress(address).peer
      dials.push({ at: now, peer })
      if (!up.has(peer)) throw new Error('ECONNREFUSED')
      connected.add(peer)
      redialer.onConnect(peer)
    },
    random: seededRandom(7),
    now: () => now,
    schedule: (delayMs, fn) => {
      const timer = { at: now + delayMs, fn, cancelled: false }
      timers.push(timer)
      return () => { timer.cancelled = true }
    }
  }, { targets: targets.map((a) => parseBootstrapAddress(a)), policy, dialTimeoutMs: 5000 })
  return {
    redialer,
    up,
    connected,
    dials,
    // Runs due timers in time order, letting each dial settle before the next timer.
    async advance (ms) {
      const end = now + ms
      for (;;) {
        const next = timers.filter((x) => !x.cancelled && x.at <= end).sort((x, y) => x.at - y.at)[0]
        if (next === undefined) break
        next.cancelled = true
        now = next.at
        next.fn()
        await settle()
      }
      now = end
    },
    drop (peer) {
      connected.delete(peer)
      redialer.onDisconnect(peer)
    },
    pending: () => timers.filter((x) => !x.cancelled).length
  }
}

test('at start every target is dialed at once, except this node itself', async (t) => {
  const h = harness([addressOf(PEER_A), addressOf(SELF), addressOf(PEER_B, 4002)])
  h.up.add(PEER_A).add(PEER_B)
  h.redialer.start()
  await h.advance(0)
  t.deepEqual(h.dials, [{ at: 0, peer: PEER_A }, { at: 0, peer: PEER_B }])
  t.is(h.pending(), 0, 'nothing is scheduled while connected')
  t.deepEqual(h.redialer.debugState().map((s) => [s.peer, s.connected, s.failures]), [[PEER_A, true, 0], [PEER_B, true, 0]])
})

test('a target that is down is retried with growing delays until it comes up', async (t) => {
  const h = harness([addressOf(PEER_A)])
  h.redialer.start()
  await h.advance(20_000)
  const times = h.dials.map((d) => d.at)
  const gaps = times.slice(1).map((at, i) => at - (times[i] as number))
  t.true(times.length >= 5 && times.length <= 8, `dial times ${times.join(', ')}`)
  gaps.forEach((gap, i) => {
    const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** i)
    t.true(gap <= base && gap >= base * (1 - policy.jitter), `gap ${i + 1} is ${gap} ms`)
  })
  h.up.add(PEER_A)
  await h.advance(30_000)
  t.true(h.connected.has(PEER_A))
  const count = h.dials.length
  await h.advance(120_000)
  t.is(h.dials.length, count, 'no dial once connected')
})

test('losing the connection brings a redial; a peer that keeps dropping is redialed ever more slowly', async (t) => {
  const h = harness([addressOf(PEER_A)])
  h.up.add(PEER_A)
  h.redialer.start()
  await h.advance(60_000) // a stable connection
  h.drop(PEER_A)
  const droppedAt = 60_000
  await h.advance(1000)
  t.true(h.connected.has(PEER_A))
  t.true((h.dials[1]?.at ?? Infinity) - droppedAt <= 500, 'after a stable connection the first redial comes within 0.5 s')

  // Now it accepts and drops at once, again and again: each redial waits longer.
  const waits: number[] = []
  for (let i = 0; i < 6; i++) {
    h.drop(PEER_A)
    let waited = 0
    while (!h.connected.has(PEER_A) && waited < 60_000) {
      await h.advance(50)
      waited += 50
    }
    waits.push(waited)
  }
  t.is(h.redialer.debugState()[0]?.failures, 7)
  t.true(waits.every((w, i) => i === 0 || w > (waits[i - 1] as number) * 0.9), `waits ${waits.join(', ')}`)
  t.true((waits[5] as number) >= 8000, `waits ${waits.join(', ')}`)
})

test('an inbound connection from the target cancels its pending redial', async (t) => {
  const h = harness([addressOf(PEER_A)])
  h.redialer.start()
  await h.advance(0)
  t.is(h.pending(), 1)
  h.connected.add(PEER_A)
  h.redialer.onConnect(PEER_A)
  t.is(h.pending(), 0)
  await h.advance(60_000)
  t.is(h.dials.length, 1)
})

test('stop cancels every timer and no dial follows', async (t) => {
  const h = harness([addressOf(PEER_A), addressOf(PEER_B, 4002)])
  h.redialer.start()
  await h.advance(0)
  t.is(h.pending(), 2)
  h.redialer.stop()
  h.redialer.stop()
  t.is(h.pending(), 0)
  await h.advance(60_000)
  t.is(h.dials.length, 2)
  h.redialer.onDisconnect(PEER_A)
  t.is(h.pending(), 0)
})
