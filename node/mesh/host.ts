/**
 * The mesh host: one started libp2p node configured for heatmesh, behind a small face of plain
 * strings and bytes. It carries bytes and reports what happens; it makes no protocol decision
 * (who to ask, what a message means, when a peer is dead): the protocol core does, and a later
 * binding feeds this host's events and messages into it.
 *
 * The stack (STACK.md): TCP (or the transport given: memory for many nodes in one process); the
 * private-network protector with the network key, so a peer without the key fails at the first
 * bytes of a connection; noise; yamux; identify; ping (the connection monitor's probe);
 * gossipsub (gossip.ts, with a per-author rate limit); one-way messages on long-lived streams
 * (message-channels.ts); request/response streams (streams.ts); the redialer for bootstrap
 * peers (redial.ts). Connection limits are raised for loopback.
 */
import { createLibp2p, type Libp2p, type Libp2pOptions } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { preSharedKey } from '@libp2p/pnet'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import { InvalidFieldError } from '../../metad/index.js'
import {
  CONNECTION_LIMITS, DEFAULT_DIAL_TIMEOUT_MS, DEFAULT_GOSSIP_RATE, DEFAULT_LISTEN, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_GOSSIP_BYTES,
  DEFAULT_MONITOR_INTERVAL_MS, DEFAULT_REDIAL_BACKOFF, DEFAULT_REQUEST_TIMEOUT_MS
} from './constants.js'
import { abortScope } from './abort-scope.js'
import { describeError, MeshDialError } from './errors.js'
import { envelopeCounterRegister, gossipOptions, GossipTopics, type EnvelopeCounters, type GossipHandler, type GossipValidator, type TopicCounters } from './gossip.js'
import type { NodeIdentity } from './identity.js'
import { MessageChannels, type ChannelCounters, type MessageHandler, type SendOptions } from './message-channels.js'
import { pnetKeyBytes, type NetworkKey } from './network-key.js'
import type { RatePolicy } from './rate-limit.js'
import { parseBootstrapAddress, Redialer, type BackoffPolicy, type RedialTargetState } from './redial.js'
import { RequestResponse, type RequestHandler, type RequestOptions, type StreamCounters } from './streams.js'

/**
 * A libp2p transport factory, as createLibp2p takes it: `tcp()` for a daemon; `memory()` from
 * @libp2p/memory for many nodes in one process (the simulator's calibration mode).
 */
export type MeshTransport = NonNullable<Libp2pOptions['transports']>[number]

/** How to build a mesh host. */
export interface MeshHostInit {
  /** This node's identity (loadOrCreateIdentity). */
  readonly identity: NodeIdentity
  /** The mesh's network key (readNetworkKey / loadOrCreateNetworkKey). */
  readonly networkKey: NetworkKey
  /** Uniform random numbers in [0, 1), for redial jitter (the daemon passes Math.random). */
  readonly random: () => number
  /**
   * The transport. `listen` must then name addresses it can listen on (`/memory/<name>` for the
   * memory transport). The private-network key, noise and yamux apply over any of them.
   * @default tcp()
   */
  readonly transport?: MeshTransport
  /** Multiaddrs to listen on. @default DEFAULT_LISTEN (loopback, a free port) */
  readonly listen?: readonly string[]
  /** Bootstrap peers, each ending in /p2p/<peer id>; kept connected by the redialer. @default [] */
  readonly bootstrap?: readonly string[]
  /** Largest request/response frame (and gossip RPC frame). @default DEFAULT_MAX_FRAME_BYTES */
  readonly maxFrameBytes?: number
  /** Largest gossip payload. @default DEFAULT_MAX_GOSSIP_BYTES */
  readonly maxGossipBytes?: number
  /** Gossip messages per topic each author may make this node validate, field by field (gossip.ts). @default DEFAULT_GOSSIP_RATE */
  readonly gossipRate?: Partial<RatePolicy>
  /** Time budget of a request, both sides. @default DEFAULT_REQUEST_TIMEOUT_MS */
  readonly requestTimeoutMs?: number
  /** Connection monitor ping interval; 0 turns the monitor off. @default DEFAULT_MONITOR_INTERVAL_MS */
  readonly monitorIntervalMs?: number
  /**
   * Time budget of one dial (ours, the redialer's) and of an inbound connection's handshake.
   * A peer with another network key fails only when it runs out. @default DEFAULT_DIAL_TIMEOUT_MS
   */
  readonly dialTimeoutMs?: number
  /** Redial backoff, field by field. @default DEFAULT_REDIAL_BACKOFF */
  readonly redialBackoff?: Partial<BackoffPolicy>
  /**
   * Told about failures that are nobody's fault here but worth a log line: a request handler or
   * gossip handler that threw, a validator that threw. The host goes on either way.
   * @default ignore (they are still counted in debugState)
   */
  readonly onError?: (context: string, error: unknown) => void
}

