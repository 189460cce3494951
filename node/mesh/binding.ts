/**
 * The binding between the sans-IO protocol core (node/core) and the libp2p mesh host: the only
 * place where the core's outputs become I/O and the host's events become core inputs.
 *
 * - Time: one real timer, armed at core.nextDeadline() and re-armed after every core call.
 * - `send`: the message, encoded, as one frame on the peer's long-lived CORE_PROTOCOL stream
 *   (message-channels.ts): the core's messages are one-way, and its answers travel as messages
 *   of their own, so a stream per message (open, negotiate, empty reply, close) would be pure
 *   overhead, and was most of an idle daemon's CPU. When the peer is not connected, the member's
 *   advertised addresses (from `member` outputs) are dialed first. `send-address` dials the
 *   seed's address and sends to whoever answers.
 * - `publish`: the message, encoded, on gossipsub; incoming gossip is judged by the core's own
 *   decoder as the topic validator, so a malformed message is rejected (and counted by the
 *   host) before it is delivered or forwarded.
 * - `persist`: written with writeFileAtomic to STATE_FILE in the data directory. Writes are
 *   coalesced (only the newest pending state is written, one write at a time), so a burst of
 *   changes costs one or two fsyncs; flush() waits for the last one.
 * - `member` and `definition`: handed to the daemon, which follows them. `member` outputs also
 *   feed the address book and the connection keeper (connection-keeper.ts), which keeps a few
 *   direct connections to live members so that gossip does not depend on the bootstrap node.
 *
 * Sending is fire-and-forget: a lost message is what SWIM and anti-entropy are built to survive,
 * so failures are counted (debugState) rather than raised.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DecodeError } from '../../metad/index.js'
import {
  decodePersistedState, decodeTopicMessage, DEFINITIONS_TOPIC, encodePeerMessage, encodeTopicMessage,
  type MemberRecord, type MeshCore, type MeshOutput, type PersistedState, type TopicMessage
} from '../core/index.js'
import { writeFileAtomic } from '../store/index.js'
import { ConnectionKeeper, type KeeperCounters } from './connection-keeper.js'
import { DEFAULT_MIN_PEERS } from './constants.js'
import type { MeshHost } from './host.js'

/**
 * The protocol of the core's point-to-point messages: one-way, length-prefixed frames on a
 * long-lived stream per peer (2.0.0; 1.0.0 was one request/response stream per message).
 */
export const CORE_PROTOCOL = '/heatmesh/core/2.0.0'
/** The file, in the data directory, that holds the core's persisted state. */
export const STATE_FILE = 'state.json'
/** Time budget of one core message exchange (dial included). */
const SEND_TIMEOUT_MS = 3000
/** A timer never sleeps longer than this (a clock stepped forward is noticed within it). */
const MAX_TIMER_MS = 60_000

/** What the binding needs. */
export interface BindingInit {
  readonly core: MeshCore
  readonly host: MeshHost
  /** The data directory (STATE_FILE is written there). */
  readonly dataDir: string
  /** Wall-clock milliseconds (Date.now; the core's `now`). */
  readonly now: () => number
  /** Told about every output the daemon follows: `member` and `definition`. */
  readonly onOutput: (output: Extract<MeshOutput, { type: 'member' | 'definition' }>) => void
  /** Told about failures worth a log line (a persist that failed). @default ignore */
  readonly onError?: (context: string, error: unknown) => void
  /** Direct connections to live members kept open (connection-keeper.ts). @default DEFAULT_MIN_PEERS */
  readonly minPeers?: number
  /** Uniform random numbers in [0, 1), to pick members to connect to. @default Math.random */
  readonly random?: () => number
}

/** Counters for debugState and the benchmark. */
export interface BindingCounters {
  sent: number
  sendFailures: number
  sentBytes: number
  received: number
  receivedBytes: number
  published: number
  publishedBytes: number
  publishFailures: number
  gossipReceived: number
  gossipReceivedBytes: number
  gossipRejected: number
  persisted: number
  persistFailures: number
  /** The connection keeper's dials. */
  keeper: KeeperCounters
}

