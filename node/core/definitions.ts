/**
 * The definition replica: the mesh-wide map of instrumentation definitions, id -> definition or
 * tombstone, that every node holds a full copy of and that converges without coordination.
 *
 * THEORY.
 * - Entries. An id maps to a live entry (an opaque canonical instrumentation JSON string, its
 *   creation time) or a tombstone, each with a version: a hybrid logical timestamp (hlc.ts) and
 *   the peer that wrote it. The merge keeps the greater of two entries in the order
 *   (tombstone > live, then version), which is commutative, associative and idempotent, so
 *   replicas that have seen the same entries hold the same map whatever the order or repetition.
 *   Tombstones beat any live version because ids are never reused: an update racing a delete
 *   must not bring the instrumentation back. Among live versions the newer write wins (an update
 *   of retention-time, idle-max or persist-data is a new version of the whole definition).
 * - Ids are 64 random bits from the injected RNG, XORed with a hash of the creating peer's id,
 *   so two nodes seeded alike still draw apart; 16 hex digits. Uniqueness without coordination:
 *   a collision needs ~2^32 definitions (birthday bound); a node also redraws an id it already
 *   holds. Chosen over peer id + counter because it needs no persisted counter (a restored old
 *   state file cannot reissue an id), keeps URIs short, and does not leak peer ids into them.
 * - Dissemination. A local change is published on the `definitions` gossipsub topic (the
 *   binding's), which reaches every connected node within a few hops. Anti-entropy repairs what
 *   gossip missed (a node down, cut off, or a lost message): with a random live member every
 *   syncInterval, with a member at once when we join, and with a member coming back after a
 *   failure or partition (at most once per revivedSyncInterval); the exchange is a bucketed
 *   digest then the entries of differing buckets (digest.ts).
 * - Tombstone collection. A tombstone is dropped tombstoneGrace (7 days) after its deletion.
 *   That is safe as long as every node that still holds the live entry reconciles within the
 *   grace. A node tracks `lastContact`, the last time it completed an anti-entropy exchange (or
 *   found no live member to exchange with: then it is the whole mesh). A node whose lastContact
 *   is older than the grace (it was down that long) drops its replica and resyncs instead of
 *   re-spreading what may have been deleted and collected meanwhile. A partition of two groups
 *   lasting longer than the grace may bring deleted definitions back: the grace is chosen far
 *   longer than any partition we tolerate.
 * - idle-max. An instrumentation not accessed through the API for idle-max seconds is deleted
 *   mesh-wide. Accesses are recorded where they happen (touch(), no message) and published on the
 *   topic at most once per id and node per accessSlack = clamp(idle-max / 10, 1 s, 60 s); every
 *   node keeps the latest access it has heard of (a max register, also carried by anti-entropy).
 *   One node decides: the writer of the current version if it is live, else the live member with
 *   the lowest id. It deletes once idle-max + accessSlack has passed since the latest access, so
 *   the deletion comes between idle-max and idle-max + 2 x accessSlack after the real last access
 *   (CA: within its 60 s reaper period). A node that learns or restores a definition counts it
 *   as accessed then (CA gave every instrumentation a fresh access time on restart). Two nodes
 *   deciding at once (views differ) both write a tombstone: harmless, the merge is idempotent.
 * - A peer's version more than maxFutureSkew ahead of our clock is refused (counted), so one
 *   node with a wrong clock cannot mint versions that win for days.
 */
