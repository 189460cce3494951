/**
 * The binding between the merge tree's sans-IO core (node/merge) and the outside: libp2p for
 * its messages, the point store (node/store) for persist-data, and the daemon's queries. The
 * only place where MergeCore's outputs become I/O.
 *
 * - Time: one real timer, armed at merge.nextDeadline() and re-armed after every core call.
 * - `send`: the message, encoded, as one frame on the peer's long-lived MERGE_PROTOCOL stream
 *   (message-channels.ts), after `connect` made sure there is a connection. A send that fails
 *   (a crashed peer refuses the connection) goes back to the core as sendFailed, which routes
 *   around the peer and re-sends a partial to the new parent; a partial lost in flight to a
 *   dying parent is a gap the point's minreporting shows, never a double.
 * - `store` / `drop-store`: the point log (one record per slot, encoded as a one-point history
 *   message so that the wire codec's validation guards the disk too).
 * - `query-result` / `query-failed`: settle the promise of query().
 */
import { HeatmeshError, type DecodeExpectation } from '../../metad/index.js'
import {
  decodeMergeMessage, encodeMergeMessage, type MergeCore, type MergeMessage, type MergeOutput, type StoredPoint
} from '../merge/index.js'
import type { PointStore } from '../store/index.js'
import { MeshRequestError } from './errors.js'
import type { MeshHost } from './host.js'

/** The protocol of the merge tree's messages: one-way frames on a long-lived stream per peer. */
export const MERGE_PROTOCOL = '/heatmesh/merge/1.0.0'
/** Time budget of one merge message (dial included): a partial later than this is stale anyway. */
const SEND_TIMEOUT_MS = 2000
/** A timer never sleeps longer than this. */
const MAX_TIMER_MS = 60_000

/** What the merge binding needs. */
export interface MergeBindingInit {
  readonly merge: MergeCore
  readonly host: MeshHost
  /** Makes sure a connection to `peer` exists (dialing its advertised addresses); never rejects. */
  readonly connect: (peer: string) => Promise<void>
  /** The point log, or undefined for a node that keeps no data on disk (tests). */
  readonly store?: PointStore
  /** Wall-clock milliseconds. */
  readonly now: () => number
  /** Told about failures worth a log line. @default ignore */
  readonly onError?: (context: string, error: unknown) => void
}

/** Counters for debugState and the benchmarks. */
export interface MergeBindingCounters {
  sent: number
  sentBytes: number
  sendFailures: number
  received: number
  receivedBytes: number
  stored: number
  queries: number
  queryFailures: number
}

/** A running merge binding. */
export interface MergeBinding {
  /** Registers the protocol and arms the timer. */
  start: () => Promise<void>
  /** Runs a core command at the current time and carries out the outputs it returns. */
  run: <T>(command: (now: number) => { outputs: MergeOutput[], result: T }) => T
  /**
   * The points of `id` whose slots overlap [from, to) seconds, from the instrumentation's root
   * (or a replica when the root does not answer). Rejects with HeatmeshError ECA_NOENT for an
   * unknown id and ECA_REMOTE when no holder answered.
   */
  query: (id: string, from: number, to: number, signal?: AbortSignal) => Promise<readonly StoredPoint[]>
  /** Stops the timer, unregisters, and settles pending queries. */
  stop: () => Promise<void>
  counters: () => Readonly<MergeBindingCounters>
}

/** A stored point as bytes for the point log. */
export function encodeStoredPoint (id: string, point: StoredPoint): Uint8Array {
  return encodeMergeMessage({ type: 'history', id, points: [point], done: true })
}

/** Bytes from the point log back to a point of `id`; throws (FieldDecodeError) on bad bytes. */
export function decodeStoredPoint (id: string, bytes: Uint8Array, expectation: DecodeExpectation): StoredPoint {
  const m = decodeMergeMessage(bytes, (other) => other === id ? expectation : undefined)
  if (m.type !== 'history' || m.id !== id || m.points.length !== 1) throw new RangeError(`a stored point of ${id} holds a ${m.type} message`)
  return m.points[0]!
}

