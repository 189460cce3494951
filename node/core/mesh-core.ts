/**
 * MeshCore: the node's protocol core as one object: the membership machine and the definition
 * replica composed, so that a binding (the libp2p daemon, the simulator, the test harness)
 * drives a single sans-IO state machine. It decodes and validates what peers send, routes each
 * input to the machine it is for, merges their outputs, feeds membership events to the replica
 * (a member joining triggers anti-entropy with it), and emits a `persist` effect whenever the
 * durable state changed.
 *
 * It performs no I/O, reads no clock and draws no randomness of its own: inputs are (input,
 * now), timer ticks are tick(now) at nextDeadline(), and the random source is injected.
 */
import { DecodeError } from '../../metad/index.js'
import { Definitions, type DefinitionChange, type DefinitionsConfig, type DefinitionsOutput } from './definitions.js'
import { Membership, type MemberChange, type MembershipConfig, type MembershipOutput, type MemberView } from './membership.js'
import {
  decodePeerMessage, decodeTopicMessage, DEFINITIONS_TOPIC, memberRecord, type DefinitionEntry, type DefinitionId, type JsonObject,
  type MemberRecord, type PeerId, type PeerMessage, type TopicMessage
} from './messages.js'
import type { MemberSnapshot } from './member-table.js'
import type { PeerInterner } from './peer-interner.js'
import { PERSISTED_FORMAT, type PersistedState } from './persisted-state.js'
import type { Rng } from './rng.js'

/** An input from the network. */
export type MeshInput =
  /**
   * A point-to-point message from peer `from` (the authenticated peer id of the connection):
   * bytes are decoded and validated here; an already-built message (the simulator delivering
   * objects another core produced) is trusted. `fromMember`, optional, is `from`'s number in the
   * core's peer interner (MeshCoreInit.interner), for a binding that shares the interner (the
   * simulator): the core then compares numbers where it would compare ids, which costs a cache
   * miss per id when 10,000 nodes take turns.
   */
  | { readonly type: 'message', readonly from: PeerId, readonly message: PeerMessage | Uint8Array, readonly fromMember?: number }
  /** A gossipsub message on `topic`, published by `from`; the same rule for bytes and objects. */
  | { readonly type: 'gossip', readonly from: PeerId, readonly topic: string, readonly message: TopicMessage | Uint8Array }

/** An output for the binding to carry out, in order. */
export type MeshOutput =
  /**
   * Send `message` to peer `to` (addresses from `member` outputs, kept for failed members too).
   * `member`, when given, is `to`'s number in the core's peer interner (MeshCoreInit.interner):
   * a binding that shares the interner may use it instead of looking `to` up.
   */
  | { readonly type: 'send', readonly to: PeerId, readonly message: PeerMessage, readonly member?: number }
  /** Send `message` to a seed known only by address; its reply arrives from its peer id. */
  | { readonly type: 'send-address', readonly address: string, readonly message: PeerMessage }
  /** Publish `message` on gossipsub topic `topic`. */
  | { readonly type: 'publish', readonly topic: typeof DEFINITIONS_TOPIC, readonly message: TopicMessage }
  /** Write `state` durably (atomically replacing the previous one); restore it at the next start. */
  | { readonly type: 'persist', readonly state: PersistedState }
  /** A member changed (the merge tree and the binding's address book follow these). */
  | { readonly type: 'member', readonly change: MemberChange, readonly member: MemberRecord, readonly slow?: true }
  /** An instrumentation definition changed (the instrumenter starts or stops it). */
  | { readonly type: 'definition', readonly change: DefinitionChange, readonly id: DefinitionId, readonly entry: DefinitionEntry }

/** This node's card, without the incarnation (MeshCore chooses it). */
export interface SelfCard {
  readonly id: PeerId
  readonly name: string
  readonly addresses: readonly string[]
  readonly meta: JsonObject
}

