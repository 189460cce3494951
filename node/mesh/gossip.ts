/**
 * Gossip on the mesh: gossipsub configured for a private, signed mesh, and the per-topic hook
 * through which the caller judges every message before it is delivered or forwarded.
 *
 * THEORY. gossipsub checks the envelope itself (StrictSign: a message must carry its author,
 * sequence number, key and a valid signature), then calls the topic's validator; only an
 * accepted message reaches the subscriber and is forwarded to mesh peers. A rejected one is
 * dropped, and gossipsub's peer score penalises the neighbour that sent it. So the caller's
 * `validate(from, bytes)` is the boundary where bytes from peers become typed values: it decodes
 * once, returns a verdict, and the decoded value of an accepted message is handed to
 * `onMessage` (kept in a WeakMap keyed by gossipsub's message object, which is the same object in
 * the validator call and in the delivery event), so nothing is decoded twice.
 *
 * Counting. Verdicts are counted per topic here. Messages that never reach a validator (a bad
 * signature, a missing author, a malformed RPC) are counted by gossipsub's own metrics, which we
 * collect through a minimal MetricsRegister that keeps just those counters.
 */
import { TopicValidatorResult, type GossipSub, type GossipsubOpts, type Message } from '@libp2p/gossipsub'
import type { MetricsRegister } from '@libp2p/gossipsub/metrics'

/** The caller's verdict on one gossip message. */
export type GossipVerdict<T> =
  | { readonly type: 'accept', readonly value: T }
  /** Invalid: dropped, not forwarded, and the neighbour that sent it loses score. */
  | { readonly type: 'reject', readonly reason: string }
  /** Not wanted (e.g. stale) but not the sender's fault: dropped and not forwarded, no penalty. */
  | { readonly type: 'ignore', readonly reason: string }

/**
 * Judges one message: `from` is its author (the signer's peer id, not the neighbour that
 * relayed it), `data` its payload, already checked against the gossip size limit. Must be
 * synchronous and fast: gossipsub waits for it before forwarding. Throwing counts as a reject.
 */
export type GossipValidator<T> = (from: string, data: Uint8Array) => GossipVerdict<T>

/** Receives an accepted message (never our own): its author and the validator's decoded value. */
export type GossipHandler<T> = (from: string, value: T) => void

/** Per-topic counters. */
export interface TopicCounters {
  accepted: number
  rejected: number
  ignored: number
  /** Of `rejected`: payloads over the gossip size limit (refused before the validator ran). */
  oversized: number
  /** Handler calls that threw (a bug in the caller; the message was still accepted). */
  handlerErrors: number
  /** The reason of the latest rejection, for debugging. */
  lastRejection?: string
}

/** Counts of messages gossipsub dropped before any validator, from its own metrics. */
export interface EnvelopeCounters {
  /** By gossipsub's reason (`invalid_signature`, `invalid_seqno`, `invalid_peerid`, ...). */
  readonly invalid: Record<string, number>
  /** Inbound RPC streams that failed to decode (e.g. a frame over the RPC size limit). */
  readStreamErrors: number
  /** RPCs that decoded but whose contents were malformed. */
  rpcErrors: number
}

/** Limits that shape gossip. */
export interface GossipLimits {
  /** Largest message payload accepted or published. */
  readonly maxGossipBytes: number
  /** Largest RPC frame read from a peer (a frame can batch several messages and control data). */
  readonly maxFrameBytes: number
}

/**
 * A MetricsRegister for gossipsub that keeps only the envelope counters and makes every other
 * metric a no-op, so the price of counting is a few object lookups per message.
 */
export function envelopeCounterRegister (counters: EnvelopeCounters): MetricsRegister {
  const noop = (): void => {}
  const kept: Record<string, (labels: Record<string, string | number> | undefined, value: number) => void> = {
    gossipsub_msg_received_invalid_total: (labels, value) => {
      const error = String(labels?.error ?? 'unknown')
      // Verdicts of our validators come back as 'reject'/'ignore': they are counted per topic.
      if (error === TopicValidatorResult.Reject || error === TopicValidatorResult.Ignore) return
      counters.invalid[error] = (counters.invalid[error] ?? 0) + value
    },
    gossipsub_peer_read_stream_err_count_total: (_labels, value) => { counters.readStreamErrors += value },
    gossipsub_rpc_data_err_count_total: (_labels, value) => { counters.rpcErrors += value }
  }
  const gauge = (config: { name: string }): unknown => {
    const count = kept[config.name]
    return {
      inc: count === undefined
        ? noop
        : (a?: Record<string, string | number> | number, b?: number) => {
            if (typeof a === 'object') count(a, b ?? 1)
            else count(undefined, a ?? 1)
          },
      set: noop,
      addCollect: noop
    }
  }
  return {
    gauge,
    histogram: () => ({ startTimer: () => noop, observe: noop, reset: noop }),
    avgMinMax: () => ({ set: noop })
  } as unknown as MetricsRegister // the generic Gauge<Labels> signatures cannot be met by one object; the shapes above are what gossipsub calls
}

/**
 * gossipsub's options for the mesh: signed messages (StrictSign), no error when publishing with
 * no peer yet (a mesh of one is normal) or publishing the same bytes twice, no echo of our own
 * messages, no IP-colocation penalty (every node of a loopback mesh shares 127.0.0.1, which
 * default scoring punishes until it stops grafting; STACK.md §2), RPC frames bounded.
 */
