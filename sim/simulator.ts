/**
 * The simulator: N nodes, each running the daemon's own protocol core (MeshCore: membership and
 * the definition replica; the merge tree through the aggregation hook), bound to a simulated
 * network (network.ts), a gossipsub model for the definitions topic (gossipsub.ts) and a
 * virtual clock, in one discrete-event loop. It is a binding like node/mesh's: it carries out
 * the cores' outputs and feeds them their inputs, and makes no protocol decision of its own.
 *
 * THEORY.
 * - Time. One event queue (event-queue.ts) in virtual milliseconds since the epoch. A node's
 *   clock is the virtual clock plus its skew; its core's deadlines are on its clock. Each node
 *   has at most one pending timer event, at its earliest deadline; a deadline that moved later
 *   makes that event fire early, find nothing due and re-arm.
 * - Start. The mesh is formed when the run starts (a warm start): every node knows every other
 *   as alive, from one member snapshot shared by all (MeshCoreInit.snapshot), so a run measures
 *   a mesh in service rather than 10,000 nodes joining in the same millisecond. The member
 *   tables share one peer interner, so a node costs ~25 bytes per member.
 * - Messages travel as the objects the cores built (not encoded), sized exactly by the codec's
 *   rules (message-size.ts); each is subject to the network model and to the receiver being up.
 * - Faults come from the scenario: a crash drops a node's core (its persisted state survives);
 *   a restart builds a new core from that state, which joins through three random live nodes
 *   as a daemon does through its bootstrap list; partitions and loss bursts change the network;
 *   slow nodes and clock skew are set at the start.
 * - Determinism: every random draw comes from RNGs seeded from the options' seed, events are
 *   ordered by (time, order of scheduling), and nothing reads the wall clock but the progress
 *   report and the wall-time figure.
 */
import {
  clusterPeerId, createMeshCore, createPeerInterner, createRng, DEFINITIONS_TOPIC, MemberSnapshot, memberRecord,
  type MeshCore, type MeshOutput, type PeerId, type PeerInterner, type PersistedState, type PeerMessage, type Rng, type SelfCard
} from '../node/core/index.js'
import { NO_AGGREGATION, type Aggregation, type AggregationNode, type AggregationOutput } from './aggregation.js'
import { EventQueue } from './event-queue.js'
import { GossipModel, type GossipMessage, type GossipRpc } from './gossipsub.js'
import { simInstrumentation } from './instrumentations.js'
import { MessageSizer } from './message-size.js'
import { Network } from './network.js'
import { Observer } from './observer.js'
import { instrumentationTimes, type SimOptions } from './options.js'

/** Event kinds. */
const MESSAGE = 1
const GOSSIP = 2
const TIMER = 3
const HEARTBEAT = 4
const AGGREGATE = 5
const ACTION = 6
const SECOND = 7
const CHECK = 8

/** Virtual time of the start, ms since the epoch. */
export const SIM_EPOCH = 1_750_000_000_000

/** How often an open recovery measurement checks the membership, ms. */
const CHECK_INTERVAL = 100

/** Seeds a restarted node joins through. */
const RESTART_SEEDS = 3

/** Hooks of a run. */
export interface SimHooks {
  /** The merge tree (phase 2). @default NO_AGGREGATION */
  readonly aggregation?: Aggregation
  /** Called once per simulated second with the seconds done. */
  readonly onSecond?: (seconds: number) => void
  /** Sees every output of every node's core (tests, debugging). */
  readonly onOutput?: (node: number, output: MeshOutput, now: number) => void
}

/** One node's state in the simulator. */
export interface SimNodeState {
  readonly id: PeerId
  readonly address: string
  core: MeshCore | undefined
  aggregation: AggregationNode | undefined
  persisted: PersistedState | undefined
  lives: number
  /** How far the node's clock is off, ms. */
  readonly skew: number
  /** Virtual ms the node has been up, and since when it is up (NaN: down). */
  upMs: number
  upSince: number
}

