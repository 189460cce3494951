/**
 * One-way messages on long-lived streams: for each (peer, protocol) one outbound stream that
 * stays open, carrying length-prefixed frames, written in order. This is what the protocol
 * core's point-to-point messages travel on (pings, acks, rumours, anti-entropy), which need no
 * answer at this layer: an answer is a message of its own.
 *
 * Why not one request/response stream per message (streams.ts)? Every new stream costs a yamux
 * open and close, a multistream-select negotiation, a peer-store write under a lock, a logger,
 * and an empty response frame: about ten encrypted frames and socket writes per message. The
 * profile of an idle five-node mesh put most of a daemon's idle CPU there (SWIM alone is two
 * messages a second each way). On a long-lived stream a message is one frame.
 *
 * THEORY. Outbound: sends to one (peer, protocol) are chained, so frames keep their order and
 * one write finishes before the next starts; a send opens the stream when there is none (or the
 * one there is no longer writable), writes its frame, and waits for the stream to drain when its
 * buffer is full. A write that fails on a stream opened earlier (the connection was replaced
 * meanwhile) is retried once on a fresh stream; any other failure aborts the stream, which the
 * next send replaces. Every send has a time budget that covers its wait in the chain, so a slow
 * peer holds at most budget x rate messages. Inbound: each stream is read frame by frame until
 * its sender closes it; a frame over the limit is refused from its length prefix and resets the
 * stream (the sender's next send opens another). Delivery is not confirmed: the core is built to
 * survive lost messages (SWIM, anti-entropy).
 */
import { decode as lpDecode, encode as lpEncode } from 'it-length-prefixed'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { abortScope } from './abort-scope.js'
import { describeError, MeshRequestError } from './errors.js'
import { classifyStreamFailure, isOversize } from './streams.js'

/** Receives one message: the sending peer's id (authenticated by the connection) and the frame. */
export type MessageHandler = (from: string, message: Uint8Array) => void

/** Options of one send. */
export interface SendOptions {
  /** Cancels the send; it then fails with `aborted`. */
  readonly signal?: AbortSignal
  /** Time budget of this send in ms (waiting for earlier sends and dialing included). @default the host's requestTimeoutMs */
  readonly timeoutMs?: number
}

/** Counters of both sides, for debugState and tests. */
export interface ChannelCounters {
  /** Frames written to an outbound stream. */
  sent: number
  /** Outbound streams opened. */
  opened: number
  /** Frames received and handed to a handler. */
  received: number
  /** Inbound frames refused because their length prefix exceeded the frame limit. */
  oversizedFrames: number
  /** Inbound streams that ended with an error other than an oversized frame. */
  failedStreams: number
  /** Handler calls that threw (a bug in the caller; the stream goes on). */
  handlerErrors: number
}

/** What the channels need from libp2p. */
export type ChannelComponents = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>

/** Limits of the channels. */
export interface ChannelLimits {
  readonly maxFrameBytes: number
  readonly requestTimeoutMs: number
}

/** The one-way message channels of one host: handlers in, sends out. */
export class MessageChannels {
  readonly counters: ChannelCounters = { sent: 0, opened: 0, received: 0, oversizedFrames: 0, failedStreams: 0, handlerErrors: 0 }
  readonly #components: ChannelComponents
  readonly #limits: ChannelLimits
  readonly #shutdown: AbortSignal
  readonly #onError: (context: string, error: unknown) => void
  readonly #protocols = new Set<string>()
  /** Open outbound streams by channel key. */
  readonly #outbound = new Map<string, Stream>()
  /** The last send queued on each channel: the next one starts after it settles. */
  readonly #tails = new Map<string, Promise<void>>()
  /** Inbound streams being read, so stop can abort them. */
  readonly #inbound = new Set<Stream>()