/** Binds `merge` to `host` and `store` (see the module comment). */
export function createMergeBinding (init: MergeBindingInit): MergeBinding {
  const { merge, host, now, store } = init
  const onError = init.onError ?? (() => {})
  const counters: MergeBindingCounters = { sent: 0, sentBytes: 0, sendFailures: 0, received: 0, receivedBytes: 0, stored: 0, queries: 0, queryFailures: 0 }
  const pending = new Map<number, { resolve: (points: readonly StoredPoint[]) => void, reject: (err: Error) => void }>()
  let timer: NodeJS.Timeout | undefined
  let stopped = false

  function arm (): void {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    if (stopped) return
    const deadline = merge.nextDeadline()
    if (deadline === undefined) return
    timer = setTimeout(() => {
      timer = undefined
      carry(merge.tick(now()))
    }, Math.min(MAX_TIMER_MS, Math.max(0, deadline - now())))
  }

  function carry (outputs: readonly MergeOutput[]): void {
    for (const o of outputs) {
      try {
        carryOne(o)
      } catch (err) {
        onError(`carrying out merge ${o.type}`, err)
      }
    }
    arm()
  }

  function carryOne (o: MergeOutput): void {
    switch (o.type) {
      case 'send': void send(o.to, o.message); return
      case 'store':
        if (store === undefined) return
        store.put(o.id, o.point.second, encodeStoredPoint(o.id, o.point))
        counters.stored++
        return
      case 'drop-store': store?.drop(o.id); return
      case 'query-result': {
        const p = pending.get(o.requestId)
        pending.delete(o.requestId)
        p?.resolve(o.points)
        return
      }
      case 'query-failed': {
        const p = pending.get(o.requestId)
        pending.delete(o.requestId)
        counters.queryFailures++
        p?.reject(new HeatmeshError('ECA_REMOTE', `no holder of instrumentation ${o.id} answered: ${o.reason}`))
        return
      }
      default: {
        const never: never = o
        throw new Error(`unhandled merge output ${JSON.stringify(never)}`)
      }
    }
  }

  async function send (peer: string, message: MergeMessage): Promise<void> {
    if (stopped) return
    const bytes = encodeMergeMessage(message)
    try {
      await init.connect(peer)
      await host.send(peer, MERGE_PROTOCOL, bytes, { timeoutMs: SEND_TIMEOUT_MS })
      counters.sent++
      counters.sentBytes += bytes.byteLength
    } catch (err) {
      counters.sendFailures++
      // Only the peer's own failures (refused, reset, silent) say it is unreachable; a frame too
      // large or a stopping node says nothing about it.
      const peerFailed = err instanceof MeshRequestError && (err.failure === 'unreachable' || err.failure === 'reset' || err.failure === 'timeout')
      if (peerFailed && !stopped) carry(merge.sendFailed(peer, message, now()))
    }
  }

  return {
    async start () {
      await host.handleMessages(MERGE_PROTOCOL, (from, message) => {
        counters.received++
        counters.receivedBytes += message.byteLength
        if (!stopped) carry(merge.handle(from, message, now()))
      })
      arm()
    },
    run (command) {
      const { outputs, result } = command(now())
      carry(outputs)
      return result
    },
    async query (id, from, to, signal) {
      if (stopped) throw new HeatmeshError('ECA_REMOTE', 'the node is stopping')
      counters.queries++
      return await new Promise<readonly StoredPoint[]>((resolve, reject) => {
        let requestId = -1
        const onAbort = (): void => {
          pending.delete(requestId)
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'))
        }
        const settle = {
          resolve: (points: readonly StoredPoint[]) => { signal?.removeEventListener('abort', onAbort); resolve(points) },
          reject: (err: Error) => { signal?.removeEventListener('abort', onAbort); reject(err) }
        }
        let outputs: MergeOutput[]
        try {
          ({ requestId, outputs } = merge.requestQuery(id, from, to, now()))
        } catch (err) {
          reject(err as Error)
          return
        }
        pending.set(requestId, settle)
        signal?.addEventListener('abort', onAbort, { once: true })
        // A root answering itself settles within this call.
        carry(outputs)
      })
    },
    async stop () {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      await host.unhandle(MERGE_PROTOCOL).catch(() => {})
      for (const p of pending.values()) p.reject(new HeatmeshError('ECA_REMOTE', 'the node is stopping'))
      pending.clear()
    },
    counters: () => ({ ...counters })
  }
}
