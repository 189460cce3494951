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
 * Rate. Each author (the message's signer, `from`) may make us validate at most `rate` messages
 * per topic: a token bucket per author (rate-limit.ts), charged before the validator runs, so a
 * flood costs us no decoding. The key is the author rather than the neighbour that relayed the
 * message because the signature makes the author certain and the fault is the author's: keyed
 * by neighbour, the limit would throttle honest relays, and everyone behind them, for a flood
 * they only forwarded. Over the rate, a message is dropped and not forwarded; when the author is
 * the neighbour that sent it to us it is rejected, so gossipsub's score penalises the flooder
 * itself (P4, below), and when it was relayed it is ignored, which penalises nobody: the relay
 * may have seen the burst spread over more time than we did.
 *
 * Score. gossipsub scores a topic's invalid messages (P4) only for topics it has score
 * parameters for, so each subscribed topic gets parameters that keep only that penalty: the
 * square of the recent rejections from a neighbour, decaying to 30 % a second (gossipsub's
 * default). A neighbour that keeps sending invalid or over-rate messages falls below the gossip
 * (-10), publish (-50) and graylist (-80) thresholds within about 10 rejections, and then its
 * RPCs are ignored until it calms down; a one-off burst is forgiven within seconds. The other
 * terms stay off: the mesh-delivery terms would punish neighbours for the silence of a quiet
 * topic, which the definitions topic mostly is.
 *
 * Counting. Verdicts are counted per topic here, with the reasons that are ours (size, rate, the
 * validator's verdict). Messages that never reach a validator (a bad signature, a missing
 * author, a malformed RPC, a duplicate already seen) are counted by gossipsub's own metrics,
 * which we collect through a minimal MetricsRegister that keeps just those counters.
 */
import { TopicValidatorResult, type GossipSub, type GossipsubOpts, type Message } from '@libp2p/gossipsub'
import type { MetricsRegister } from '@libp2p/gossipsub/metrics'
import { createTopicScoreParams, type PeerScoreParams, type TopicScoreParams } from '@libp2p/gossipsub/score'
import { TokenBuckets, type RatePolicy } from './rate-limit.js'

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

/**
 * Per-topic counters: every message that reached the topic's hook is counted once by verdict
 * (`accepted`, `rejected`, `ignored`), and the dropped ones once more by reason (`oversized`,
 * `rateLimited`, `invalid`, `validatorIgnored`).
 */
export interface TopicCounters {
  accepted: number
  rejected: number
  ignored: number
  /** Rejected: payloads over the gossip size limit (refused before the validator ran). */
  oversized: number
  /** Over their author's rate (before the validator ran): rejected when the author sent it to us itself, ignored when relayed. */
  rateLimited: number
  /** Rejected by the validator (malformed, or the validator threw). */
  invalid: number
  /** Ignored by the validator (e.g. unwanted but not the sender's fault). */
  validatorIgnored: number
  /** Handler calls that threw (a bug in the caller; the message was still accepted). */
  handlerErrors: number
  /** The reason of the latest rejection, for debugging. */
  lastRejection?: string
}

/** Counts of messages gossipsub dropped before any validator, from its own metrics. */
export interface EnvelopeCounters {
  /** By gossipsub's reason (`invalid_signature`, `invalid_seqno`, `invalid_peerid`, ...). */
  readonly invalid: Record<string, number>
  /**
   * Messages already seen (gossipsub's seen cache, 2 minutes): the normal echo of a mesh, where
   * a message arrives from several neighbours, and any replay of a recent message.
   */
  duplicates: number
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
  /** How many messages per topic each author may make us validate (see the module comment). */
  readonly rate: RatePolicy
}

/**
 * gossipsub's score parameters for a subscribed topic: only P4, invalid messages (see the module
 * comment). They pass gossipsub's validateTopicScoreParams (a test checks).
 */
export const TOPIC_SCORE_PARAMS: TopicScoreParams = createTopicScoreParams({
  topicWeight: 1,
  timeInMeshWeight: 0,
  firstMessageDeliveriesWeight: 0,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -1,
  invalidMessageDeliveriesDecay: 0.3
})

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
    gossipsub_pre_validation_duplicate_total: (_labels, value) => { counters.duplicates += value },
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
  /** Token buckets by author, for this topic. */
  readonly rate: TokenBuckets
}

/** What GossipTopics uses of gossipsub: its public face, plus the score its runtime object has (see the module comment). */
export type ScoredGossipSub = GossipSub & {
  readonly score: { readonly params: PeerScoreParams }
  getScore: (peer: string) => number
}