import { HeatmeshError, InvalidFieldError } from '../../metad/index.js'
import {
  DEFAULT_DEFINITIONS_SYNC_INTERVAL, DEFAULT_MAX_FUTURE_SKEW, DEFAULT_REAP_INTERVAL, DEFAULT_REVIVED_SYNC_INTERVAL,
  DEFAULT_TOMBSTONE_GRACE
} from './constants.js'
import { bucketOf, hash53Parts, SetDigest } from './digest.js'
import { compareHlc, HLC_ZERO, receiveHlc, tickHlc, type Hlc } from './hlc.js'
import {
  DEFINITIONS_TOPIC, definitionIdleMax, definitionProblem, jsonByteLength, MAX_DEFINITION_BYTES, MAX_DEFINITIONS_PER_CHUNK,
  MAX_MESSAGE_BYTES, type DefinitionEntry, type DefinitionId, type PeerId, type PeerMessage, type TopicMessage, type Version
} from './messages.js'
import { randomFloat, type Rng } from './rng.js'
import { TimerTable } from './timers.js'
import { MAX_PERSISTED_ENTRIES } from './persisted-state.js'

/**
 * Most entries (definitions and tombstones) a replica holds; new ids beyond are refused. Equal
 * to what a persisted state may hold, so that the state written can always be read back.
 */
export const MAX_REPLICA_ENTRIES = MAX_PERSISTED_ENTRIES

/** Definition replica settings. Times in milliseconds. */
export interface DefinitionsConfig {
  /** Anti-entropy period with a random live member. @default DEFAULT_DEFINITIONS_SYNC_INTERVAL (30000) */
  readonly syncInterval: number
  /** How long tombstones are kept; also the staleness limit of a replica. @default DEFAULT_TOMBSTONE_GRACE (7 days) */
  readonly tombstoneGrace: number
  /** How often the idle-max reaper looks. @default DEFAULT_REAP_INTERVAL (10000) */
  readonly reapInterval: number
  /** Versions further ahead of our clock are refused. @default DEFAULT_MAX_FUTURE_SKEW (5 min) */
  readonly maxFutureSkew: number
  /** At most one sync with a (re)joined member per this period. @default DEFAULT_REVIVED_SYNC_INTERVAL (5000) */
  readonly revivedSyncInterval: number
}

/** The defaults. */
export const DEFAULT_DEFINITIONS_CONFIG: DefinitionsConfig = Object.freeze({
  syncInterval: DEFAULT_DEFINITIONS_SYNC_INTERVAL,
  tombstoneGrace: DEFAULT_TOMBSTONE_GRACE,
  reapInterval: DEFAULT_REAP_INTERVAL,
  maxFutureSkew: DEFAULT_MAX_FUTURE_SKEW,
  revivedSyncInterval: DEFAULT_REVIVED_SYNC_INTERVAL
})

/** What happened to an instrumentation, for the instrumenter and the API. */
export type DefinitionChange = 'created' | 'updated' | 'deleted'

/** An output of the definition replica. */
export type DefinitionsOutput =
  | { readonly type: 'send', readonly to: PeerId, readonly message: PeerMessage }
  | { readonly type: 'publish', readonly topic: typeof DEFINITIONS_TOPIC, readonly message: TopicMessage }
  | { readonly type: 'definition', readonly change: DefinitionChange, readonly id: DefinitionId, readonly entry: DefinitionEntry }

/** The definition messages (anti-entropy ones only for the `definitions` set). */
export type DefinitionsPeerMessage = Extract<PeerMessage, { type: 'sync-root' | 'sync-buckets' | 'sync-definitions' }>

/** The replica's named timers. */
export type DefinitionsTimer =
  /** Next anti-entropy exchange with a random live member. */
  | 'sync'
  /** Next idle-max check (armed only while some live definition has an idle-max). */
  | 'reap'
  /** Next tombstone collection. */
  | 'gc'

/** Every timer kind (TimerTable's slot list, shared by all replicas). */
const DEFINITIONS_TIMERS: readonly DefinitionsTimer[] = Object.freeze(['sync', 'reap', 'gc'] as const)

/** What the replica needs to know of the membership (MeshCore passes the Membership machine). */
export interface PeerView {
  /** A uniformly random live member other than this node, if any. */
  randomLivePeer: () => PeerId | undefined
  /** Whether `id` is live (this node included). */
  isLive: (id: PeerId) => boolean
  /** The live member with the smallest id (this node included). */
  lowestLiveId: () => PeerId
}