/** The simulator (see the module doc). Use runSimulation unless you drive it yourself. */
export class Simulator {
  readonly options: SimOptions
  readonly nodes: SimNodeState[] = []
  readonly observer: Observer
  readonly network: Network
  readonly gossip: GossipModel
  readonly interner: PeerInterner
  /** Messages that reached a node that was down. */
  droppedDown = 0
  /** Virtual now, ms. */
  now = SIM_EPOCH
  readonly end: number
  readonly #queue = new EventQueue(SIM_EPOCH)
  readonly #rng: Rng
  readonly #sizer = new MessageSizer()
  readonly #byAddress = new Map<string, number>()
  readonly #aggregation: Aggregation
  readonly #hooks: SimHooks
  readonly #allIds: readonly PeerId[]
  /**
   * Per node, what most events look at, in one record of RECORD numbers (a cache line) rather
   * than in the node's object (rarely in cache at 10,000 nodes, and V8 boxes a double field) or
   * in an array per field (a line each): see the field offsets below the class.
   */
  readonly #record: Float64Array
  /**
   * Per node, the generation of its pending timer event: an event of an older one is stale.
   * Apart from the record, as a stale event (one per node and probe period) needs nothing else,
   * and 4 bytes a node stay in cache where a record does not.
   */
  readonly #timerGeneration: Int32Array
  /** Per node, 1 when up: the gossip model asks it for dozens of nodes per heartbeat, a byte each stays in cache. */
  readonly #upFlag: Uint8Array
  /** Each node's core and aggregation layer (as in its state object, which events need not touch). */
  readonly #cores: Array<MeshCore | undefined> = []
  readonly #aggs: Array<AggregationNode | undefined> = []
  /**
   * The sender of the message being handled, by id and index: most sends are replies to it,
   * whose target then needs no lookup in the interner's map.
   */
  #replyId: PeerId | undefined
  #replyIndex = -1
  #up = 0
  #secondBytes = 0
  #secondMessages = 0
  #instrumentation = 0

