/**
 * A virtual-time cluster of merge cores: the merge tree's test harness (quinn's `Pair` for N
 * nodes, like node/core/cluster.ts for the mesh). There is no MeshCore here: the harness sets
 * every node's membership view itself, with a detection delay after a crash or a join, so the
 * tests control exactly who knows what when.
 *
 * A discrete-event loop delivers messages after a latency (uniform in [min, max], plus an
 * optional extra delay per link), fires each core's timers at its nextDeadline(), and once a
 * second calls contribute(t) on every live node with a value derived from (node, t) only, so the
 * tests know the truth of every second. Messages travel as bytes through the real codec (the
 * default) or as objects. Everything random comes from the seed: the same seed is the same run.
 * The simulator (sim/) brings its own richer network and drives MergeCore the same way.
 */
import type { Value } from '../../metad/index.js'
import { clusterPeerId } from '../core/cluster.js'
import type { PeerId } from '../core/messages.js'
import { createRng, randomFloat, type Rng } from '../core/rng.js'
import type { MergeConfig } from './config.js'
import { createMergeCore, type MergeCore, type MergeOutput } from './merge-core.js'
import { encodeMergeMessage, type InstrumentationId, type MergeMessage } from './messages.js'
import type { StoredPoint } from './point-ring.js'
import type { InstrumentationSpec } from './spec.js'
import { membersOf } from './tree.js'
import { EventHeap } from '../core/event-heap.js'

/** Harness options. Times in virtual milliseconds. */
export interface MergeClusterOptions {
  /** Seed of the link model. */
  readonly seed: number | string
  /** Number of nodes (all of them exist; `initial` of them start at once). */
  readonly nodes: number
  /** How many nodes start at the epoch; the others join() later. @default nodes */
  readonly initial?: number
  /** The instrumentations every node runs. */
  readonly instrumentations: ReadonlyArray<{ readonly id: InstrumentationId, readonly spec: InstrumentationSpec }>
  /** Node i's value for second t of instrumentation id; undefined: node i does not run it. */
  readonly localValue: (node: number, second: number, id: InstrumentationId) => Value | undefined
  /** Virtual time at the start, ms (a whole second). @default 1_750_000_000_000 */
  readonly epoch?: number
  /** One-way latency range. @default { min: 1, max: 5 } */
  readonly latency?: { readonly min: number, readonly max: number }
  /** Extra delay of messages from node `from` to node `to` (a slow link). @default none */
  readonly extraDelay?: (from: number, to: number, now: number) => number
  /** How long the others take to notice a crash or a join. @default 2000 */
  readonly detectionMs?: number
  /** contribute(t) is called at end(t) + this. @default 10 */
  readonly contributeDelayMs?: number
  /** How messages travel. @default 'bytes' */
  readonly wire?: 'bytes' | 'objects'
  readonly config?: Partial<MergeConfig>
}

/** One node of the cluster. */
export interface MergeClusterNode {
  readonly index: number
  readonly id: PeerId
  /** The running core; undefined before it starts and after a crash. */
  core: MergeCore | undefined
  /** The last `store` point per instrumentation and slot (what its disk would hold). */
  readonly stored: Map<InstrumentationId, Map<number, StoredPoint>>
  /** Seconds this node contributed a value for, per instrumentation (the oracle's input). */
  readonly contributed: Map<InstrumentationId, Set<number>>
  bytesSent: number
  messagesSent: number
  timerAt: number | undefined
  timerGeneration: number
}

/** A query answer (or failure) as a node's core reported it. */
export type QueryOutcome = Extract<MergeOutput, { type: 'query-result' | 'query-failed' }>

type Event =
  | { readonly kind: 'message', readonly at: number, readonly seq: number, readonly to: number, readonly from: number, readonly payload: MergeMessage | Uint8Array }
  | { readonly kind: 'timer', readonly at: number, readonly seq: number, readonly node: number, readonly generation: number }
  | { readonly kind: 'second', readonly at: number, readonly seq: number, readonly second: number }
  | { readonly kind: 'view', readonly at: number, readonly seq: number, readonly node: number, readonly change: 'up' | 'down', readonly subject: number }


