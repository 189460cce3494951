/**
 * The simulated network: when (and whether) a message sent from node i to node j at time t
 * arrives. The model, stated in every report:
 * - Latency. Each link (an unordered pair of nodes) has a one-way base latency drawn once from
 *   the latency distribution (uniform between two bounds, log-normal, or fixed), as if nodes sat
 *   at fixed distances from one another; each message adds a uniform jitter in [0, jitter).
 * - Loss. Every protocol of the daemon travels on TCP (libp2p streams), so a lost packet costs
 *   time, not the message: each transmission attempt is lost independently with the current loss
 *   probability (the base one, or a burst's while it lasts) and retransmitted after Linux's
 *   minimum retransmission timeout (200 ms), doubling per retry; after MAX_RETRANSMITS lost
 *   attempts in a row the connection resets and the message is gone.
 * - Bandwidth. Each node's uplink sends one message at a time at `bandwidth` bytes/s: a message
 *   leaves after the ones queued before it have (serialization delay); downlinks are not limited.
 * - Partitions. Nodes are in groups; nothing crosses groups.
 * - Slow nodes. A slow node handles each message `slow` ms after it arrives.
 * Crashed receivers are the simulator's business (it drops what arrives at a node that is down).
 */
import { InvalidFieldError } from '../metad/index.js'
import { createRng, fmix32, type Rng } from '../node/core/index.js'

/** TCP's minimum retransmission timeout on Linux (TCP_RTO_MIN), ms. */
export const RTO_MIN_MS = 200
/** Lost attempts in a row after which a message counts as lost (the connection reset). */
export const MAX_RETRANSMITS = 6

/** A one-way latency distribution, in ms. */
export type LatencyModel =
  | { readonly kind: 'uniform', readonly min: number, readonly max: number }
  | { readonly kind: 'lognormal', readonly median: number, readonly sigma: number }
  | { readonly kind: 'fixed', readonly ms: number }

/**
 * Parses `--latency-ms`: `MIN,MAX` or `uniform:MIN,MAX`, `lognormal:MEDIAN,SIGMA`, `fixed:MS`.
 * @throws InvalidFieldError
 */
export function parseLatency (text: string): LatencyModel {
  const bad = (reason: string): never => { throw new InvalidFieldError('--latency-ms', text, reason) }
  const [kind, args] = text.includes(':') ? text.split(':', 2) as [string, string] : ['uniform', text]
  const xs = args.split(',').map((a) => (a.trim() === '' ? NaN : Number(a)))
  if (xs.some((x) => !Number.isFinite(x) || x < 0 || x > 60_000)) bad('numbers must be in 0 .. 60000')
  switch (kind) {
    case 'uniform':
      if (xs.length !== 2 || (xs[1] as number) < (xs[0] as number)) bad('expected MIN,MAX with MIN <= MAX')
      return { kind: 'uniform', min: xs[0] as number, max: xs[1] as number }
    case 'lognormal':
      if (xs.length !== 2 || !((xs[0] as number) > 0) || (xs[1] as number) > 3) bad('expected MEDIAN,SIGMA with MEDIAN > 0 and SIGMA <= 3')
      return { kind: 'lognormal', median: xs[0] as number, sigma: xs[1] as number }
    case 'fixed':
      if (xs.length !== 1) bad('expected one number')
      return { kind: 'fixed', ms: xs[0] as number }
    default:
      return bad('expected MIN,MAX, uniform:MIN,MAX, lognormal:MEDIAN,SIGMA or fixed:MS')
  }
}

/** The text of a latency model, as parseLatency reads it. */
export function formatLatency (m: LatencyModel): string {
  switch (m.kind) {
    case 'uniform': return `uniform:${m.min},${m.max}`
    case 'lognormal': return `lognormal:${m.median},${m.sigma}`
    case 'fixed': return `fixed:${m.ms}`
  }
}