/** The topics of one host: subscriptions with their validators, publishing, counters. */
export class GossipTopics {
  readonly envelope: EnvelopeCounters
  readonly #pubsub: ScoredGossipSub
  readonly #limits: GossipLimits
  readonly #now: () => number
  readonly #onError: (context: string, error: unknown) => void
  readonly #subscriptions = new Map<string, Subscription>()
  readonly #counters = new Map<string, TopicCounters>()
  /** Decoded values of accepted messages, from the validator call to the delivery event. */
  readonly #decoded = new WeakMap<Message, unknown>()

  /** `now` is a monotonic clock in ms, for the rate limit. */
  constructor (pubsub: GossipSub, limits: GossipLimits, envelope: EnvelopeCounters, now: () => number, onError: (context: string, error: unknown) => void) {
    this.#pubsub = pubsub as ScoredGossipSub
    this.#limits = limits
    this.envelope = envelope
    this.#now = now
    this.#onError = onError
    pubsub.addEventListener('message', (event) => { this.#deliver(event.detail) })
  }

  /** Counters of every topic subscribed to so far (kept after unsubscribing). */
  counters (): Record<string, TopicCounters> {
    return Object.fromEntries([...this.#counters].map(([topic, c]) => [topic, { ...c }]))
  }

  /** gossipsub's score of `peer` (0 for a peer it does not know). */
  score (peer: string): number {
    return this.#pubsub.getScore(peer)
  }

  /**
   * Subscribes to `topic`. Without a validator every message within the size limit is accepted
   * and delivered as its bytes. One subscription per topic (a second is a bug). Returns the
   * function that unsubscribes.
   */
  subscribe<T>(topic: string, onMessage: GossipHandler<T>, validate?: GossipValidator<T>): () => void {
    if (this.#subscriptions.has(topic)) throw new Error(`already subscribed to ${topic}`)
    const counters = this.#counters.get(topic) ?? { accepted: 0, rejected: 0, ignored: 0, oversized: 0, rateLimited: 0, invalid: 0, validatorIgnored: 0, handlerErrors: 0 }
    this.#counters.set(topic, counters)
    const subscription: Subscription = {
      validate: (validate ?? acceptBytes) as GossipValidator<unknown>,
      onMessage: onMessage as GossipHandler<unknown>,
      counters,
      rate: new TokenBuckets(this.#limits.rate)
    }
    this.#subscriptions.set(topic, subscription)
    // Read by gossipsub at every score computation, so a topic can be scored from its subscription on.
    this.#pubsub.score.params.topics[topic] ??= { ...TOPIC_SCORE_PARAMS }
    this.#pubsub.topicValidators.set(topic, (neighbour, message) => this.#judge(topic, subscription, neighbour.toString(), message))
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

  #judge (topic: string, subscription: Subscription, neighbour: string, message: Message): TopicValidatorResult {
    const counters = subscription.counters
    const reject = (reason: string): TopicValidatorResult => {
      counters.rejected++
      counters.lastRejection = reason
      return TopicValidatorResult.Reject
    }
    // StrictSign already refused unsigned messages; this keeps the type honest.
    if (message.type !== 'signed') {
      counters.invalid++
      return reject('unsigned message')
    }
    if (message.data.byteLength > this.#limits.maxGossipBytes) {
      counters.oversized++
      return reject(`payload of ${message.data.byteLength} bytes exceeds the limit of ${this.#limits.maxGossipBytes}`)
    }
    const author = message.from.toString()
    if (!subscription.rate.take(author, this.#now())) {
      counters.rateLimited++
      const { perSecond, burst } = this.#limits.rate
      if (author === neighbour) return reject(`over the rate of ${perSecond} messages a second (burst ${burst}) from ${author}`)
      counters.ignored++
      return TopicValidatorResult.Ignore
    }
    let verdict: GossipVerdict<unknown>
    try {
      verdict = subscription.validate(author, message.data)
    } catch (err) {
      this.#onError(`validating a message on ${topic}`, err)
      counters.invalid++
      return reject(`validator threw: ${err instanceof Error ? err.message : String(err)}`)
    }
    switch (verdict.type) {
      case 'accept':
        counters.accepted++
        this.#decoded.set(message, verdict.value)
        return TopicValidatorResult.Accept
      case 'reject':
        counters.invalid++
        return reject(verdict.reason)
      case 'ignore':
        counters.ignored++
        counters.validatorIgnored++
        return TopicValidatorResult.Ignore
      default: {
        const never: never = verdict
        counters.invalid++
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