/** Peer events: `peer:connect` when the first connection to a peer opens, `peer:disconnect` when its last one closes. */
export type PeerEvent = 'peer:connect' | 'peer:disconnect'

/** A snapshot of the host for debugging and tests. */
export interface MeshHostState {
  readonly peerId: string
  readonly addresses: readonly string[]
  readonly peers: readonly string[]
  readonly protocols: readonly string[]
  readonly topics: Readonly<Record<string, TopicCounters>>
  /** Our gossipsub mesh peers per subscribed topic (those we forward to). */
  readonly gossipMesh: Readonly<Record<string, readonly string[]>>
  readonly gossipEnvelope: EnvelopeCounters
  readonly streams: StreamCounters
  /** One-way message channels: counters, and how many outbound channels are open. */
  readonly channels: ChannelCounters & { readonly open: number }
  readonly redial: readonly RedialTargetState[]
  readonly stopped: boolean
}

/** A started libp2p node of the mesh (see the module comment). Peers are named by their peer id strings. */
export interface MeshHost {
  /** This node's peer id. */
  readonly peerId: string
  /** The addresses we listen on, each ending in /p2p/<peerId>, ready to give to other nodes. */
  addresses: () => string[]
  /** Peers with at least one open connection. */
  peers: () => string[]
  /** Whether some connection to `peer` is open (O(1): every core send asks). */
  isConnected: (peer: string) => boolean
  /**
   * Connects to `address` (a multiaddr; with /p2p/<id> the peer must hold that identity) within
   * dialTimeoutMs; resolves with the peer id. Rejects with MeshDialError.
   */
  dial: (address: string, options?: { signal?: AbortSignal }) => Promise<string>
  /** Publishes signed gossip on `topic`; resolves with the number of peers it went to directly. RangeError over maxGossipBytes. */
  publish: (topic: string, data: Uint8Array) => Promise<number>
  /**
   * Subscribes to `topic`. `validate` judges each message before delivery and forwarding (accept
   * with a decoded value, reject, ignore); without it the payload bytes are delivered. Returns
   * the function that unsubscribes. One subscription per topic.
   */
  subscribe: {
    (topic: string, onMessage: GossipHandler<Uint8Array>): () => void
    <T>(topic: string, onMessage: GossipHandler<T>, validate: GossipValidator<T>): () => void
  }
  /** Peers in our gossipsub mesh for `topic` (those we forward to). */
  meshPeers: (topic: string) => string[]
  /** gossipsub's score of `peer` (0 when unknown; negative after invalid or over-rate gossip from it). */
  gossipScore: (peer: string) => number
  /** Registers the request handler of `protocol` (e.g. '/heatmesh/sync/1.0.0'). */
  handle: (protocol: string, handler: RequestHandler) => Promise<void>
  /** Removes the handler of `protocol` (a request or a message handler). */
  unhandle: (protocol: string) => Promise<void>
  /** One request/response exchange with `peer`; rejects with MeshRequestError. */
  request: (peer: string, protocol: string, data: Uint8Array, options?: RequestOptions) => Promise<Uint8Array>
  /**
   * Registers the handler of one-way messages on `protocol` (message-channels.ts): each message
   * a peer sends with `send` is handed to it with the sender's peer id, in the order sent.
   */
  handleMessages: (protocol: string, handler: MessageHandler) => Promise<void>
  /**
   * Sends a one-way message to `peer` on `protocol` over a long-lived stream (much cheaper than a
   * request); resolves once written, not delivered. Rejects with MeshRequestError.
   */
  send: (peer: string, protocol: string, data: Uint8Array, options?: SendOptions) => Promise<void>
  /** Listens to peer events; returns the function that stops listening. */
  on: (event: PeerEvent, listener: (peer: string) => void) => () => void
  /** A snapshot for debugging. */
  debugState: () => MeshHostState
  /** Stops redialing, aborts requests in flight, closes every connection and listener. Idempotent. */
  stop: () => Promise<void>
}