/** Construction parameters. */
export interface MeshCoreInit {
  readonly self: SelfCard
  /** Addresses to join through (the bootstrap list); empty: a mesh of one until someone joins us. */
  readonly seeds?: readonly string[]
  /** The random source (the daemon seeds it from the OS, the simulator from its seed). */
  readonly rng: Rng
  /** The time of construction, ms. */
  readonly now: number
  /** State persisted by a previous run (decodePersistedState), if any; ignored if it is another peer's. */
  readonly restore?: PersistedState
  readonly membership?: Partial<MembershipConfig>
  readonly definitions?: Partial<DefinitionsConfig>
  /**
   * Where the member table keeps member numbers and records: the simulator shares one between
   * all its nodes (see peer-interner.ts). @default a private one
   */
  readonly interner?: PeerInterner
  /**
   * A warm start: the members of a formed mesh, all alive, known from the start without a join
   * (see MembershipInit.snapshot). The simulator's nodes start this way; a restart does not.
   */
  readonly snapshot?: MemberSnapshot
}

/** Where MeshCore's clock and cached deadlines sit in its region (see MeshCore's #clock). */
const NOW = 0
const MEMBERSHIP_DEADLINE = 1
const REPLICA_DEADLINE = 2
const CLOCK_NUMBERS = 3

/** Message types counted in debugState().received, each at its index. */
const RECEIVED_TYPES = Object.freeze([
  'ping', 'ping-req', 'ack', 'nack', 'spread', 'sync-members', 'sync-root', 'sync-buckets', 'sync-definitions', 'def-update', 'def-access'
] as const satisfies ReadonlyArray<PeerMessage['type'] | TopicMessage['type']>)

/** What was dropped, and why (debugState). */
interface DropCounters {
  malformed: number
  unknownTopic: number
  fromSelf: number
  internalErrors: number
}

/**
 * The protocol core of one node.
 *
 * Call contract (quinn's, adapted):
 * - start(now) once, after construction; carry out its outputs.
 * - handle(input, now) for every message from the network.
 * - tick(now) whenever now >= nextDeadline(); re-read nextDeadline() after every call (any call
 *   may move it; undefined once the node has left).
 * - the commands (createDefinition, ...) for the local API.
 * - carry out every output in order; outputs are plain data and never shared with later calls.
 * - `now` is milliseconds since the epoch and must not go back; it is clamped if it does.
 * Peer input never throws: a malformed message is dropped and counted (debugState().dropped).
 * Commands throw HeatmeshError for bad local calls (unknown id: ECA_NOENT).
 *
 * @example
 * const core = createMeshCore({ self: { id, name, addresses, meta: {} }, seeds, rng: createRng(seed), now: Date.now() })
 * carryOut(core.start(Date.now()))
 * // on a message: carryOut(core.handle({ type: 'message', from, message: bytes }, Date.now()))
 * // on the timer: carryOut(core.tick(Date.now())); rearm at core.nextDeadline()
 */
export class MeshCore {
  // The fields read on every input come first: V8 lays an object's fields out in declaration
  // order, so these share its first cache lines (at 10,000 simulated nodes, rarely in cache).
  /**
   * The clock (the latest `now`) and the cached deadlines of both machines (Infinity: none), at
   * #clockBase + NOW, MEMBERSHIP_DEADLINE, REPLICA_DEADLINE: numbers read on every input. A
   * double field would be a box of its own (V8); with the interner's arena (the simulator's)
   * they are a region of a shared array, carved just before membership's timers, next to them.
   */
  readonly #clock: Float64Array
  readonly #clockBase: number
  readonly #membership: Membership
  /** Membership's timersVersion when its deadline was cached (-1: never; a small integer, so the field holds it unboxed). */
  #membershipTimers = -1
  /** Our peer id (the caller's string: comparing it with a peer's costs no look into a record). */
  readonly #selfId: PeerId
  /**
   * Whether the replica may have changed (deadline, durable state) since it was last looked at.
   * Most inputs are membership's alone (a probe, an ack): the replica is then left untouched,
   * which at 10,000 simulated nodes spares the memory traffic of looking into it every time.
   */
  #replicaDirty = true
  /** The replica changed since #finish last compared its state version. */
  #checkPersist = true
  #persistedIncarnation = -1
  /**
   * Messages accepted, by type: pings and acks, nearly all of them, in fields of their own (a
   * separate array or Map would be one more cache miss per message); the others in #received,
   * at the type's index in RECEIVED_TYPES.
   */
  #receivedPings = 0
  #receivedAcks = 0
  readonly #definitions: Definitions
  #persistedVersion = -1
  readonly #received: number[] = RECEIVED_TYPES.map(() => 0)
  readonly #dropped: DropCounters = { malformed: 0, unknownTopic: 0, fromSelf: 0, internalErrors: 0 }
  #lastError: string | undefined