export function gossipOptions (limits: GossipLimits, register: MetricsRegister): Partial<GossipsubOpts> {
  return {
    globalSignaturePolicy: 'StrictSign',
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    emitSelf: false,
    scoreParams: { IPColocationFactorWeight: 0 },
    maxInboundDataLength: limits.maxFrameBytes,
    metricsRegister: register,
    metricsTopicStrToLabel: new Map()
  }
}

interface Subscription {
  readonly validate: GossipValidator<unknown>
  readonly onMessage: GossipHandler<unknown>
  readonly counters: TopicCounters
}

/** The topics of one host: subscriptions with their validators, publishing, counters. */
export class GossipTopics {
  readonly envelope: EnvelopeCounters
  readonly #pubsub: GossipSub
  readonly #limits: GossipLimits
  readonly #onError: (context: string, error: unknown) => void
  readonly #subscriptions = new Map<string, Subscription>()
  readonly #counters = new Map<string, TopicCounters>()
  /** Decoded values of accepted messages, from the validator call to the delivery event. */
  readonly #decoded = new WeakMap<Message, unknown>()

  constructor (pubsub: GossipSub, limits: GossipLimits, envelope: EnvelopeCounters, onError: (context: string, error: unknown) => void) {
    this.#pubsub = pubsub
    this.#limits = limits
    this.envelope = envelope
    this.#onError = onError
    pubsub.addEventListener('message', (event) => { this.#deliver(event.detail) })
  }

  /** Counters of every topic subscribed to so far (kept after unsubscribing). */
  counters (): Record<string, TopicCounters> {
    return Object.fromEntries([...this.#counters].map(([topic, c]) => [topic, { ...c }]))
  }

  /**
   * Subscribes to `topic`. Without a validator every message within the size limit is accepted
   * and delivered as its bytes. One subscription per topic (a second is a bug). Returns the
   * function that unsubscribes.
   */
  subscribe<T>(topic: string, onMessage: GossipHandler<T>, validate?: GossipValidator<T>): () => void {
    if (this.#subscriptions.has(topic)) throw new Error(`already subscribed to ${topic}`)
    const counters = this.#counters.get(topic) ?? { accepted: 0, rejected: 0, ignored: 0, oversized: 0, handlerErrors: 0 }
    this.#counters.set(topic, counters)
    const subscription: Subscription = {
      validate: (validate ?? acceptBytes) as GossipValidator<unknown>,
      onMessage: onMessage as GossipHandler<unknown>,
      counters
    }
    this.#subscriptions.set(topic, subscription)
    this.#pubsub.topicValidators.set(topic, (_neighbour, message) => this.#judge(topic, subscription, message))
    this.#pubsub.subscribe(topic)
    return () => {
      if (this.#subscriptions.get(topic) !== subscription) return
      this.#subscriptions.delete(topic)
      this.#pubsub.topicValidators.delete(topic)
      this.#pubsub.unsubscribe(topic)
    }
  }

  /**
   * Publishes `data` on `topic`, signed by this node; resolves with the number of peers it was
   * sent to directly (0 in a mesh of one). More than the gossip size limit is a bug: RangeError.
   */
  async publish (topic: string, data: Uint8Array): Promise<number> {
    if (data.byteLength > this.#limits.maxGossipBytes) {
      throw new RangeError(`gossip message of ${data.byteLength} bytes on ${topic} exceeds the limit of ${this.#limits.maxGossipBytes}`)
    }
    const result = await this.#pubsub.publish(topic, data)
    return result.recipients.length
  }

  #judge (topic: string, subscription: Subscription, message: Message): TopicValidatorResult {
    const counters = subscription.counters
    const reject = (reason: string): TopicValidatorResult => {
      counters.rejected++
      counters.lastRejection = reason
      return TopicValidatorResult.Reject
    }
    // StrictSign already refused unsigned messages; this keeps the type honest.
    if (message.type !== 'signed') return reject('unsigned message')
    if (message.data.byteLength > this.#limits.maxGossipBytes) {
      counters.oversized++
      return reject(`payload of ${message.data.byteLength} bytes exceeds the limit of ${this.#limits.maxGossipBytes}`)
    }
    let verdict: GossipVerdict<unknown>
    try {
      verdict = subscription.validate(message.from.toString(), message.data)
    } catch (err) {
      this.#onError(`validating a message on ${topic}`, err)
      return reject(`validator threw: ${err instanceof Error ? err.message : String(err)}`)
    }
    switch (verdict.type) {
      case 'accept':
        counters.accepted++
        this.#decoded.set(message, verdict.value)
        return TopicValidatorResult.Accept
      case 'reject':
        return reject(verdict.reason)
      case 'ignore':
        counters.ignored++
        return TopicValidatorResult.Ignore
      default: {
        const never: never = verdict
        return reject(`validator returned ${JSON.stringify(never)}`)
      }
    }
  }

  #deliver (message: Message): void {
    const subscription = this.#subscriptions.get(message.topic)
    if (subscription === undefined || message.type !== 'signed' || !this.#decoded.has(message)) return
    const value = this.#decoded.get(message)
    this.#decoded.delete(message)
    try {
      subscription.onMessage(message.from.toString(), value)
    } catch (err) {
      subscription.counters.handlerErrors++
      this.#onError(`handling a message on ${message.topic}`, err)
    }
  }
}

function acceptBytes (_from: string, data: Uint8Array): GossipVerdict<Uint8Array> {
  return { type: 'accept', value: data }
}