  constructor (options: SimOptions, hooks: SimHooks = {}) {
    this.options = options
    this.#hooks = hooks
    this.#aggregation = hooks.aggregation ?? NO_AGGREGATION
    const n = options.nodes
    this.end = SIM_EPOCH + options.duration * 1000
    this.#rng = createRng(`sim:${options.seed}`)
    this.observer = new Observer(n, SIM_EPOCH)
    this.network = new Network({ nodes: n, seed: options.seed, latency: options.latency, jitterMs: options.jitterMs, loss: options.loss, bandwidth: options.bandwidth })
    this.#record = new Float64Array(n * RECORD)
    this.#timerGeneration = new Int32Array(n)
    this.#upFlag = new Uint8Array(n)
    for (let i = 0; i < n; i++) this.#record[i * RECORD + TIMER_AT] = Infinity
    this.interner = createPeerInterner({ arena: true })
    const skewRng = createRng(`skew:${options.seed}`)
    for (let i = 0; i < n; i++) {
      const id = clusterPeerId(i)
      // Interned in index order, so a node's member number is its index.
      if (this.interner.number(id) !== i) throw new Error(`simulator: peer id of node ${i} collides`)
      const address = `/ip4/10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/tcp/4001/p2p/${id}`
      this.#byAddress.set(address, i)
      const skew = options.scenario.skewMs * (2 * (skewRng.uint32() / 4294967296) - 1)
      this.#record[i * RECORD + SKEW] = skew
      this.#cores.push(undefined)
      this.#aggs.push(undefined)
      this.nodes.push({ id, address, core: undefined, aggregation: undefined, persisted: undefined, lives: 0, skew, upMs: 0, upSince: NaN })
    }
    this.#allIds = this.nodes.map((s) => s.id)
    this.gossip = new GossipModel(n, options.connections, {
      isUp: (i) => this.#upFlag[i] === 1,
      send: (from, to, rpc, bytes, now) => { this.#sendGossip(from, to, rpc, bytes, now) },
      deliver: (i, message, now) => { this.#deliverGossip(i, message, now) },
      armHeartbeat: (i, at) => { this.#queue.push(HEARTBEAT, at, i, 0, undefined) },
      later: (at, run) => { this.#queue.push(ACTION, at, 0, 0, run) }
    }, createRng(`gossip:${options.seed}`), { ms: options.gossipCpuMs, shared: options.gossipCpuShared === true })
    if (options.scenario.slow !== undefined) {
      for (const i of this.#choose(options.scenario.slow.fraction, () => true)) this.network.slowMs[i] = options.scenario.slow.delayMs
    }
    // The formed mesh: every node starts knowing every other, alive.
    const snapshot = new MemberSnapshot(this.interner, this.nodes.map((s, i) => memberRecord(cardOf(s, i), 0)))
    for (let i = 0; i < n; i++) this.#start(i, snapshot)
    this.#schedule()
  }

  /** Whether node i is up. */
  isUp (i: number): boolean {
    return this.#upFlag[i] === 1
  }

  /** Per node: bytes sent (all protocols, lost ones included), a copy. */
  get bytesSent (): Float64Array { return this.#column(BYTES) }

  /** Per node: messages sent (all protocols, lost ones included), a copy. */
  get messagesSent (): Float64Array { return this.#column(MESSAGES) }

  /** Per node: gossipsub bytes sent, a copy. */
  get gossipBytesSent (): Float64Array { return this.#column(GOSSIP_BYTES) }

  /** Per node: bytes received (sent to it while it was up, not lost by the network), a copy. */
  get bytesReceived (): Float64Array { return this.#column(RECEIVED_BYTES) }

  /** Per node: messages received (as bytesReceived), a copy. */
  get messagesReceived (): Float64Array { return this.#column(RECEIVED_MESSAGES) }

  #column (field: number): Float64Array {
    const out = new Float64Array(this.nodes.length)
    for (let i = 0; i < out.length; i++) out[i] = this.#record[i * RECORD + field] as number
    return out
  }

  /** Nodes up. */
  get upCount (): number {
    return this.#up
  }

  /** Runs to the end of the simulated time. */
  run (): void {
    const q = this.#queue
    for (;;) {
      const s = q.pop()
      if (s < 0) break
      const at = q.time(s)
      if (at > this.end) { q.free(s); break }
      if (at > this.now) this.now = at
      const a = q.a(s)
      const b = q.b(s)
      const payload = q.payload(s)
      const kind = q.kind(s)
      q.free(s)
      switch (kind) {
        case MESSAGE: this.#onMessage(a, b, payload as PeerMessage); break
        case TIMER: this.#onTimer(a, b); break
        case GOSSIP: this.#onGossip(a, b, payload as GossipRpc); break
        case HEARTBEAT: this.gossip.heartbeat(a, this.now); break
        case AGGREGATE: this.#onAggregate(a, b, payload); break
        case ACTION: (payload as () => void)(); break
        case SECOND: this.#onSecond(a); break
        case CHECK: this.#onCheck(); break
        default: throw new Error(`simulator: unknown event kind ${kind}`)
      }
    }
    this.now = this.end
    for (const s of this.nodes) if (s.core !== undefined) { s.upMs += this.now - s.upSince; s.upSince = this.now }
  }

  // ---- events -----------------------------------------------------------------------------------------

  #onMessage (to: number, from: number, message: PeerMessage): void {
    const core = this.#cores[to]
    if (core === undefined) { this.droppedDown++; return }
    const id = this.#allIds[from] as PeerId
    this.#replyId = id
    this.#replyIndex = from
    // The interner is shared and member numbers are node indices (see the constructor).
    this.#carryOut(to, core.handle({ type: 'message', from: id, message, fromMember: from }, this.now + (this.#record[to * RECORD + SKEW] as number)))
  }

  #onTimer (i: number, generation: number): void {
    // A stale event is dropped without a look at the node (a crash bumps the generation too).
    if (generation !== this.#timerGeneration[i]) return
    const r = i * RECORD
    const core = this.#cores[i]
    if (core === undefined) return
    // A current event is the node's earliest deadline: something is due.
    this.#record[r + TIMER_AT] = Infinity
    const clock = this.now + (this.#record[r + SKEW] as number)
    const agg = this.#aggs[i]
    if (agg === undefined) {
      this.#carryOut(i, core.tick(clock))
      return
    }
    const meshDue = core.nextDeadline()
    if (meshDue !== undefined && meshDue <= clock) this.#carry(i, core.tick(clock))
    const due = agg.nextDeadline()
    if (due !== undefined && due <= clock && this.#cores[i] !== undefined) this.#carryAggregation(i, agg.tick(clock))
    // Once, after both cores moved (each reschedule asks both for their deadlines).
    this.#reschedule(i)
  }

  #onGossip (to: number, from: number, rpc: GossipRpc): void {
    if (this.#upFlag[to] !== 1) { this.droppedDown++; return }
    this.gossip.receive(to, from, rpc, this.now)
  }

  #onAggregate (to: number, from: number, message: unknown): void {
    const agg = this.#aggs[to]
    if (agg === undefined) { this.droppedDown++; return }
    this.#carryAggregation(to, agg.handle(this.#allIds[from] as PeerId, message, this.now + (this.#record[to * RECORD + SKEW] as number)))
    this.#reschedule(to)
  }

  /** The end of simulated second `second`: the per-second series, progress, the next second. */
  #onSecond (second: number): void {
    let whole = 0
    const up = this.#up
    const record = this.#record
    const upFlag = this.#upFlag
    for (let i = 0; i < upFlag.length; i++) if (upFlag[i] === 1 && record[i * RECORD + LIVE] === up) whole++
    this.observer.sample(this.#secondBytes, this.#secondMessages, up, up === 0 ? 0 : whole / up)
    this.#secondBytes = 0
    this.#secondMessages = 0
    this.#hooks.onSecond?.(second)
    this.#queue.push(SECOND, SIM_EPOCH + (second + 1) * 1000, second + 1, 0, undefined)
  }

  #onCheck (): void {
    if (!this.observer.measuring) return
    const up = this.#up
    let whole = true
    const record = this.#record
    const upFlag = this.#upFlag
    for (let i = 0; i < upFlag.length; i++) {
      if (upFlag[i] === 1 && record[i * RECORD + LIVE] !== up) { whole = false; break }
    }
    if (whole) this.observer.whole(this.now)
    else this.#queue.push(CHECK, this.now + CHECK_INTERVAL, 0, 0, undefined)
  }

  // ---- the binding ------------------------------------------------------------------------------------

  /** Carries node i's membership outputs, then keeps its timer event at its earliest deadline. */
  #carryOut (i: number, outputs: readonly MeshOutput[]): void {
    this.#carry(i, outputs)
    this.#reschedule(i)
  }

  /** Carries node i's membership outputs (the caller reschedules). */
  #carry (i: number, outputs: readonly MeshOutput[]): void {
    const watch = this.#hooks.onOutput
    let members = false
    for (const o of outputs) {
      if (watch !== undefined) watch(i, o, this.now)
      switch (o.type) {
        case 'send': {
          // The interner is shared and numbers are node indices: a member number is the node.
          const to = o.member ?? (o.to === this.#replyId ? this.#replyIndex : this.interner.lookup(o.to))
          this.#sendPeer(i, to, o.message)
          break
        }
        case 'send-address': this.#sendPeer(i, this.#byAddress.get(o.address) ?? -1, o.message); break
        case 'publish': {
          const bytes = this.#sizer.topic(o.message)
          this.gossip.publish(i, o.message, bytes, this.now)
          break
        }
        case 'persist': (this.nodes[i] as SimNodeState).persisted = o.state; break
        case 'member': {
          members = true
          const agg = this.#aggs[i]
          if (agg === undefined) break
          const clock = this.now + (this.#record[i * RECORD + SKEW] as number)
          // As the daemon does (node/daemon.ts): down when failed, left or forgotten, suspect when
          // suspected, up otherwise (joined, or alive again); slow when the membership marked it so
          // (about this node itself: it refuted).
          if (o.member.id === this.#allIds[i]) {
            if (o.slow === true) this.#carryAggregation(i, agg.memberSlow(o.member.id, clock))
            break
          }
          if (o.change === 'failed' || o.change === 'left' || o.change === 'forgotten') this.#carryAggregation(i, agg.memberDown(o.member.id, clock))
          else if (o.change === 'suspected') this.#carryAggregation(i, agg.memberSuspect(o.member.id, clock))
          else this.#carryAggregation(i, agg.memberUp(o.member.id, clock))
          if (o.slow === true) this.#carryAggregation(i, agg.memberSlow(o.member.id, clock))
          break
        }
        case 'definition': {
          if (o.change !== 'deleted') this.observer.definitionSeen(i, o.id, this.now)
          const agg = this.#aggs[i]
          if (agg === undefined) break
          const clock = this.now + (this.#record[i * RECORD + SKEW] as number)
          if (o.entry.state === 'live') this.#carryAggregation(i, agg.setInstrumentation(o.id, o.entry, clock))
          else this.#carryAggregation(i, agg.removeInstrumentation(o.id, clock))
          break
        }
        default: {
          const never: never = o
          throw new Error(`simulator: unhandled output ${JSON.stringify(never)}`)
        }
      }
    }
    // The live count moves only with member changes (the core reports each one).
    const core = this.#cores[i]
    if (members && core !== undefined) this.#record[i * RECORD + LIVE] = core.liveCount
  }

  /** Carries node i's aggregation outputs (the caller reschedules). */
  #carryAggregation (i: number, outputs: readonly AggregationOutput[]): void {
    for (const o of outputs) {
      const to = this.interner.lookup(o.to)
      this.#count(i, o.bytes)
      if (to < 0) continue
      const at = this.network.transmit(i, to, o.bytes, this.now)
      if (at >= 0) { this.#received(to, o.bytes); this.#queue.push(AGGREGATE, at, to, i, o.message) }
    }
  }

  #sendPeer (from: number, to: number, message: PeerMessage): void {
    const bytes = this.#sizer.peer(message)
    this.#count(from, bytes)
    if (to < 0) return
    const at = this.network.transmit(from, to, bytes, this.now)
    if (at >= 0) { this.#received(to, bytes); this.#queue.push(MESSAGE, at, to, from, message) }
  }

  #sendGossip (from: number, to: number, rpc: GossipRpc, bytes: number, now: number): void {
    this.#count(from, bytes)
    this.#record[from * RECORD + GOSSIP_BYTES] = (this.#record[from * RECORD + GOSSIP_BYTES] as number) + bytes
    const at = this.network.transmit(from, to, bytes, now)
    if (at >= 0) { this.#received(to, bytes); this.#queue.push(GOSSIP, at, to, from, rpc) }
  }

  #deliverGossip (i: number, message: GossipMessage, now: number): void {
    const core = this.#cores[i]
    if (core === undefined) return
    this.#carryOut(i, core.handle({ type: 'gossip', from: this.#allIds[message.origin] as PeerId, topic: DEFINITIONS_TOPIC, message: message.payload }, now + (this.#record[i * RECORD + SKEW] as number)))
  }

  /** Node `to` will receive `bytes` (counted when the network takes the message, if `to` is up then). */
  #received (to: number, bytes: number): void {
    if (this.#upFlag[to] !== 1) return
    const r = to * RECORD
    this.#record[r + RECEIVED_BYTES] = (this.#record[r + RECEIVED_BYTES] as number) + bytes
    this.#record[r + RECEIVED_MESSAGES] = (this.#record[r + RECEIVED_MESSAGES] as number) + 1
  }

  #count (i: number, bytes: number): void {
    const r = i * RECORD
    this.#record[r + BYTES] = (this.#record[r + BYTES] as number) + bytes
    this.#record[r + MESSAGES] = (this.#record[r + MESSAGES] as number) + 1
    this.#secondBytes += bytes
    this.#secondMessages++
  }

  /**
   * Keeps node i's one timer event at its earliest deadline. When the deadline moves, the
   * pending event is superseded (its generation is stale) rather than left to fire early: a
   * stale event costs a look at the node's generation, an early one a look into its core.
   */
  #reschedule (i: number): void {
    const core = this.#cores[i]
    if (core === undefined) return
    let due = core.nextDeadline()
    const agg = this.#aggs[i]?.nextDeadline()
    if (agg !== undefined && (due === undefined || agg < due)) due = agg
    const r = i * RECORD
    const record = this.#record
    const at = due === undefined ? Infinity : Math.max(due - (record[r + SKEW] as number), this.now)
    if (at === record[r + TIMER_AT]) return
    record[r + TIMER_AT] = at
    const generation = (this.#timerGeneration[i] as number) + 1
    this.#timerGeneration[i] = generation
    if (at !== Infinity) this.#queue.push(TIMER, at, i, generation, undefined)
  }

  // ---- lives and faults ----------------------------------------------------------------------------------

  #start (i: number, snapshot?: MemberSnapshot): void {
    const node = this.nodes[i] as SimNodeState
    node.lives++
    this.#record[i * RECORD + TIMER_AT] = Infinity
    this.#timerGeneration[i]++
    const clock = this.now + node.skew
    const seeds = snapshot !== undefined
      ? []
      : this.#choose(RESTART_SEEDS / this.options.nodes, (k) => k !== i && this.isUp(k), RESTART_SEEDS).map((k) => (this.nodes[k] as SimNodeState).address)
    const core = node.core = createMeshCore({
      self: cardOf(node, i),
      seeds,
      rng: createRng(`core:${this.options.seed}:${i}:${node.lives}`),
      now: clock,
      restore: node.persisted,
      interner: this.interner,
      snapshot
    })
    this.#cores[i] = core
    this.#up++
    this.#upFlag[i] = 1
    this.#record[i * RECORD + LIVE] = core.liveCount
    node.upSince = this.now
    if (this.#aggregation !== NO_AGGREGATION) {
      node.aggregation = this.#aggregation.createNode({
        index: i, self: node.id, now: clock, members: snapshot !== undefined ? this.#allIds : [], fanIn: this.options.fanIn, replicas: this.options.replicas
      })
      this.#aggs[i] = node.aggregation
    }
    if (snapshot === undefined) this.gossip.nodeUp(i, this.now)
    this.#carryOut(i, core.start(clock))
  }

  /** Node i crashes; `silent`: its host went down, so its connections do not reset (see CrashFault). */
  #crash (i: number, silent: boolean): void {
    const node = this.nodes[i] as SimNodeState
    if (node.core === undefined) return
    node.core = undefined
    node.aggregation = undefined
    this.#cores[i] = undefined
    this.#aggs[i] = undefined
    this.#upFlag[i] = 0
    this.#record[i * RECORD + TIMER_AT] = Infinity
    this.#timerGeneration[i]++
    node.upMs += this.now - node.upSince
    node.upSince = NaN
    this.#up--
    this.gossip.nodeDown(i, this.now)
    this.#aggregation.nodeDown(i, this.now, silent)
    this.observer.nodeDown(i)
  }

  /** Schedules the run's actions: per-second sampling, instrumentations, the scenario's faults. */
  #schedule (): void {
    const q = this.#queue
    const at = (seconds: number): number => SIM_EPOCH + seconds * 1000
    q.push(SECOND, at(1), 1, 0, undefined)
    instrumentationTimes(this.options).forEach((t) => {
      q.push(ACTION, at(t), 0, 0, () => { this.#createInstrumentation() })
    })
    const s = this.options.scenario
    for (const c of s.crashes) {
      q.push(ACTION, at(c.at), 0, 0, () => {
        const victims = this.#choose(c.fraction, (i) => this.isUp(i))
        for (const i of victims) this.#crash(i, c.silent === true)
        this.#measure('failure_detection')
        if (c.restartAt !== undefined) {
          q.push(ACTION, at(c.restartAt), 0, 0, () => {
            for (const i of victims) if (!this.isUp(i)) this.#start(i)
            this.#measure('rejoin')
          })
        }
      })
    }
    s.partitions.forEach((p, k) => {
      let members: number[] = []
      q.push(ACTION, at(p.from), 0, 0, () => {
        members = this.#choose(p.fraction, () => true)
        for (const i of members) this.network.group[i] = k + 1
      })
      q.push(ACTION, at(p.to), 0, 0, () => {
        for (const i of members) if (this.network.group[i] === k + 1) this.network.group[i] = 0
        this.#measure('partition_heal')
      })
    })
    for (const b of s.lossBursts) {
      q.push(ACTION, at(b.from), 0, 0, () => { this.network.loss = b.loss })
      q.push(ACTION, at(b.to), 0, 0, () => { this.network.endBurst() })
    }
  }

  #measure (kind: 'failure_detection' | 'rejoin' | 'partition_heal'): void {
    const pending = this.observer.measuring
    this.observer.openMeasure(kind, this.now)
    if (!pending) this.#queue.push(CHECK, this.now + CHECK_INTERVAL, 0, 0, undefined)
  }

  /** A random live node creates the next instrumentation. */
  #createInstrumentation (): void {
    const [origin] = this.#choose(1 / this.options.nodes, (i) => this.isUp(i), 1)
    if (origin === undefined) return
    const node = this.nodes[origin] as SimNodeState
    const { id, outputs } = (node.core as MeshCore).createDefinition(simInstrumentation(this.#instrumentation++), this.now + node.skew)
    this.observer.definitionCreated(id, this.now, origin, (i) => this.isUp(i))
    this.#carryOut(origin, outputs)
  }

  /**
   * round(fraction x N) distinct nodes passing `accept` (at least `atLeast`, at most all that
   * pass), chosen uniformly with the simulator's RNG, in ascending order.
   */
  #choose (fraction: number, accept: (i: number) => boolean, atLeast = 0): number[] {
    const pool: number[] = []
    for (let i = 0; i < this.options.nodes; i++) if (accept(i)) pool.push(i)
    const k = Math.min(pool.length, Math.max(atLeast, Math.round(fraction * this.options.nodes)))
    for (let x = 0; x < k; x++) {
      const y = x + (this.#rng.uint32() % (pool.length - x))
      const t = pool[x] as number; pool[x] = pool[y] as number; pool[y] = t
    }
    return pool.slice(0, k).sort((a, b) => a - b)
  }
}

/**
 * A node's record (Simulator's #record): its clock skew; the pending timer event's time
 * (Infinity: none); its core's live member count as of its last member change (what the
 * per-second series compares); bytes and messages sent (all protocols, lost ones included),
 * gossipsub bytes sent, and bytes and messages received (those the network did not lose, sent
 * while the node was up). 8 numbers are a cache line.
 */
const RECORD = 8
const SKEW = 0
const TIMER_AT = 1
const LIVE = 2
const BYTES = 3
const MESSAGES = 4
const GOSSIP_BYTES = 5
const RECEIVED_BYTES = 6
const RECEIVED_MESSAGES = 7

/**
 * Builds a simulator for `options` (see Simulator); run() it, then read its nodes, observer and
 * counters. runSimulation does this and summarizes.
 */
export function createSimulator (options: SimOptions, hooks: SimHooks = {}): Simulator {
  return new Simulator(options, hooks)
}

/** The card node i runs with (as the cluster harness's, so sizes match the daemon's). */
function cardOf (node: { readonly id: PeerId, readonly address: string }, i: number): SelfCard {
  return { id: node.id, name: `node-${i}`, addresses: [node.address], meta: { backends: ['bpftrace', 'procfs', 'process', 'synthetic'] } }
}