/** Parameters of the network. */
export interface NetworkInit {
  readonly nodes: number
  readonly seed: string
  readonly latency: LatencyModel
  /** Per-message jitter bound, ms. */
  readonly jitterMs: number
  /** Base loss probability. */
  readonly loss: number
  /** Uplink bytes per second per node; undefined: unlimited. */
  readonly bandwidth?: number
}

/** Link state and the delivery rule (see the module doc). */
export class Network {
  /** Partition group per node (0: the main group). */
  readonly group: Int32Array
  /** Processing delay per node, ms (slow nodes). */
  readonly slowMs: Float64Array
  /** Current loss probability. */
  loss: number
  readonly #baseLoss: number
  readonly #latency: LatencyModel
  readonly #jitter: number
  readonly #bytesPerMs: number
  readonly #txFree: Float64Array
  readonly #rng: Rng
  readonly #linkSeed: number
  /** Messages lost (MAX_RETRANSMITS attempts in a row lost) and cut by partitions (the simulator counts crashed receivers). */
  lost = 0
  /** Transmission attempts lost and retransmitted. */
  retransmits = 0
  cut = 0

  constructor (init: NetworkInit) {
    this.group = new Int32Array(init.nodes)
    this.slowMs = new Float64Array(init.nodes)
    this.#txFree = new Float64Array(init.nodes)
    this.loss = init.loss
    this.#baseLoss = init.loss
    this.#latency = init.latency
    this.#jitter = init.jitterMs
    this.#bytesPerMs = init.bandwidth === undefined ? Infinity : init.bandwidth / 1000
    this.#rng = createRng(`network:${init.seed}`)
    this.#linkSeed = createRng(`links:${init.seed}`).uint32()
  }

  /** Back to the base loss probability (a burst ended). */
  endBurst (): void {
    this.loss = this.#baseLoss
  }

  /**
   * Sends `bytes` from i to j at `now`: the arrival time (retransmissions and processing delay
   * included), or -1 when the message is lost or cannot cross a partition. Consumes i's uplink either way.
   */
  transmit (i: number, j: number, bytes: number, now: number): number {
    let departs = now
    if (this.#bytesPerMs !== Infinity) {
      departs = Math.max(now, this.#txFree[i] as number) + bytes / this.#bytesPerMs
      this.#txFree[i] = departs
    }
    if (this.group[i] !== this.group[j]) { this.cut++; return -1 }
    let retransmitDelay = 0
    if (this.loss > 0) {
      const threshold = this.loss * 4294967296
      let rto = RTO_MIN_MS
      let attempts = 0
      while (this.#rng.uint32() < threshold) {
        if (++attempts >= MAX_RETRANSMITS) { this.lost++; return -1 }
        this.retransmits++
        retransmitDelay += rto
        rto *= 2
      }
    }
    let at = departs + retransmitDelay + this.linkLatency(i, j)
    if (this.#jitter > 0) at += this.#jitter * (this.#rng.uint32() / 4294967296)
    return at + (this.slowMs[j] as number)
  }

  /** The base one-way latency of link {i, j}, ms: the same both ways and on every call. */
  linkLatency (i: number, j: number): number {
    const m = this.#latency
    if (m.kind === 'fixed') return m.ms
    const lo = i < j ? i : j
    const hi = i < j ? j : i
    const u1 = unit(fmix32(this.#linkSeed ^ Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi, 0x85ebca77)))
    if (m.kind === 'uniform') return m.min + (m.max - m.min) * u1
    // Box-Muller from two link hashes: a standard normal z, then median x e^(sigma z).
    const u2 = unit(fmix32(this.#linkSeed ^ Math.imul(hi, 0x27d4eb2f) ^ Math.imul(lo + 1, 0x165667b1)))
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
    return m.median * Math.exp(m.sigma * z)
  }
}


/** A word as a uniform number in (0, 1) (never 0, so log() is finite). */
function unit (w: number): number {
  return (w + 0.5) / 4294967296
}
