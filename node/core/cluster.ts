/**
 * A virtual-time cluster of protocol cores (quinn's `Pair`, h11's `ConnectionPair`, for N
 * nodes): the test harness of the mesh protocol, and a small reference binding for the
 * simulator. No sockets, no timers, no wall clock: a discrete-event loop delivers messages after
 * a simulated latency and fires each core's timers at its nextDeadline(), jumping the virtual
 * clock from event to event, so minutes of protocol run in milliseconds and every run with the
 * same seed is the same run.
 *
 * The network model is deliberately small: per-message one-way latency uniform in [min, max],
 * independent loss, partitions into groups (no message crosses groups), cut links, crashes (a crashed
 * node's state is gone; it keeps its last persisted state for a restart), and gossipsub
 * publication modelled as delivery to every reachable node after `gossipHops` latencies, each
 * delivery subject to loss. The simulator (sim/) brings its own, richer model (bandwidth,
 * gossipsub mesh degree and heartbeats) and may reuse this file's structure.
 *
 * Messages travel as bytes through the real codec (wire: 'bytes', the default) or as the
 * objects the cores built (wire: 'objects', several times faster; sizes then come from
 * encodedSize, which equals the encoding's length). Byte counters are per node, point to point
 * and publications apart.
 */
import {
  ALIVE_UPDATE_OVERHEAD, DEFINITIONS_TOPIC, encodedSize, encodePeerMessage, encodeTopicMessage, jsonByteLength, memberRecordBytes,
  type DefinitionId, type MemberRecord, type PeerId, type PeerMessage, type TopicMessage
} from './messages.js'
import { createMeshCore, type MeshCore, type MeshOutput } from './mesh-core.js'
import { MemberSnapshot } from './member-table.js'
import { memberRecord } from './messages.js'
import { createPeerInterner, type PeerInterner } from './peer-interner.js'
import type { MembershipConfig } from './membership.js'
import type { DefinitionsConfig } from './definitions.js'
import type { PersistedState } from './persisted-state.js'
import { hash53 } from './digest.js'
import { createRng, randomFloat, randomInt, type Rng } from './rng.js'
import { EventHeap } from './event-heap.js'

/** Harness options. Times in virtual milliseconds. */
export interface ClusterOptions {
  /** Seed of everything random: link model and every core's RNG. */
  readonly seed: number | string
  /** Number of nodes. */
  readonly nodes: number
  /** Virtual time at the start (ms since the epoch). @default 1_750_000_000_000 */
  readonly epoch?: number
  /** One-way latency range of a message. @default { min: 1, max: 5 } */
  readonly latency?: { readonly min: number, readonly max: number }
  /** Probability that a message is lost. @default 0 */
  readonly loss?: number
  /** How messages travel. @default 'bytes' */
  readonly wire?: 'bytes' | 'objects'
  /** A publication reaches others after this many latencies. @default 2 */
  readonly gossipHops?: number
  /** Seeds (node indices) node i joins through. @default node 0 for every other node, none for node 0 */
  readonly seedsOf?: (index: number) => readonly number[]
  /** When node i starts, relative to the epoch. @default 0 */
  readonly startAt?: (index: number) => number
  readonly membership?: Partial<MembershipConfig>
  readonly definitions?: Partial<DefinitionsConfig>
  /** Keep a hash of every output, for determinism checks. @default false */
  readonly trace?: boolean
  /**
   * One peer interner for every node (the simulator's memory layout) or one per node (the
   * daemon's). The protocol is the same either way; random draws over member numbers (probe
   * order, gossip targets) fall differently, as numbers differ. @default 'private'
   */
  readonly interner?: 'private' | 'shared'
  /**
   * Start every node with the whole mesh in its view (a formed mesh, no join storm; see
   * MeshCoreInit.snapshot). Restarted nodes join through their seeds as usual. @default false
   */
  readonly warm?: boolean
}

/** One node of the cluster. */
export interface ClusterNode {
  readonly index: number
  readonly id: PeerId
  readonly address: string
  /** The running core, or undefined while the node is down (not started or crashed). */
  core: MeshCore | undefined
  /** The last state the core asked to persist. */
  persisted: PersistedState | undefined
  /** How many times it was started. */
  lives: number
  /** Bytes and messages sent and received point to point, and bytes published / delivered by gossip. */
  bytesSent: number
  bytesReceived: number
  messagesSent: number
  gossipBytesSent: number
  gossipBytesReceived: number
  timerAt: number | undefined
  timerGeneration: number
}

