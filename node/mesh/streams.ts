/**
 * Request/response protocols on libp2p streams: one stream per exchange, one length-prefixed
 * frame each way (lpStream, varint length then bytes), payloads as plain Uint8Array. What the
 * bytes mean is the caller's business; this module only moves, bounds and times them.
 *
 * THEORY. The requester opens a stream for the protocol, writes its frame, reads one frame and
 * closes. The responder reads one frame, calls the protocol's handler, writes its answer and
 * closes. Anything else (a handler that throws, a frame over the limit, a peer that stalls past
 * the time budget) resets the stream: the requester sees `reset` (or `timeout`) and the
 * connection, shared with gossip and other streams, stays up.
 *
 * Bounds. A frame longer than `maxFrameBytes` is refused from its length prefix, before its body
 * is read; the stream's read buffer is capped at one frame plus its prefix, so a peer that sends
 * a long body anyway gets its stream reset instead of filling our memory. Every exchange has a
 * time budget on both sides, so a silent peer ties up nothing for long.
 */
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { abortScope } from './abort-scope.js'
import { describeError, MeshRequestError, type RequestFailure } from './errors.js'

/**
 * Answers one request: `from` is the requesting peer's id, `request` the frame it sent. Returns
 * the response frame. Throwing (or returning more than the frame limit) resets the stream, which
 * the requester sees as a `reset` failure. `signal` fires when the exchange's time budget runs
 * out or the host stops.
 */
export type RequestHandler = (from: string, request: Uint8Array, options: { signal: AbortSignal }) => Uint8Array | Promise<Uint8Array>

/** Options of one request. */
export interface RequestOptions {
  /** Cancels the request; it then fails with `aborted`. */
  readonly signal?: AbortSignal
  /** Time budget of this request in ms (dial included). @default the host's requestTimeoutMs */
  readonly timeoutMs?: number
}

/** Counters of the responder side, for debugState and tests. */
export interface StreamCounters {
  /** Requests answered. */
  served: number
  /** Inbound frames refused because their length prefix exceeded the frame limit. */
  oversizedFrames: number
  /** Inbound exchanges that failed otherwise (handler threw, peer stalled or reset, bad prefix). */
  failedExchanges: number
}

/** What the registry needs from libp2p (narrow, so a test can see what is used). */
export type StreamComponents = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>

/** Limits of the registry. */
export interface StreamLimits {
  readonly maxFrameBytes: number
  readonly requestTimeoutMs: number
}

/** The request/response registry of one host: handlers in, requests out. */
export class RequestResponse {
  readonly counters: StreamCounters = { served: 0, oversizedFrames: 0, failedExchanges: 0 }
  readonly #components: StreamComponents
  readonly #limits: StreamLimits
  readonly #shutdown: AbortSignal
  readonly #onError: (context: string, error: unknown) => void
  readonly #protocols = new Set<string>()

  constructor (components: StreamComponents, limits: StreamLimits, shutdown: AbortSignal, onError: (context: string, error: unknown) => void) {
    this.#components = components
    this.#limits = limits
    this.#shutdown = shutdown
    this.#onError = onError
  }

  /** Protocols with a handler. */
  get protocols (): readonly string[] { return [...this.#protocols] }

  /** Registers the handler of `protocol`; a second handler for the same protocol is a bug. */
  async handle (protocol: string, handler: RequestHandler): Promise<void> {
    if (this.#protocols.has(protocol)) throw new Error(`a handler for ${protocol} is already registered`)
    this.#protocols.add(protocol)
    await this.#components.handle(protocol, async (stream: Stream, connection: Connection) => {
      await this.#serve(protocol, stream, connection.remotePeer.toString(), handler)
    })
  }

  /** Removes the handler of `protocol` (peers then get `unsupported`). */
  async unhandle (protocol: string): Promise<void> {
    if (!this.#protocols.delete(protocol)) return
    await this.#components.unhandle(protocol)
  }

  /** Sends `request` to `peer` on `protocol` and resolves with the response frame; rejects with MeshRequestError. */
  async request (peer: string, protocol: string, request: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    if (request.byteLength > this.#limits.maxFrameBytes) {
      throw new MeshRequestError(peer, protocol, 'too-large', `request of ${request.byteLength} bytes exceeds the frame limit of ${this.#limits.maxFrameBytes}`, { local: true })
    }
    const target = peerIdFromString(peer)
    const scope = abortScope([this.#shutdown, options.signal], options.timeoutMs ?? this.#limits.requestTimeoutMs)
    const signal = scope.signal
    let stage: 'dial' | 'exchange' = 'dial'
    let stream: Stream | undefined
    try {
      signal.throwIfAborted()
      stream = await this.#components.dialProtocol(target, protocol, { signal })
      stage = 'exchange'
      const lp = lpStream(stream, this.#framing())
      await lp.write(request, { signal })
      const response = await lp.read({ signal })
      await stream.close({ signal })
      return response.subarray()
    } catch (err) {
      stream?.abort(err instanceof Error ? err : new Error(String(err)))
      const failure = this.#shutdown.aborted
        ? 'stopped'
        : options.signal?.aborted === true
          ? 'aborted'
          : scope.timedOut ? 'timeout' : classifyStreamFailure(stage, err)
      throw new MeshRequestError(peer, protocol, failure, describeError(err), { cause: err })
    } finally {
      scope.dispose()
    }
  }

  /** lpStream options: frames up to the limit, and a read buffer of one frame plus its prefix. */
  #framing (): { maxDataLength: number, maxBufferSize: number } {
    return { maxDataLength: this.#limits.maxFrameBytes, maxBufferSize: this.#limits.maxFrameBytes + 10 }
  }

  async #serve (protocol: string, stream: Stream, from: string, handler: RequestHandler): Promise<void> {
    const scope = abortScope([this.#shutdown], this.#limits.requestTimeoutMs)
    const signal = scope.signal
    try {
      const lp = lpStream(stream, this.#framing())
      const request = await lp.read({ signal })
      const response = await handler(from, request.subarray(), { signal })
      if (response.byteLength > this.#limits.maxFrameBytes) {
        throw new Error(`handler answered ${response.byteLength} bytes, over the frame limit of ${this.#limits.maxFrameBytes}`)
      }
      await lp.write(response, { signal })
      await stream.close({ signal })
      this.counters.served++
    } catch (err) {
      if (isOversize(err)) {
        this.counters.oversizedFrames++
      } else {
        this.counters.failedExchanges++
        if (!this.#shutdown.aborted) this.#onError(`serving ${protocol} to ${from}`, err)
      }
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      scope.dispose()
    }
  }
}

/** Whether `err` is a frame refused for its length (ours or the peer's), by its name. */
export function isOversize (err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name
  return name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError' || name === 'StreamBufferError'
}

/** How a request failed, from where it failed and the error's name (libp2p errors are told apart by name). */
export function classifyStreamFailure (stage: 'dial' | 'exchange', err: unknown): RequestFailure {
  if (isOversize(err)) return 'too-large'
  const name = (err as { name?: unknown } | null)?.name
  if (name === 'UnsupportedProtocolError') return 'unsupported'
  return stage === 'dial' ? 'unreachable' : 'reset'
}
