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
   * objects another core produced) is trusted.
   */
  | { readonly type: 'message', readonly from: PeerId, readonly message: PeerMessage | Uint8Array }
  /** A gossipsub message on `topic`, published by `from`; the same rule for bytes and objects. */
  | { readonly type: 'gossip', readonly from: PeerId, readonly topic: string, readonly message: TopicMessage | Uint8Array }

/** An output for the binding to carry out, in order. */
export type MeshOutput =
  /** Send `message` to peer `to` (addresses from `member` outputs, kept for failed members too). */
  | { readonly type: 'send', readonly to: PeerId, readonly message: PeerMessage }
  /** Send `message` to a seed known only by address; its reply arrives from its peer id. */
  | { readonly type: 'send-address', readonly address: string, readonly message: PeerMessage }
  /** Publish `message` on gossipsub topic `topic`. */
  | { readonly type: 'publish', readonly topic: typeof DEFINITIONS_TOPIC, readonly message: TopicMessage }
  /** Write `state` durably (atomically replacing the previous one); restore it at the next start. */
  | { readonly type: 'persist', readonly state: PersistedState }
  /** A member changed (the merge tree and the binding's address book follow these). */
  | { readonly type: 'member', readonly change: MemberChange, readonly member: MemberRecord }
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
  readonly #membership: Membership
  readonly #definitions: Definitions
  /**
   * Whether the replica may have changed (deadline, durable state) since it was last looked at.
   * Most inputs are membership's alone (a probe, an ack): the replica is then left untouched,
   * which at 10,000 simulated nodes spares the memory traffic of looking into it every time.
   */
  #replicaDirty = true
  #replicaDeadline: number | undefined
  /** The replica changed since #finish last compared its state version. */
  #checkPersist = true
  #now: number
  #persistedVersion = -1
  #persistedIncarnation = -1
  readonly #dropped: DropCounters = { malformed: 0, unknownTopic: 0, fromSelf: 0, internalErrors: 0 }
  /** Messages accepted, by type (a Map: a dictionary object's keyed increments cost more, per message). */
  readonly #received = new Map<string, number>()
  #lastError: string | undefined

  constructor (init: MeshCoreInit) {
    this.#now = init.now
    const restore = init.restore !== undefined && init.restore.self === init.self.id ? init.restore : undefined
    // A restarted node announces itself above its last incarnation, so its "alive" beats the
    // "dead" others may hold of its previous run (refutation covers a lost state file).
    const incarnation = restore === undefined ? 0 : restore.incarnation + 1
    this.#membership = new Membership({
      self: memberRecord(init.self, incarnation),
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
        case 'message': return this.#finish(this.#onMessage(input.from, input.message, t))
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
    const due = this.#replicaNextDeadline()
    if (due === undefined || due > t) return this.#finish(membership)
    const definitions = this.#replica.tick(t)
    return this.#finish(definitions.length === 0 ? membership : [...membership, ...definitions])
  }

  /** When tick() must next be called, or undefined when nothing is armed. */
  nextDeadline (): number | undefined {
    if (this.#membership.stopped) return undefined
    const a = this.#membership.nextDeadline()
    const b = this.#replicaNextDeadline()
    if (a === undefined) return b
    if (b === undefined) return a
    return Math.min(a, b)
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
    return { format: PERSISTED_FORMAT, self: this.#membership.self.id, incarnation: this.#membership.incarnation, replica: this.#definitions.replicaState() }
  }

  /** A post-mortem snapshot of both machines and the drop counters. */
  debugState (): Record<string, unknown> {
    return {
      now: this.#now,
      membership: this.#membership.debugState(),
      definitions: this.#definitions.debugState(),
      received: Object.fromEntries(this.#received),
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

  #replicaNextDeadline (): number | undefined {
    if (this.#replicaDirty) {
      this.#replicaDeadline = this.#definitions.nextDeadline()
      this.#replicaDirty = false
      this.#checkPersist = true
    }
    return this.#replicaDeadline
  }

  #clamp (now: number): number {
    if (now > this.#now) this.#now = now
    return this.#now
  }

  #onMessage (from: PeerId, raw: PeerMessage | Uint8Array, now: number): Array<MembershipOutput | DefinitionsOutput> {
    if (from === this.#membership.self.id) {
      this.#dropped.fromSelf++
      return []
    }
    const message = this.#accept(raw, decodePeerMessage)
    if (message === undefined) return []
    switch (message.type) {
      case 'ping':
      case 'ping-req':
      case 'ack':
      case 'nack':
      case 'spread':
      case 'sync-members':
        return this.#route(this.#membership.handle(from, message, now), now)
      case 'sync-root':
      case 'sync-buckets':
        return message.set === 'members'
          ? this.#route(this.#membership.handle(from, message, now), now)
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
    return this.#replica.gossip(from, message, now)
  }

  /**
   * Decodes bytes from a peer (objects come from the simulator and are trusted) and counts the
   * message by type; undefined for a malformed one, which is dropped and counted, never thrown.
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
    this.#received.set(message.type, (this.#received.get(message.type) ?? 0) + 1)
    return message
  }

  /** Passes membership outputs through, and tells the replica about members that joined. */
  #route (outputs: MembershipOutput[], now: number): Array<MembershipOutput | DefinitionsOutput> {
    // Most outputs (probes, acks) announce no member: pass the array through untouched.
    if (!outputs.some((o) => o.type === 'member' && o.change === 'joined')) return outputs
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