  constructor (components: ChannelComponents, limits: ChannelLimits, shutdown: AbortSignal, onError: (context: string, error: unknown) => void) {
    this.#components = components
    this.#limits = limits
    this.#shutdown = shutdown
    this.#onError = onError
    shutdown.addEventListener('abort', () => {
      for (const stream of [...this.#outbound.values(), ...this.#inbound]) stream.abort(new Error('host stopping'))
      this.#outbound.clear()
      this.#inbound.clear()
    }, { once: true })
  }

  /** Protocols with a handler. */
  get protocols (): readonly string[] { return [...this.#protocols] }

  /** Whether `protocol` has a message handler here. */
  has (protocol: string): boolean { return this.#protocols.has(protocol) }

  /** Open outbound channels (for debugState). */
  get open (): number { return this.#outbound.size }

  /** Registers the message handler of `protocol`; a second handler for the same protocol is a bug. */
  async handle (protocol: string, handler: MessageHandler): Promise<void> {
    if (this.#protocols.has(protocol)) throw new Error(`a handler for ${protocol} is already registered`)
    this.#protocols.add(protocol)
    await this.#components.handle(protocol, (stream: Stream, connection: Connection) => {
      // Read in the background: the stream lives as long as the sender keeps it.
      void this.#receive(protocol, stream, connection.remotePeer.toString(), handler)
    })
  }

  /** Removes the handler of `protocol` (streams already open keep being read until they end). */
  async unhandle (protocol: string): Promise<void> {
    if (!this.#protocols.delete(protocol)) return
    await this.#components.unhandle(protocol)
  }

  /**
   * Sends `message` to `peer` on `protocol`: resolves once it is written to the channel's
   * stream (not when it is delivered); rejects with MeshRequestError.
   */
  async send (peer: string, protocol: string, message: Uint8Array, options: SendOptions = {}): Promise<void> {
    if (message.byteLength > this.#limits.maxFrameBytes) {
      throw new MeshRequestError(peer, protocol, 'too-large', `message of ${message.byteLength} bytes exceeds the frame limit of ${this.#limits.maxFrameBytes}`, { local: true })
    }
    const scope = abortScope([this.#shutdown, options.signal], options.timeoutMs ?? this.#limits.requestTimeoutMs)
    const signal = scope.signal
    const key = `${peer}\n${protocol}`
    const previous = this.#tails.get(key)
    const mine = (async () => {
      if (previous !== undefined) await raceAbort(previous.catch(() => {}), signal)
      await this.#write(key, peer, protocol, message, signal)
    })()
    this.#tails.set(key, mine)
    try {
      await mine
    } catch (err) {
      if (err instanceof MeshRequestError) throw err
      const failure = this.#shutdown.aborted ? 'stopped' : options.signal?.aborted === true ? 'aborted' : 'timeout'
      throw new MeshRequestError(peer, protocol, failure, describeError(err), { cause: err })
    } finally {
      scope.dispose()
      if (this.#tails.get(key) === mine) this.#tails.delete(key)
    }
  }

  async #write (key: string, peer: string, protocol: string, message: Uint8Array, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      signal.throwIfAborted()
      let stream = this.#outbound.get(key)
      const reused = stream !== undefined && stream.status === 'open' && stream.writeStatus === 'writable'
      let stage: 'dial' | 'exchange' = 'dial'
      try {
        if (!reused) {
          stream?.abort(new Error('replaced'))
          stream = await this.#components.dialProtocol(peerIdFromString(peer), protocol, { signal })
          this.counters.opened++
          this.#track(key, stream)
        }
        stage = 'exchange'
        const s = stream as Stream
        if (!s.send(lpEncode.single(message))) await s.onDrain({ signal })
        this.counters.sent++
        return
      } catch (err) {
        if (stream !== undefined && this.#outbound.get(key) === stream) this.#outbound.delete(key)
        if (stage === 'exchange') stream?.abort(err instanceof Error ? err : new Error(String(err)))
        // A stream opened earlier may belong to a connection that has just been replaced.
        if (reused && attempt === 0 && !signal.aborted) continue
        if (signal.aborted) throw err
        throw new MeshRequestError(peer, protocol, classifyStreamFailure(stage, err), describeError(err), { cause: err })
      }
    }
  }

  #track (key: string, stream: Stream): void {
    this.#outbound.set(key, stream)
    stream.addEventListener('close', () => {
      if (this.#outbound.get(key) === stream) this.#outbound.delete(key)
    }, { once: true })
  }

  async #receive (protocol: string, stream: Stream, from: string, handler: MessageHandler): Promise<void> {
    this.#inbound.add(stream)
    try {
      for await (const frame of lpDecode(stream, { maxDataLength: this.#limits.maxFrameBytes })) {
        this.counters.received++
        try {
          handler(from, frame.subarray())
        } catch (err) {
          this.counters.handlerErrors++
          this.#onError(`handling a ${protocol} message from ${from}`, err)
        }
      }
      await stream.close().catch(() => {})
    } catch (err) {
      if (isOversize(err)) {
        this.counters.oversizedFrames++
      } else if (!this.#shutdown.aborted && stream.status === 'open') {
        this.counters.failedStreams++
      }
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      this.#inbound.delete(stream)
    }
  }
}

/** Resolves with `promise`, or rejects with the signal's reason when it fires first. */
async function raceAbort (promise: Promise<void>, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  let onAbort: (() => void) | undefined
  try {
    await Promise.race([promise, new Promise<never>((_resolve, reject) => {
      onAbort = () => { reject(signal.reason) }
      signal.addEventListener('abort', onAbort, { once: true })
    })])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}
