/**
 * Membership: which nodes are in the mesh, how to reach them, what they can measure, and which
 * of them have failed. A SWIM failure detector with infection-style dissemination (Das, Gupta
 * and Motivala, 2002) and three Lifeguard refinements (Dadgar et al., 2018), in the shape of
 * memberlist; sans-IO: messages and timer ticks in, messages and member events out.
 *
 * THEORY.
 * - Probing. Every protocol period (probeInterval) a node pings one member, taking them
 *   round-robin from a list reshuffled every round, so each member is probed by every other
 *   within two rounds. No ack within probeTimeout: it asks `indirectChecks` random members to
 *   ping the target for it (ping-req) and relay the ack. No ack by the end of the period: it
 *   suspects the target.
 * - Suspicion. A suspected member is declared dead when the suspicion times out. The timeout
 *   starts at suspicionMaxMult x min, where min = suspicionMult x max(1, log10 N) x
 *   probeInterval, and falls toward min as other members independently confirm the suspicion
 *   (Lifeguard's dogpile: max - (max - min) log(c + 1) / log(k + 1) after c of the expected
 *   k confirmations). A member that hears it is suspected (or declared dead) at an incarnation
 *   >= its own refutes: it bumps its incarnation above it and spreads `alive`.
 * - Precedence. Updates about a member are ordered by (incarnation, state) with alive < suspect
 *   < dead/left at equal incarnation: alive@i overrides suspect or dead only if i is higher.
 *   The rules are the same whichever node an update comes from, ourselves included.
 * - Dissemination. Every change is queued as a rumour (broadcasts.ts) and piggy-backed on
 *   pings and acks, and sent in small gossip rounds (gossipFanout random members every
 *   gossipInterval) while rumours are queued; each rumour goes out retransmitMult x
 *   ceil(log10(N + 1)) times. Nothing is sent for dissemination when nothing changed.
 * - Lifeguard. (1) Local health: a node that misses acks or nacks it should have had, or has to
 *   refute, probably is the slow one; its probe interval and timeout stretch by (health + 1),
 *   up to maxLocalHealth. (2) Relays send a nack when the target does not answer in time, so the
 *   prober can tell "target silent" from "I am cut off". (3) Buddy system: a ping to a suspected
 *   member carries the suspicion first, so the member can refute it at once.
 * - Anti-entropy (push-pull). Rarely (pushPullInterval, stretched by log10 N) a node compares
 *   its whole view with a random member through a bucketed digest (digest.ts) and exchanges only
 *   the buckets that differ; a joining node does the same with a seed, which gives it the full
 *   state in chunks. Remote "dead" is merged as "suspect", so push-pull never kills a member by
 *   itself (memberlist's rule), and what a node learns this way it does not re-spread as
 *   rumours: the news already travels by rumour from its source, and re-spreading every member
 *   learned at a join or after a partition would cost every node O(N) rumours.
 * - Warm-up. Nodes started together each join with a partial view, and rumours, whose
 *   retransmission limit follows the small N they know, die out before everyone has heard them.
 *   So after start, push-pulls come every 2 periods for as long as they teach the node something,
 *   then after 4, 8, ... periods up to the steady interval. In steady state the extra push-pulls
 *   find equal digests and cost ~150 bytes each.
 * - Reconnection. Every reconnectInterval a node syncs with one member it believes dead, so both
 *   sides of a healed partition find each other again; with no live member at all it re-joins
 *   through the seeds, with exponential backoff.
 * - Dead and left members are kept for deadRetention (so a stale "alive" cannot resurrect them
 *   and a healed partition can be reconnected), then forgotten.
 *
 * COST per node at N = 10,000 with the defaults. Steady state, no churn: each second a node
 * sends a ping and receives its ack, and on average receives a ping and sends an ack: four
 * messages of 42-46 bytes of JSON, ~95 B/s sent and as much received, independent of N (the
 * harness measures 94 B/s sent per node at N = 50, 500, 1000 and 2000). libp2p framing
 * (length prefix, yamux, noise) adds ~30 bytes a message: ~0.3 KB/s in + out. Push-pull: one
 * digest exchange every 4 x 30 s = 120 s, ~160 bytes when views agree; definitions: one every
 * 30 s, ~160 bytes. Churn: per membership change (a crash is suspect + dead, a restart alive),
 * every node sends the rumour 4 x ceil(log10 10001) = 20 times, 140-350 bytes each: 3-7 KB
 * per node per change, so fleet-wide churn of 0.3 changes/s (every node restarting once a
 * day) costs ~1-2 KB/s per node. Ceiling in a storm: a message carries at most
 * maxPiggybackBytes (1 KB) of rumours, so out-traffic is bounded by 3 x 5 gossip messages and
 * ~2 probe messages a second, ~17 KB/s whatever N. A join costs the joiner the full state once
 * (~10,000 records of ~300 bytes, 3 MB in 64 KB chunks). Detection: a crashed member is first
 * probed within ~1.6 periods in expectation (SWIM: e/(e - 1)), suspected at that period's end,
 * and declared dead when the suspicion times out: 16 s with the expected confirmations, 96 s
 * with none, at N = 10,000 (4 to 24 s at N <= 10; the tests measure 5-8 s at N = 5..8); then
 * known everywhere within O(log N) gossip rounds. See detectionBound for the worst case.
 */
import {
  DEFAULT_DEAD_RETENTION, DEFAULT_GOSSIP_FANOUT, DEFAULT_GOSSIP_INTERVAL, DEFAULT_INDIRECT_CHECKS, DEFAULT_JOIN_FANOUT,
  DEFAULT_JOIN_RETRY_MAX, DEFAULT_JOIN_RETRY_MIN, DEFAULT_LEAVE_DURATION, DEFAULT_MAX_LOCAL_HEALTH, DEFAULT_MAX_PIGGYBACK_BYTES,
  DEFAULT_PROBE_INTERVAL, DEFAULT_PROBE_TIMEOUT, DEFAULT_PUSH_PULL_INTERVAL, DEFAULT_RECONNECT_INTERVAL, DEFAULT_RETRANSMIT_MULT,
  DEFAULT_SUSPICION_MAX_MULT, DEFAULT_SUSPICION_MULT
} from './constants.js'
import { BroadcastQueue } from './broadcasts.js'
import { bucketOf, SetDigest } from './digest.js'
import {
  MAX_MEMBERS_PER_CHUNK, MAX_MESSAGE_BYTES, MAX_UPDATES_PER_MESSAGE, memberRecord, memberRecordBytes,
  type MemberEntry, type MemberRecord, type MemberState, type MemberUpdate, type PeerId, type PeerMessage
} from './messages.js'
import { randomFloat, randomInt, sample, shuffle, type Rng } from './rng.js'
import { TimerTable } from './timers.js'

