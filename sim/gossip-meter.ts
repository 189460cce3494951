/**
 * The gossipsub frames a real mesh node sends, counted as the simulator's model counts them:
 * per RPC frame, the bytes of its protobuf encoding (before the stream's length prefix, yamux,
 * noise and pnet), split into frames that carry messages and frames of control only (IHAVE,
 * IWANT, GRAFT, PRUNE, IDONTWANT, subscriptions).
 *
 * THEORY. gossipsub reports every RPC it sends to its metrics (`onRpcSent(rpc, bytes)`, with
 * the length of the encoding it writes). The mesh host gives gossipsub a metrics register that
 * keeps only envelope counters (node/mesh/gossip.ts) and does not expose the libp2p node, so the
 * meter reaches gossipsub through libp2p's components instead: libp2p hands the transport
 * factory the node's component bag when it builds the node, and once the node has started that
 * bag holds every service under its name (the host names gossipsub `pubsub`). The meter wraps
 * the transport factory to keep the bag, then wraps that one gossipsub instance's `onRpcSent`.
 * This leans on @libp2p/gossipsub 17's internals (the `metrics` field and onRpcSent's
 * signature), so attach() checks both and throws rather than count nothing.
 */
import type { MeshTransport } from '../node/mesh/host.js'

/** Counts of the frames sent. */
export interface GossipFrameCounts {
  /** Every RPC frame. */
  frames: number
  bytes: number
  /** Frames carrying at least one message (control piggy-backed on them included). */
  messageFrames: number
  messageBytes: number
  /** The messages in them (a frame may batch several). */
  messages: number
  /** Frames of control or subscriptions only. */
  controlFrames: number
  controlBytes: number
  /** Frames (of either kind) carrying each control message or subscriptions. */
  withIhave: number
  withIwant: number
  withGraft: number
  withPrune: number
  withIdontwant: number
  withSubscriptions: number
}

/** The part of an RPC the meter reads. */
interface SentRpc {
  readonly messages?: readonly unknown[]
  readonly subscriptions?: readonly unknown[]
  readonly control?: {
    readonly ihave?: readonly unknown[]
    readonly iwant?: readonly unknown[]
    readonly graft?: readonly unknown[]
    readonly prune?: readonly unknown[]
    readonly idontwant?: readonly unknown[]
  }
}

interface GossipMetrics {
  onRpcSent: (rpc: SentRpc, bytes: number) => void
}

/** Meters one node's gossipsub (see the module doc). */
export class GossipMeter {
  readonly counts: GossipFrameCounts = {
    frames: 0, bytes: 0, messageFrames: 0, messageBytes: 0, messages: 0, controlFrames: 0, controlBytes: 0,
    withIhave: 0, withIwant: 0, withGraft: 0, withPrune: 0, withIdontwant: 0, withSubscriptions: 0
  }
  #components: unknown

  /** `transport`, wrapped to keep the component bag libp2p hands it; give this to the host. */
  wrap (transport: MeshTransport): MeshTransport {
    return (components) => {
      this.#components = components
      return transport(components)
    }
  }

  /**
   * Starts counting: call once the host has started. Throws when the node was not built with
   * wrap()'s transport, or when gossipsub's metrics are not where this version keeps them.
   */
  attach (): void {
    if (this.#components === undefined) throw new Error('gossip meter: the host was not built with the meter\'s transport')
    const pubsub = (this.#components as { pubsub?: { metrics?: unknown } }).pubsub
    const metrics = pubsub?.metrics as Partial<GossipMetrics> | null | undefined
    if (metrics === null || metrics === undefined || typeof metrics.onRpcSent !== 'function') {
      throw new Error('gossip meter: gossipsub has no metrics.onRpcSent (not @libp2p/gossipsub 17, or built without a metrics register)')
    }
    const inner = metrics.onRpcSent.bind(metrics)
    const c = this.counts
    metrics.onRpcSent = (rpc: SentRpc, bytes: number) => {
      c.frames++
      c.bytes += bytes
      const messages = rpc.messages?.length ?? 0
      if (messages > 0) {
        c.messageFrames++
        c.messageBytes += bytes
        c.messages += messages
      } else {
        c.controlFrames++
        c.controlBytes += bytes
      }
      const control = rpc.control
      if (control !== undefined) {
        if ((control.ihave?.length ?? 0) > 0) c.withIhave++
        if ((control.iwant?.length ?? 0) > 0) c.withIwant++
        if ((control.graft?.length ?? 0) > 0) c.withGraft++
        if ((control.prune?.length ?? 0) > 0) c.withPrune++
        if ((control.idontwant?.length ?? 0) > 0) c.withIdontwant++
      }
      if ((rpc.subscriptions?.length ?? 0) > 0) c.withSubscriptions++
      inner(rpc, bytes)
    }
  }

  /** A copy of the counts. */
  snapshot (): GossipFrameCounts {
    return { ...this.counts }
  }
}