type Node = Libp2p<{ pubsub: GossipSub, identify: unknown, ping: unknown }>

/** GossipSub's exported type lacks getMeshPeers, which the runtime object has (STACK.md §1.2). */
interface WithMeshPeers { getMeshPeers: (topic: string) => string[] }

/**
 * Creates and starts a mesh host. Rejects with InvalidFieldError for a bad `listen` or
 * `bootstrap` multiaddr, and with libp2p's error if it cannot listen.
 */
export async function createMeshHost (init: MeshHostInit): Promise<MeshHost> {
  const listen = (init.listen ?? DEFAULT_LISTEN).map((a) => parseListenAddress(a))
  const targets = (init.bootstrap ?? []).map((a) => parseBootstrapAddress(a))
  const maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  const maxGossipBytes = init.maxGossipBytes ?? DEFAULT_MAX_GOSSIP_BYTES
  const requestTimeoutMs = init.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const monitorIntervalMs = init.monitorIntervalMs ?? DEFAULT_MONITOR_INTERVAL_MS
  const dialTimeoutMs = init.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS
  const onError = init.onError ?? (() => {})
  const rate: RatePolicy = { ...DEFAULT_GOSSIP_RATE, ...init.gossipRate }
  const envelope: EnvelopeCounters = { invalid: {}, duplicates: 0, readStreamErrors: 0, rpcErrors: 0 }

  const node: Node = await createLibp2p({
    privateKey: init.identity.privateKey,
    addresses: { listen },
    transports: [init.transport ?? tcp()],
    connectionProtector: preSharedKey({ psk: pnetKeyBytes(init.networkKey) }),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      inboundConnectionThreshold: CONNECTION_LIMITS.inboundConnectionThreshold,
      maxIncomingPendingConnections: CONNECTION_LIMITS.maxIncomingPendingConnections,
      allow: [...CONNECTION_LIMITS.allow],
      // pnet has no MAC: with another network key, noise reads garbage. About half the time the
      // garbage length prefix fails at once; otherwise both sides wait for bytes that never come
      // until the responder's upgrade timeout. (libp2p applies dialTimeout only to dials that pass
      // no signal, so the host's own dials carry a timeout signal of the same length.)
      dialTimeout: dialTimeoutMs,
      inboundUpgradeTimeout: dialTimeoutMs
    },
    connectionMonitor: monitorIntervalMs > 0 ? { pingInterval: monitorIntervalMs } : { enabled: false },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub(gossipOptions({ maxGossipBytes, maxFrameBytes, rate }, envelopeCounterRegister(envelope)))
    }
  })

  const shutdown = new AbortController()
  const listeners: Record<PeerEvent, Set<(peer: string) => void>> = { 'peer:connect': new Set(), 'peer:disconnect': new Set() }
  // Peers with at least one open connection, from libp2p's events (it emits peer:connect at the
  // first connection and peer:disconnect when the last closes). Asking libp2p instead costs a
  // concatenation of every connection list and a toString per connection, on every core send:
  // 5 % of the CPU of 100 nodes in one process, and most of its garbage.
  const connected = new Set<string>()
  const isConnected = (peer: string): boolean => connected.has(peer)
  const redialer = new Redialer({
    selfId: init.identity.peerId,
    isConnected,
    dial: async (address, signal) => { await node.dial(multiaddr(address), { signal }) },
    random: init.random,
    now: () => performance.now(),
    schedule: (delayMs, fn) => {
      const timer = setTimeout(fn, delayMs)
      return () => { clearTimeout(timer) }
    }
  }, { targets, policy: { ...DEFAULT_REDIAL_BACKOFF, ...init.redialBackoff }, dialTimeoutMs })

  const emit = (event: PeerEvent, peerId: PeerId): void => {
    const peer = peerId.toString()
    if (event === 'peer:connect') {
      connected.add(peer)
      redialer.onConnect(peer)
    } else {
      connected.delete(peer)
      redialer.onDisconnect(peer)
    }
    for (const listener of listeners[event]) {
      try {
        listener(peer)
      } catch (err) {
        onError(`${event} listener`, err)
      }
    }
  }
  node.addEventListener('peer:connect', (event) => { emit('peer:connect', event.detail) })
  node.addEventListener('peer:disconnect', (event) => { emit('peer:disconnect', event.detail) })

  const topics = new GossipTopics(node.services.pubsub, { maxGossipBytes, maxFrameBytes, rate }, envelope, () => performance.now(), onError)
  const streams = new RequestResponse(node, { maxFrameBytes, requestTimeoutMs }, shutdown.signal, onError)
  const channels = new MessageChannels(node, { maxFrameBytes, requestTimeoutMs }, shutdown.signal, onError)
  redialer.start()

  let stopping: Promise<void> | undefined
  const addresses = (): string[] => node.getMultiaddrs().map((ma) => ma.toString())
  const peers = (): string[] => [...connected]
  const meshPeers = (topic: string): string[] => (node.services.pubsub as unknown as WithMeshPeers).getMeshPeers(topic)

  return {
    peerId: init.identity.peerId,
    addresses,
    peers,
    isConnected,
    async dial (address, options = {}) {
      let ma: Multiaddr
      try {
        ma = multiaddr(address)
      } catch (err) {
        throw new MeshDialError(address, `not a multiaddr (${describeError(err)})`, { cause: err })
      }
      const scope = abortScope([shutdown.signal, options.signal], dialTimeoutMs)
      try {
        const connection = await node.dial(ma, { signal: scope.signal })
        return connection.remotePeer.toString()
      } catch (err) {
        throw new MeshDialError(address, describeError(err), { cause: err })
      } finally {
        scope.dispose()
      }
    },
    publish: async (topic, data) => await topics.publish(topic, data),
    subscribe: <T>(topic: string, onMessage: GossipHandler<T>, validate?: GossipValidator<T>) => topics.subscribe(topic, onMessage, validate),
    meshPeers,
    gossipScore: (peer) => topics.score(peer),
    handle: async (protocol, handler) => {
      if (channels.has(protocol)) throw new Error(`a handler for ${protocol} is already registered`)
      await streams.handle(protocol, handler)
    },
    unhandle: async (protocol) => {
      if (channels.has(protocol)) await channels.unhandle(protocol)
      else await streams.unhandle(protocol)
    },
    request: async (peer, protocol, data, options) => await streams.request(peer, protocol, data, options),
    handleMessages: async (protocol, handler) => {
      if (streams.protocols.includes(protocol)) throw new Error(`a handler for ${protocol} is already registered`)
      await channels.handle(protocol, handler)
    },
    send: async (peer, protocol, data, options) => { await channels.send(peer, protocol, data, options) },
    on (event, listener) {
      listeners[event].add(listener)
      return () => { listeners[event].delete(listener) }
    },
    debugState: () => ({
      peerId: init.identity.peerId,
      addresses: stopping === undefined ? addresses() : [],
      peers: peers(),
      protocols: [...streams.protocols, ...channels.protocols],
      topics: topics.counters(),
      gossipMesh: Object.fromEntries(Object.keys(topics.counters()).map((topic) => [topic, stopping === undefined ? meshPeers(topic) : []])),
      gossipEnvelope: { ...envelope, invalid: { ...envelope.invalid } },
      streams: { ...streams.counters },
      channels: { ...channels.counters, open: channels.open },
      redial: redialer.debugState(),
      stopped: stopping !== undefined
    }),
    async stop () {
      stopping ??= (async () => {
        redialer.stop()
        shutdown.abort()
        for (const set of Object.values(listeners)) set.clear()
        await node.stop()
        // A stopping node closes its connections without telling itself (no peer:disconnect).
        connected.clear()
      })()
      await stopping
    }
  }
}

function parseListenAddress (text: string): string {
  try {
    return multiaddr(text).toString()
  } catch (err) {
    throw new InvalidFieldError('listen', text, `not a multiaddr (${describeError(err)})`)
  }
}