/** Push-pulls at two probe periods after start, before the delay doubles toward the steady one. */
const WARMUP_PUSH_PULLS = 2

/** Membership settings. Times in milliseconds. */
export interface MembershipConfig {
  /** Protocol period: one probe per period. @default DEFAULT_PROBE_INTERVAL (1000) */
  readonly probeInterval: number
  /** Wait for a direct ack before asking others (< probeInterval). @default DEFAULT_PROBE_TIMEOUT (500) */
  readonly probeTimeout: number
  /** Members asked to probe indirectly. @default DEFAULT_INDIRECT_CHECKS (3) */
  readonly indirectChecks: number
  /** Suspicion minimum = suspicionMult x max(1, log10 N) x probeInterval. @default DEFAULT_SUSPICION_MULT (4) */
  readonly suspicionMult: number
  /** Suspicion maximum (no confirmations) = suspicionMaxMult x minimum. @default DEFAULT_SUSPICION_MAX_MULT (6) */
  readonly suspicionMaxMult: number
  /** Each rumour is sent retransmitMult x ceil(log10(N + 1)) times. @default DEFAULT_RETRANSMIT_MULT (4) */
  readonly retransmitMult: number
  /** Gossip round period while rumours are queued. @default DEFAULT_GOSSIP_INTERVAL (200) */
  readonly gossipInterval: number
  /** Members per gossip round. @default DEFAULT_GOSSIP_FANOUT (3) */
  readonly gossipFanout: number
  /** Bytes of rumours per message (at least one rumour always fits). @default DEFAULT_MAX_PIGGYBACK_BYTES (1000) */
  readonly maxPiggybackBytes: number
  /** Push-pull period, stretched by max(1, log10 N). @default DEFAULT_PUSH_PULL_INTERVAL (30000) */
  readonly pushPullInterval: number
  /** Period of a sync attempt with one member believed dead. @default DEFAULT_RECONNECT_INTERVAL (30000) */
  readonly reconnectInterval: number
  /** How long dead and left members are remembered. @default DEFAULT_DEAD_RETENTION (1 h) */
  readonly deadRetention: number
  /** First re-join delay through the seeds; doubles up to joinRetryMax. @default DEFAULT_JOIN_RETRY_MIN (1000) */
  readonly joinRetryMin: number
  /** @default DEFAULT_JOIN_RETRY_MAX (60000) */
  readonly joinRetryMax: number
  /**
   * Seeds contacted per join attempt (each answers with the full state, so more costs more; a
   * silent seed is replaced by another at the next attempt). @default DEFAULT_JOIN_FANOUT (1)
   */
  readonly joinFanout: number
  /** Local health ceiling (Lifeguard): periods stretch by at most this factor. @default DEFAULT_MAX_LOCAL_HEALTH (8) */
  readonly maxLocalHealth: number
  /** How long a leaving node keeps gossiping its departure. @default DEFAULT_LEAVE_DURATION (1000) */
  readonly leaveDuration: number
}

/** The defaults (memberlist's LAN profile). */
export const DEFAULT_MEMBERSHIP_CONFIG: MembershipConfig = Object.freeze({
  probeInterval: DEFAULT_PROBE_INTERVAL,
  probeTimeout: DEFAULT_PROBE_TIMEOUT,
  indirectChecks: DEFAULT_INDIRECT_CHECKS,
  suspicionMult: DEFAULT_SUSPICION_MULT,
  suspicionMaxMult: DEFAULT_SUSPICION_MAX_MULT,
  retransmitMult: DEFAULT_RETRANSMIT_MULT,
  gossipInterval: DEFAULT_GOSSIP_INTERVAL,
  gossipFanout: DEFAULT_GOSSIP_FANOUT,
  maxPiggybackBytes: DEFAULT_MAX_PIGGYBACK_BYTES,
  pushPullInterval: DEFAULT_PUSH_PULL_INTERVAL,
  reconnectInterval: DEFAULT_RECONNECT_INTERVAL,
  deadRetention: DEFAULT_DEAD_RETENTION,
  joinRetryMin: DEFAULT_JOIN_RETRY_MIN,
  joinRetryMax: DEFAULT_JOIN_RETRY_MAX,
  joinFanout: DEFAULT_JOIN_FANOUT,
  maxLocalHealth: DEFAULT_MAX_LOCAL_HEALTH,
  leaveDuration: DEFAULT_LEAVE_DURATION
})

/**
 * A bound on the time from a member's crash until every live member has declared it dead, for
 * N members with no message loss and local health at rest: its first probe within 2(N - 1)
 * periods (round robin over a list reshuffled every round) plus that probe's period, the
 * suspicion's longest timeout (no confirmation), and the dead rumour's transmissions, one gossip
 * round each. Typical detection is far quicker: N - 1 members probe it, and their suspicions
 * confirm one another.
 */
export function detectionBound (n: number, config?: Partial<MembershipConfig>): number {
  const c = { ...DEFAULT_MEMBERSHIP_CONFIG, ...config }
  const min = c.suspicionMult * Math.max(1, Math.log10(n)) * c.probeInterval
  const retransmits = c.retransmitMult * Math.ceil(Math.log10(n + 1))
  return (2 * (n - 1) + 1) * c.probeInterval + c.suspicionMaxMult * min + retransmits * c.gossipInterval
}