/** The virtual-time cluster of merge cores. */
export class MergeCluster {
  /** The virtual clock, ms. */
  now: number
  readonly nodes: MergeClusterNode[]
  /** Every query outcome, by (node, requestId). */
  readonly queries = new Map<string, QueryOutcome>()
  /** Messages the link dropped because the receiver was down. */
  dropped = 0
  /** Watch every output (assertions): called before the harness carries it out. */
  onOutput: ((node: MergeClusterNode, output: MergeOutput, now: number) => void) | undefined
  readonly #options: MergeClusterOptions
  readonly #rng: Rng
  readonly #queue = new EventHeap<Event>()
  readonly #byId = new Map<PeerId, number>()
  /** One tree scratch buffer for every core (they run one at a time): N doubles, not N^2. */
  readonly #scratch: Float64Array
  #seq = 0

  constructor (options: MergeClusterOptions) {
    this.#options = options
    this.now = options.epoch ?? 1_750_000_000_000
    this.#rng = createRng(`merge-cluster:${String(options.seed)}`)
    this.#scratch = new Float64Array(options.nodes)
    this.nodes = []
    for (let i = 0; i < options.nodes; i++) {
      const id = clusterPeerId(i)
      this.nodes.push({ index: i, id, core: undefined, stored: new Map(), contributed: new Map(), bytesSent: 0, messagesSent: 0, timerAt: undefined, timerGeneration: 0 })
      this.#byId.set(id, i)
    }
    const initial = options.initial ?? options.nodes
    const members = membersOf(this.nodes.slice(0, initial).map((n) => n.id))
    for (let i = 0; i < initial; i++) this.#start(i, members)
    this.#push({ kind: 'second', at: (Math.floor(this.now / 1000) + 1) * 1000 + (options.contributeDelayMs ?? 10), seq: 0, second: Math.floor(this.now / 1000) })
  }