type Event =
  | { readonly kind: 'message', readonly at: number, readonly seq: number, readonly to: number, readonly from: PeerId,
    readonly payload: PeerMessage | Uint8Array }
  | { readonly kind: 'gossip', readonly at: number, readonly seq: number, readonly to: number, readonly from: PeerId,
    readonly payload: TopicMessage | Uint8Array }
  | { readonly kind: 'timer', readonly at: number, readonly seq: number, readonly node: number, readonly generation: number }
  | { readonly kind: 'start', readonly at: number, readonly seq: number, readonly node: number }



/** A peer id shaped like libp2p's (52 characters), unique per index, so sizes are realistic. */
export function clusterPeerId (index: number): PeerId {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  let head = ''
  for (let n = index, k = 0; k < 5; k++, n = Math.floor(n / 58)) head += alphabet[n % 58]
  const rng = createRng(`peer:${index}`)
  let tail = ''
  for (let k = 0; k < 39; k++) tail += alphabet[randomInt(rng, 58)]
  return `12D3KooW${head}${tail}`
}

/** The virtual-time cluster. */
export class Cluster {
  /** The virtual clock, ms. */
  now: number
  readonly nodes: ClusterNode[]
  readonly #options: ClusterOptions
  readonly #rng: Rng
  readonly #queue = new EventHeap<Event>()
  readonly #byId = new Map<PeerId, number>()
  readonly #byAddress = new Map<string, number>()
  readonly #group: Int32Array
  readonly #cuts = new Set<string>()
  /** Encoded sizes of member records, which travel as shared objects in 'objects' mode. */
  readonly #recordSizes = new WeakMap<MemberRecord, number>()
  readonly #interner: PeerInterner | undefined
  /** The warm start's view, used by each node's first start only. */
  #snapshot: MemberSnapshot | undefined
  #loss: number
  #seq = 0
  #inFlight = 0
  #trace = 0
  /** Every output of every node, for assertions: set to a function to watch them. */
  onOutput: ((node: ClusterNode, output: MeshOutput, now: number) => void) | undefined
  /** Messages dropped by the link model (loss, partition, node down). */
  dropped = 0

  constructor (options: ClusterOptions) {
    this.#options = options
    this.now = options.epoch ?? 1_750_000_000_000
    this.#rng = createRng(`cluster:${String(options.seed)}`)
    this.#loss = options.loss ?? 0
    this.#group = new Int32Array(options.nodes)
    this.nodes = []
    for (let i = 0; i < options.nodes; i++) {
      const id = clusterPeerId(i)
      const address = `/ip4/10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/tcp/4001/p2p/${id}`
      this.nodes.push({
        index: i, id, address, core: undefined, persisted: undefined, lives: 0,
        bytesSent: 0, bytesReceived: 0, messagesSent: 0, gossipBytesSent: 0, gossipBytesReceived: 0,
        timerAt: undefined, timerGeneration: 0
      })
      this.#byId.set(id, i)
      this.#byAddress.set(address, i)
    }
    this.#interner = options.interner === 'shared' || options.warm === true ? createPeerInterner() : undefined
    if (options.warm === true) {
      this.#snapshot = new MemberSnapshot(this.#interner as PeerInterner, this.nodes.map((n) => memberRecord(cardOf(n), 0)))
    }
    for (let i = 0; i < options.nodes; i++) {
      this.#push({ kind: 'start', at: this.now + (options.startAt?.(i) ?? 0), seq: 0, node: i })
    }
  }

  // ---- driving --------------------------------------------------------------------------------------

