/**
 * Keeping in touch with the bootstrap peers. libp2p's bootstrap module dials each listed peer
 * once; a node whose bootstrap peers are not up yet, or that lost them, would stay alone. The
 * redialer owns the configured bootstrap multiaddrs instead: it dials each one at start, and
 * whenever the node has no connection to that peer it dials again with exponential backoff and
 * jitter, until the peer is back.
 *
 * THEORY. Per target: `failures` counts consecutive unsuccessful tries; the delay before the
 * next try is `redialDelay(failures)` (0.5 s, 1 s, 2 s ... capped at 30 s, each shortened by a
 * random fraction of up to half so that nodes restarted together do not redial in step). A
 * successful dial leaves `failures` as it is; the disconnect that ends the connection decides:
 * after a connection that lasted `stableMs` the count starts over at 1, after a shorter one it
 * grows, so a peer that accepts and drops at once is redialed ever more slowly, not in a hot
 * loop. A connection the peer opens to us counts like one we opened. Our own address in the list
 * is skipped (every node may share one list).
 *
 * The schedule is pure (`redialDelay`, `failuresAfterDisconnect`); the Redialer binds it to a
 * clock, a timer and libp2p's dial, all injected.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { InvalidFieldError } from '../../metad/index.js'
import { abortScope } from './abort-scope.js'

/** The backoff schedule. */
export interface BackoffPolicy {
  /** Delay before the first retry, in ms. */
  readonly initialMs: number
  /** Largest delay, in ms. */
  readonly maxMs: number
  /** Growth of the delay per failure. */
  readonly factor: number
  /** Each delay is shortened by up to this fraction, drawn at random (0: no jitter; < 1). */
  readonly jitter: number
  /** A connection that lasted this long (ms) resets the failure count when it ends. */
  readonly stableMs: number
}

/**
 * The delay in ms before the next dial of a target that has failed `failures` times in a row
 * (0: dial now). `u` is a uniform random number in [0, 1). The result lies in
 * [base * (1 - jitter), base] with base = min(maxMs, initialMs * factor^(failures - 1)).
 */
export function redialDelay (failures: number, policy: BackoffPolicy, u: number): number {
  if (failures <= 0) return 0
  // factor ** k overflows to Infinity after enough failures; min caps it.
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** (failures - 1))
  return Math.round(base * (1 - policy.jitter * Math.min(Math.max(u, 0), 1)))
}

/** The failure count after a connection that lasted `connectedMs` ended (see the module comment). */
export function failuresAfterDisconnect (failures: number, connectedMs: number, policy: BackoffPolicy): number {
  return connectedMs >= policy.stableMs ? 1 : failures + 1
}

/** A bootstrap peer: its multiaddr (ending in /p2p/<id>) and that peer id. */
export interface BootstrapTarget {
  readonly address: string
  readonly peer: string
}

/**
 * Parses a bootstrap multiaddr from the configuration. It must name the peer (/p2p/<id> at
 * the end): the id is what tells us whether we are connected to it, and noise then proves the
 * peer at that address holds that identity. Throws InvalidFieldError('bootstrap', ...) otherwise.
 */
export function parseBootstrapAddress (text: string): BootstrapTarget {
  let peer: string | undefined
  try {
    const ma = multiaddr(text)
    peer = ma.getComponents().filter((c) => c.name === 'p2p').at(-1)?.value
  } catch (err) {
    throw new InvalidFieldError('bootstrap', text, `not a multiaddr (${err instanceof Error ? err.message : String(err)})`)
  }
  if (peer === undefined) throw new InvalidFieldError('bootstrap', text, 'must end with /p2p/<peer id> (a node prints its full address when it starts)')
  try {
    peerIdFromString(peer)
  } catch {
    throw new InvalidFieldError('bootstrap', text, `${JSON.stringify(peer)} is not a peer id`)
  }
  return { address: text, peer }
}

/** What the redialer needs from its host. */
export interface RedialComponents {
  /** This node's peer id (its own address in the list is skipped). */
  readonly selfId: string
  /** Whether there is at least one open connection to `peer`. */
  readonly isConnected: (peer: string) => boolean
  /** Dials `address`; rejects when no connection results. */
  readonly dial: (address: string, signal: AbortSignal) => Promise<void>
  /** Uniform random numbers in [0, 1), for jitter. */
  readonly random: () => number
  /** Milliseconds on a monotonic clock. */
  readonly now: () => number
  /** Runs `fn` after `delayMs`; returns the function that cancels it. */
  readonly schedule: (delayMs: number, fn: () => void) => () => void
}