  #start (i: number, members: ReturnType<typeof membersOf>): void {
    const node = this.nodes[i]!
    node.core = createMergeCore({ self: node.id, now: this.now, config: this.#options.config, members, treeScratch: this.#scratch })
    for (const { id, spec } of this.#options.instrumentations) this.#carryOut(node, node.core.setInstrumentation(id, spec, this.now))
    this.#reschedule(node)
  }

  // ---- driving ------------------------------------------------------------------------------------

  /** Processes the earliest event; false when there is none. */
  step (): boolean {
    const e = this.#queue.pop()
    if (e === undefined) return false
    if (e.at > this.now) this.now = e.at
    switch (e.kind) {
      case 'message': {
        const node = this.nodes[e.to]!
        if (node.core === undefined) { this.dropped++; break }
        this.#carryOut(node, node.core.handle(this.nodes[e.from]!.id, e.payload, this.now))
        break
      }
      case 'timer': {
        const node = this.nodes[e.node]!
        if (node.core === undefined || e.generation !== node.timerGeneration) break
        node.timerAt = undefined
        this.#carryOut(node, node.core.tick(this.now))
        break
      }
      case 'second': {
        for (const node of this.nodes) {
          if (node.core === undefined) continue
          for (const { id } of this.#options.instrumentations) {
            const value = this.#options.localValue(node.index, e.second, id)
            if (value !== undefined) {
              let set = node.contributed.get(id)
              if (set === undefined) node.contributed.set(id, set = new Set())
              set.add(e.second)
            }
            this.#carryOut(node, node.core.contribute(id, e.second, value, this.now))
          }
        }
        this.#push({ kind: 'second', at: e.at + 1000, seq: 0, second: e.second + 1 })
        break
      }
      case 'view': {
        const node = this.nodes[e.node]!
        if (node.core === undefined) break
        const subject = this.nodes[e.subject]!.id
        if (e.change === 'up') node.core.memberUp(subject, this.now)
        else node.core.memberDown(subject, this.now)
        this.#reschedule(node)
        break
      }
      default: {
        const never: never = e
        throw new Error(`merge cluster: unhandled event ${JSON.stringify(never)}`)
      }
    }
    return true
  }

  /** Runs every event up to now + ms, then sets the clock there. */
  runFor (ms: number): void {
    const end = this.now + ms
    for (let e = this.#queue.peek(); e !== undefined && e.at <= end; e = this.#queue.peek()) this.step()
    this.now = end
  }

  /** Runs until the clock reaches `at` (ms). */
  runUntil (at: number): void {
    if (at > this.now) this.runFor(at - this.now)
  }

  // ---- faults and churn ---------------------------------------------------------------------------

  /** Crashes node i (its state is gone); the others take it out of their views after detectionMs. */
  crash (i: number): void {
    const node = this.nodes[i]!
    node.core = undefined
    node.timerGeneration++
    node.timerAt = undefined
    this.#announce(i, 'down')
  }

  /** Starts node i (not yet started) with the current live view; the others add it after detectionMs. */
  join (i: number): void {
    const live = this.nodes.filter((n) => n.core !== undefined).map((n) => n.id)
    this.#start(i, membersOf([...live, this.nodes[i]!.id]))
    this.#announce(i, 'up')
  }

  #announce (subject: number, change: 'up' | 'down'): void {
    const at = this.now + (this.#options.detectionMs ?? 2000)
    for (const n of this.nodes) {
      if (n.index !== subject && n.core !== undefined) this.#push({ kind: 'view', at, seq: 0, node: n.index, change, subject })
    }
  }

  // ---- commands -----------------------------------------------------------------------------------

  /** Node i asks for [from, to) of `id`; the outcome lands in `queries` under `${i}:${requestId}`. */
  query (i: number, id: InstrumentationId, from: number, to: number): number {
    const node = this.nodes[i]!
    if (node.core === undefined) throw new Error(`merge cluster: node ${i} is down`)
    const { requestId, outputs } = node.core.requestQuery(id, from, to, this.now)
    this.#carryOut(node, outputs)
    return requestId
  }

  /** The outcome of node i's query `requestId`, once it arrived. */
  outcome (i: number, requestId: number): QueryOutcome | undefined {
    return this.queries.get(`${i}:${requestId}`)
  }

  /** Index of the node with peer id `id`. */
  indexOf (id: PeerId): number {
    const i = this.#byId.get(id)
    if (i === undefined) throw new Error(`merge cluster: no node ${id}`)
    return i
  }

  /** The live nodes. */
  live (): MergeClusterNode[] {
    return this.nodes.filter((n) => n.core !== undefined)
  }

  // ---- internals ----------------------------------------------------------------------------------

  #push (e: Event): void {
    this.#queue.push({ ...e, seq: ++this.#seq })
  }

  #carryOut (node: MergeClusterNode, outputs: MergeOutput[]): void {
    for (const o of outputs) {
      this.onOutput?.(node, o, this.now)
      switch (o.type) {
        case 'send': {
          const to = this.#byId.get(o.to)
          if (to === undefined) throw new Error(`merge cluster: send to unknown peer ${o.to}`)
          const payload = this.#options.wire === 'objects' ? o.message : encodeMergeMessage(o.message)
          if (payload instanceof Uint8Array) node.bytesSent += payload.byteLength
          node.messagesSent++
          const { min, max } = this.#options.latency ?? { min: 1, max: 5 }
          const delay = min + (max - min) * randomFloat(this.#rng) + (this.#options.extraDelay?.(node.index, to, this.now) ?? 0)
          this.#push({ kind: 'message', at: this.now + delay, seq: 0, to, from: node.index, payload })
          break
        }
        case 'store': {
          let m = node.stored.get(o.id)
          if (m === undefined) node.stored.set(o.id, m = new Map())
          m.set(o.point.second, o.point)
          break
        }
        case 'drop-store': node.stored.delete(o.id); break
        case 'query-result':
        case 'query-failed':
          this.queries.set(`${node.index}:${o.requestId}`, o)
          break
        default: {
          const never: never = o
          throw new Error(`merge cluster: unhandled output ${JSON.stringify(never)}`)
        }
      }
    }
    this.#reschedule(node)
  }

  #reschedule (node: MergeClusterNode): void {
    const at = node.core?.nextDeadline()
    if (at === node.timerAt) return
    node.timerGeneration++
    node.timerAt = at
    if (at !== undefined) this.#push({ kind: 'timer', at: Math.max(at, this.now), seq: 0, node: node.index, generation: node.timerGeneration })
  }
}

/** Builds a merge cluster (see MergeCluster). */
export function createMergeCluster (options: MergeClusterOptions): MergeCluster {
  return new MergeCluster(options)
}