/** A running binding. */
export interface MeshBinding {
  /** Registers the protocol and topic, starts the core (carrying out its outputs) and arms the timer. */
  start: () => Promise<void>
  /** Runs a core command at the current time and carries out the outputs it returns. */
  run: <T>(command: (now: number) => { outputs: MeshOutput[], result: T }) => T
  /**
   * Makes sure there is a connection to member `peer`, dialing the addresses its card
   * advertises (one dial in flight per peer); never rejects. Other protocols' bindings (the
   * merge tree) send through it.
   */
  connect: (peer: string) => Promise<void>
  /** Leaves the mesh, driving the core until it has left or `budgetMs` passed; then flushes state. */
  leave: (budgetMs: number) => Promise<void>
  /** Resolves once the newest persisted state is on disk. */
  flush: () => Promise<void>
  /** Stops the timer and unregisters; the host is the caller's to stop. */
  stop: () => Promise<void>
  counters: () => Readonly<BindingCounters>
}

/**
 * Reads the state a previous run persisted in `dataDir`: undefined when there is none, or when
 * the file is unreadable or invalid (then `onInvalid` says why, and the node starts afresh: the
 * mesh's anti-entropy gives it the definitions back).
 */
export async function readPersistedState (dataDir: string, onInvalid: (reason: string) => void = () => {}): Promise<PersistedState | undefined> {
  let text: string
  try {
    text = await readFile(join(dataDir, STATE_FILE), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onInvalid(`cannot read ${STATE_FILE}: ${(err as Error).message}`)
    return undefined
  }
  try {
    return decodePersistedState(JSON.parse(text))
  } catch (err) {
    onInvalid(`ignoring ${STATE_FILE}: ${(err as Error).message}`)
    return undefined
  }
}

/** Binds `core` to `host` (see the module comment). */
export function createMeshBinding (init: BindingInit): MeshBinding {
  const { core, host, now } = init
  const onError = init.onError ?? (() => {})
  const counters: BindingCounters = {
    sent: 0, sendFailures: 0, sentBytes: 0, received: 0, receivedBytes: 0, published: 0, publishedBytes: 0, publishFailures: 0,
    gossipReceived: 0, gossipReceivedBytes: 0, gossipRejected: 0, persisted: 0, persistFailures: 0, keeper: { dials: 0, dialFailures: 0 }
  }
  /** Where each member can be reached, from `member` outputs. */
  const addressBook = new Map<string, readonly string[]>()
  /** Dials in flight, one per peer. */
  const dialing = new Map<string, Promise<void>>()
  const keeper = new ConnectionKeeper({
    peers: () => host.peers(),
    connect: async (peer) => { await ensureConnected(peer) },
    random: init.random ?? Math.random
  }, { self: host.peerId, minPeers: init.minPeers ?? DEFAULT_MIN_PEERS })
  let offDisconnect: (() => void) | undefined
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let unsubscribe: (() => void) | undefined
  let pendingState: PersistedState | undefined
  let writing: Promise<void> | undefined
  const statePath = join(init.dataDir, STATE_FILE)

  function arm (): void {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    if (stopped) return
    const deadline = core.nextDeadline()
    if (deadline === undefined) return
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, deadline - now()))
    timer = setTimeout(() => {
      timer = undefined
      carry(core.tick(now()))
    }, delay)
  }

  function carry (outputs: readonly MeshOutput[]): void {
    for (const o of outputs) {
      try {
        carryOne(o)
      } catch (err) {
        onError(`carrying out ${o.type}`, err)
      }
    }
    arm()
  }

  function carryOne (o: MeshOutput): void {
    switch (o.type) {
      case 'send': void send(o.to, encodePeerMessage(o.message)); return
      case 'send-address': void sendToAddress(o.address, encodePeerMessage(o.message)); return
      case 'publish': void publish(encodeTopicMessage(o.message)); return
      case 'persist': persist(o.state); return
      case 'member':
        noteMember(o.member, o.change)
        keeper.memberChanged(o.member.id, o.change)
        init.onOutput(o)
        return
      case 'definition': init.onOutput(o); return
      default: {
        const never: never = o
        throw new Error(`unhandled output ${JSON.stringify(never)}`)
      }
    }
  }

  function noteMember (member: MemberRecord, change: string): void {
    if (member.id === host.peerId) return
    // Addresses are kept for failed members too: the core keeps probing them to reconnect.
    if (change === 'forgotten') addressBook.delete(member.id)
    else addressBook.set(member.id, member.addresses)
  }

  async function ensureConnected (peer: string): Promise<void> {
    if (host.isConnected(peer)) return
    const addresses = addressBook.get(peer)
    if (addresses === undefined || addresses.length === 0) return // libp2p's peer store may still know it
    let pending = dialing.get(peer)
    if (pending === undefined) {
      pending = (async () => {
        for (const address of addresses) {
          try {
            await host.dial(address)
            return
          } catch {
            // try the next address
          }
        }
      })().finally(() => { dialing.delete(peer) })
      dialing.set(peer, pending)
    }
    await pending
  }

  async function send (peer: string, bytes: Uint8Array): Promise<void> {
    if (stopped) return
    try {
      await ensureConnected(peer)
      await host.send(peer, CORE_PROTOCOL, bytes, { timeoutMs: SEND_TIMEOUT_MS })
      counters.sent++
      counters.sentBytes += bytes.byteLength
    } catch {
      counters.sendFailures++
    }
  }

  async function sendToAddress (address: string, bytes: Uint8Array): Promise<void> {
    if (stopped) return
    try {
      const peer = await host.dial(address)
      await send(peer, bytes)
    } catch {
      counters.sendFailures++
    }
  }

  async function publish (bytes: Uint8Array): Promise<void> {
    if (stopped) return
    try {
      await host.publish(DEFINITIONS_TOPIC, bytes)
      counters.published++
      counters.publishedBytes += bytes.byteLength
    } catch {
      // No peer subscribed yet (a mesh of one) or over the limit: anti-entropy repairs.
      counters.publishFailures++
    }
  }

  function persist (state: PersistedState): void {
    pendingState = state
    writing ??= (async () => {
      while (pendingState !== undefined) {
        const next = pendingState
        pendingState = undefined
        try {
          await writeFileAtomic(statePath, JSON.stringify(next), { mode: 0o600 })
          counters.persisted++
        } catch (err) {
          counters.persistFailures++
          onError(`writing ${statePath}`, err)
        }
      }
    })().finally(() => { writing = undefined })
  }

  async function flush (): Promise<void> {
    while (writing !== undefined) await writing
  }

  return {
    async start () {
      await host.handleMessages(CORE_PROTOCOL, (from, message) => {
        counters.received++
        counters.receivedBytes += message.byteLength
        if (!stopped) carry(core.handle({ type: 'message', from, message }, now()))
      })
      offDisconnect = host.on('peer:disconnect', (peer) => { keeper.peerDisconnected(peer) })
      unsubscribe = host.subscribe<TopicMessage>(DEFINITIONS_TOPIC, (from, message) => {
        if (stopped) return
        carry(core.handle({ type: 'gossip', from, topic: DEFINITIONS_TOPIC, message }, now()))
      }, (_from, data) => {
        counters.gossipReceived++
        counters.gossipReceivedBytes += data.byteLength
        try {
          return { type: 'accept', value: decodeTopicMessage(data) }
        } catch (err) {
          counters.gossipRejected++
          return { type: 'reject', reason: err instanceof DecodeError ? err.message : String(err) }
        }
      })
      carry(core.start(now()))
    },
    connect: ensureConnected,
    run (command) {
      const { outputs, result } = command(now())
      carry(outputs)
      return result
    },
    async leave (budgetMs) {
      const until = now() + budgetMs
      carry(core.leave(now()))
      // Drive the core through its leave (spreading `left`) until it stops or the budget ends.
      while (!stopped && core.nextDeadline() !== undefined && now() < until) {
        // The armed timer ticks the core; this loop only waits for it to finish.
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      await flush()
    },
    flush,
    async stop () {
      stopped = true
      keeper.stop()
      offDisconnect?.()
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      unsubscribe?.()
      await host.unhandle(CORE_PROTOCOL).catch(() => {})
      await flush()
    },
    counters: () => ({ ...counters, keeper: { ...keeper.counters } })
  }
}