/** What happened to a member, as reported to the binding and the layers above. */
export type MemberChange =
  /** Newly known, or back after being dead or gone. */
  | 'joined'
  /** A new incarnation: its card (name, addresses, meta) may have changed, or it refuted a suspicion. */
  | 'updated'
  /** Suspected of having failed; still counted live. */
  | 'suspected'
  /** Declared dead. */
  | 'failed'
  /** Left gracefully. */
  | 'left'
  /** Dead or left for longer than deadRetention: dropped from the view. */
  | 'forgotten'

/** An output of the membership machine. */
export type MembershipOutput =
  | { readonly type: 'send', readonly to: PeerId, readonly message: PeerMessage }
  /** Send to a seed known only by address (joining); the reply comes from its peer id. */
  | { readonly type: 'send-address', readonly address: string, readonly message: PeerMessage }
  | { readonly type: 'member', readonly change: MemberChange, readonly member: MemberRecord }

/** The membership messages (anti-entropy ones only for the `members` set). */
export type MembershipMessage = Extract<PeerMessage, { type: 'ping' | 'ping-req' | 'ack' | 'nack' | 'spread' | 'sync-members' | 'sync-root' | 'sync-buckets' }>

/** Membership's named timers. */
export type MembershipTimer =
  /** Start of the next protocol period (and end of the current probe). */
  | 'probe'
  /** Direct ack deadline of the current probe: then probe indirectly. */
  | 'probe-timeout'
  /** Next gossip round (armed only while rumours are queued). */
  | 'gossip'
  /** Next push-pull with a random member. */
  | 'push-pull'
  /** Next sync attempt with a member believed dead. */
  | 'reconnect'
  /** Next join attempt through the seeds (armed only with no live member). */
  | 'join'
  /** Forget the oldest dead member when its retention ends. */
  | 'forget'
  /** Per suspected member (subject: its id): declare it dead. */
  | 'suspicion'
  /** Per relayed indirect probe (subject: our seq): nack the requester. */
  | 'relay'
  /** End of the leave: stop everything. */
  | 'leave'

/** Construction parameters. */
export interface MembershipInit {
  /** This node's card; its incarnation is the starting one (see mesh-core.ts for restarts). */
  readonly self: MemberRecord
  /** Addresses to join through (the binding's bootstrap list); may include our own. */
  readonly seeds: readonly string[]
  readonly rng: Rng
  readonly config?: Partial<MembershipConfig>
}

/** One member as this node sees it. */
export interface MemberView {
  readonly member: MemberRecord
  readonly state: MemberState
  /** When (our clock) it entered this state. */
  readonly since: number
}

/**
 * One member's entry. Kept small: at 10,000 members on each of 10,000 simulated nodes there are
 * 10^8 of these in one process. The digest fingerprint and bucket are recomputed when needed.
 */
interface Member {
  record: MemberRecord
  state: MemberState
  since: number
  /** Encoded size of the record as a sync entry (for chunking), computed when first needed (0: not yet). */
  bytes: number
}

interface Suspicion {
  readonly incarnation: number
  readonly start: number
  readonly confirmations: Set<PeerId>
  /** Confirmations expected (k). */
  readonly expected: number
  readonly min: number
  readonly max: number
}

interface PendingProbe {
  readonly seq: number
  readonly target: PeerId
  acked: boolean
  expectedNacks: number
  nacks: number
}

interface Relay {
  readonly requester: PeerId
  readonly seq: number
}