  /** Processes the earliest event; false when there is none. */
  step (): boolean {
    const e = this.#queue.pop()
    if (e === undefined) return false
    if (e.at > this.now) this.now = e.at
    switch (e.kind) {
      case 'message': {
        this.#inFlight--
        const node = this.nodes[e.to] as ClusterNode
        if (node.core === undefined) { this.dropped++; break }
        node.bytesReceived += e.payload instanceof Uint8Array ? e.payload.byteLength : this.#sizeOf(e.payload)
        this.#carryOut(node, node.core.handle({ type: 'message', from: e.from, message: e.payload }, this.now))
        break
      }
      case 'gossip': {
        this.#inFlight--
        const node = this.nodes[e.to] as ClusterNode
        if (node.core === undefined) { this.dropped++; break }
        node.gossipBytesReceived += e.payload instanceof Uint8Array ? e.payload.byteLength : encodedSize(e.payload)
        this.#carryOut(node, node.core.handle({ type: 'gossip', from: e.from, topic: DEFINITIONS_TOPIC, message: e.payload }, this.now))
        break
      }
      case 'timer': {
        const node = this.nodes[e.node] as ClusterNode
        if (node.core === undefined || e.generation !== node.timerGeneration) break
        node.timerAt = undefined
        this.#carryOut(node, node.core.tick(this.now))
        break
      }
      case 'start': this.restart(e.node); break
      default: {
        const never: never = e
        throw new Error(`cluster: unhandled event ${JSON.stringify(never)}`)
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

  /**
   * Runs until `done()` holds (checked every `checkEvery` virtual ms) and returns the virtual
   * time it took; throws if it does not hold within `limit`.
   */
  runUntil (done: () => boolean, limit: number, checkEvery = 50): number {
    const start = this.now
    while (!done()) {
      if (this.now - start >= limit) throw new Error(`cluster: condition not met within ${limit} ms of virtual time`)
      this.runFor(Math.min(checkEvery, start + limit - this.now))
    }
    return this.now - start
  }

  /**
   * Delivers messages until none is in flight (timers due meanwhile fire too), at most
   * `maxSteps` events: more means a livelock (messages that keep causing messages), an error.
   */
  driveBounded (maxSteps = 100_000): number {
    let steps = 0
    while (this.#inFlight > 0) {
      if (++steps > maxSteps) throw new Error(`cluster: still ${this.#inFlight} messages in flight after ${maxSteps} steps (livelock?)`)
      this.step()
    }
    return steps
  }

  /** driveBounded with no practical bound. */
  drive (): number {
    return this.driveBounded(Number.MAX_SAFE_INTEGER)
  }

  // ---- faults ---------------------------------------------------------------------------------------

  /** Crashes node i: its state is lost, messages to it are dropped. */
  crash (i: number): void {
    const node = this.nodes[i] as ClusterNode
    node.core = undefined
    node.timerAt = undefined
    node.timerGeneration++
  }

  /** (Re)starts node i from its last persisted state. */
  restart (i: number): void {
    const node = this.nodes[i] as ClusterNode
    const seeds = (this.#options.seedsOf ?? ((k: number) => (k === 0 ? [] : [0])))(i).map((k) => (this.nodes[k] as ClusterNode).address)
    node.lives++
    node.timerGeneration++
    node.timerAt = undefined
    const warm = node.lives === 1 ? this.#snapshot : undefined
    node.core = createMeshCore({
      self: cardOf(node),
      seeds: warm === undefined ? seeds : [],
      rng: createRng(`core:${String(this.#options.seed)}:${i}:${node.lives}`),
      now: this.now,
      restore: node.persisted,
      membership: this.#options.membership,
      definitions: this.#options.definitions,
      interner: this.#interner,
      snapshot: warm
    })
    this.#carryOut(node, node.core.start(this.now))
  }

  /** Splits the nodes into groups; messages do not cross groups. Unlisted nodes form group 0. */
  partition (groups: ReadonlyArray<readonly number[]>): void {
    this.#group.fill(0)
    groups.forEach((g, k) => { for (const i of g) this.#group[i] = k + 1 })
  }

  /** Ends every partition. */
  heal (): void {
    this.#group.fill(0)
  }

  /** Cuts the link between nodes i and j, both ways (one broken path, no partition). */
  cut (i: number, j: number): void {
    this.#cuts.add(i < j ? `${i},${j}` : `${j},${i}`)
  }

  /** Restores the link between nodes i and j. */
  mend (i: number, j: number): void {
    this.#cuts.delete(i < j ? `${i},${j}` : `${j},${i}`)
  }

  /** Changes the loss probability. */
  setLoss (p: number): void {
    this.#loss = p
  }

  // ---- commands -------------------------------------------------------------------------------------

  /** Runs a command on node i's core and carries out its outputs. */
  act (i: number, command: (core: MeshCore, now: number) => MeshOutput[]): void {
    const node = this.nodes[i] as ClusterNode
    if (node.core === undefined) throw new Error(`cluster: node ${i} is down`)
    this.#carryOut(node, command(node.core, this.now))
  }

  /** Creates a definition on node i; returns its id. */
  create (i: number, definition: string): DefinitionId {
    let id = ''
    this.act(i, (core, now) => {
      const r = core.createDefinition(definition, now)
      id = r.id
      return r.outputs
    })
    return id
  }

  /** The live nodes' cores. */
  liveCores (): MeshCore[] {
    return this.nodes.flatMap((n) => (n.core === undefined ? [] : [n.core]))
  }

  /** A hash of every output so far (trace: true), equal for equal runs. */
  get traceHash (): number {
    return this.#trace
  }

  /** Zeroes the byte and message counters. */
  resetCounters (): void {
    for (const n of this.nodes) {
      n.bytesSent = 0; n.bytesReceived = 0; n.messagesSent = 0; n.gossipBytesSent = 0; n.gossipBytesReceived = 0
    }
  }

  // ---- internals ------------------------------------------------------------------------------------

  #push (e: Event): void {
    this.#queue.push({ ...e, seq: ++this.#seq })
  }

  #latency (): number {
    const { min, max } = this.#options.latency ?? { min: 1, max: 5 }
    return min + (max - min) * randomFloat(this.#rng)
  }

  /** Whether a message from i to j gets through (partition, then loss). */
  #passes (i: number, j: number): boolean {
    if (this.#group[i] !== this.#group[j]) return false
    if (this.#cuts.size > 0 && this.#cuts.has(i < j ? `${i},${j}` : `${j},${i}`)) return false
    return this.#loss === 0 || randomFloat(this.#rng) >= this.#loss
  }

  #carryOut (node: ClusterNode, outputs: MeshOutput[]): void {
    const objects = this.#options.wire === 'objects'
    for (const o of outputs) {
      if (this.#options.trace === true) this.#trace = hash53(`${this.#trace}|${this.now}|${node.index}|${JSON.stringify(o)}`)
      this.onOutput?.(node, o, this.now)
      switch (o.type) {
        case 'send':
        case 'send-address': {
          const to = o.type === 'send' ? this.#byId.get(o.to) : this.#byAddress.get(o.address)
          const payload = objects ? o.message : encodePeerMessage(o.message)
          const size = payload instanceof Uint8Array ? payload.byteLength : this.#sizeOf(payload)
          node.bytesSent += size
          node.messagesSent++
          if (to === undefined || !this.#passes(node.index, to)) { this.dropped++; break }
          this.#inFlight++
          this.#push({ kind: 'message', at: this.now + this.#latency(), seq: 0, to, from: node.id, payload })
          break
        }
        case 'publish': {
          const payload = objects ? o.message : encodeTopicMessage(o.message)
          node.gossipBytesSent += payload instanceof Uint8Array ? payload.byteLength : encodedSize(payload)
          const hops = this.#options.gossipHops ?? 2
          for (const other of this.nodes) {
            if (other.index === node.index) continue
            if (!this.#passes(node.index, other.index)) { this.dropped++; continue }
            let at = this.now
            for (let h = 0; h < hops; h++) at += this.#latency()
            this.#inFlight++
            this.#push({ kind: 'gossip', at, seq: 0, to: other.index, from: node.id, payload })
          }
          break
        }
        case 'persist': node.persisted = o.state; break
        case 'member':
        case 'definition':
          break
        default: {
          const never: never = o
          throw new Error(`cluster: unhandled output ${JSON.stringify(never)}`)
        }
      }
    }
    this.#reschedule(node)
  }

  /**
   * encodedSize(message), but member records, shared by reference between the cores in
   * 'objects' mode, are measured once: the bulk of a join's full-state transfer is records.
   */
  #sizeOf (message: PeerMessage): number {
    if (message.type === 'sync-members') {
      let n = encodedSize({ ...message, entries: [] }) + Math.max(0, message.entries.length - 1)
      for (const e of message.entries) n += this.#recordSize(e.member) + jsonByteLength({ member: null, state: e.state }) - 4
      return n
    }
    if (message.type === 'ping' || message.type === 'ack' || message.type === 'ping-req' || message.type === 'spread') {
      let n = encodedSize({ ...message, updates: [] }) + Math.max(0, message.updates.length - 1)
      for (const u of message.updates) n += u.type === 'alive' ? this.#recordSize(u.member) + ALIVE_UPDATE_OVERHEAD : jsonByteLength(u)
      return n
    }
    return encodedSize(message)
  }

  #recordSize (record: MemberRecord): number {
    let size = this.#recordSizes.get(record)
    if (size === undefined) {
      size = memberRecordBytes(record)
      this.#recordSizes.set(record, size)
    }
    return size
  }

  #reschedule (node: ClusterNode): void {
    const at = node.core?.nextDeadline()
    if (at === node.timerAt) return
    node.timerGeneration++
    node.timerAt = at
    if (at !== undefined) this.#push({ kind: 'timer', at: Math.max(at, this.now), seq: 0, node: node.index, generation: node.timerGeneration })
  }
}

/** The card node `node` runs with. */
function cardOf (node: ClusterNode): { id: PeerId, name: string, addresses: string[], meta: { backends: string[] } } {
  return { id: node.id, name: `node-${node.index}`, addresses: [node.address], meta: { backends: ['bpftrace', 'procfs', 'process', 'synthetic'] } }
}

/** Builds a cluster (see Cluster). */
export function createCluster (options: ClusterOptions): Cluster {
  return new Cluster(options)
}
