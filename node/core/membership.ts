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
 *   k confirmations; each of the first k is re-spread, later ones are ignored). A member that
 *   hears it is suspected (or declared dead) at an incarnation >= its own refutes: it bumps its
 *   incarnation above it and spreads a `refute`, an alive that names its card by fingerprint
 *   instead of carrying it (~100 bytes instead of ~300), applied only where that card is held.
 * - Precedence. Updates about a member are ordered by (incarnation, state) with alive < suspect
 *   < dead/left at equal incarnation: alive@i overrides suspect or dead only if i is higher.
 *   The rules are the same whichever node an update comes from, ourselves included.
 * - Dissemination. Every change is queued as a rumour (broadcasts.ts) and piggy-backed on
 *   pings and acks, and sent in small gossip rounds (gossipFanout random members every
 *   gossipInterval) while rumours are queued; each rumour goes out retransmitMult x
 *   ceil(log10(N + 1)) times. Nothing is sent for dissemination when nothing changed.
 * - Lifeguard. (1) Local health: a node that misses acks or nacks it should have had, or has to
 *   refute, probably is the slow one; its probe interval and timeout stretch by (health + 1),
 *   up to maxLocalHealth. Only a timely ack (before the indirect probes) lowers it: an ack that
 *   just beats the period's end says the periods are barely long enough, and a node that handles
 *   every message 2 s late, lowering its health on such acks, fell back under 2 s and accused
 *   healthy members every few periods. (2) Relays send a nack when the target does not answer
 *   in time, so the prober can tell "target silent" from "I am cut off". (3) Buddy system: a
 *   ping to a suspected member carries the suspicion first, so the member can refute it at once.
 * - Slow members. A member that answers every probe late (an overloaded host) is suspected at
 *   every probe and refutes every time: a suspect and an alive rumour, each sent
 *   retransmitMult x log10 N times by every node. With 5 % of the members 2 s slow that kept
 *   the dissemination at its ceiling (~16 KB/s per node, 30x the quiet mesh) whatever N. So a
 *   refutation marks the member slow wherever it is heard (also an incarnation bump on an
 *   unchanged card, in case the suspicion itself was replaced in the rumour queue): a failed
 *   probe of a marked member waits slowGrace more for its ack before suspecting it, and a late
 *   ack ends the matter with no rumour. The mark lasts slowMemoryMin, doubling (to
 *   slowMemoryMax) while the member keeps refuting, so a chronically slow member flaps ever
 *   more rarely. The price: a marked member that really crashes is suspected slowGrace later.
 *   The mark lasts 10 minutes, not one: every flap costs every node ~4 log10 N rumours, and
 *   with 1 minute the 150 slow members of 3,000 flapped together again every minute, each time
 *   filling the dissemination for ~50 s.
 * - Unheard relays. A failed probe whose relays sent no nack either says more about the prober
 *   than about the target: it is cut off, or it handles messages late (an overloaded host, whose
 *   local health has not risen yet). Such a probe suspects no one, unless the one before it was
 *   unheard too (so a node whose relays all crashed with the target still suspects it a period
 *   later). Slow nodes starting together made half of a storm's flaps this way, accusing
 *   healthy members.
 * - Late refutations. Lifeguard's timeout assumes a refutation spreads within O(log N)
 *   periods. In a storm (hundreds of members flapping at once) the rumour queues are full and
 *   a refutation takes longer: at 3,000 members, 5 % of them slow from the start, refutations
 *   arrived up to 14 s after their suspicion began, past the 14 s timeout, and 154 live members
 *   were declared dead (and rejoined, the full state each). So each node remembers the longest
 *   lag it saw lately (one to two suspicion maxima) from a suspicion's start to its refutation,
 *   and a suspicion does not time out before refutationLagMult times that lag, nor past its
 *   no-confirmation maximum (so detectionBound holds). A crash storm has no refutations: its
 *   deaths are declared as quickly as before.
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
 *
 * MEMORY. The member table is one Int32 slot per member number (record handle and state) from a
 * peer interner, plus a time written only for members that changed (member-table.ts,
 * peer-interner.ts); records and their hashes are held once, in the interner. There are no
 * per-member lists: random live members are drawn by rejection over member numbers, and the
 * probe order is a permutation computed per round (probe-order.ts). The daemon's node has a
 * private interner (~140 bytes per member, mostly its id map); the simulator shares one between
 * all its nodes and starts them from one snapshot shared copy-on-write, so 10,000 nodes of
 * 10,000 members fit in well under 1 GB where a Map and an object per member took ~16 GB.
 * Internally members are numbers; peer ids appear only at the edges (messages, outputs, getters).
 */
import {
  DEFAULT_DEAD_RETENTION, DEFAULT_GOSSIP_FANOUT, DEFAULT_GOSSIP_INTERVAL, DEFAULT_INDIRECT_CHECKS, DEFAULT_JOIN_FANOUT,
  DEFAULT_JOIN_RETRY_MAX, DEFAULT_JOIN_RETRY_MIN, DEFAULT_LEAVE_DURATION, DEFAULT_MAX_LOCAL_HEALTH, DEFAULT_MAX_PIGGYBACK_BYTES,
  DEFAULT_REFUTATION_LAG_MULT, DEFAULT_SLOW_GRACE, DEFAULT_SLOW_MEMORY_MAX, DEFAULT_SLOW_MEMORY_MIN,
  DEFAULT_PROBE_INTERVAL, DEFAULT_PROBE_TIMEOUT, DEFAULT_PUSH_PULL_INTERVAL, DEFAULT_RECONNECT_INTERVAL, DEFAULT_RETRANSMIT_MULT,
  DEFAULT_SUSPICION_MAX_MULT, DEFAULT_SUSPICION_MULT
} from './constants.js'
import { DeadlineHeap } from './deadline-heap.js'
import { MemberTable, NumberSet, type MemberSnapshot } from './member-table.js'
import { ProbeOrder } from './probe-order.js'
import {
  ALIVE_UPDATE_OVERHEAD, cardFingerprint, jsonByteLength, MAX_MEMBERS_PER_CHUNK, MAX_MESSAGE_BYTES, MAX_UPDATES_PER_MESSAGE, memberRecord, memberRecordBytes,
  type MemberEntry, type MemberRecord, type MemberState, type MemberUpdate, type PeerId, type PeerMessage
} from './messages.js'
import { createPeerInterner, sameCard, type PeerInterner } from './peer-interner.js'
import { randomFloat, randomInt, sample, type Rng } from './rng.js'
import { RumourQueue } from './rumour-queue.js'
import { TimerTable } from './timers.js'

/**
 * Failed probes in a row that heard none of their relays before the last of them suspects its
 * target (see "Unheard relays"): more than one, so a node whose relays all crashed with the
 * target still suspects it a period later.
 */