/** The replica's durable part, as persisted by MeshCore. */
export interface ReplicaState {
  readonly hlc: Hlc
  /** Last completed anti-entropy exchange (ms), or null if this replica never had one. */
  readonly lastContact: number | null
  readonly entries: readonly DefinitionEntry[]
}

/** Construction parameters. */
export interface DefinitionsInit {
  readonly self: PeerId
  readonly rng: Rng
  readonly view: PeerView
  readonly config?: Partial<DefinitionsConfig>
  /** A persisted replica to resume from (validated by persisted-state.ts). */
  readonly restore?: ReplicaState
  /** The time of construction (restore's staleness check and fresh access times). */
  readonly now: number
}

interface Slot {
  entry: DefinitionEntry
  fingerprint: string
  /** idle-max in ms of a live entry (0: never reaped). */
  idleMaxMs: number
}

interface Access {
  /** Latest access heard of, mesh-wide (0: none). */
  known: number
  /** When this node learned or restored the entry: counts as an access here only. */
  baseline: number
  /** When this node last published an access. */
  published: number
}

interface DefinitionsCounters {
  created: number
  updated: number
  deleted: number
  reaped: number
  merged: number
  ignored: number
  refusedFuture: number
  published: number
  accessesPublished: number
  syncsStarted: number
  syncsEqual: number
  tombstonesCollected: number
  staleDrops: number
  refusedFull: number
}

/**
 * The definition replica state machine.
 *
 * Times that enter entries, messages or the persisted state (versions, crtime, accesses,
 * lastContact) are whole milliseconds (`now` floored); timers keep `now` as given.
 *
 * Call contract: construct (optionally restoring), call start(now) once, then handle / gossip
 * for inputs, the commands for local API calls, and tick(now) whenever now >= nextDeadline();
 * carry out the outputs in order. `now` never goes back. Commands throw HeatmeshError for bad
 * local calls (unknown id: ECA_NOENT; oversized or malformed definition: ECA_INVAL); peer input
 * never throws.
 */