/** Options of the redialer. */
export interface RedialInit {
  readonly targets: readonly BootstrapTarget[]
  readonly policy: BackoffPolicy
  /** Time budget of one dial, in ms. */
  readonly dialTimeoutMs: number
}

/** One target's state, as debugState shows it. */
export interface RedialTargetState {
  readonly address: string
  readonly peer: string
  readonly connected: boolean
  readonly failures: number
  readonly dialing: boolean
  readonly waiting: boolean
}

interface Target {
  readonly target: BootstrapTarget
  failures: number
  dialing: boolean
  cancel: (() => void) | undefined
  connectedAt: number | undefined
}

/** Redials bootstrap peers the node is not connected to (see the module comment). */
export class Redialer {
  readonly #components: RedialComponents
  readonly #init: RedialInit
  readonly #targets: Target[]
  readonly #stop = new AbortController()
  #started = false

  constructor (components: RedialComponents, init: RedialInit) {
    this.#components = components
    this.#init = init
    this.#targets = init.targets
      .filter((t) => t.peer !== components.selfId)
      .map((target) => ({ target, failures: 0, dialing: false, cancel: undefined, connectedAt: undefined }))
  }

  /** Dials every target not yet connected, now. */
  start (): void {
    if (this.#started || this.#stop.signal.aborted) return
    this.#started = true
    for (const t of this.#targets) {
      if (this.#components.isConnected(t.target.peer)) t.connectedAt = this.#components.now()
      else this.#arm(t, 0)
    }
  }

  /** Stops all timers and aborts dials in flight. Idempotent. */
  stop (): void {
    this.#stop.abort()
    for (const t of this.#targets) {
      t.cancel?.()
      t.cancel = undefined
    }
  }

  /** The host saw a connection to `peer` open (either direction). */
  onConnect (peer: string): void {
    for (const t of this.#targets) {
      if (t.target.peer !== peer) continue
      t.cancel?.()
      t.cancel = undefined
      t.connectedAt ??= this.#components.now()
    }
  }

  /** The host lost its last connection to `peer`. */
  onDisconnect (peer: string): void {
    if (!this.#started || this.#stop.signal.aborted || this.#components.isConnected(peer)) return
    const now = this.#components.now()
    for (const t of this.#targets) {
      if (t.target.peer !== peer) continue
      t.failures = failuresAfterDisconnect(t.failures, now - (t.connectedAt ?? now), this.#init.policy)
      t.connectedAt = undefined
      if (!t.dialing && t.cancel === undefined) this.#arm(t, redialDelay(t.failures, this.#init.policy, this.#components.random()))
    }
  }

  /** Each target's state. */
  debugState (): RedialTargetState[] {
    return this.#targets.map((t) => ({
      address: t.target.address,
      peer: t.target.peer,
      connected: this.#components.isConnected(t.target.peer),
      failures: t.failures,
      dialing: t.dialing,
      waiting: t.cancel !== undefined
    }))
  }

  #arm (t: Target, delayMs: number): void {
    t.cancel = this.#components.schedule(delayMs, () => {
      t.cancel = undefined
      void this.#attempt(t)
    })
  }

  async #attempt (t: Target): Promise<void> {
    if (this.#stop.signal.aborted || this.#components.isConnected(t.target.peer)) return
    t.dialing = true
    let ok = false
    const scope = abortScope([this.#stop.signal], this.#init.dialTimeoutMs)
    try {
      await this.#components.dial(t.target.address, scope.signal)
      ok = true
    } catch {
      // A failed dial is the normal case while the peer is down: counted, retried, not reported.
    } finally {
      scope.dispose()
      t.dialing = false
    }
    if (this.#stop.signal.aborted) return
    if (ok && this.#components.isConnected(t.target.peer)) {
      t.connectedAt ??= this.#components.now()
      return
    }
    // Failed, or connected and already closed again (whose disconnect counted it): try later.
    if (!ok || t.failures === 0) t.failures++
    t.connectedAt = undefined
    if (t.cancel === undefined) this.#arm(t, redialDelay(t.failures, this.#init.policy, this.#components.random()))
  }
}