  constructor (init: MeshCoreInit) {
    this.#selfId = init.self.id
    const region = (init.snapshot?.interner ?? init.interner)?.arena?.float64Region(CLOCK_NUMBERS)
    this.#clock = region?.array ?? new Float64Array(CLOCK_NUMBERS)
    this.#clockBase = region?.offset ?? 0
    this.#clock[this.#clockBase + NOW] = init.now
    this.#clock[this.#clockBase + MEMBERSHIP_DEADLINE] = Infinity
    this.#clock[this.#clockBase + REPLICA_DEADLINE] = Infinity
    const restore = init.restore !== undefined && init.restore.self === init.self.id ? init.restore : undefined
    // A restarted node announces itself above its last incarnation, so its "alive" beats the
    // "dead" others may hold of its previous run (refutation covers a lost state file).
    const incarnation = restore === undefined ? 0 : restore.incarnation + 1
    this.#membership = new Membership({
      // Validated as peers would; the id stays the caller's string (the same object as ours).
      self: { ...memberRecord(init.self, incarnation), id: init.self.id },
      seeds: init.seeds ?? [],
      rng: init.rng,
      config: init.membership,
      interner: init.interner,
      snapshot: init.snapshot,
      now: init.now
    })
    const membership = this.#membership
    this.#definitions = new Definitions({
      self: init.self.id,
      rng: init.rng,
      view: {
        randomLivePeer: () => membership.randomLivePeer(),
        isLive: (id) => membership.isLive(id),
        lowestLiveId: () => membership.lowestLiveId()
      },
      config: init.definitions,
      restore: restore?.replica,
      now: init.now
    })
  }

  // ---- driving ------------------------------------------------------------------------------------

  /** Starts the machines: probing, joining through the seeds, restored definitions reported. */
  start (now: number): MeshOutput[] {
    const t = this.#clamp(now)
    return this.#finish([...this.#replica.start(t), ...this.#route(this.#membership.start(t), t)])
  }

  /** Handles one input from the network. Never throws. */
  handle (input: MeshInput, now: number): MeshOutput[] {
    const t = this.#clamp(now)
    if (this.#membership.stopped) return []
    try {
      switch (input.type) {
        case 'message': return this.#finish(this.#onMessage(input.from, input.message, t, input.fromMember))
        case 'gossip': return this.#finish(this.#onGossip(input.from, input.topic, input.message, t))
        default: {
          const never: never = input
          throw new Error(`unhandled input ${JSON.stringify(never)}`)
        }
      }
    } catch (err) {
      // A bug, not a peer's fault: counted and visible in debugState, but the daemon lives on.
      this.#dropped.internalErrors++
      this.#lastError = err instanceof Error ? (err.stack ?? err.message) : String(err)
      return []
    }
  }

  /** Fires every timer due at `now`. */
  tick (now: number): MeshOutput[] {
    const t = this.#clamp(now)
    if (this.#membership.stopped) return []
    const membership = this.#route(this.#membership.tick(t), t)
    if (this.#replicaNextDeadline() > t) return this.#finish(membership)
    const definitions = this.#replica.tick(t)
    return this.#finish(definitions.length === 0 ? membership : [...membership, ...definitions])
  }

  /** When tick() must next be called, or undefined when nothing is armed. */
  nextDeadline (): number | undefined {
    const membership = this.#membership
    if (membership.stopped) return undefined
    const clock = this.#clock
    const cached = this.#clockBase + MEMBERSHIP_DEADLINE
    const version = membership.timersVersion
    if (version !== this.#membershipTimers) {
      clock[cached] = membership.nextDeadline() ?? Infinity
      this.#membershipTimers = version
    }
    const at = Math.min(clock[cached] as number, this.#replicaNextDeadline())
    return at === Infinity ? undefined : at
  }

  // ---- commands -----------------------------------------------------------------------------------

  /** Creates an instrumentation definition mesh-wide; returns its id and the outputs. */
  createDefinition (definition: string, now: number): { id: DefinitionId, outputs: MeshOutput[] } {
    const { id, outputs } = this.#replica.create(definition, this.#clamp(now))
    return { id, outputs: this.#finish(outputs) }
  }

  /** Replaces definition `id` (mutable properties changed). */
  updateDefinition (id: DefinitionId, definition: string, now: number): MeshOutput[] {
    return this.#finish(this.#replica.update(id, definition, this.#clamp(now)))
  }

  /** Deletes definition `id` mesh-wide. */
  deleteDefinition (id: DefinitionId, now: number): MeshOutput[] {
    return this.#finish(this.#replica.delete(id, this.#clamp(now)))
  }

  /** Records an API access to `id` (idle-max). */
  touchDefinition (id: DefinitionId, now: number): MeshOutput[] {
    return this.#finish(this.#replica.touch(id, this.#clamp(now)))
  }

  /**
   * Changes this node's card (addresses known after listening, backends changed). Throws
   * DecodeError (ECA_INVAL) for a card beyond the limits peers enforce.
   */
  updateSelf (card: Partial<Pick<MemberRecord, 'name' | 'addresses' | 'meta'>>, now: number): MeshOutput[] {
    const t = this.#clamp(now)
    return this.#finish(this.#route(this.#membership.updateSelf(card, t), t))
  }

  /** Leaves the mesh gracefully; keep driving until nextDeadline() is undefined (leaveDuration). */
  leave (now: number): MeshOutput[] {
    const t = this.#clamp(now)
    return this.#finish(this.#route(this.#membership.leave(t), t))
  }

  // ---- getters ------------------------------------------------------------------------------------

  /** This node's card. */
  get self (): MemberRecord { return this.#membership.self }

  /** A live definition. */
  getDefinition (id: DefinitionId): Extract<DefinitionEntry, { state: 'live' }> | undefined {
    return this.#definitions.get(id)
  }

  /** Every live definition, oldest first. */
  listDefinitions (): Array<Extract<DefinitionEntry, { state: 'live' }>> {
    return this.#definitions.list()
  }

  /** Every entry including tombstones, by id (to compare replicas). */
  definitionEntries (): DefinitionEntry[] {
    return this.#definitions.entries()
  }

  /** The latest access to `id` this node knows of. */
  lastAccess (id: DefinitionId): number | undefined {
    return this.#definitions.lastAccess(id)
  }

  /** Every member known (including dead and left ones until forgotten). */
  members (): MemberView[] {
    return this.#membership.members()
  }

  /** What this node believes of member `id`. */
  member (id: PeerId): MemberView | undefined {
    return this.#membership.member(id)
  }

  /** Number of live members, this node included. */
  get liveCount (): number {
    return this.#membership.liveCount
  }

  /** The durable state as it would be persisted now. */
  persistedState (): PersistedState {
    return { format: PERSISTED_FORMAT, self: this.#selfId, incarnation: this.#membership.incarnation, replica: this.#definitions.replicaState() }
  }

  /** A post-mortem snapshot of both machines and the drop counters. */
  debugState (): Record<string, unknown> {
    return {
      now: this.#clock[this.#clockBase + NOW],
      membership: this.#membership.debugState(),
      definitions: this.#definitions.debugState(),
      received: this.#receivedCounts(),
      dropped: { ...this.#dropped },
      lastError: this.#lastError ?? null
    }
  }

  // ---- routing ------------------------------------------------------------------------------------

  /** The replica, for a call that may change it. */
  get #replica (): Definitions {
    this.#replicaDirty = true
    return this.#definitions
  }

  /** The replica's next deadline, Infinity when none. */
  #replicaNextDeadline (): number {
    if (this.#replicaDirty) {
      this.#clock[this.#clockBase + REPLICA_DEADLINE] = this.#definitions.nextDeadline() ?? Infinity
      this.#replicaDirty = false
      this.#checkPersist = true
    }
    return this.#clock[this.#clockBase + REPLICA_DEADLINE] as number
  }

  #clamp (now: number): number {
    const at = this.#clockBase + NOW
    if (now > (this.#clock[at] as number)) this.#clock[at] = now
    return this.#clock[at] as number
  }

  #onMessage (from: PeerId, raw: PeerMessage | Uint8Array, now: number, fromMember: number | undefined): Array<MembershipOutput | DefinitionsOutput> {
    if (fromMember === undefined ? from === this.#selfId : fromMember === this.#membership.selfNumber) {
      this.#dropped.fromSelf++
      return []
    }
    const message = this.#accept(raw, decodePeerMessage)
    if (message === undefined) return []
    this.#count(message.type)
    switch (message.type) {
      case 'ping':
      case 'ping-req':
      case 'ack':
      case 'nack':
      case 'spread':
      case 'sync-members':
        return this.#route(this.#membership.handle(from, message, now, fromMember), now)
      case 'sync-root':
      case 'sync-buckets':
        return message.set === 'members'
          ? this.#route(this.#membership.handle(from, message, now, fromMember), now)
          : this.#replica.handle(from, message, now)
      case 'sync-definitions':
        return this.#replica.handle(from, message, now)
      default: {
        const never: never = message
        throw new Error(`unhandled message ${JSON.stringify(never)}`)
      }
    }
  }

  #onGossip (from: PeerId, topic: string, raw: TopicMessage | Uint8Array, now: number): DefinitionsOutput[] {
    if (topic !== DEFINITIONS_TOPIC) {
      this.#dropped.unknownTopic++
      return []
    }
    const message = this.#accept(raw, decodeTopicMessage)
    if (message === undefined) return []
    this.#count(message.type)
    return this.#replica.gossip(from, message, now)
  }

  /** Counts an accepted message of type `type`. */
  #count (type: PeerMessage['type'] | TopicMessage['type']): void {
    if (type === 'ping') this.#receivedPings++
    else if (type === 'ack') this.#receivedAcks++
    else {
      const i = RECEIVED_TYPES.indexOf(type)
      this.#received[i] = (this.#received[i] as number) + 1
    }
  }

  /** Messages accepted so far, by type (types never received left out). */
  #receivedCounts (): Record<string, number> {
    const out: Record<string, number> = {}
    RECEIVED_TYPES.forEach((type, i) => {
      const n = type === 'ping' ? this.#receivedPings : type === 'ack' ? this.#receivedAcks : this.#received[i] as number
      if (n > 0) out[type] = n
    })
    return out
  }

  /**
   * Decodes bytes from a peer (objects come from the simulator and are trusted); undefined for a
   * malformed one, which is dropped and counted, never thrown.
   */
  #accept<M extends { readonly type: string }> (raw: M | Uint8Array, decode: (bytes: Uint8Array) => M): M | undefined {
    let message: M
    if (raw instanceof Uint8Array) {
      try {
        message = decode(raw)
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err
        this.#dropped.malformed++
        this.#lastError = err.message
        return undefined
      }
    } else {
      message = raw
    }
    return message
  }

  /** Passes membership outputs through, and tells the replica about members that joined. */
  #route (outputs: MembershipOutput[], now: number): Array<MembershipOutput | DefinitionsOutput> {
    // Most outputs (probes, acks) announce no member: pass the array through untouched.
    let joined = false
    for (const o of outputs) if (o.type === 'member' && o.change === 'joined') { joined = true; break }
    if (!joined) return outputs
    const out: Array<MembershipOutput | DefinitionsOutput> = []
    for (const o of outputs) {
      out.push(o)
      if (o.type === 'member' && o.change === 'joined') out.push(...this.#replica.peerJoined(o.member.id, now))
    }
    return out
  }

  /** Appends a persist effect when the durable state changed. */
  #finish (outputs: Array<MembershipOutput | DefinitionsOutput>): MeshOutput[] {
    const out: MeshOutput[] = outputs
    const incarnation = this.#membership.incarnation
    if (!this.#replicaDirty && !this.#checkPersist && incarnation === this.#persistedIncarnation) return out
    this.#checkPersist = false
    const version = this.#definitions.stateVersion
    if (version !== this.#persistedVersion || incarnation !== this.#persistedIncarnation) {
      this.#persistedVersion = version
      this.#persistedIncarnation = incarnation
      out.push({ type: 'persist', state: this.persistedState() })
    }
    return out
  }
}

/** Builds a node's protocol core (see MeshCore for the call contract). */
export function createMeshCore (init: MeshCoreInit): MeshCore {
  return new MeshCore(init)
}