export class Definitions {
  readonly #self: PeerId
  readonly #rng: Rng
  readonly #view: PeerView
  readonly #config: DefinitionsConfig
  readonly #timers = new TimerTable<DefinitionsTimer>(DEFINITIONS_TIMERS)
  readonly #slots = new Map<DefinitionId, Slot>()
  readonly #access = new Map<DefinitionId, Access>()
  readonly #digest = new SetDigest()
  #hlc: Hlc = HLC_ZERO
  #lastContact: number | undefined
  /** lastContact as of the last state version (what a persist would record). */
  #persistedContact: number | undefined
  #lastTriggeredSync = -Infinity
  #started = false
  /**
   * Live definitions with an idle-max. The reaper's timer runs only while there are some: a
   * definition without one (idle-max 0) is never reaped, and 10,000 simulated nodes looking
   * every 10 s for nothing to do cost a few percent of a run.
   */
  #reapable = 0
  /** Bumped on every change of the durable state, so MeshCore knows when to persist. */
  #stateVersion = 0
  readonly #counters: DefinitionsCounters = {
    created: 0,
    updated: 0,
    deleted: 0,
    reaped: 0,
    merged: 0,
    ignored: 0,
    refusedFuture: 0,
    published: 0,
    accessesPublished: 0,
    syncsStarted: 0,
    syncsEqual: 0,
    tombstonesCollected: 0,
    staleDrops: 0,
    refusedFull: 0
  }

  constructor (init: DefinitionsInit) {
    this.#self = init.self
    this.#rng = init.rng
    this.#view = init.view
    this.#config = { ...DEFAULT_DEFINITIONS_CONFIG, ...init.config }
    for (const [key, value] of Object.entries(this.#config)) {
      if (!(typeof value === 'number' && value > 0)) throw new RangeError(`definitions: ${key} must be a positive number`)
    }
    if (init.restore !== undefined) {
      this.#hlc = init.restore.hlc
      this.#lastContact = init.restore.lastContact ?? undefined
      this.#persistedContact = this.#lastContact
      for (const entry of init.restore.entries) {
        if (entry.state === 'deleted' && entry.version.wall + this.#config.tombstoneGrace <= init.now) continue
        this.#store(entry, init.now)
      }
      this.#dropIfStale(init.now, [])
    }
  }

  // ---- getters ----------------------------------------------------------------------------------

  /** The live definition `id`, if any. */
  get (id: DefinitionId): Extract<DefinitionEntry, { state: 'live' }> | undefined {
    const entry = this.#slots.get(id)?.entry
    return entry?.state === 'live' ? entry : undefined
  }

  /** Every live definition, oldest first (by crtime, then id). */
  list (): Array<Extract<DefinitionEntry, { state: 'live' }>> {
    const out: Array<Extract<DefinitionEntry, { state: 'live' }>> = []
    for (const { entry } of this.#slots.values()) if (entry.state === 'live') out.push(entry)
    return out.sort((a, b) => a.crtime - b.crtime || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /** Every entry, tombstones included, sorted by id (for comparing replicas). */
  entries (): DefinitionEntry[] {
    return [...this.#slots.values()].map((s) => s.entry).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /** The latest access to `id` this node knows of (ms; the later of heard and local baseline). */
  lastAccess (id: DefinitionId): number | undefined {
    const a = this.#access.get(id)
    return a === undefined ? undefined : Math.max(a.known, a.baseline)
  }

  /** The durable state, for persistence. */
  replicaState (): ReplicaState {
    return { hlc: this.#hlc, lastContact: this.#persistedContact ?? null, entries: this.entries() }
  }

  /** Increases whenever replicaState() would return something different. */
  get stateVersion (): number { return this.#stateVersion }

  /** The earliest deadline of any timer. */
  nextDeadline (): number | undefined {
    return this.#timers.nextAt()
  }

  // ---- commands ---------------------------------------------------------------------------------

  /** Starts the timers and reports restored definitions as created. */
  start (now: number): DefinitionsOutput[] {
    const out: DefinitionsOutput[] = []
    if (this.#started) return out
    this.#started = true
    for (const entry of this.list()) out.push({ type: 'definition', change: 'created', id: entry.id, entry })
    this.#timers.set('sync', now + this.#config.syncInterval * (0.25 + 0.5 * randomFloat(this.#rng)))
    if (this.#reapable > 0) this.#timers.set('reap', now + this.#config.reapInterval)
    this.#timers.set('gc', now + this.#gcPeriod())
    return out
  }

  /**
   * Creates a definition from canonical instrumentation JSON; returns its new id. Throws
   * InvalidFieldError (ECA_INVAL) for a definition that is not a JSON object, too large, or with
   * a bad idle-max (the API validates before; this guards the replica).
   */
  create (definition: string, now: number): { id: DefinitionId, outputs: DefinitionsOutput[] } {
    checkDefinition(definition)
    const out: DefinitionsOutput[] = []
    // Our peer id's hash mixed in: two nodes whose RNGs were seeded alike still draw apart.
    const a = hash53Parts(this.#self, 1)[1]
    const b = hash53Parts(this.#self, 2)[1]
    let id: DefinitionId
    do {
      id = hex32(this.#rng.uint32() ^ a) + hex32(this.#rng.uint32() ^ b)
    } while (this.#slots.has(id))
    const entry: DefinitionEntry = { id, version: this.#nextVersion(now), state: 'live', definition, crtime: Math.floor(now) }
    this.#counters.created++
    this.#localWrite(entry, now, out)
    return { id, outputs: out }
  }

  /** Replaces live definition `id` (a PUT of its mutable properties). Throws ECA_NOENT if none. */
  update (id: DefinitionId, definition: string, now: number): DefinitionsOutput[] {
    checkDefinition(definition)
    const current = this.get(id)
    if (current === undefined) throw new HeatmeshError('ECA_NOENT', `no instrumentation "${id}"`)
    const out: DefinitionsOutput[] = []
    this.#counters.updated++
    this.#localWrite({ id, version: this.#nextVersion(now), state: 'live', definition, crtime: current.crtime }, now, out)
    return out
  }

  /** Deletes live definition `id` mesh-wide. Throws ECA_NOENT if none. */
  delete (id: DefinitionId, now: number): DefinitionsOutput[] {
    if (this.get(id) === undefined) throw new HeatmeshError('ECA_NOENT', `no instrumentation "${id}"`)
    const out: DefinitionsOutput[] = []
    this.#counters.deleted++
    this.#localWrite({ id, version: this.#nextVersion(now), state: 'deleted' }, now, out)
    return out
  }

  /**
   * Records an API access to `id` (for idle-max): free locally, and published at most once per
   * accessSlack. Unknown ids are ignored (the API answers 404 before).
   */
  touch (id: DefinitionId, now: number): DefinitionsOutput[] {
    const out: DefinitionsOutput[] = []
    const slot = this.#slots.get(id)
    const a = this.#access.get(id)
    if (slot === undefined || slot.entry.state !== 'live' || a === undefined) return out
    const at = Math.floor(now)
    a.known = Math.max(a.known, at)
    if (slot.idleMaxMs > 0 && at - a.published >= accessSlack(slot.idleMaxMs)) {
      a.published = at
      this.#counters.accessesPublished++
      out.push({ type: 'publish', topic: DEFINITIONS_TOPIC, message: { type: 'def-access', id, at } })
    }
    return out
  }

  /**
   * A member joined or came back: sync with it now if it is our first contact, or if no such
   * sync happened in the last revivedSyncInterval (a healed partition revives many at once).
   */
  peerJoined (peer: PeerId, now: number): DefinitionsOutput[] {
    const out: DefinitionsOutput[] = []
    // Joining a mesh of 10,000 reports 10,000 members at once: one sync is enough.
    if (now - this.#lastTriggeredSync < this.#config.revivedSyncInterval) return out
    this.#lastTriggeredSync = now
    this.#startSync(out, peer)
    return out
  }

  // ---- inputs ------------------------------------------------------------------------------------

  /** Handles a message published on the definitions topic. */
  gossip (_from: PeerId, message: TopicMessage, now: number): DefinitionsOutput[] {
    const out: DefinitionsOutput[] = []
    switch (message.type) {
      case 'def-update':
        for (const entry of message.entries) this.#merge(entry, now, out)
        break
      case 'def-access':
        this.#heardAccess(message.id, message.at, now)
        break
      default: {
        const never: never = message
        throw new Error(`definitions: unhandled topic message ${JSON.stringify(never)}`)
      }
    }
    return out
  }

  /** Handles an anti-entropy message about the `definitions` set from peer `from`. */
  handle (from: PeerId, message: DefinitionsPeerMessage, now: number): DefinitionsOutput[] {
    const out: DefinitionsOutput[] = []
    this.#dropIfStale(now, out)
    switch (message.type) {
      case 'sync-root': {
        const equal = this.#digest.rootEquals(message)
        const root = this.#digest.root()
        const buckets = equal ? [] : this.#digest.buckets()
        out.push({ type: 'send', to: from, message: { type: 'sync-buckets', set: 'definitions', hash: root.hash, count: root.count, buckets } })
        break
      }
      case 'sync-buckets': {
        if (this.#digest.rootEquals(message)) {
          this.#counters.syncsEqual++
          this.#contact(now)
          break
        }
        const differing = this.#digest.differingBuckets(message.buckets)
        if (differing.length > 0) this.#sendEntries(out, from, differing, true)
        else this.#contact(now)
        break
      }
      case 'sync-definitions':
        for (const entry of message.entries) this.#merge(entry, now, out)
        for (const [id, at] of message.accessed) this.#heardAccess(id, at, now)
        if (message.want !== undefined) this.#sendEntries(out, from, message.want, false)
        else this.#contact(now)
        break
      default: {
        const never: never = message
        throw new Error(`definitions: unhandled message ${JSON.stringify(never)}`)
      }
    }
    return out
  }

  /** Fires every timer due at `now`. */
  tick (now: number): DefinitionsOutput[] {
    const out: DefinitionsOutput[] = []
    for (const timer of this.#timers.due(now)) {
      switch (timer.kind) {
        case 'sync': {
          this.#dropIfStale(now, out)
          const peer = this.#view.randomLivePeer()
          // Nobody to reconcile with: this node is the whole mesh, hence up to date.
          if (peer === undefined) this.#contact(now)
          else this.#startSync(out, peer)
          this.#timers.set('sync', now + this.#config.syncInterval * (0.75 + 0.5 * randomFloat(this.#rng)))
          break
        }
        case 'reap':
          this.#reap(now, out)
          if (this.#reapable > 0) this.#timers.set('reap', now + this.#config.reapInterval)
          break
        case 'gc':
          this.#collect(now)
          this.#timers.set('gc', now + this.#gcPeriod())
          break
        default: {
          const never: never = timer.kind
          throw new Error(`definitions: unhandled timer ${String(never)}`)
        }
      }
    }
    return out
  }

  // ---- rules ------------------------------------------------------------------------------------

  #nextVersion (now: number): Version {
    this.#hlc = tickHlc(this.#hlc, Math.floor(now))
    return { wall: this.#hlc.wall, logical: this.#hlc.logical, origin: this.#self }
  }

  /** A local write: applied like any peer's entry, then published. */
  #localWrite (entry: DefinitionEntry, now: number, out: DefinitionsOutput[]): void {
    this.#merge(entry, now, out)
    this.#counters.published++
    out.push({ type: 'publish', topic: DEFINITIONS_TOPIC, message: { type: 'def-update', entries: [entry] } })
  }

  /** Merges one entry, from us or a peer: the greater of the two wins. */
  #merge (incoming: DefinitionEntry, now: number, out: DefinitionsOutput[]): void {
    if (incoming.version.wall > now + this.#config.maxFutureSkew) {
      this.#counters.refusedFuture++
      return
    }
    this.#hlc = receiveHlc(this.#hlc, incoming.version, Math.floor(now))
    const current = this.#slots.get(incoming.id)?.entry
    if (current !== undefined && compareEntries(incoming, current) <= 0) {
      this.#counters.ignored++
      return
    }
    if (current === undefined && this.#slots.size >= MAX_REPLICA_ENTRIES) {
      // Only a runaway or hostile writer gets here; the state must stay persistable.
      this.#counters.refusedFull++
      return
    }
    // A tombstone past its grace is not stored (it would be collected at once), but still kills.
    const expired = incoming.state === 'deleted' && incoming.version.wall + this.#config.tombstoneGrace <= now
    if (expired && current === undefined) {
      this.#counters.ignored++
      return
    }
    this.#counters.merged++
    if (expired) this.#unstore(incoming.id)
    else this.#store(incoming, now)
    if (incoming.state === 'live') {
      out.push({ type: 'definition', change: current?.state === 'live' ? 'updated' : 'created', id: incoming.id, entry: incoming })
    } else if (current?.state === 'live') {
      out.push({ type: 'definition', change: 'deleted', id: incoming.id, entry: incoming })
    }
  }

  #store (entry: DefinitionEntry, now: number): void {
    const slot = this.#slots.get(entry.id)
    if (slot !== undefined) {
      this.#digest.remove(entry.id, slot.fingerprint)
      if (slot.idleMaxMs > 0) this.#reapable--
    }
    const fingerprint = fingerprintOf(entry)
    const idleMaxMs = entry.state === 'live' ? definitionIdleMax(entry.definition) * 1000 : 0
    this.#slots.set(entry.id, { entry, fingerprint, idleMaxMs })
    if (idleMaxMs > 0) {
      this.#reapable++
      if (this.#started && !this.#timers.has('reap')) this.#timers.set('reap', now + this.#config.reapInterval)
    }
    this.#digest.add(entry.id, fingerprint)
    if (entry.state === 'live') {
      if (!this.#access.has(entry.id)) {
        // Our own creation counts as an access, heard mesh-wide; learning of one only locally.
        const known = entry.version.origin === this.#self ? Math.floor(now) : 0
        this.#access.set(entry.id, { known, baseline: now, published: -Infinity })
      }
    } else {
      this.#access.delete(entry.id)
    }
    this.#stateVersion++
  }

  #unstore (id: DefinitionId): void {
    const slot = this.#slots.get(id)
    if (slot === undefined) return
    this.#digest.remove(id, slot.fingerprint)
    if (slot.idleMaxMs > 0) this.#reapable--
    this.#slots.delete(id)
    this.#access.delete(id)
    this.#stateVersion++
  }

  #heardAccess (id: DefinitionId, at: number, now: number): void {
    const a = this.#access.get(id)
    if (a !== undefined) a.known = Math.max(a.known, Math.min(at, now + this.#config.maxFutureSkew))
  }

  /** Deletes the idle definitions this node is responsible for. */
  #reap (now: number, out: DefinitionsOutput[]): void {
    for (const [id, slot] of this.#slots) {
      const entry = slot.entry
      if (entry.state !== 'live' || slot.idleMaxMs === 0) continue
      const a = this.#access.get(id)
      if (a === undefined) continue
      const last = Math.max(a.known, a.baseline)
      if (now - last <= slot.idleMaxMs + accessSlack(slot.idleMaxMs)) continue
      const owner = entry.version.origin
      const reaper = this.#view.isLive(owner) ? owner : this.#view.lowestLiveId()
      if (reaper !== this.#self) continue
      this.#counters.reaped++
      this.#localWrite({ id, version: this.#nextVersion(now), state: 'deleted' }, now, out)
    }
  }

  #collect (now: number): void {
    for (const [id, slot] of [...this.#slots]) {
      if (slot.entry.state === 'deleted' && slot.entry.version.wall + this.#config.tombstoneGrace <= now) {
        this.#unstore(id)
        this.#counters.tombstonesCollected++
      }
    }
  }

  #gcPeriod (): number {
    return Math.min(this.#config.tombstoneGrace / 10, 3_600_000)
  }

  #contact (now: number): void {
    // Persisting lastContact late only makes the staleness rule stricter (a resync a little
    // early), so it is persisted when it has moved by 1 % of the grace, not on every exchange.
    if (this.#persistedContact === undefined || now - this.#persistedContact >= this.#config.tombstoneGrace / 100) {
      this.#persistedContact = Math.floor(now)
      this.#stateVersion++
    }
    this.#lastContact = Math.floor(now)
  }

  /**
   * A replica out of contact for longer than the tombstone grace may hold definitions deleted
   * (and collected) meanwhile: drop it and start over from the next exchange.
   */
  #dropIfStale (now: number, out: DefinitionsOutput[]): void {
    if (this.#lastContact === undefined || now - this.#lastContact <= this.#config.tombstoneGrace) return
    this.#counters.staleDrops++
    for (const [id, slot] of [...this.#slots]) {
      this.#unstore(id)
      if (this.#started && slot.entry.state === 'live') {
        out.push({ type: 'definition', change: 'deleted', id, entry: slot.entry })
      }
    }
    this.#lastContact = undefined
    this.#persistedContact = undefined
    this.#stateVersion++
  }

  #startSync (out: DefinitionsOutput[], peer: PeerId): void {
    this.#counters.syncsStarted++
    const root = this.#digest.root()
    out.push({ type: 'send', to: peer, message: { type: 'sync-root', set: 'definitions', hash: root.hash, count: root.count } })
  }

  /** Sends our entries in `buckets` to `to`, in chunks; the first asks for theirs when `want`. */
  #sendEntries (out: DefinitionsOutput[], to: PeerId, buckets: readonly number[], want: boolean): void {
    const wanted = new Set(buckets)
    const budget = MAX_MESSAGE_BYTES - 8192
    let entries: DefinitionEntry[] = []
    let accessed: Array<readonly [DefinitionId, number]> = []
    let bytes = 0
    let first = true
    const flush = (): void => {
      const message: PeerMessage = first && want
        ? { type: 'sync-definitions', entries, accessed, want: buckets }
        : { type: 'sync-definitions', entries, accessed }
      out.push({ type: 'send', to, message })
      first = false
      entries = []
      accessed = []
      bytes = 0
    }
    for (const [id, slot] of this.#slots) {
      if (!wanted.has(bucketOf(id))) continue
      const size = jsonByteLength(slot.entry) + 40
      if (entries.length > 0 && (bytes + size > budget || entries.length >= MAX_DEFINITIONS_PER_CHUNK)) flush()
      entries.push(slot.entry)
      const known = this.#access.get(id)?.known ?? 0
      if (slot.entry.state === 'live' && known > 0) accessed.push([id, known])
      bytes += size
    }
    if (entries.length > 0 || first) flush()
  }

  /** A snapshot for post-mortem debugging. */
  debugState (): Record<string, unknown> {
    let live = 0
    let tombstones = 0
    for (const { entry } of this.#slots.values()) entry.state === 'live' ? live++ : tombstones++
    return {
      live,
      tombstones,
      digest: this.#digest.root(),
      hlc: this.#hlc,
      lastContact: this.#lastContact ?? null,
      nextDeadline: this.nextDeadline(),
      counters: { ...this.#counters }
    }
  }
}

/** Orders entries for the merge: tombstone > live, then by version. */
export function compareEntries (a: DefinitionEntry, b: DefinitionEntry): number {
  const rank = (e: DefinitionEntry): number => (e.state === 'deleted' ? 1 : 0)
  if (rank(a) !== rank(b)) return rank(a) - rank(b)
  return compareVersions(a.version, b.version)
}

/** Orders versions: hybrid timestamp, then origin peer id. */
export function compareVersions (a: Version, b: Version): number {
  const c = compareHlc(a, b)
  if (c !== 0) return c
  return a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0
}

/** How often a node publishes accesses to one definition, and the reaper's extra patience. */
export function accessSlack (idleMaxMs: number): number {
  return Math.min(60_000, Math.max(1000, idleMaxMs / 10))
}

function fingerprintOf (entry: DefinitionEntry): string {
  const v = entry.version
  return `${entry.id}\u0000${entry.state}\u0000${v.wall}\u0000${v.logical}\u0000${v.origin}`
}

function hex32 (x: number): string {
  return (x >>> 0).toString(16).padStart(8, '0')
}

function checkDefinition (definition: string): void {
  if (typeof definition !== 'string') throw new InvalidFieldError('definition', definition, 'not a string')
  if (new TextEncoder().encode(definition).byteLength > MAX_DEFINITION_BYTES) {
    throw new InvalidFieldError('definition', `${definition.slice(0, 40)}...`, `larger than ${MAX_DEFINITION_BYTES} bytes`)
  }
  const problem = definitionProblem(definition)
  if (problem !== undefined) throw new InvalidFieldError('definition', definition, problem)
}