/** A set with O(1) add, delete and uniform random pick (array + index map, swap-remove). */
class IndexedSet {
  readonly items: PeerId[] = []
  readonly #index = new Map<PeerId, number>()
  add (id: PeerId): void {
    if (this.#index.has(id)) return
    this.#index.set(id, this.items.length)
    this.items.push(id)
  }

  delete (id: PeerId): void {
    const i = this.#index.get(id)
    if (i === undefined) return
    const last = this.items.pop() as PeerId
    this.#index.delete(id)
    if (last !== id) {
      this.items[i] = last
      this.#index.set(last, i)
    }
  }

  has (id: PeerId): boolean { return this.#index.has(id) }
  get size (): number { return this.items.length }
}

/** Counters for debugState(). */
interface MembershipCounters {
  probes: number
  probesFailed: number
  indirectProbes: number
  relayed: number
  nacksSent: number
  suspicions: number
  declaredDead: number
  refutations: number
  gossipRounds: number
  syncsStarted: number
  syncsEqual: number
  joinAttempts: number
  staleAcks: number
}

/**
 * The membership state machine.
 *
 * Call contract: call start(now) once, then handle(from, message, now) for each membership
 * message from a peer and tick(now) whenever now >= nextDeadline(); carry out every output in
 * order. `now` is milliseconds and never goes back (MeshCore clamps it). Nothing here throws on
 * peer input: messages are already decoded and validated, and every rule is total.
 */
export class Membership {
  readonly #config: MembershipConfig
  readonly #rng: Rng
  readonly #seeds: readonly string[]
  readonly #timers = new TimerTable<MembershipTimer>()
  readonly #members = new Map<PeerId, Member>()
  readonly #digest = new SetDigest()
  readonly #broadcasts = new BroadcastQueue()
  /** Alive and suspect members, self excluded. */
  readonly #live = new IndexedSet()
  /** Dead (not left) members, for reconnect. */
  readonly #dead = new IndexedSet()
  /** Members entering dead or left, in time order, for forgetting. */
  readonly #forgetQueue: Array<{ readonly id: PeerId, readonly since: number }> = []
  #forgetHead = 0
  readonly #suspicions = new Map<PeerId, Suspicion>()
  readonly #relays = new Map<number, Relay>()
  #probeList: PeerId[] = []
  #probeIndex = 0
  #probe: PendingProbe | undefined
  #seq = 0
  #health = 0
  #joinAttempts = 0
  /** Push-pulls since start that taught us nothing new (for the warm-up). */
  #pushPulls = 0
  /** Whether anti-entropy changed our view since the last push-pull was scheduled. */
  #syncLearned = false
  #phase: 'running' | 'leaving' | 'stopped' = 'running'
  #started = false
  #self: MemberRecord
  /** Bumped on every change of the live set, to cache views derived from it. */
  #liveVersion = 0
  #lowestLive: { version: number, id: PeerId } | undefined
  readonly #counters: MembershipCounters = {
    probes: 0,
    probesFailed: 0,
    indirectProbes: 0,
    relayed: 0,
    nacksSent: 0,
    suspicions: 0,
    declaredDead: 0,
    refutations: 0,
    gossipRounds: 0,
    syncsStarted: 0,
    syncsEqual: 0,
    joinAttempts: 0,
    staleAcks: 0
  }

  constructor (init: MembershipInit) {
    const config = { ...DEFAULT_MEMBERSHIP_CONFIG, ...init.config }
    if (!(config.probeTimeout > 0 && config.probeTimeout < config.probeInterval)) throw new RangeError('membership: need 0 < probeTimeout < probeInterval')
    for (const [key, value] of Object.entries(config)) {
      if (!(typeof value === 'number' && value >= 0 && Number.isFinite(value))) throw new RangeError(`membership: ${key} must be a finite number >= 0`)
    }
    this.#config = config
    this.#rng = init.rng
    this.#seeds = [...init.seeds]
    this.#self = init.self
    this.#insert(init.self, 'alive', 0)
  }

  // ---- getters ------------------------------------------------------------------------------------

  /** This node's current card. */
  get self (): MemberRecord { return this.#self }

  /** This node's incarnation (persisted by MeshCore so a restart starts above it). */
  get incarnation (): number { return this.#self.incarnation }

  /** Whether the node has left and its leave has run its course. */
  get stopped (): boolean { return this.#phase === 'stopped' }

  /** Number of live members (alive or suspect), this node included. */
  get liveCount (): number { return this.#live.size + (this.#phase === 'running' ? 1 : 0) }

  /** Whether `id` is a live member (alive or suspect); this node counts while running. */
  isLive (id: PeerId): boolean {
    return id === this.#self.id ? this.#phase === 'running' : this.#live.has(id)
  }

  /** A uniformly random live member other than this node, if any. */
  randomLivePeer (): PeerId | undefined {
    return this.#live.size === 0 ? undefined : this.#live.items[randomInt(this.#rng, this.#live.size)]
  }

  /** The live member with the smallest id, this node included (cached until the live set changes). */
  lowestLiveId (): PeerId {
    if (this.#lowestLive?.version !== this.#liveVersion) {
      let lowest = this.#self.id
      for (const id of this.#live.items) if (id < lowest) lowest = id
      this.#lowestLive = { version: this.#liveVersion, id: lowest }
    }
    return this.#lowestLive.id
  }

  /** What this node believes of `id`. */
  member (id: PeerId): MemberView | undefined {
    const m = this.#members.get(id)
    return m === undefined ? undefined : { member: m.record, state: m.state, since: m.since }
  }

  /** Every member this node knows of (dead and left ones until forgotten), in insertion order. */
  members (): MemberView[] {
    return [...this.#members.values()].map((m) => ({ member: m.record, state: m.state, since: m.since }))
  }

  /** The earliest deadline of any timer, or undefined when nothing is armed. */
  nextDeadline (): number | undefined {
    return this.#timers.next()?.at
  }

  // ---- commands -------------------------------------------------------------------------------------

  /** Starts probing and, with seeds, joining. */
  start (now: number): MembershipOutput[] {
    const out: MembershipOutput[] = []
    if (this.#started) return out
    this.#started = true
    const m = this.#members.get(this.#self.id) as Member
    m.since = now
    const c = this.#config
    // Random phases, so that nodes started together do not probe in lockstep.
    this.#timers.set('probe', now + randomFloat(this.#rng) * c.probeInterval)
    this.#timers.set('push-pull', now + this.#pushPullDelay())
    this.#timers.set('reconnect', now + c.reconnectInterval * (0.5 + randomFloat(this.#rng)))
    // Our own arrival is spread by us (members who learn of us by anti-entropy do not re-spread it).
    this.#enqueue({ type: 'alive', member: this.#self }, this.#self.id, now)
    if (this.#seeds.length > 0) this.#join(now, out)
    return out
  }

  /**
   * Changes this node's card (e.g. once the binding knows its listen addresses): a new
   * incarnation, spread like any other update. Throws DecodeError (ECA_INVAL) for a card that
   * peers would refuse (memberRecord).
   */
  updateSelf (card: Partial<Pick<MemberRecord, 'name' | 'addresses' | 'meta'>>, now: number): MembershipOutput[] {
    const out: MembershipOutput[] = []
    if (this.#phase !== 'running') return out
    const next = memberRecord({
      id: this.#self.id,
      name: card.name ?? this.#self.name,
      addresses: card.addresses ?? this.#self.addresses,
      meta: card.meta ?? this.#self.meta
    }, this.#self.incarnation + 1)
    this.#setSelf(next, now)
    return out
  }

  /** Leaves gracefully: spreads `left`, stops probing, and stops entirely after leaveDuration. */
  leave (now: number): MembershipOutput[] {
    const out: MembershipOutput[] = []
    if (this.#phase !== 'running') return out
    this.#phase = 'leaving'
    const self = this.#members.get(this.#self.id) as Member
    this.#setState(self, this.#self, 'left', now)
    for (const t of ['probe', 'probe-timeout', 'push-pull', 'reconnect', 'join'] as const) this.#timers.stop(t)
    this.#probe = undefined
    this.#enqueue({ type: 'left', id: this.#self.id, incarnation: this.#self.incarnation }, this.#self.id, now)
    this.#gossipRound(now, out, 2 * this.#config.gossipFanout, this.#self.id)
    this.#timers.set('leave', now + this.#config.leaveDuration)
    return out
  }

  // ---- inputs ----------------------------------------------------------------------------------------

  /** Handles one membership message from peer `from`. */
  handle (from: PeerId, message: MembershipMessage, now: number): MembershipOutput[] {
    const out: MembershipOutput[] = []
    if (this.#phase === 'stopped' || from === this.#self.id) return out
    switch (message.type) {
      case 'ping':
        this.#applyUpdates(message.updates, now, out)
        this.#send(out, from, { type: 'ack', seq: message.seq, updates: this.#piggyback(from) })
        break
      case 'ping-req': {
        this.#applyUpdates(message.updates, now, out)
        if (message.target === this.#self.id) {
          this.#send(out, from, { type: 'ack', seq: message.seq, updates: this.#piggyback(from) })
          break
        }
        const seq = ++this.#seq
        this.#relays.set(seq, { requester: from, seq: message.seq })
        this.#timers.set('relay', now + this.#config.probeTimeout * 0.8, String(seq))
        this.#counters.relayed++
        this.#send(out, message.target, { type: 'ping', seq, updates: this.#piggyback(message.target) })
        break
      }
      case 'ack': {
        this.#applyUpdates(message.updates, now, out)
        const relay = this.#relays.get(message.seq)
        if (relay !== undefined) {
          this.#relays.delete(message.seq)
          this.#timers.stop('relay', String(message.seq))
          this.#send(out, relay.requester, { type: 'ack', seq: relay.seq, updates: this.#piggyback(relay.requester) })
        } else if (this.#probe?.seq === message.seq && !this.#probe.acked) {
          this.#probe.acked = true
          this.#timers.stop('probe-timeout')
          this.#adjustHealth(-1)
        } else {
          this.#counters.staleAcks++
        }
        break
      }
      case 'nack':
        if (this.#probe?.seq === message.seq) this.#probe.nacks++
        break
      case 'spread':
        this.#applyUpdates(message.updates, now, out)
        break
      case 'sync-root': {
        const equal = this.#digest.rootEquals(message)
        const root = this.#digest.root()
        this.#send(out, from, { type: 'sync-buckets', set: 'members', hash: root.hash, count: root.count, buckets: equal ? [] : this.#digest.buckets() })
        break
      }
      case 'sync-buckets': {
        if (this.#digest.rootEquals(message)) {
          this.#counters.syncsEqual++
          break
        }
        const differing = this.#digest.differingBuckets(message.buckets)
        if (differing.length > 0) this.#sendEntries(out, from, differing, true)
        break
      }
      case 'sync-members': {
        const before = out.length
        for (const entry of message.entries) this.#mergeEntry(entry, from, now, out)
        if (out.length > before) this.#syncLearned = true
        if (message.want !== undefined) this.#sendEntries(out, from, message.want, false)
        break
      }
      default: {
        const never: never = message
        throw new Error(`membership: unhandled message ${JSON.stringify(never)}`)
      }
    }
    return out
  }

  /** Fires every timer due at `now`. */
  tick (now: number): MembershipOutput[] {
    const out: MembershipOutput[] = []
    for (const timer of this.#timers.due(now)) {
      switch (timer.kind) {
        case 'probe': this.#probeTick(now, out); break
        case 'probe-timeout': this.#probeTimeout(out); break
        case 'gossip':
          this.#gossipRound(now, out, this.#config.gossipFanout)
          this.#armGossip(now)
          break
        case 'push-pull': {
          const peer = this.randomLivePeer()
          if (peer !== undefined) this.#startSync(out, peer)
          this.#timers.set('push-pull', now + this.#pushPullDelay())
          break
        }
        case 'reconnect':
          if (this.#dead.size > 0) this.#startSync(out, this.#dead.items[randomInt(this.#rng, this.#dead.size)] as PeerId)
          this.#timers.set('reconnect', now + this.#config.reconnectInterval * (0.75 + 0.5 * randomFloat(this.#rng)))
          break
        case 'join': this.#join(now, out); break
        case 'forget': this.#forget(now, out); break
        case 'suspicion': {
          const s = this.#suspicions.get(timer.subject)
          const m = this.#members.get(timer.subject)
          if (s !== undefined && m?.state === 'suspect') {
            this.#counters.declaredDead++
            this.#onDead(timer.subject, s.incarnation, this.#self.id, 'dead', now, out, true)
          }
          break
        }
        case 'relay': {
          const seq = Number(timer.subject)
          const relay = this.#relays.get(seq)
          if (relay !== undefined) {
            this.#relays.delete(seq)
            this.#counters.nacksSent++
            this.#send(out, relay.requester, { type: 'nack', seq: relay.seq })
          }
          break
        }
        case 'leave':
          this.#phase = 'stopped'
          this.#timers.clear()
          break
        default: {
          const never: never = timer.kind
          throw new Error(`membership: unhandled timer ${String(never)}`)
        }
      }
    }
    return out
  }

  // ---- probing ----------------------------------------------------------------------------------------

  #probeTick (now: number, out: MembershipOutput[]): void {
    if (this.#probe !== undefined) this.#finishProbe(now, out)
    const scale = this.#health + 1
    this.#timers.set('probe', now + this.#config.probeInterval * scale)
    const target = this.#nextProbeTarget()
    if (target === undefined) return
    const seq = ++this.#seq
    this.#probe = { seq, target, acked: false, expectedNacks: 0, nacks: 0 }
    this.#counters.probes++
    this.#timers.set('probe-timeout', now + this.#config.probeTimeout * scale)
    this.#send(out, target, { type: 'ping', seq, updates: this.#piggyback(target) })
  }

  #probeTimeout (out: MembershipOutput[]): void {
    const p = this.#probe
    if (p === undefined || p.acked) return
    const relays = sample(this.#rng, this.#live.items, this.#config.indirectChecks, (id) => id !== p.target)
    p.expectedNacks = relays.length
    this.#counters.indirectProbes += relays.length
    for (const relay of relays) {
      this.#send(out, relay, { type: 'ping-req', seq: p.seq, target: p.target, updates: this.#piggyback(relay) })
    }
  }

  /** The end of a probe's period: no ack means suspicion. */
  #finishProbe (now: number, out: MembershipOutput[]): void {
    const p = this.#probe as PendingProbe
    this.#probe = undefined
    this.#timers.stop('probe-timeout')
    if (p.acked) return
    this.#counters.probesFailed++
    // Lifeguard: missing nacks mean our own links are the likelier culprit.
    this.#adjustHealth(p.expectedNacks > 0 ? Math.max(0, p.expectedNacks - p.nacks) : 1)
    const m = this.#members.get(p.target)
    if (m !== undefined && (m.state === 'alive' || m.state === 'suspect')) {
      this.#onSuspect(p.target, m.record.incarnation, this.#self.id, now, out, true)
    }
  }

  #nextProbeTarget (): PeerId | undefined {
    for (let attempts = 0; attempts < 2; attempts++) {
      while (this.#probeIndex < this.#probeList.length) {
        const id = this.#probeList[this.#probeIndex++] as PeerId
        if (this.#live.has(id)) return id
      }
      // End of a round: a fresh shuffled list of the live members.
      this.#probeList = shuffle(this.#rng, [...this.#live.items])
      this.#probeIndex = 0
    }
    return undefined
  }

  #adjustHealth (delta: number): void {
    this.#health = Math.max(0, Math.min(this.#config.maxLocalHealth - 1, this.#health + delta))
  }

  // ---- dissemination --------------------------------------------------------------------------------

  #retransmitLimit (): number {
    return this.#config.retransmitMult * Math.ceil(Math.log10(this.liveCount + 1))
  }

  #enqueue (update: MemberUpdate, about: PeerId, now: number): void {
    this.#broadcasts.enqueue(about, update)
    this.#armGossip(now)
  }

  /** Gossip rounds run while rumours are queued and someone can hear them. */
  #armGossip (now: number): void {
    if (!this.#timers.has('gossip') && this.#phase !== 'stopped' && this.#live.size > 0 && this.#broadcasts.size > 0) {
      this.#timers.set('gossip', now + this.#config.gossipInterval)
    }
  }

  /** Rumours for a message to `to`; a suspected `to` hears about its suspicion first (buddy system). */
  #piggyback (to: PeerId): MemberUpdate[] {
    if (this.#broadcasts.size === 0 && this.#suspicions.size === 0) return []
    const m = this.#members.get(to)
    const suspected = m?.state === 'suspect'
    const queued = suspected ? this.#broadcasts.get(to) : undefined
    const updates = this.#broadcasts.take(this.#config.maxPiggybackBytes, MAX_UPDATES_PER_MESSAGE, this.#retransmitLimit(), suspected ? to : undefined)
    if (m !== undefined && suspected && queued?.type !== 'suspect') {
      // The rumour has run its course here, but the suspect itself must still hear of it.
      updates.unshift({ type: 'suspect', id: to, incarnation: m.record.incarnation, from: this.#self.id })
      if (updates.length > MAX_UPDATES_PER_MESSAGE) updates.pop()
    }
    return updates
  }

  /** One gossip round to `fanout` random live members; rumour `first` (if queued) leads each message. */
  #gossipRound (now: number, out: MembershipOutput[], fanout: number, first?: PeerId): void {
    if (this.#broadcasts.size === 0) return
    this.#counters.gossipRounds++
    const targets = sample(this.#rng, this.#live.items, fanout, () => true)
    for (const to of targets) {
      const updates = this.#broadcasts.take(this.#config.maxPiggybackBytes, MAX_UPDATES_PER_MESSAGE, this.#retransmitLimit(), first)
      if (updates.length === 0) break
      this.#send(out, to, { type: 'spread', updates })
    }
  }

  #send (out: MembershipOutput[], to: PeerId, message: PeerMessage): void {
    out.push({ type: 'send', to, message })
  }

  // ---- joining and anti-entropy --------------------------------------------------------------------

  #join (now: number, out: MembershipOutput[]): void {
    if (this.#phase !== 'running' || this.#live.size > 0 || this.#seeds.length === 0) {
      this.#timers.stop('join')
      this.#joinAttempts = 0
      return
    }
    this.#counters.joinAttempts++
    const root = this.#digest.root()
    for (const address of sample(this.#rng, this.#seeds, this.#config.joinFanout, () => true)) {
      out.push({ type: 'send-address', address, message: { type: 'sync-root', set: 'members', hash: root.hash, count: root.count } })
    }
    const backoff = Math.min(this.#config.joinRetryMax, this.#config.joinRetryMin * 2 ** Math.min(this.#joinAttempts, 30))
    this.#joinAttempts++
    this.#timers.set('join', now + backoff * (0.5 + 0.5 * randomFloat(this.#rng)))
  }

  /**
   * The delay to the next push-pull: pushPullInterval x max(1, log10 N), jittered; but after
   * start they come every 2 probe periods while they keep teaching us something, then 4, 8, ...
   * periods, so that nodes started together, each joined to a partial view, merge their views in
   * seconds rather than in one interval.
   */
  #pushPullDelay (): number {
    const steady = this.#config.pushPullInterval * Math.max(1, Math.log10(this.liveCount))
    // The warm-up advances only when the last push-pull taught us nothing new.
    if (!this.#syncLearned) this.#pushPulls++
    this.#syncLearned = false
    const k = this.#pushPulls
    const warmup = this.#config.probeInterval * 2 * 2 ** Math.max(0, Math.min(k - WARMUP_PUSH_PULLS, 30))
    return Math.min(steady, warmup) * (0.75 + 0.5 * randomFloat(this.#rng))
  }

  #startSync (out: MembershipOutput[], peer: PeerId): void {
    this.#counters.syncsStarted++
    const root = this.#digest.root()
    this.#send(out, peer, { type: 'sync-root', set: 'members', hash: root.hash, count: root.count })
  }

  /** Sends our entries in `buckets` to `to`, in chunks; the first chunk asks for theirs when `want`. */
  #sendEntries (out: MembershipOutput[], to: PeerId, buckets: readonly number[], want: boolean): void {
    const wanted = new Set(buckets)
    const budget = MAX_MESSAGE_BYTES - 4096
    let chunk: MemberEntry[] = []
    let bytes = 0
    let first = true
    const flush = (): void => {
      const message: PeerMessage = first && want ? { type: 'sync-members', entries: chunk, want: buckets } : { type: 'sync-members', entries: chunk }
      this.#send(out, to, message)
      first = false
      chunk = []
      bytes = 0
    }
    for (const m of this.#members.values()) {
      if (!wanted.has(bucketOf(m.record.id))) continue
      const entry: MemberEntry = { member: m.record, state: m.state }
      if (m.bytes === 0) m.bytes = entryBytes(m.record)
      const size = m.bytes + 1
      if (chunk.length > 0 && (bytes + size > budget || chunk.length >= MAX_MEMBERS_PER_CHUNK)) flush()
      chunk.push(entry)
      bytes += size
    }
    if (chunk.length > 0 || first) flush()
  }

  /** Merges a peer's entry (push-pull): the update rules, except that "dead" becomes "suspect". */
  #mergeEntry (entry: MemberEntry, from: PeerId, now: number, out: MembershipOutput[]): void {
    const r = entry.member
    const known = this.#members.get(r.id)
    switch (entry.state) {
      case 'alive':
        this.#onAlive(r, now, out, false)
        break
      case 'suspect':
        if (known === undefined || r.incarnation > known.record.incarnation) this.#onAlive(r, now, out, false)
        this.#onSuspect(r.id, r.incarnation, from, now, out, false)
        break
      case 'dead':
        if (known === undefined) this.#onDead(r.id, r.incarnation, from, 'dead', now, out, false, r)
        else this.#onSuspect(r.id, r.incarnation, from, now, out, false)
        break
      case 'left':
        this.#onDead(r.id, r.incarnation, r.id, 'left', now, out, false, r)
        break
      default: {
        const never: never = entry.state
        throw new Error(`membership: unhandled state ${String(never)}`)
      }
    }
  }

  // ---- the update rules ----------------------------------------------------------------------------

  #applyUpdates (updates: readonly MemberUpdate[], now: number, out: MembershipOutput[]): void {
    for (const u of updates) {
      switch (u.type) {
        case 'alive': this.#onAlive(u.member, now, out, true); break
        case 'suspect': this.#onSuspect(u.id, u.incarnation, u.from, now, out, true); break
        case 'dead': this.#onDead(u.id, u.incarnation, u.from, 'dead', now, out, true); break
        case 'left': this.#onDead(u.id, u.incarnation, u.id, 'left', now, out, true); break
        default: {
          const never: never = u
          throw new Error(`membership: unhandled update ${JSON.stringify(never)}`)
        }
      }
    }
  }

  /** alive@i: a new member, or a newer incarnation of a known one. */
  #onAlive (record: MemberRecord, now: number, out: MembershipOutput[], spread: boolean): void {
    if (record.id === this.#self.id) {
      // Someone holds a newer or different card of ours (a previous run): outbid it.
      if (this.#phase === 'running' && (record.incarnation > this.#self.incarnation ||
          (record.incarnation === this.#self.incarnation && !sameCard(record, this.#self)))) {
        this.#setSelf({ ...this.#self, incarnation: Math.max(record.incarnation, this.#self.incarnation) + 1 }, now)
      }
      return
    }
    const m = this.#members.get(record.id)
    if (m === undefined) {
      this.#insert(record, 'alive', now)
      if (spread) this.#enqueue({ type: 'alive', member: record }, record.id, now)
      out.push({ type: 'member', change: 'joined', member: record })
      return
    }
    if (record.incarnation <= m.record.incarnation) return
    const before = m.state
    this.#setState(m, record, 'alive', now)
    if (spread) this.#enqueue({ type: 'alive', member: record }, record.id, now)
    out.push({ type: 'member', change: before === 'alive' || before === 'suspect' ? 'updated' : 'joined', member: record })
  }

  /** suspect@i from `from`: start, confirm or refute a suspicion. */
  #onSuspect (id: PeerId, incarnation: number, from: PeerId, now: number, out: MembershipOutput[], spread: boolean): void {
    if (id === this.#self.id) {
      if (this.#phase === 'running' && incarnation >= this.#self.incarnation) this.#refute(incarnation, now)
      return
    }
    const m = this.#members.get(id)
    if (m === undefined || incarnation < m.record.incarnation || m.state === 'dead' || m.state === 'left') return
    const existing = this.#suspicions.get(id)
    if (m.state === 'suspect' && existing !== undefined && incarnation <= existing.incarnation) {
      // A confirmation, if from someone new (our own failed probe counts when the suspicion came
      // from elsewhere): the timeout shrinks (Lifeguard) and the news spreads.
      if (!existing.confirmations.has(from)) {
        existing.confirmations.add(from)
        this.#timers.set('suspicion', existing.start + suspicionTimeout(existing), id)
        if (spread) this.#enqueue({ type: 'suspect', id, incarnation, from }, id, now)
      }
      return
    }
    const before = m.state
    const record = incarnation > m.record.incarnation ? { ...m.record, incarnation } : m.record
    this.#setState(m, record, 'suspect', now)
    const n = this.liveCount
    const min = this.#config.suspicionMult * Math.max(1, Math.log10(n)) * this.#config.probeInterval
    const s: Suspicion = {
      incarnation,
      start: now,
      // The first suspector does not count as a confirmation of itself.
      confirmations: new Set([from]),
      expected: Math.max(0, Math.min(this.#config.suspicionMult - 2, n - 2)),
      min,
      max: this.#config.suspicionMaxMult * min
    }
    this.#suspicions.set(id, s)
    this.#timers.set('suspicion', now + suspicionTimeout(s), id)
    this.#counters.suspicions++
    if (spread) this.#enqueue({ type: 'suspect', id, incarnation, from }, id, now)
    if (before === 'alive') out.push({ type: 'member', change: 'suspected', member: record })
  }

  /**
   * dead@i (or left@i) from `from`. A member we never heard of is recorded silently when a
   * record comes with it (push-pull), so digests agree; a bare rumour about it is ignored.
   */
  #onDead (
    id: PeerId, incarnation: number, from: PeerId, kind: 'dead' | 'left', now: number, out: MembershipOutput[], spread: boolean,
    record?: MemberRecord
  ): void {
    if (id === this.#self.id) {
      if (this.#phase === 'running' && incarnation >= this.#self.incarnation) this.#refute(incarnation, now)
      return
    }
    const m = this.#members.get(id)
    if (m === undefined) {
      if (record !== undefined) this.#insert(record, kind, now)
      return
    }
    if (incarnation < m.record.incarnation || m.state === 'left') return
    if (m.state === 'dead') {
      // A dead member that is then reported as having left: stop trying to reconnect it.
      if (kind === 'left') this.#setState(m, { ...m.record, incarnation }, 'left', now)
      return
    }
    const updated = incarnation > m.record.incarnation ? { ...m.record, incarnation } : m.record
    this.#setState(m, updated, kind, now)
    if (spread) this.#enqueue(kind === 'left' ? { type: 'left', id, incarnation } : { type: 'dead', id, incarnation, from }, id, now)
    out.push({ type: 'member', change: kind === 'left' ? 'left' : 'failed', member: updated })
    if (this.#live.size === 0 && this.#seeds.length > 0 && this.#phase === 'running') {
      this.#joinAttempts = 0
      this.#timers.set('join', now + this.#config.joinRetryMin * randomFloat(this.#rng))
    }
  }

  /** We are suspected or declared dead at >= our incarnation: outbid it. */
  #refute (incarnation: number, now: number): void {
    this.#counters.refutations++
    this.#adjustHealth(1)
    this.#setSelf({ ...this.#self, incarnation: Math.max(incarnation, this.#self.incarnation) + 1 }, now)
  }

  #setSelf (record: MemberRecord, now: number): void {
    this.#self = record
    this.#setState(this.#members.get(record.id) as Member, record, 'alive', now)
    this.#enqueue({ type: 'alive', member: record }, record.id, now)
  }

  // ---- the member table -----------------------------------------------------------------------------

  #insert (record: MemberRecord, state: MemberState, now: number): void {
    const m: Member = { record, state, since: now, bytes: 0 }
    this.#members.set(record.id, m)
    this.#digest.add(record.id, fingerprintOf(record, state))
    this.#index(m, undefined, now)
  }

  #setState (m: Member, record: MemberRecord, state: MemberState, now: number): void {
    const before = m.state
    this.#digest.remove(record.id, fingerprintOf(m.record, m.state))
    if (m.record !== record) m.bytes = 0
    m.record = record
    m.state = state
    m.since = now
    this.#digest.add(record.id, fingerprintOf(record, state))
    this.#index(m, before, now)
  }

  /** Keeps the live and dead sets, the probe list, suspicions and the forget queue in step. */
  #index (m: Member, before: MemberState | undefined, now: number): void {
    const id = m.record.id
    if (m.state !== 'suspect' && this.#suspicions.delete(id)) this.#timers.stop('suspicion', id)
    if (id === this.#self.id) return
    const live = m.state === 'alive' || m.state === 'suspect'
    const wasLive = before === 'alive' || before === 'suspect'
    if (live && !wasLive) {
      this.#live.add(id)
      this.#liveVersion++
      // A newcomer goes to a random place in the rest of this round, so it is probed soon.
      const at = this.#probeIndex + randomInt(this.#rng, this.#probeList.length - this.#probeIndex + 1)
      this.#probeList.splice(at, 0, id)
      this.#timers.stop('join')
      this.#armGossip(now)
    } else if (!live && wasLive) {
      this.#live.delete(id)
      this.#liveVersion++
    }
    if (m.state === 'dead') this.#dead.add(id)
    else this.#dead.delete(id)
    if ((m.state === 'dead' || m.state === 'left') && before !== 'dead' && before !== 'left') {
      this.#forgetQueue.push({ id, since: now })
      if (!this.#timers.has('forget')) this.#timers.set('forget', now + this.#config.deadRetention)
    }
  }

  #forget (now: number, out: MembershipOutput[]): void {
    const retention = this.#config.deadRetention
    while (this.#forgetHead < this.#forgetQueue.length) {
      const head = this.#forgetQueue[this.#forgetHead] as { id: PeerId, since: number }
      if (head.since + retention > now) break
      this.#forgetHead++
      const m = this.#members.get(head.id)
      // Skip entries made stale by a revival (and a later death, which queued a new entry).
      if (m === undefined || (m.state !== 'dead' && m.state !== 'left') || m.since > head.since || head.id === this.#self.id) continue
      this.#members.delete(head.id)
      this.#digest.remove(head.id, fingerprintOf(m.record, m.state))
      this.#dead.delete(head.id)
      this.#broadcasts.drop(head.id)
      out.push({ type: 'member', change: 'forgotten', member: m.record })
    }
    if (this.#forgetHead > 1024 && this.#forgetHead * 2 > this.#forgetQueue.length) {
      this.#forgetQueue.splice(0, this.#forgetHead)
      this.#forgetHead = 0
    }
    const next = this.#forgetQueue[this.#forgetHead]
    if (next !== undefined) this.#timers.set('forget', Math.max(now, next.since + retention))
  }

  /** A snapshot for post-mortem debugging (no secrets, plain data). */
  debugState (): Record<string, unknown> {
    const states: Record<MemberState, number> = { alive: 0, suspect: 0, dead: 0, left: 0 }
    for (const m of this.#members.values()) states[m.state]++
    return {
      self: this.#self,
      phase: this.#phase,
      localHealth: this.#health,
      members: states,
      digest: this.#digest.root(),
      rumoursQueued: this.#broadcasts.size,
      suspicions: this.#suspicions.size,
      relays: this.#relays.size,
      nextDeadline: this.nextDeadline(),
      counters: { ...this.#counters }
    }
  }
}

/** The suspicion timeout after its confirmations so far (Lifeguard). */
function suspicionTimeout (s: Suspicion): number {
  const c = s.confirmations.size - 1
  if (s.expected < 1) return s.min
  const frac = Math.log(c + 1) / Math.log(s.expected + 1)
  return Math.max(s.min, Math.floor(s.max - (s.max - s.min) * frac))
}

/** The digest fingerprint of a member: alive and suspect count as the same (suspicion is local). */
function fingerprintOf (record: MemberRecord, state: MemberState): string {
  return `${record.id}\u0000${record.incarnation}\u0000${state === 'suspect' ? 'alive' : state}`
}

/** Encoded size of a record as a sync entry, state included (at most the longest state name). */
function entryBytes (record: MemberRecord): number {
  return memberRecordBytes(record) + '{"member":,"state":"suspect"}'.length
}

function sameCard (a: MemberRecord, b: MemberRecord): boolean {
  return a.name === b.name && a.addresses.length === b.addresses.length && a.addresses.every((x, i) => x === b.addresses[i]) &&
    JSON.stringify(a.meta) === JSON.stringify(b.meta)
}