const UNHEARD_PROBES_TO_SUSPECT = 2

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
  /**
   * Extra wait for the ack of a member known to be slow (it refuted a suspicion lately) before
   * it is suspected. @default DEFAULT_SLOW_GRACE (4000)
   */
  readonly slowGrace: number
  /**
   * How long a refutation marks a member as slow; the mark doubles, up to slowMemoryMax, each
   * time the member refutes again before the mark is a span past its end.
   * @default DEFAULT_SLOW_MEMORY_MIN (600000: 10 min)
   */
  readonly slowMemoryMin: number
  /** @default DEFAULT_SLOW_MEMORY_MAX (1 h) */
  readonly slowMemoryMax: number
  /**
   * A suspicion does not time out before this many times the longest lag, among suspicions
   * refuted lately, from a suspicion's start here to its refutation's arrival (never past the
   * suspicion's no-confirmation maximum). See "Late refutations". An epidemic's tail is long:
   * with 2, at 3,000 members, a refutation reached one node 18 s after its suspicion began
   * there, where the longest lag it had seen was 9.8 s. @default DEFAULT_REFUTATION_LAG_MULT (3)
   */
  readonly refutationLagMult: number
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
  leaveDuration: DEFAULT_LEAVE_DURATION,
  slowGrace: DEFAULT_SLOW_GRACE,
  slowMemoryMin: DEFAULT_SLOW_MEMORY_MIN,
  slowMemoryMax: DEFAULT_SLOW_MEMORY_MAX,
  refutationLagMult: DEFAULT_REFUTATION_LAG_MULT
})

/**
 * A bound on the time from a member's crash until every live member has declared it dead, for
 * N members with no message loss and local health at rest: its first probe within 2(N - 1)
 * periods (round robin over a list reshuffled every round) plus that probe's period, the grace
 * of a member marked slow, the suspicion's longest timeout (no confirmation), and the dead
 * rumour's transmissions, one gossip round each. Typical detection is far quicker: N - 1
 * members probe it, and their suspicions confirm one another.
 */
export function detectionBound (n: number, config?: Partial<MembershipConfig>): number {
  const c = { ...DEFAULT_MEMBERSHIP_CONFIG, ...config }
  const min = c.suspicionMult * Math.max(1, Math.log10(n)) * c.probeInterval
  const retransmits = c.retransmitMult * Math.ceil(Math.log10(n + 1))
  return (2 * (n - 1) + 1) * c.probeInterval + c.slowGrace + c.suspicionMaxMult * min + retransmits * c.gossipInterval
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
  /**
   * Send `message` to `to`; `member` is `to`'s number in our peer interner when we had it at
   * hand (probes, gossip rounds), so that a binding sharing the interner (the simulator) need not
   * look the id up.
   */
  | { readonly type: 'send', readonly to: PeerId, readonly message: PeerMessage, readonly member?: number }
  /** Send to a seed known only by address (joining); the reply comes from its peer id. */
  | { readonly type: 'send-address', readonly address: string, readonly message: PeerMessage }
  /**
   * A member changed. `slow`: it refuted a suspicion (or bumped its incarnation on an unchanged
   * card), so it is marked slow ("Slow members"); the merge tree stops routing through it. The
   * one output about this node itself: `updated` and `slow` when it refutes a suspicion, since
   * every member that hears the refutation marks it slow.
   */
  | { readonly type: 'member', readonly change: MemberChange, readonly member: MemberRecord, readonly slow?: true }

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
  /** The earliest suspicion's timeout: declare that member dead (the others wait in a DeadlineHeap). */
  | 'suspicion'
  /** Per relayed indirect probe (subject: our seq): nack the requester. */
  | 'relay'
  /** Per failed probe of a slow member (subject: the probe's seq): no late ack by now, suspect it. */
  | 'grace'
  /** End of the leave: stop everything. */
  | 'leave'

/** Every timer kind, the most used first (TimerTable finds a kind's slot by a scan of this list). */
const MEMBERSHIP_TIMERS: readonly MembershipTimer[] = Object.freeze([
  'probe', 'probe-timeout', 'gossip', 'suspicion', 'push-pull', 'reconnect', 'relay', 'grace', 'join', 'forget', 'leave'
] as const)

/** Construction parameters. */
export interface MembershipInit {
  /** This node's card; its incarnation is the starting one (see mesh-core.ts for restarts). */
  readonly self: MemberRecord
  /** Addresses to join through (the binding's bootstrap list); may include our own. */
  readonly seeds: readonly string[]
  readonly rng: Rng
  readonly config?: Partial<MembershipConfig>
  /**
   * Where member numbers and records are kept: shared by every node of a simulation, private
   * otherwise. @default a private interner
   */
  readonly interner?: PeerInterner
  /**
   * A warm start: begin with every member of `snapshot` (built on the same interner) alive, as
   * in a mesh formed long ago, with no `joined` outputs for them (the caller knows the list)
   * and no announcement of ourselves (they know us). The simulator starts its nodes this way.
   */
  readonly snapshot?: MemberSnapshot
  /** The time of construction: `since` of the snapshot's members. @default 0 */
  readonly now?: number
}

/** One member as this node sees it. */
export interface MemberView {
  readonly member: MemberRecord
  readonly state: MemberState
  /** When (our clock) it entered this state. */
  readonly since: number
}

interface Suspicion {
  readonly incarnation: number
  readonly start: number
  /** When it times out (moves earlier as confirmations come). */
  deadline: number
  /** Suspectors so far, the first included (at most expected + 1: an array, not a Set, as a storm holds millions). */
  readonly confirmations: PeerId[]
  /** Confirmations expected (k). */
  readonly expected: number
  readonly min: number
  readonly max: number
}

interface Relay {
  readonly requester: PeerId
  readonly seq: number
}

/** Counters for debugState(). */
interface MembershipCounters {
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
  /** Failed probes of slow members given slowGrace before a suspicion. */
  gracedProbes: number
  /** Of those, answered within the grace (no suspicion, no rumour). */
  lateAcks: number
  /** Suspicions whose timeout was put off because refutations arrive late lately. */
  suspicionsPutOff: number
  /** Failed probes that heard none of their relays either, and so suspected no one. */
  probesUnheard: number
  /** Refute updates about a member whose card we hold differs from theirs (left to push-pull). */
  refutesUnmatched: number
}

/**
 * The longest refutation lag (a suspicion's start here to its refutation's arrival) in the
 * current window and in the one before, so the recent longest is the larger of the two.
 */
interface RefutationLag {
  windowStart: number
  current: number
  previous: number
}

/** A member marked slow: patient probes until `until`; `span` is the mark's current length. */
interface SlowMark {
  until: number
  span: number
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
  // The fields read on almost every input (MeshCore's checks, a probe, an ack) come first: V8
  // lays an object's fields out in declaration order, so these share its first cache lines,
  // which at 10,000 simulated nodes are rarely in cache.
  #phase: 'running' | 'leaving' | 'stopped' = 'running'
  /** #self.id, which never changes (a field: compared on every message, without a look into the record). */
  readonly #selfId: PeerId
  /** #self.incarnation, read by MeshCore after every input. */
  #incarnation: number
  readonly #timers: TimerTable<MembershipTimer>
  /** Moves with every change of the timers (see timersVersion). */
  #timersVersion = 0
  readonly #config: MembershipConfig
  /**
   * The pending probe, as fields rather than an object: one made per probe lived a simulated
   * second, long enough to be promoted to the old generation (-1: no probe pending).
   */
  #probeTarget = -1
  #probeSeq = 0
  #probeAcked = false
  #probeExpectedNacks = 0
  #probeNacks = 0
  /** Failed probes in a row that heard from none of their relays (see "Unheard relays"). */
  #unheard = 0
  #seq = 0
  #health = 0
  /** Probes sent: a field of its own, as it counts on every period (the others are rare). */
  #probes = 0
  /** This round's probe order (member numbers); members no longer live are skipped. */
  readonly #order = new ProbeOrder()
  #roundStarted = false
  readonly #rng: Rng
  /** Every member known (self included), with the digest of the whole view. */
  readonly #table: MemberTable
  readonly #selfN: number
  readonly #interner: PeerInterner
  /**
   * Queued rumours; made at the first. This and the other structures that are empty in a quiet
   * mesh (suspicions, relays) are made when first needed: a warm-started simulated node then
   * never touches them, which spares it their cache misses on every message.
   */
  #broadcasts: RumourQueue | undefined
  /** By member number; made at the first suspicion. */
  #suspicions: Map<number, Suspicion> | undefined
  /** Indirect probes we relay, by our seq; made at the first. */
  #relays: Map<number, Relay> | undefined
  /** Members that refuted a suspicion lately, by member number (see "Slow members"); made at the first. */
  #slow: Map<number, SlowMark> | undefined
  /** Failed probes of slow members still waiting out their grace: probe seq -> member number. */
  #graced: Map<number, number> | undefined
  /** Refutation lags seen lately (see "Late refutations"); made at the first. */
  #lag: RefutationLag | undefined
  // The rest.
  readonly #seeds: readonly string[]
  /** Dead (not left) members, for reconnect; made at the first death. */
  #dead: NumberSet | undefined
  /** Members entering dead or left, in time order, for forgetting. */
  readonly #forgetQueue: Array<{ readonly n: number, readonly since: number }> = []
  #forgetHead = 0
  /** Suspicion deadlines by member number; the 'suspicion' timer is armed at the earliest. Made at the first. */
  #suspicionDeadlines: DeadlineHeap | undefined
  #joinAttempts = 0
  /** Push-pulls since start that taught us nothing new (for the warm-up). */
  #pushPulls = 0
  /** Whether anti-entropy changed our view since the last push-pull was scheduled. */
  #syncLearned = false
  #started = false
  readonly #warm: boolean
  #self: MemberRecord
  /** The live member with the smallest id, self excluded (-1: none, -2: to recompute). */
  #lowest = -1
  readonly #counters: MembershipCounters = {
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
    staleAcks: 0,
    gracedProbes: 0,
    lateAcks: 0,
    suspicionsPutOff: 0,
    probesUnheard: 0,
    refutesUnmatched: 0
  }

  constructor (init: MembershipInit) {
    // The defaults object itself when nothing is overridden: one shared copy for a simulation's nodes.
    const config = init.config === undefined || Object.keys(init.config).length === 0 ? DEFAULT_MEMBERSHIP_CONFIG : { ...DEFAULT_MEMBERSHIP_CONFIG, ...init.config }
    if (!(config.probeTimeout > 0 && config.probeTimeout < config.probeInterval)) throw new RangeError('membership: need 0 < probeTimeout < probeInterval')
    for (const [key, value] of Object.entries(config)) {
      if (!(typeof value === 'number' && value >= 0 && Number.isFinite(value))) throw new RangeError(`membership: ${key} must be a finite number >= 0`)
    }
    this.#config = config
    this.#rng = init.rng
    this.#seeds = [...init.seeds]
    this.#self = init.self
    this.#selfId = init.self.id
    this.#incarnation = init.self.incarnation
    this.#interner = init.snapshot?.interner ?? init.interner ?? createPeerInterner()
    if (init.interner !== undefined && init.interner !== this.#interner) throw new Error('membership: the snapshot is of another interner')
    this.#timers = new TimerTable<MembershipTimer>(MEMBERSHIP_TIMERS, { arena: this.#interner.arena })
    this.#selfN = this.#interner.number(init.self.id)
    this.#table = new MemberTable(this.#interner)
    this.#warm = init.snapshot !== undefined
    if (init.snapshot === undefined) {
      this.#insert(init.self, 'alive', 0)
      return
    }
    // A mesh in service is past its warm-up: push-pulls come at the steady interval from the start.
    this.#pushPulls = WARMUP_PUSH_PULLS + 30
    const now = init.now ?? 0
    this.#table.load(init.snapshot, now)
    const t = this.#table
    const n = this.#selfN
    // The snapshot's card of ours is usually the very one we start with: then the table stays shared.
    if (!t.has(n)) t.insert(n, init.self, 'alive', now)
    else if (t.incarnation(n) !== init.self.incarnation || !sameCard(t.record(n), init.self)) t.set(n, init.self, 'alive', now)
    this.#lowest = -2
  }

  // ---- getters ------------------------------------------------------------------------------------

  /** This node's current card. */
  get self (): MemberRecord { return this.#self }

  /** This node's incarnation (persisted by MeshCore so a restart starts above it). */
  get incarnation (): number { return this.#incarnation }

  /** Whether the node has left and its leave has run its course. */
  get stopped (): boolean { return this.#phase === 'stopped' }

  /** Number of live members (alive or suspect), this node included. */
  get liveCount (): number { return this.#othersLive + (this.#phase === 'running' ? 1 : 0) }

  /** Live members other than this node. */
  get #othersLive (): number {
    return this.#table.liveCount - (this.#table.isLive(this.#selfN) ? 1 : 0)
  }

  /** Rumours queued. */
  get #rumours (): number {
    return this.#broadcasts?.size ?? 0
  }

  /** This node's number in its interner. */
  get selfNumber (): number { return this.#selfN }

  /** The interner this node's table uses. */
  get interner (): PeerInterner { return this.#interner }

  /** Whether `id` is a live member (alive or suspect); this node counts while running. */
  isLive (id: PeerId): boolean {
    if (id === this.#selfId) return this.#phase === 'running'
    const n = this.#interner.lookup(id)
    return n >= 0 && this.#table.isLive(n)
  }

  /** A uniformly random live member other than this node, if any. */
  randomLivePeer (): PeerId | undefined {
    const n = this.#randomOther()
    return n < 0 ? undefined : this.#interner.id(n)
  }

  /** The live member with the smallest id, this node included (cached until the live set changes). */
  lowestLiveId (): PeerId {
    if (this.#lowest === -2) {
      let lowest = -1
      let lowestId = ''
      for (const n of this.#table.numbers()) {
        if (n === this.#selfN || !this.#table.isLive(n)) continue
        const id = this.#interner.id(n)
        if (lowest < 0 || id < lowestId) { lowest = n; lowestId = id }
      }
      this.#lowest = lowest
    }
    const self = this.#selfId
    if (this.#lowest < 0) return self
    const other = this.#interner.id(this.#lowest)
    return other < self ? other : self
  }

  /** What this node believes of `id`. */
  member (id: PeerId): MemberView | undefined {
    const n = this.#interner.lookup(id)
    return n >= 0 && this.#table.has(n) ? this.#view(n) : undefined
  }

  /** Every member this node knows of (dead and left ones until forgotten), in member-number order. */
  members (): MemberView[] {
    const out: MemberView[] = []
    for (const n of this.#table.numbers()) out.push(this.#view(n))
    return out
  }

  /** The earliest deadline of any timer, or undefined when nothing is armed. */
  nextDeadline (): number | undefined {
    return this.#timers.nextAt()
  }

  /**
   * Changes whenever a timer is armed, moved or disarmed: while it stays the same, so does
   * nextDeadline(). MeshCore caches the deadline by it, so that most messages (a ping, whose
   * answer changes no timer) need no look into the timer table.
   */
  get timersVersion (): number {
    return this.#timersVersion
  }

  #view (n: number): MemberView {
    return { member: this.#table.record(n), state: this.#table.state(n), since: this.#table.since(n) }
  }

  /**
   * A uniformly random live member other than this node (-1: none): random member numbers until
   * one is live (a few draws when most numbers are live members, as in a mesh in service), else
   * the k-th live member of a scan.
   */
  #randomOther (): number {
    const live = this.#othersLive
    if (live === 0) return -1
    const table = this.#table
    const cap = table.capacity
    if (live * 16 >= cap) {
      for (let tries = 0; tries < 64; tries++) {
        const n = randomInt(this.#rng, cap)
        if (n !== this.#selfN && table.isLive(n)) return n
      }
    }
    let k = randomInt(this.#rng, live)
    for (const n of table.numbers()) if (n !== this.#selfN && table.isLive(n) && k-- === 0) return n
    return -1
  }

  /** Up to k distinct live members other than this node that pass `accept`, chosen uniformly. */
  #sampleOthers (k: number, accept: (n: number) => boolean): number[] {
    const out: number[] = []
    const live = this.#othersLive
    if (k <= 0 || live === 0) return out
    const table = this.#table
    const cap = table.capacity
    if (live * 16 >= cap) {
      for (let tries = 0; tries < 8 * k + 32 && out.length < k; tries++) {
        const n = randomInt(this.#rng, cap)
        if (n !== this.#selfN && table.isLive(n) && !out.includes(n) && accept(n)) out.push(n)
      }
      if (out.length >= k) return out
    }
    // Few live members, or few that pass: take the rest from a scan, in random order.
    const rest: number[] = []
    for (const n of table.numbers()) if (n !== this.#selfN && table.isLive(n) && !out.includes(n) && accept(n)) rest.push(n)
    while (out.length < k && rest.length > 0) {
      const i = randomInt(this.#rng, rest.length)
      out.push(rest[i] as number)
      rest[i] = rest[rest.length - 1] as number
      rest.pop()
    }
    return out
  }

  // ---- commands -------------------------------------------------------------------------------------

  /** Starts probing and, with seeds, joining. */
  start (now: number): MembershipOutput[] {
    const out: MembershipOutput[] = []
    if (this.#started) return out
    this.#started = true
    this.#table.setSince(this.#selfN, now)
    const c = this.#config
    // Random phases, so that nodes started together do not probe in lockstep.
    this.#setTimer('probe', now + randomFloat(this.#rng) * c.probeInterval)
    this.#setTimer('push-pull', now + this.#pushPullDelay())
    this.#setTimer('reconnect', now + c.reconnectInterval * (0.5 + randomFloat(this.#rng)))
    // Our own arrival is spread by us (members who learn of us by anti-entropy do not re-spread
    // it); a warm start has nothing to announce: everyone knows us already.
    if (!this.#warm) this.#enqueue({ type: 'alive', member: this.#self }, this.#selfId, now)
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
      id: this.#selfId,
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
    this.#setState(this.#selfN, this.#self, 'left', now)
    for (const t of ['probe', 'probe-timeout', 'push-pull', 'reconnect', 'join'] as const) this.#stopTimer(t)
    this.#probeTarget = -1
    this.#enqueue({ type: 'left', id: this.#selfId, incarnation: this.#self.incarnation }, this.#selfId, now)
    this.#gossipRound(now, out, 2 * this.#config.gossipFanout, this.#selfId)
    this.#setTimer('leave', now + this.#config.leaveDuration)
    return out
  }

  // ---- inputs ----------------------------------------------------------------------------------------

  /**
   * Handles one membership message from peer `from`; `fromMember`, if given, is `from`'s number
   * in our interner (compared instead of the id: see MeshInput).
   */
  handle (from: PeerId, message: MembershipMessage, now: number, fromMember?: number): MembershipOutput[] {
    const out: MembershipOutput[] = []
    if (this.#phase === 'stopped' || (fromMember === undefined ? from === this.#selfId : fromMember === this.#selfN)) return out
    switch (message.type) {
      case 'ping':
        this.#applyUpdates(message.updates, now, out)
        this.#send(out, from, { type: 'ack', seq: message.seq, updates: this.#piggyback(from) })
        break
      case 'ping-req': {
        this.#applyUpdates(message.updates, now, out)
        if (message.target === this.#selfId) {
          this.#send(out, from, { type: 'ack', seq: message.seq, updates: this.#piggyback(from) })
          break
        }
        const seq = ++this.#seq
        ;(this.#relays ??= new Map()).set(seq, { requester: from, seq: message.seq })
        this.#setTimer('relay', now + this.#config.probeTimeout * 0.8, String(seq))
        this.#counters.relayed++
        this.#send(out, message.target, { type: 'ping', seq, updates: this.#piggyback(message.target) })
        break
      }
      case 'ack': {
        this.#applyUpdates(message.updates, now, out)
        const relay = this.#relays?.get(message.seq)
        if (relay !== undefined) {
          this.#relays?.delete(message.seq)
          this.#stopTimer('relay', String(message.seq))
          this.#send(out, relay.requester, { type: 'ack', seq: relay.seq, updates: this.#piggyback(relay.requester) })
        } else if (this.#probeTarget >= 0 && this.#probeSeq === message.seq && !this.#probeAcked) {
          this.#probeAcked = true
          this.#stopTimer('probe-timeout')
          // Only a timely answer is evidence of our health: an ack that came after we turned to
          // indirect probes says our periods are barely long enough (a slow node's are not).
          if (this.#probeExpectedNacks === 0) this.#adjustHealth(-1)
        } else if (this.#graced?.delete(message.seq) === true) {
          // A slow member's late answer: alive after all, and no rumour said otherwise.
          this.#stopTimer('grace', String(message.seq))
          this.#counters.lateAcks++
        } else {
          this.#counters.staleAcks++
        }
        break
      }
      case 'nack':
        if (this.#probeTarget >= 0 && this.#probeSeq === message.seq) this.#probeNacks++
        break
      case 'spread':
        this.#applyUpdates(message.updates, now, out)
        break
      case 'sync-root': {
        const digest = this.#table.digest
        const equal = digest.rootEquals(message)
        const root = digest.root()
        this.#send(out, from, { type: 'sync-buckets', set: 'members', hash: root.hash, count: root.count, buckets: equal ? [] : digest.buckets() })
        break
      }
      case 'sync-buckets': {
        if (this.#table.digest.rootEquals(message)) {
          this.#counters.syncsEqual++
          break
        }
        const differing = this.#table.digest.differingBuckets(message.buckets)
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
    const due = this.#timers.due(now)
    if (due.length > 0) this.#timersVersion = (this.#timersVersion + 1) | 0
    for (const timer of due) {
      switch (timer.kind) {
        case 'probe': this.#probeTick(now, out); break
        case 'probe-timeout': this.#probeTimeout(out); break
        case 'grace': {
          const seq = Number(timer.subject)
          const n = this.#graced?.get(seq)
          this.#graced?.delete(seq)
          if (n !== undefined) this.#suspectUnanswered(n, now, out)
          break
        }
        case 'gossip':
          this.#gossipRound(now, out, this.#config.gossipFanout)
          this.#armGossip(now)
          break
        case 'push-pull': {
          const peer = this.randomLivePeer()
          if (peer !== undefined) this.#startSync(out, peer)
          this.#setTimer('push-pull', now + this.#pushPullDelay())
          break
        }
        case 'reconnect':
          if (this.#dead !== undefined && this.#dead.size > 0) this.#startSync(out, this.#interner.id(this.#dead.random(this.#rng)))
          this.#setTimer('reconnect', now + this.#config.reconnectInterval * (0.75 + 0.5 * randomFloat(this.#rng)))
          break
        case 'join': this.#join(now, out); break
        case 'forget': this.#forget(now, out); break
        case 'suspicion': {
          // Every suspicion due now, earliest first; entries of moved or ended suspicions are stale.
          const due: number[] = []
          const current = (n: number, at: number): void => { if (this.#suspicions?.get(n)?.deadline === at) due.push(n) }
          let more = true
          while (more) more = this.#suspicionDeadlines?.popDue(now, current) ?? false
          for (const n of due) {
            const s = this.#suspicions?.get(n)
            if (s !== undefined && this.#table.has(n) && this.#table.state(n) === 'suspect') {
              const patient = Math.min(s.start + s.max, s.start + this.#config.refutationLagMult * this.#recentLag(now))
              if (patient > now) {
                // Refutations reach us late lately (see "Late refutations"): this one may be on its way.
                this.#counters.suspicionsPutOff++
                s.deadline = patient
                ;(this.#suspicionDeadlines ??= new DeadlineHeap()).push(patient, n)
                continue
              }
              this.#counters.declaredDead++
              this.#onDead(this.#interner.id(n), s.incarnation, this.#selfId, 'dead', now, out, true)
            }
          }
          this.#armSuspicion()
          break
        }
        case 'relay': {
          const seq = Number(timer.subject)
          const relay = this.#relays?.get(seq)
          if (relay !== undefined) {
            this.#relays?.delete(seq)
            this.#counters.nacksSent++
            this.#send(out, relay.requester, { type: 'nack', seq: relay.seq })
          }
          break
        }
        case 'leave':
          this.#phase = 'stopped'
          this.#timers.clear()
          this.#timersVersion = (this.#timersVersion + 1) | 0
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
    if (this.#probeTarget >= 0) this.#finishProbe(now, out)
    const scale = this.#health + 1
    this.#setTimer('probe', now + this.#config.probeInterval * scale)
    const target = this.#nextProbeTarget()
    if (target < 0) return
    const seq = ++this.#seq
    this.#probeTarget = target
    this.#probeSeq = seq
    this.#probeAcked = false
    this.#probeExpectedNacks = 0
    this.#probeNacks = 0
    this.#probes++
    this.#setTimer('probe-timeout', now + this.#config.probeTimeout * scale)
    const to = this.#interner.id(target)
    this.#send(out, to, { type: 'ping', seq, updates: this.#piggyback(to) }, target)
  }

  #probeTimeout (out: MembershipOutput[]): void {
    const probed = this.#probeTarget
    if (probed < 0 || this.#probeAcked) return
    const relays = this.#sampleOthers(this.#config.indirectChecks, (n) => n !== probed)
    this.#probeExpectedNacks = relays.length
    this.#counters.indirectProbes += relays.length
    const target = this.#interner.id(probed)
    for (const relay of relays) {
      const to = this.#interner.id(relay)
      this.#send(out, to, { type: 'ping-req', seq: this.#probeSeq, target, updates: this.#piggyback(to) }, relay)
    }
  }

  /** The end of a probe's period: no ack means suspicion. */
  #finishProbe (now: number, out: MembershipOutput[]): void {
    const target = this.#probeTarget
    this.#probeTarget = -1
    this.#stopTimer('probe-timeout')
    if (this.#probeAcked) {
      this.#unheard = 0
      return
    }
    this.#counters.probesFailed++
    // Lifeguard: missing nacks mean our own links are the likelier culprit.
    const expected = this.#probeExpectedNacks
    this.#adjustHealth(expected > 0 ? Math.max(0, expected - this.#probeNacks) : 1)
    if (expected > 0 && this.#probeNacks === 0 && ++this.#unheard < UNHEARD_PROBES_TO_SUSPECT) {
      // Not one relay was heard either: we are the likelier culprit (see "Unheard relays").
      this.#counters.probesUnheard++
      return
    }
    this.#unheard = 0
    if (this.#isSlow(target, now)) {
      // Known to answer late: its ack may still come (see "Slow members").
      ;(this.#graced ??= new Map()).set(this.#probeSeq, target)
      this.#setTimer('grace', now + this.#config.slowGrace, String(this.#probeSeq))
      this.#counters.gracedProbes++
      return
    }
    this.#suspectUnanswered(target, now, out)
  }

  /** A probe of member `n` went unanswered: suspect it, if it is still live. */
  #suspectUnanswered (n: number, now: number, out: MembershipOutput[]): void {
    if (this.#table.has(n) && this.#table.isLive(n)) {
      this.#onSuspect(this.#interner.id(n), this.#table.incarnation(n), this.#selfId, now, out, true)
    }
  }

  /** Whether member `n` is marked slow at `now` (a mark a span past its end is forgotten). */
  #isSlow (n: number, now: number): boolean {
    const mark = this.#slow?.get(n)
    if (mark === undefined) return false
    if (now >= mark.until + mark.span) this.#slow?.delete(n)
    return now < mark.until
  }

  /** Member `n` refuted a suspicion (or bumped its incarnation on the same card): mark it slow. */
  #markSlow (n: number, now: number): void {
    const slow = this.#slow ??= new Map()
    const mark = slow.get(n)
    const c = this.#config
    // Refuting again soon after the last mark ended: a chronically slow member, marked longer.
    const span = mark !== undefined && now < mark.until + mark.span ? Math.min(c.slowMemoryMax, mark.span * 2) : c.slowMemoryMin
    slow.set(n, { until: now + span, span })
  }

  /** Lifeguard's suspicion minimum at the current live count. */
  #suspicionMin (): number {
    return this.#config.suspicionMult * Math.max(1, Math.log10(this.liveCount)) * this.#config.probeInterval
  }

  /** A refutation arrived `lag` after we began suspecting its member. */
  #noteLag (lag: number, now: number): void {
    const l = this.#lag ??= { windowStart: now, current: 0, previous: 0 }
    this.#rollLag(l, now)
    l.current = Math.max(l.current, lag)
  }

  /** The longest refutation lag of the current and the previous window (0 when none came lately). */
  #recentLag (now: number): number {
    const l = this.#lag
    if (l === undefined) return 0
    this.#rollLag(l, now)
    return Math.max(l.current, l.previous)
  }

  /** Windows last a suspicion's longest timeout: a lag is remembered for one to two of them. */
  #rollLag (l: RefutationLag, now: number): void {
    const window = this.#config.suspicionMaxMult * this.#suspicionMin()
    if (now - l.windowStart < window) return
    l.previous = now - l.windowStart < 2 * window ? l.current : 0
    l.current = 0
    l.windowStart = now
  }

  /** The next member to probe (-1: none): round robin over the live members, in a new random order every round. */
  #nextProbeTarget (): number {
    for (let attempts = 0; attempts < 2; attempts++) {
      if (this.#roundStarted) {
        for (let n = this.#order.next(this.#rng); n >= 0; n = this.#order.next(this.#rng)) {
          if (n !== this.#selfN && this.#table.isLive(n)) return n
        }
      }
      if (this.#othersLive === 0) return -1
      // End of a round: the next one covers the members live now.
      this.#order.startRound(this.#table.capacity, this.#rng)
      this.#roundStarted = true
    }
    return -1
  }

  /** Arms (or moves) a timer: every change goes through here or #stopTimer, so timersVersion follows. */
  #setTimer (kind: MembershipTimer, at: number, subject?: string): void {
    this.#timersVersion = (this.#timersVersion + 1) | 0
    this.#timers.set(kind, at, subject)
  }

  /** Disarms a timer (see #setTimer). */
  #stopTimer (kind: MembershipTimer, subject?: string): void {
    this.#timersVersion = (this.#timersVersion + 1) | 0
    this.#timers.stop(kind, subject)
  }

  /** Arms the 'suspicion' timer at the earliest suspicion deadline (stopped when there is none). */
  #armSuspicion (): void {
    const at = this.#suspicionDeadlines?.peek()
    if (at === undefined) this.#stopTimer('suspicion')
    else if (this.#timers.get('suspicion') !== at) this.#setTimer('suspicion', at)
  }

  #adjustHealth (delta: number): void {
    this.#health = Math.max(0, Math.min(this.#config.maxLocalHealth - 1, this.#health + delta))
  }

  // ---- dissemination --------------------------------------------------------------------------------

  #retransmitLimit (): number {
    return this.#config.retransmitMult * Math.ceil(Math.log10(this.liveCount + 1))
  }

  #enqueue (update: MemberUpdate, about: PeerId, now: number): void {
    ;(this.#broadcasts ??= new RumourQueue()).enqueue(about, update, this.#updateBytes(update))
    this.#armGossip(now)
  }

  /** jsonByteLength(update), from the interner's cached sizes of records and ids. */
  #updateBytes (u: MemberUpdate): number {
    const interner = this.#interner
    if (u.type === 'alive') {
      const h = this.#table.handle(interner.lookup(u.member.id))
      const bytes = h !== 0 && interner.record(h) === u.member ? interner.recordBytes(h) : memberRecordBytes(u.member)
      return bytes + ALIVE_UPDATE_OVERHEAD
    }
    const id = interner.idBytes(interner.number(u.id)) + digits(u.incarnation)
    switch (u.type) {
      case 'suspect': return SUSPECT_BYTES + id + interner.idBytes(interner.number(u.from))
      case 'dead': return DEAD_BYTES + id + interner.idBytes(interner.number(u.from))
      case 'left': return LEFT_BYTES + id
      case 'refute': return REFUTE_BYTES + id + digits(u.card)
    }
  }

  /** Gossip rounds run while rumours are queued and someone can hear them. */
  #armGossip (now: number): void {
    if (!this.#timers.has('gossip') && this.#phase !== 'stopped' && this.#othersLive > 0 && this.#rumours > 0) {
      this.#setTimer('gossip', now + this.#config.gossipInterval)
    }
  }

  /** Rumours for a message to `to`; a suspected `to` hears about its suspicion first (buddy system). */
  #piggyback (to: PeerId): MemberUpdate[] {
    if (this.#rumours === 0 && (this.#suspicions === undefined || this.#suspicions.size === 0)) return NO_UPDATES as MemberUpdate[]
    const broadcasts = this.#broadcasts ??= new RumourQueue()
    const n = this.#interner.lookup(to)
    const known = n >= 0 && this.#table.has(n)
    const suspected = known && this.#table.state(n) === 'suspect'
    const queued = suspected ? broadcasts.get(to) : undefined
    const updates = broadcasts.take(this.#config.maxPiggybackBytes, MAX_UPDATES_PER_MESSAGE, this.#retransmitLimit(), suspected ? to : undefined)
    if (suspected && queued?.type !== 'suspect') {
      // The rumour has run its course here, but the suspect itself must still hear of it.
      updates.unshift({ type: 'suspect', id: to, incarnation: this.#table.incarnation(n), from: this.#selfId })
      if (updates.length > MAX_UPDATES_PER_MESSAGE) updates.pop()
    }
    return updates
  }

  /** One gossip round to `fanout` random live members; rumour `first` (if queued) leads each message. */
  #gossipRound (now: number, out: MembershipOutput[], fanout: number, first?: PeerId): void {
    const broadcasts = this.#broadcasts
    if (broadcasts === undefined || broadcasts.size === 0) return
    this.#counters.gossipRounds++
    const targets = this.#sampleOthers(fanout, () => true)
    for (const n of targets) {
      const updates = broadcasts.take(this.#config.maxPiggybackBytes, MAX_UPDATES_PER_MESSAGE, this.#retransmitLimit(), first)
      if (updates.length === 0) break
      this.#send(out, this.#interner.id(n), { type: 'spread', updates }, n)
    }
  }

  /** Sends `message` to `to` (member number `member`, if at hand). */
  #send (out: MembershipOutput[], to: PeerId, message: PeerMessage, member?: number): void {
    // Every send has the same keys (member undefined when not at hand): one object shape.
    out.push({ type: 'send', to, message, member })
  }

  // ---- joining and anti-entropy --------------------------------------------------------------------

  #join (now: number, out: MembershipOutput[]): void {
    if (this.#phase !== 'running' || this.#othersLive > 0 || this.#seeds.length === 0) {
      this.#stopTimer('join')
      this.#joinAttempts = 0
      return
    }
    this.#counters.joinAttempts++
    const root = this.#table.digest.root()
    for (const address of sample(this.#rng, this.#seeds, this.#config.joinFanout, () => true)) {
      out.push({ type: 'send-address', address, message: { type: 'sync-root', set: 'members', hash: root.hash, count: root.count } })
    }
    const backoff = Math.min(this.#config.joinRetryMax, this.#config.joinRetryMin * 2 ** Math.min(this.#joinAttempts, 30))
    this.#joinAttempts++
    this.#setTimer('join', now + backoff * (0.5 + 0.5 * randomFloat(this.#rng)))
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
    const root = this.#table.digest.root()
    this.#send(out, peer, { type: 'sync-root', set: 'members', hash: root.hash, count: root.count })
  }

  /** Sends our entries in `buckets` to `to`, in chunks; the first chunk asks for theirs when `want`. */
  #sendEntries (out: MembershipOutput[], to: PeerId, buckets: readonly number[], want: boolean): void {
    const wanted = new Uint8Array(256)
    for (const b of buckets) wanted[b] = 1
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
    const table = this.#table
    for (const n of table.numbers()) {
      if (wanted[this.#interner.bucket(n)] !== 1) continue
      const entry: MemberEntry = { member: table.record(n), state: table.state(n) }
      const size = this.#interner.recordBytes(table.handle(n)) + ENTRY_OVERHEAD + 1
      if (chunk.length > 0 && (bytes + size > budget || chunk.length >= MAX_MEMBERS_PER_CHUNK)) flush()
      chunk.push(entry)
      bytes += size
    }
    if (chunk.length > 0 || first) flush()
  }

  /** Merges a peer's entry (push-pull): the update rules, except that "dead" becomes "suspect". */
  #mergeEntry (entry: MemberEntry, from: PeerId, now: number, out: MembershipOutput[]): void {
    const r = entry.member
    const n = this.#interner.lookup(r.id)
    const known = n >= 0 && this.#table.has(n)
    switch (entry.state) {
      case 'alive':
        this.#onAlive(r, now, out, false)
        break
      case 'suspect':
        if (!known || r.incarnation > this.#table.incarnation(n)) this.#onAlive(r, now, out, false)
        this.#onSuspect(r.id, r.incarnation, from, now, out, false)
        break
      case 'dead':
        if (!known) this.#onDead(r.id, r.incarnation, from, 'dead', now, out, false, r)
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
        case 'refute': this.#onRefute(u.id, u.incarnation, u.card, now, out); break
        default: {
          const never: never = u
          throw new Error(`membership: unhandled update ${JSON.stringify(never)}`)
        }
      }
    }
  }

  /**
   * refute@i: alive@i with the card we hold of the member, if it is the card it names. A member
   * we do not know, or hold another card of (it changed its card and we missed that alive), is
   * left to push-pull, which brings the whole record.
   */
  #onRefute (id: PeerId, incarnation: number, card: number, now: number, out: MembershipOutput[]): void {
    if (id === this.#selfId) {
      // Someone holds a newer incarnation of ours (a previous run): outbid it, with our whole card
      // if theirs differs (a refute would be applied only where our card is already held).
      if (this.#phase === 'running' && incarnation > this.#self.incarnation) {
        this.#setSelf({ ...this.#self, incarnation: incarnation + 1 }, now, card === cardFingerprint(this.#self))
      }
      return
    }
    const n = this.#interner.lookup(id)
    if (n < 0 || !this.#table.has(n)) return
    const known = this.#table.record(n)
    if (incarnation <= known.incarnation) return
    if (cardFingerprint(known) !== card) {
      this.#counters.refutesUnmatched++
      return
    }
    this.#onAlive({ ...known, incarnation }, now, out, true, true)
  }

  /** alive@i: a new member, or a newer incarnation of a known one; `unchanged` (card): spread as a refute. */
  #onAlive (record: MemberRecord, now: number, out: MembershipOutput[], spread: boolean, unchanged = false): void {
    if (record.id === this.#selfId) {
      // Someone holds a newer or different card of ours (a previous run): outbid it.
      if (this.#phase === 'running' && (record.incarnation > this.#self.incarnation ||
          (record.incarnation === this.#self.incarnation && !sameCard(record, this.#self)))) {
        this.#setSelf({ ...this.#self, incarnation: Math.max(record.incarnation, this.#self.incarnation) + 1 }, now)
      }
      return
    }
    const n = this.#interner.number(record.id)
    if (!this.#table.has(n)) {
      this.#insert(record, 'alive', now)
      if (spread) this.#enqueue({ type: 'alive', member: record }, record.id, now)
      out.push({ type: 'member', change: 'joined', member: record })
      return
    }
    if (record.incarnation <= this.#table.incarnation(n)) return
    const before = this.#table.state(n)
    // A refutation. Only a refutation (or a restart) bumps the incarnation of an unchanged card:
    // counted so even where the suspicion itself never arrived (the rumour queue replaced it).
    const slow = before === 'suspect' || (before === 'alive' && sameCard(record, this.#table.record(n)))
    if (slow) this.#markSlow(n, now)
    const suspicion = before === 'suspect' ? this.#suspicions?.get(n) : undefined
    if (suspicion !== undefined) this.#noteLag(now - suspicion.start, now)
    this.#setState(n, record, 'alive', now)
    if (spread) this.#enqueue(aliveUpdate(record, unchanged), record.id, now)
    out.push({ type: 'member', change: before === 'alive' || before === 'suspect' ? 'updated' : 'joined', member: record, ...(slow ? { slow: true } as const : {}) })
  }

  /** suspect@i from `from`: start, confirm or refute a suspicion. */
  #onSuspect (id: PeerId, incarnation: number, from: PeerId, now: number, out: MembershipOutput[], spread: boolean): void {
    if (id === this.#selfId) {
      if (this.#phase === 'running' && incarnation >= this.#self.incarnation) this.#refute(incarnation, now, out)
      return
    }
    const n = this.#interner.lookup(id)
    if (n < 0 || !this.#table.has(n)) return
    const state = this.#table.state(n)
    const known = this.#table.record(n)
    if (incarnation < known.incarnation || state === 'dead' || state === 'left') return
    const existing = this.#suspicions?.get(n)
    if (state === 'suspect' && existing !== undefined && incarnation <= existing.incarnation) {
      // A confirmation, if from someone new (our own failed probe counts when the suspicion came
      // from elsewhere): the timeout shrinks (Lifeguard) and the news spreads. Past the expected
      // k confirmations nothing changes, so they are neither counted nor re-spread (memberlist's
      // rule): in a crash storm every prober confirms every death, and re-spreading each
      // confirmation cost every node O(N) rumours per death.
      if (existing.confirmations.length - 1 < existing.expected && !existing.confirmations.includes(from)) {
        existing.confirmations.push(from)
        const deadline = existing.start + suspicionTimeout(existing)
        if (deadline !== existing.deadline) {
          existing.deadline = deadline
          ;(this.#suspicionDeadlines ??= new DeadlineHeap()).push(deadline, n)
          this.#armSuspicion()
        }
        if (spread) this.#enqueue({ type: 'suspect', id, incarnation, from }, id, now)
      }
      return
    }
    const record = incarnation > known.incarnation ? { ...known, incarnation } : known
    this.#setState(n, record, 'suspect', now)
    const live = this.liveCount
    const min = this.#suspicionMin()
    const s: Suspicion = {
      incarnation,
      start: now,
      // The first suspector does not count as a confirmation of itself.
      confirmations: [from],
      expected: Math.max(0, Math.min(this.#config.suspicionMult - 2, live - 2)),
      min,
      max: this.#config.suspicionMaxMult * min,
      deadline: 0
    }
    s.deadline = now + suspicionTimeout(s)
    ;(this.#suspicions ??= new Map()).set(n, s)
    ;(this.#suspicionDeadlines ??= new DeadlineHeap()).push(s.deadline, n)
    this.#armSuspicion()
    this.#counters.suspicions++
    if (spread) this.#enqueue({ type: 'suspect', id, incarnation, from }, id, now)
    if (state === 'alive') out.push({ type: 'member', change: 'suspected', member: record })
  }

  /**
   * dead@i (or left@i) from `from`. A member we never heard of is recorded silently when a
   * record comes with it (push-pull), so digests agree; a bare rumour about it is ignored.
   */
  #onDead (
    id: PeerId, incarnation: number, from: PeerId, kind: 'dead' | 'left', now: number, out: MembershipOutput[], spread: boolean,
    record?: MemberRecord
  ): void {
    if (id === this.#selfId) {
      if (this.#phase === 'running' && incarnation >= this.#self.incarnation) this.#refute(incarnation, now, out)
      return
    }
    const n = this.#interner.lookup(id)
    if (n < 0 || !this.#table.has(n)) {
      if (record !== undefined) this.#insert(record, kind, now)
      return
    }
    const state = this.#table.state(n)
    const known = this.#table.record(n)
    if (incarnation < known.incarnation || state === 'left') return
    if (state === 'dead') {
      // A dead member that is then reported as having left: stop trying to reconnect it.
      if (kind === 'left') this.#setState(n, { ...known, incarnation }, 'left', now)
      return
    }
    const updated = incarnation > known.incarnation ? { ...known, incarnation } : known
    this.#setState(n, updated, kind, now)
    if (spread) this.#enqueue(kind === 'left' ? { type: 'left', id, incarnation } : { type: 'dead', id, incarnation, from }, id, now)
    out.push({ type: 'member', change: kind === 'left' ? 'left' : 'failed', member: updated })
    if (this.#othersLive === 0 && this.#seeds.length > 0 && this.#phase === 'running') {
      this.#joinAttempts = 0
      this.#setTimer('join', now + this.#config.joinRetryMin * randomFloat(this.#rng))
    }
  }

  /** We are suspected or declared dead at >= our incarnation: outbid it. */
  #refute (incarnation: number, now: number, out: MembershipOutput[]): void {
    this.#counters.refutations++
    this.#adjustHealth(1)
    this.#setSelf({ ...this.#self, incarnation: Math.max(incarnation, this.#self.incarnation) + 1 }, now, true)
    // Every member that hears the refutation marks this node slow: the layers above here are told too.
    out.push({ type: 'member', change: 'updated', member: this.#self, slow: true })
  }

  /** Our new record; `unchanged` (card): only the incarnation changed, so it spreads as a refute. */
  #setSelf (record: MemberRecord, now: number, unchanged = false): void {
    this.#self = record
    this.#incarnation = record.incarnation
    this.#setState(this.#selfN, record, 'alive', now)
    this.#enqueue(aliveUpdate(record, unchanged), record.id, now)
  }

  // ---- the member table -----------------------------------------------------------------------------

  #insert (record: MemberRecord, state: MemberState, now: number): void {
    const n = this.#interner.number(record.id)
    this.#table.insert(n, record, state, now)
    this.#index(n, undefined, now)
  }

  #setState (n: number, record: MemberRecord, state: MemberState, now: number): void {
    const before = this.#table.state(n)
    this.#table.set(n, record, state, now)
    this.#index(n, before, now)
  }

  /** Keeps the live and dead sets, the probe list, suspicions and the forget queue in step. */
  #index (n: number, before: MemberState | undefined, now: number): void {
    const state = this.#table.state(n)
    // An ended suspicion's deadline stays in the heap, skipped when it comes up.
    if (state !== 'suspect') this.#suspicions?.delete(n)
    if (n === this.#selfN) return
    const live = state === 'alive' || state === 'suspect'
    const wasLive = before === 'alive' || before === 'suspect'
    if (live && !wasLive) {
      if (this.#lowest !== -2 && (this.#lowest === -1 || this.#interner.id(n) < this.#interner.id(this.#lowest))) this.#lowest = n
      if (this.#roundStarted) this.#order.add(n)
      this.#stopTimer('join')
      this.#armGossip(now)
    } else if (!live && wasLive) {
      if (this.#lowest === n) this.#lowest = -2
    }
    if (state === 'dead') (this.#dead ??= new NumberSet(this.#table.capacity, this.#interner.arena)).add(n)
    else this.#dead?.delete(n)
    if ((state === 'dead' || state === 'left') && before !== 'dead' && before !== 'left') {
      this.#forgetQueue.push({ n, since: now })
      if (!this.#timers.has('forget')) this.#setTimer('forget', now + this.#config.deadRetention)
    }
  }

  #forget (now: number, out: MembershipOutput[]): void {
    const retention = this.#config.deadRetention
    const table = this.#table
    while (this.#forgetHead < this.#forgetQueue.length) {
      const head = this.#forgetQueue[this.#forgetHead] as { n: number, since: number }
      if (head.since + retention > now) break
      this.#forgetHead++
      const n = head.n
      // Skip entries made stale by a revival (and a later death, which queued a new entry).
      if (!table.has(n) || table.isLive(n) || table.since(n) > head.since || n === this.#selfN) continue
      const record = table.record(n)
      table.remove(n)
      this.#dead?.delete(n)
      this.#slow?.delete(n)
      this.#broadcasts?.drop(record.id)
      out.push({ type: 'member', change: 'forgotten', member: record })
    }
    if (this.#forgetHead > 1024 && this.#forgetHead * 2 > this.#forgetQueue.length) {
      this.#forgetQueue.splice(0, this.#forgetHead)
      this.#forgetHead = 0
    }
    const next = this.#forgetQueue[this.#forgetHead]
    if (next !== undefined) this.#setTimer('forget', Math.max(now, next.since + retention))
  }

  /** A snapshot for post-mortem debugging (no secrets, plain data). */
  debugState (): Record<string, unknown> {
    const states: Record<MemberState, number> = { alive: 0, suspect: 0, dead: 0, left: 0 }
    for (const n of this.#table.numbers()) states[this.#table.state(n)]++
    return {
      self: this.#self,
      phase: this.#phase,
      localHealth: this.#health,
      members: states,
      digest: this.#table.digest.root(),
      rumoursQueued: this.#rumours,
      suspicions: this.#suspicions?.size ?? 0,
      relays: this.#relays?.size ?? 0,
      slowMembers: this.#slow?.size ?? 0,
      gracePending: this.#graced?.size ?? 0,
      nextDeadline: this.nextDeadline(),
      counters: { probes: this.#probes, ...this.#counters }
    }
  }
}

/** The suspicion timeout after its confirmations so far (Lifeguard). */
function suspicionTimeout (s: Suspicion): number {
  const c = s.confirmations.length - 1
  if (s.expected < 1) return s.min
  const frac = Math.log(c + 1) / Math.log(s.expected + 1)
  return Math.max(s.min, Math.floor(s.max - (s.max - s.min) * frac))
}

/**
 * The updates of a message with nothing to piggy-back, shared by all such messages (most of
 * them, in steady state): frozen, as messages are never changed once built.
 */
const NO_UPDATES: readonly MemberUpdate[] = Object.freeze([])

/** JSON bytes of the suspect, dead and left updates without their ids and incarnation. */
const SUSPECT_BYTES = jsonByteLength({ type: 'suspect', id: '', incarnation: 0, from: '' }) - 5
const DEAD_BYTES = jsonByteLength({ type: 'dead', id: '', incarnation: 0, from: '' }) - 5
const LEFT_BYTES = jsonByteLength({ type: 'left', id: '', incarnation: 0 }) - 3
const REFUTE_BYTES = jsonByteLength({ type: 'refute', id: '', incarnation: 0, card: 0 }) - 4

/** The rumour of `record` being alive: a refute when its card is the one peers already hold. */
function aliveUpdate (record: MemberRecord, unchanged: boolean): MemberUpdate {
  return unchanged ? { type: 'refute', id: record.id, incarnation: record.incarnation, card: cardFingerprint(record) } : { type: 'alive', member: record }
}

/** Decimal digits of a non-negative integer. */
function digits (x: number): number {
  return x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : String(x).length
}

/** Bytes a sync entry adds around its record, state included (at most the longest state name). */
const ENTRY_OVERHEAD = '{"member":,"state":"suspect"}'.length
