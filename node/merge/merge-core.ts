/**
 * MergeCore: one node's merge-tree protocol, sans-IO. Every second every node's value for
 * every instrumentation travels up that instrumentation's tree (tree.ts) and is merged on the
 * way, exactly once, into the root's point ring, which replicates it to the other holders; any
 * node can then query a holder for a window.
 *
 * THEORY OF OPERATION (all transitions live in this file).
 * - Assembly. For each (instrumentation, second t) a node gathers its own value (contribute) and
 *   its children's partials. It forwards one partial for t to its parent as soon as its own
 *   value has been given (or said absent) and every child of its view has sent, or at the
 *   deadline end(t) + collectDelayMs + hopMs * estimatedHeight, whichever comes first. A node
 *   with nothing (it does not run the instrumentation, nor does anyone below) still sends an
 *   empty partial, so its parent need not wait for the deadline.
 * - Late pieces. A piece (partial or own value) for t arriving after the node forwarded t is
 *   forwarded at once as its own `late` partial: nothing already sent is ever sent again.
 * - Exactly once. Every piece names its contributors. At every node, a piece whose contributors
 *   meet those already merged for (id, t) is refused whole (duplicate); at holders the ring
 *   applies the same rule per second, except that a piece holding every piece it meets there
 *   takes their place (point-ring.ts). Contributors and senders must be members
 *   of the view (contributors that left within the late window still count).
 * - The root merges every piece into its ring when it arrives; at the deadline (or when every
 *   child has sent) it finalizes t: it sends what it merged for t to the replicas (`replica`)
 *   and emits `store`. Late pieces at the root are merged, replicated and stored at once.
 * - Holders. A node that becomes a holder asks the other holders for their history; a node
 *   that stops being the root pushes its late window of points to the new root (the seconds it
 *   finalized while the others did not know the newcomer yet), and again to each other node its
 *   view takes for the root until the late window has passed: after a partition heals, views
 *   disagree about who the root is (at 1,000 nodes with 10 % cut off for 15 s, the cut-off
 *   side's root handed its seconds to a node that was not the others' root: 30 to 42
 *   contributions of each second lost). A holder that refuses a history because it does not
 *   know the sender yet keeps it (the latest MAX_STRANGER_HISTORIES) and takes it once the
 *   sender is a member, within the late window. History merges per second: disjoint coverage
 *   adds; a point that holds every piece of the ring's it meets takes their place; otherwise the
 *   point with more contributors is kept (point-ring.ts, HISTORY).
 * - Queries go to the root, then to each replica in turn on timeout; a holder answers from its
 *   ring; a node that is not a holder in its own view answers too, marked as such, and that
 *   answer is used only if no holder answers.
 * - Avoided peers. The trees are computed over the view without the members the membership
 *   suspects and those a send just failed to (a crashed process's connections are refused at
 *   once): a crashed parent is routed around at the next send to it or once its suspicion
 *   spreads, not once it is declared dead (a suspicion timeout later: 16 s at 10,000 members).
 *   A partial whose send failed goes to the new parent.
 * - Watching parents. A host that dies without resetting its connections (power, kernel,
 *   network) takes partials silently, and its suspicion may take many seconds to spread in a
 *   crash storm. So a partial asks its parent for an `ack` at most every watchIntervalMs (the
 *   parent acks once that second went up, so an ack means nothing sent before is held there);
 *   when the next partial for that parent is due and the ack is more than watchTimeoutMs
 *   overdue, the parent is routed around as if a send had failed, and that partial goes to the
 *   new parent. The partials the parent had not acked go there too, marked `resent`, and so they
 *   do whenever a parent proves gone (a failed send, the membership's suspicion or removal, or
 *   silence to an ack-request once the tree moved away from it): a resent piece may duplicate
 *   one the old parent forwarded, so it travels alone, never combined, and a duplicate refuses
 *   only itself. A parent only silent, suspected or removed by the membership (not known gone
 *   as a failed send proves it: after a partition heals, the other side's death verdicts on the
 *   living arrive) may be slow or alive and forward the piece yet, late and combined with its
 *   siblings' (or hand it over as the cut-off side's root): had the resent copy reached the root first,
 *   the root would refuse that whole combined piece, siblings' counts and all (0.3 % of the
 *   counts at 1,000 nodes with 5 % of them 2 s slow). So such a piece is marked silentParent:
 *   the nodes on its way, the root included, do not record it (the combined one is not refused
 *   there), and the root merges it alone into its ring (replicated alone), where the combined
 *   piece, if it comes, takes its place (point-ring.ts). If that piece reaches another node
 *   that took itself for the root (views disagree after a heal), the two meet in history,
 *   which carries each open second's pieces: the copy is refused alone there. (Until session
 *   15 the root held such a piece 10 s instead, so that the combined one came first: seconds
 *   after a silent crash were whole at the root 13 s after their end, p99, now 3 s.)
 *   A dead parent costs its children no second, at any fleet size, for one small message per
 *   child, parent and interval. It is not tried again blindly after unreachableMs (that would
 *   lose a second of partials every time until its death is known, 16 s and more at 10,000
 *   members): it gets an `ack-request` instead, and only its answer (any message from it), or
 *   the membership, brings it back. Avoided peers stay members, so their own pieces are still
 *   accepted; a refuted suspicion, a message from the peer or unreachableMs puts them back.
 *   Every change of parent is safe for exactly-once, since pieces carry their contributors.
 * - Slow parents. A parent taken for silent that then answers was slow, not gone, and would be
 *   taken for silent again at every ack it owes (at 200 nodes with 5 % of them 2 s slow, 42,000
 *   resends a minute, as many as the on-time partials). So its watch timeout becomes twice its
 *   lateness (at most slowParentTimeoutMs) for slowParentMemoryMs. The price: such a parent
 *   that then really dies is routed around that much later (its unacked partials are re-sent
 *   then, still well within the late window).
 * - Slow members. Waiting for a slow parent costs freshness: every piece of its subtree reaches
 *   the root as late as it is slow (a second through a 2 s slow parent was whole at the root
 *   ~4 s after its end). So the members the membership marks slow (they refuted a suspicion:
 *   memberSlow) lead nothing for slowMemberMs: they hang as leaves (tree.ts, DEMOTED MEMBERS),
 *   and no subtree waits for them. Every node that heard the same refutations builds the same
 *   trees, and a demoted root stays the root (demoted replicas still hold), so demotions never
 *   move where a second ends. A node never demotes itself. It refutes before the others hear
 *   of it: demoted in its own view and not yet in another's, each could be the other's
 *   parent, and a piece going round that cycle comes back as a duplicate, refused with all
 *   that was combined with it (52 counts lost at 3,000 nodes with 5 % 2 s slow, when slow
 *   nodes demoted themselves). Demoting others only, every hop goes to a member of higher
 *   score in the sender's view, whose own score is never lowered: no cycle. A node that
 *   refuted (memberSlow about itself) keeps its place in its own trees but waits for none of
 *   its children: the others' trees have sent them elsewhere, and its own value goes up at
 *   once (a piece from a child that had not heard yet goes up late, on its own). For the same
 *   reason no node waits for a demoted child: it sends to its parent in its own trees, which
 *   forwards its piece at once, late, if it has already sent that second. When more than a
 *   quarter of the view is marked slow (a partition heals, a loss burst ends: everyone refuted)
 *   the fault was the network's, and no one is demoted. (With an eighth, 20 % of the nodes 2 s
 *   slow were not demoted, and seconds through them were whole at the root 4 s late; a quarter
 *   demotes them, and a 30 % partition's two sides still agree that no one is demoted.) Views
 *   that disagree about it cost a few seconds of freshness ("Absent children").
 * - Absent children. Views disagree for a while about who leads: who is demoted (each side of
 *   a healed partition heard different refutations), who is suspected or gone. A child then
 *   sends where its own trees say, and a parent whose trees still count it waited for it until
 *   the deadline every second the disagreement lasted (for the 10 minutes slow marks last
 *   after a partition: at 1,000 nodes, 10 % cut off, seconds went up 0.5 s after their end
 *   instead of 0.04). So a child that had sent nothing when the parent's second went up,
 *   absentChildSeconds in a row, is not waited for; a piece of it that arrives before a
 *   deadline again (late for a parent that no longer waited, on time all the same) has it
 *   waited for from the next second. Its late pieces still go up, on their own: a wrong guess
 *   costs a message, never a count.
 * - Refusals and acks. A refused piece is acked at once (it would be refused anywhere), except
 *   when the refusal may be this node's alone: its sender or one of its contributors is not a
 *   member here (a partition's other side, a restarted node whose view is not whole yet), or
 *   its instrumentation is not known here yet (definitions spread; one removed here is acked).
 *   Such a piece is answered with a `nack` naming it: the child takes it out of the partials
 *   it waits to have acked (if it was the asking one, the nack answers the ask) and sends it
 *   again at its next sweep, once a second, to its parent of the moment, until it is taken or
 *   leaves the late window. Acked, it was lost; left unacked, its sender routed around the
 *   parent and the parent waited for it, seconds late, while views settled. (1,000 nodes, 10 %
 *   crashed and restarted 15 s later: 172 contributions missing before, 0 after, every second
 *   still whole at the root 0.038 s after its end at p50.)
 * - Gaps. An ack covers what was sent before the asking partial, which trusts the stream to
 *   deliver in order or fail; a connection reset loses what had left the socket and fails no
 *   send. So a child numbers the partials it sends each parent (`seq`; the numbers go on when
 *   a watch ends and starts again, since a parent cannot tell a new sequence's first numbers
 *   from late ones of the old), the parent follows each child's sequence (a bounded map; one
 *   met midway, as after a restart, starts where it is met; a number below it is ignored), and
 *   an ack names the gaps once each: numbers missing for REORDER_MS below one that arrived, and,
 *   answering an ack-request (which carries the child's next number and leaves
 *   watchIntervalMs after its last partial), the tail that never came. The partials of the
 *   watch's last CONFIRMED_BATCHES acks that fall in a gap go again at the next sweep, marked
 *   resent and silentParent (should one arrive after all, the root keeps one of the two,
 *   whole: "Watching parents"); a watch's batches outlive it by FORMER_CONFIRMED_MS once its
 *   parent is left, since a slow parent's ack comes late, and a parent the membership
 *   suspects is asked once more REORDER_MS later, since the last ack before may have confirmed a
 *   partial lost too recently to be named (#keepConfirmed). A gap may fall among partials not
 *   confirmed yet (an ask retransmitted for seconds is answered after later partials went): those
 *   go again too. And an ack carries `upTo`, what the ask it answers covers, so that the answer
 *   to a dropped watch's ask does not confirm what a new watch of the same parent asked about
 *   (the membership's suspicion, refuted, drops and restarts a watch). More than MAX_AHEAD numbers
 *   past a gap (a root takes ~100 late pieces a second from one child in a burst) have the
 *   gap named at the next ack, young or not, rather than given up on. Only the gaps, not everything past the first: after a
 *   partition heals the partials it dropped were re-sent past the silent parent already (a
 *   first try that re-sent from the gap on lost 1-100 contributions per run at 1,000 nodes, 10 %
 *   cut off). And not at once: partials overtake one another on the way, and a gap named at
 *   the first ack was mostly that (1,000 nodes, 30 % cut off: 2,765 copies, which met what they
 *   copied in history after the heal: 172 contributions lost; named after 500 ms: no copy, none
 *   lost). 200 nodes, 30 % of transmission attempts lost for 10 s, seeds 1 / 2 / 3: 19 / 4 / 1
 *   contributions missing before, 0 / 0 / 0 after; 40 %, seeds 1-4: 49 / 21 / 28 / 34 before,
 *   0 / 0 / 0 / 2 after; 50 %, seeds 1 / 2: 79 / 93 before, 4 / 6 after (one gap per ack, no
 *   tail, no overdue gaps, no former batches: 27 / 20).
 * - Tree positions are recomputed lazily: only when the view changed since the last use.
 *
 * Call contract (quinn's, like MeshCore):
 * - memberUp/memberSuspect/memberDown/setMembers whenever the membership view changes (self is
 *   always a member); sendFailed when a send output could not be carried out.
 * - setInstrumentation/removeInstrumentation when definitions change (re-call to update
 *   expectedSources); contribute(id, t, value | undefined) once per second per instrumentation.
 * - handle(from, message, now) for every message from a peer; tick(now) when now >= nextDeadline().
 * - carry out every output in order; `now` (ms) never goes back (it is clamped if it does).
 * Peer input never throws: a refused message is dropped and counted by reason (debugState).
 * Commands throw for caller bugs (unknown id: HeatmeshError ECA_NOENT; a value of the wrong
 * shape: ECA_INCOMPAT).
 */
import { HeatmeshError, limitValue, mergeValueList, zeroValue, type DecodeExpectation, type Value } from '../../metad/index.js'
import type { PeerId } from '../core/messages.js'
import { EventHeap, type TimedEvent } from '../core/event-heap.js'
import { TimerTable } from '../core/timers.js'
import { mergeConfig, type MergeConfig } from './config.js'
import { addDelta, EMPTY_DELTA, joinDeltas, newAssembly, SecondTable, type Assembly, type Delta } from './assembly.js'
import { disjoint, NO_CONTRIBUTORS, sameContributors, union, type ContributorSet } from './contributors.js'
import {
  decodeMergeMessage, MAX_GAPS, MAX_MERGE_MESSAGE_BYTES, MAX_POINTS_PER_MESSAGE, MAX_SECOND, MergeDecodeError, pointSizeBound, type HistoryMessage, type InstrumentationId, type MergeMessage, type NackMessage, type PartialMessage,
  type AckRequestMessage, type QueryReplyMessage, type ReplicaMessage
} from './messages.js'
import { PointRing, type RingConfig, type RingMergeResult, type RingStats, type StoredPoint } from './point-ring.js'
import { checkSpec, expectationOf, sameStorage, valueFits, type InstrumentationSpec } from './spec.js'
import {
  estimatedHeight, hasMemberKey, indexOfMember, instrumentationKey, joinCanMove, leaveCanMove, memberKey, membersOf, withMember, withoutMembers, treePosition,
  type InstrumentationKey, type MemberSet, type SharedTrees, type TreePosition
} from './tree.js'

/** An output for the binding to carry out, in order. */
export type MergeOutput =
  /** Send `message` to peer `to` (encodeMergeMessage for the wire). */
  | { readonly type: 'send', readonly to: PeerId, readonly message: MergeMessage }
  /** Persist `point` of `id` (replacing the stored point of the same slot); restore gives it back. */
  | { readonly type: 'store', readonly id: InstrumentationId, readonly point: StoredPoint }
  /** Delete every stored point of `id` (removed, or persist-data turned off). */
  | { readonly type: 'drop-store', readonly id: InstrumentationId }
  /** The answer to requestQuery `requestId`, from holder `from` (this node's id when answered locally). */
  | { readonly type: 'query-result', readonly requestId: number, readonly id: InstrumentationId, readonly points: readonly StoredPoint[], readonly from: PeerId }
  /** No holder answered requestQuery `requestId`. */
  | { readonly type: 'query-failed', readonly requestId: number, readonly id: InstrumentationId, readonly reason: string }

/** Why a piece of peer input was refused. */
export type DropReason =
  | 'malformed'
  | 'unknown-instrumentation'
  | 'not-a-member'
  | 'duplicate'
  | 'too-late'
  | 'too-early'
  | 'wrong-shape'
  | 'unsolicited'

/** Construction parameters. */
export interface MergeCoreInit {
  /** This node's peer id. */
  readonly self: PeerId
  /** The time of construction, ms. */
  readonly now: number
  readonly config?: Partial<MergeConfig>
  /** Points persisted by a previous run (from the store), by instrumentation; loaded at setInstrumentation. */
  readonly restore?: ReadonlyMap<InstrumentationId, readonly StoredPoint[]>
  /** The initial view (self is added); a shared MemberSet is adopted as is. @default just self */
  readonly members?: MemberSet | Iterable<PeerId>
  /**
   * A buffer tree computations reuse (overwritten by every recompute, never kept): the cores of
   * one process, such as the simulator's, can share one. @default the core allocates its own
   */
  readonly treeScratch?: Float64Array
  /**
   * How the core derives a view with one member more or several fewer. @default tree.ts's
   * withMember and withoutMembers. The simulator passes sharing ones, so that cores deriving
   * the same content share one set instead of copying 10,000 keys each.
   */
  readonly viewChanges?: ViewChanges
  /**
   * Where the core reads its tree positions while it leaves no member out and demotes none.
   * @default treePosition, computed by this core alone (O(N)). The simulator passes one shared
   * by all its cores, which mostly hold one view: one whole tree per (view, instrumentation)
   * instead of N scans of N members.
   */
  readonly sharedTrees?: SharedTrees
}

/** Derivations of one view from another (immutable MemberSets). */
export interface ViewChanges {
  readonly withMember: (set: MemberSet, id: PeerId) => MemberSet
  readonly withoutMembers: (set: MemberSet, ids: readonly PeerId[]) => MemberSet
}

/**
 * Members that left are kept in the view's set, marked gone, until this many have gone (at
 * least GONE_MIN, else a 16th of the set): a departure then costs no O(N) copy of the view. In
 * a crash storm every node learns of every death, in its own order; copying the view at each
 * cost the simulator O(N^3) (and each daemon O(N) per death).
 */
const GONE_MIN = 64

/**
 * The most members a view of `members` demotes (a quarter of it): beyond, more refuted than
 * slow members do, and no one is demoted (module header, "Slow members").
 */
export function maxDemoted (members: number): number {
  return Math.max(1, members >>> 2)
}

/** Activity counters (debugState). */
export interface MergeCounters {
  /** Messages received, by type. */
  readonly received: Record<string, number>
  /** Pieces (partials, own values) merged into an assembly or a ring. */
  merged: number
  /** On-time partials sent to a parent. */
  forwarded: number
  /** Late pieces forwarded (inner nodes) or merged (root). */
  late: number
  /** Seconds finalized as root. */
  finalized: number
  /** Replica messages sent, and merged on arrival. */
  replicasSent: number
  replicasMerged: number
  /** History points merged into the ring (adopted, merged or replaced). */
  historyMerged: number
  /** Tree positions computed. */
  recomputes: number
  /** Restored points refused (wrong shape, misaligned). */
  restoreRejected: number
  /** Peer input refused, by reason. */
  readonly dropped: Record<DropReason, number>
  /** Sends the binding reported failed (sendFailed). */
  sendFailures: number
  /** Parents routed around because an ack was overdue (watching parents). */
  parentsSilent: number
  /** Partials re-sent because the parent they went to proved silent or gone before acking them. */
  resent: number
  /** Partials a parent nacked (refused for a reason another node may not have), sent again. */
  nacked: number
  /** Partials a parent's ack said never arrived (a connection reset lost them), sent again. */
  gapsResent: number
  /** Parents taken for silent that answered late, and are given a longer watch timeout since. */
  slowParents: number
  /** Bugs caught at the boundary (the daemon lives on). */
  internalErrors: number
}

/** A ring's refusal as a drop reason: a count overflow can only come from a broken or forged value. */
function dropOf (r: RingMergeResult): 'merged' | DropReason {
  return r === 'overflow' ? 'malformed' : r
}

/** The zero of a spec's shape (checkSpec made sure distribution shapes have a bucketing). */
function zeroOf (spec: InstrumentationSpec): Value {
  if (spec.bucketing !== undefined) return zeroValue(spec.shape, spec.bucketing)
  if (spec.shape === 'scalar' || spec.shape === 'decomposition') return zeroValue(spec.shape)
  throw new RangeError(`a ${spec.shape} instrumentation needs a bucketing`)
}

interface Instrumentation {
  readonly id: InstrumentationId
  spec: InstrumentationSpec
  readonly key: InstrumentationKey
  expect: DecodeExpectation
  /** The zero of its shape (the identity of its merges). */
  readonly zero: Value
  ring: PointRing
  position: TreePosition | undefined
  /** The view version `position` was last brought up to date with. */
  positionVersion: number
  /** A view change since may have moved `position`: recompute it (else only its member count is refreshed). */
  stale: boolean
  /** estimatedHeight of `position`, kept with it (every assembly's deadline needs it). */
  height: number
  /** Holders and root status last acted on (history pull, handover push). */
  holders: readonly PeerId[]
  wasRoot: boolean
  /** What this node finalized as root, handed over again whenever the root in its view changes ("Holders"); made at a step-down. */
  handover: Handover | undefined
  readonly seconds: SecondTable
  lastFinalized: number | undefined
  /** Children that had sent nothing when this node's seconds went up, and for how many seconds in a row (made at the first; "Absent children"). */
  absent: Map<PeerId, number> | undefined
}

/** The points a node finalized as root, owed to whoever is the root in its view until `until` (ms). */
interface Handover {
  readonly points: readonly StoredPoint[]
  readonly until: number
  /** The root they went to last. */
  to: PeerId
}

/** Why a piece was re-sent: its first parent is known gone, or only went silent (see "Watching parents"). */
type Resent = 'gone' | 'silent'

/** The nack of a refused partial of (id, second) with these contributors ("Refusals and acks"). */
function nackOf (id: InstrumentationId, second: number, contributors: ContributorSet): NackMessage {
  return { type: 'nack', id, second, contributors }
}

function resentOf (m: PartialMessage): Resent | undefined {
  return m.resent !== true ? undefined : m.silentParent === true ? 'silent' : 'gone'
}

/**
 * Partial `m` with the given flags (undefined: absent). Built field by field: on Node 20's V8 an
 * object spread that adds or changes a property takes ~2 µs (measured, against ~50 ns for a
 * literal), and a node re-flags a partial at every ack it asks for.
 */
function copyPartial (m: PartialMessage, ack: boolean | undefined, resent: boolean | undefined, silentParent: boolean | undefined, seq?: number): PartialMessage {
  const c: { -readonly [K in keyof PartialMessage]: PartialMessage[K] } = { type: 'partial', id: m.id, second: m.second, contributors: m.contributors, value: m.value, late: m.late }
  if (ack !== undefined) c.ack = ack
  if (resent !== undefined) c.resent = resent
  if (silentParent !== undefined) c.silentParent = silentParent
  if (seq !== undefined) c.seq = seq
  return c
}

function resentFlags (r: Resent | undefined): { resent?: true, silentParent?: true } {
  return r === undefined ? {} : r === 'silent' ? { resent: true, silentParent: true } : { resent: true }
}

interface PendingQuery {
  readonly requestId: number
  readonly id: InstrumentationId
  readonly from: number
  readonly to: number
  readonly targets: readonly PeerId[]
  index: number
  fallback: { readonly points: readonly StoredPoint[], readonly from: PeerId } | undefined
}

type TimerKind = 'query' | 'sweep' | 'resend' | 'replay'

/**
 * A forwarding deadline: one per (instrumentation, second) assembled, ~5 per node per second.
 * They live in a heap of their own rather than the TimerTable (no key string per second), and
 * are removed lazily: one whose assembly was forwarded, swept or discarded is skipped.
 */
interface ForwardTimer extends TimedEvent {
  readonly inst: Instrumentation
  readonly assembly: Assembly
}

/** The upTo of the ack answering asking partial `m` (AckMessage). */
function upToOf (m: PartialMessage): number | undefined {
  return m.seq === undefined ? undefined : m.seq + 1
}

/** The one ack message with no fields. */
const ACK: MergeMessage = Object.freeze({ type: 'ack' })
/** A watched parent. */
interface Watch {
  /** When the ack asked for last went out. */
  asked: number
  /** Whether that ack is still owed. */
  owed: boolean
  /** When the last partial went to it. */
  last: number
  /** Partials sent to it and not yet acked, oldest first: re-sent elsewhere if it proves gone. */
  unacked: PartialMessage[]
  /** How many of `unacked` the owed ack confirms (those sent up to the asking one). */
  confirms: number
  /** The upTo the owed ack will carry (AckMessage): an answer to an earlier ask carries less. */
  upTo: number | undefined
  /**
   * What the last CONFIRMED_BATCHES acks confirmed, a batch per ack, oldest first: a nack sent
   * before an ack may arrive after it (links reorder), and a gap is named acks after the one
   * that confirmed its partials.
   */
  confirmed: PartialMessage[][]
}

/** Acks whose batches a watch keeps (at one ack per watchIntervalMs, ~8 s of partials). */
const CONFIRMED_BATCHES = 4
/**
 * How long, and for how many parents at most, a node keeps what a watch had confirmed once its
 * parent was routed around (#formerConfirmed): at 200 nodes with 50 % of attempts lost, 82
 * acks naming gaps came to watches gone that way.
 */
const FORMER_CONFIRMED_MS = 10_000
const MAX_FORMER_WATCHES = 64

/**
 * What a watch had confirmed, kept once its parent was left (#keepConfirmed) until `until`;
 * `askAt`: when the parent is asked once more for the gaps in it (undefined: not, or done).
 */
interface FormerWatch {
  readonly batches: PartialMessage[][]
  readonly until: number
  askAt: number | undefined
}

/** An ack came (or a nack answered the ask): the partials sent before the asking one are confirmed. */
function confirm (w: Watch): void {
  const batch = w.unacked.splice(0, w.confirms)
  w.confirms = 0
  if (batch.length === 0) return
  if (w.confirmed === NO_BATCHES) w.confirmed = []
  w.confirmed.push(batch)
  if (w.confirmed.length > CONFIRMED_BATCHES) w.confirmed.shift()
}

/** Where a child's sequence of partials stands at this parent (module header, "Gaps"). */
interface ChildSequence {
  /** Every partial below this arrived, or was named missing. */
  next: number
  /** Numbers above `next` that arrived, and when (ms), ascending: those between are missing. */
  ahead: Array<{ readonly seq: number, readonly at: number }> | undefined
  /** Gaps below `next` to name at the next ack whatever their age: `ahead` overflowed past them. */
  overdue: Array<readonly [number, number]> | undefined
}

/** Sets `key` in `map`, first dropping its oldest entry if `key` is new and `max` are held. */
function setBounded<K, V> (map: Map<K, V>, key: K, value: V, max: number): void {
  if (map.size >= max && !map.has(key)) map.delete(map.keys().next().value as K)
  map.set(key, value)
}

/** Partial `seq` of `c`'s child arrived at `at`. */
function arrive (c: ChildSequence, seq: number, at: number): void {
  if (seq < c.next) return
  if (seq > c.next) {
    const ahead = (c.ahead ??= [])
    let k = ahead.length
    while (k > 0 && ahead[k - 1]!.seq > seq) k--
    if (k > 0 && ahead[k - 1]!.seq === seq) return
    ahead.splice(k, 0, { seq, at })
    if (ahead.length <= MAX_AHEAD) return
    // Too much ahead (a burst: a root takes ~100 late pieces a second from one child): the
    // lowest gap is named at the next ack, old enough or not, and given up on only past MAX_GAPS
    // of them (at 200 nodes with 50 % of attempts lost, the 64 kept filled in a second, and the
    // gaps given up on lost their partials).
    seq = ahead.shift()!.seq
    const overdue = (c.overdue ??= [])
    if (overdue.length < MAX_GAPS) overdue.push([c.next, seq])
  }
  c.next = seq + 1
  const ahead = c.ahead
  if (ahead === undefined) return
  while (ahead.length > 0 && ahead[0]!.seq === c.next) { ahead.shift(); c.next++ }
  if (ahead.length === 0) c.ahead = undefined
}

/**
 * The gaps of `c` to name at `now` (and `c` moved past them): numbers missing for REORDER_MS
 * below one that arrived, and, given `sent` (an ack-request's next number), those the tail
 * lacks. A missing number was sent before every later one, so it is missing since the
 * earliest arrival above it.
 */
function takeGaps (c: ChildSequence, now: number, sent: number | undefined): Array<readonly [number, number]> {
  const gaps: Array<readonly [number, number]> = c.overdue ?? []
  c.overdue = undefined
  const ahead = c.ahead
  if (ahead !== undefined) {
    const since = new Array<number>(ahead.length)
    let earliest = Infinity
    for (let k = ahead.length - 1; k >= 0; k--) since[k] = earliest = Math.min(earliest, ahead[k]!.at)
    let k = 0
    for (; k < ahead.length && gaps.length < MAX_GAPS; k++) {
      const { seq } = ahead[k]!
      if (seq > c.next) {
        if (now - since[k]! < REORDER_MS) break
        gaps.push([c.next, seq])
      }
      c.next = seq + 1
    }
    c.ahead = k === ahead.length ? undefined : ahead.slice(k)
  }
  // The tail: an ack-request leaves watchIntervalMs after the child's last partial.
  if (c.ahead === undefined && sent !== undefined && sent > c.next && gaps.length < MAX_GAPS) {
    gaps.push([c.next, sent])
    c.next = sent
  }
  return gaps
}

/** Children whose sequences a parent follows, and partials ahead of a gap it keeps, at most. */
const MAX_CHILD_SEQUENCES = 4096
const MAX_AHEAD = 64
/**
 * How long a number may be missing below one that arrived before the ack names it: partials
 * that travel on different streams (or links of the simulator) overtake one another by
 * milliseconds. Gaps named at once were mostly such (1,000 nodes, 30 % cut off: 2,765 copies
 * re-sent, 172 contributions lost where they met the pieces they copied in history).
 */
const REORDER_MS = 500

/** No batches (a watch's first `confirmed`; never changed: a nack finds nothing in it). */
const NO_BATCHES: PartialMessage[][] = []

/** Refused histories from strangers a node keeps at most (#strangerHistories), and their bytes. */
const MAX_STRANGER_HISTORIES = 64
const MAX_STRANGER_HISTORY_BYTES = 16 * 1024 * 1024

/** Removed instrumentations a node remembers at most (#removed). */
const MAX_REMOVED = 256


/** Unacked partials kept per parent at most (the oldest go first). */
const MAX_UNACKED = 256

/** The one ack-request message. */
const ACK_REQUEST: MergeMessage = Object.freeze({ type: 'ack-request' })

/** Seconds between two passes that forget assemblies beyond the late window (memory only: range checks refuse them anyway). */
const FORGET_EVERY_S = 10


/** The protocol core of one node's merge tree (see the module header for the call contract). */
export class MergeCore {
  readonly #self: PeerId
  /** The contributor set of this node alone (shared: sets are immutable). */
  readonly #selfSet: ContributorSet
  /**
   * What a second's assembly becomes once this node's own value alone went up for it (a leaf's
   * usual second): one shared record, where an assembly per instrumentation and second of the
   * late window (120 s of them) would take ~150 bytes each, ~0.9 GB at 10,000 nodes in one
   * process. #assembly makes a real one again if anything comes for that second.
   */
  readonly #ownDone: Assembly
  readonly #config: MergeConfig
  #now: number
  /** The view's set: the members, and the gone ones until the next compaction (#compact). */
  #view: MemberSet
  /** Members that left but are still in #view's set (by id and by key): members no more. */
  readonly #gone = new Set<PeerId>()
  readonly #goneKeys = new Set<number>()
  #viewVersion = 0
  /** Members suspected by the membership (SWIM): routed around, still members. */
  readonly #suspects = new Set<PeerId>()
  /** Members a send failed to, and until when they are routed around. */
  readonly #unreachable = new Map<PeerId, number>()
  /** Of those, the ones routed around because an ack was overdue (watching parents), and when that ack was asked. */
  readonly #silent = new Map<PeerId, number>()
  /**
   * History refused because its sender was not a member here (a root handing over after a heal,
   * before this node heard it is alive): taken when it becomes one, within the late window.
   */
  #strangerHistories: Array<{ readonly from: PeerId, readonly m: HistoryMessage, readonly at: number, readonly bytes: number }> = []
  /** Their size (pointSizeBound). */
  #strangerHistoryBytes = 0
  /** Partials a parent nacked, sent again at the next sweep (made at the first; "Refusals and acks"). */
  #nacked: PartialMessage[] | undefined
  /** Instrumentations removed here, the latest MAX_REMOVED: a piece for one is refused and acked, not re-sent. */
  readonly #removed = new Set<InstrumentationId>()
  /**
   * Parents that answered after being taken for silent: their watch timeout (twice their
   * lateness) and until when it holds (module header, "Slow parents"); made at the first.
   */
  #slowParents: Map<PeerId, { timeoutMs: number, until: number }> | undefined
  /** Members the membership found slow, and until when they are demoted (memberSlow); made at the first. */
  #slowMembers: Map<PeerId, number> | undefined
  /** Until when this node is demoted in the others' trees (memberSlow about itself). */
  #slowSelfUntil = -Infinity
  /** Whether the positions were computed with the demotions applied (not #tooManySlow). */
  #demoting = true
  /** Parents watched (module header, "Watching parents"), kept while partials go to them (#sweep forgets). */
  readonly #watches = new Map<PeerId, Watch>()
  /** As parent: each child's sequence of partials, for the acks (bounded, oldest out first). */
  readonly #childSequences = new Map<PeerId, ChildSequence>()
  /**
   * As child: the next number of the partials to each parent. Kept when its watch goes, never
   * restarted (bounded, oldest out first): a parent cannot tell a restarted sequence's first
   * partials from late ones of the old sequence.
   */
  readonly #sequenceTo = new Map<PeerId, number>()
  /**
   * What the watches of parents left had confirmed, for FORMER_CONFIRMED_MS: a slow parent's
   * ack may come after and name gaps in it (bounded, oldest out first; #keepConfirmed).
   */
  readonly #formerConfirmed = new Map<PeerId, FormerWatch>()
  /** Unacked partials of parents the membership took away (suspected, down): re-sent at the next tick (silentParent set for a suspect). */
  #orphans: PartialMessage[] = []
  /** Member keys that left the view, and when: their contributions are still accepted in the late window. */
  readonly #recentlyDown = new Map<number, number>()
  readonly #instrumentations = new Map<InstrumentationId, Instrumentation>()
  readonly #timers = new TimerTable<TimerKind>()
  readonly #forwards = new EventHeap<ForwardTimer>()
  #forwardSeq = 0
  readonly #queries = new Map<number, PendingQuery>()
  #nextRequestId = 1
  readonly #restore: Map<InstrumentationId, readonly StoredPoint[]>
  readonly #counters: MergeCounters = {
    received: {}, merged: 0, forwarded: 0, late: 0, finalized: 0, replicasSent: 0, replicasMerged: 0, historyMerged: 0, recomputes: 0,
    restoreRejected: 0, sendFailures: 0, parentsSilent: 0, resent: 0, nacked: 0, gapsResent: 0, slowParents: 0, internalErrors: 0,
    dropped: { malformed: 0, 'unknown-instrumentation': 0, 'not-a-member': 0, duplicate: 0, 'too-late': 0, 'too-early': 0, 'wrong-shape': 0, unsolicited: 0 }
  }

  #lastError: string | undefined
  #scratch: Float64Array
  readonly #changes: ViewChanges
  readonly #sharedTrees: SharedTrees | undefined
  readonly #expectOf = (id: InstrumentationId): DecodeExpectation | undefined => this.#instrumentations.get(id)?.expect

  constructor (init: MergeCoreInit) {
    this.#self = init.self
    this.#selfSet = [memberKey(init.self)]
    this.#ownDone = Object.freeze({ ...newAssembly(-1, -Infinity), own: true, forwarded: true, merged: this.#selfSet })
    this.#config = mergeConfig(init.config)
    this.#now = init.now
    this.#view = this.#withSelf(init.members === undefined ? [] : init.members)
    this.#changes = init.viewChanges ?? { withMember, withoutMembers }
    this.#sharedTrees = init.sharedTrees
    this.#restore = new Map(init.restore ?? [])
    this.#scratch = init.treeScratch ?? new Float64Array(0)
    this.#timers.set('sweep', (Math.floor(init.now / 1000) + 1) * 1000)
  }

  // ---- membership ----------------------------------------------------------------------------------

  #withSelf (members: MemberSet | Iterable<PeerId>): MemberSet {
    const set = 'keys' in members && members.keys instanceof Float64Array ? members as MemberSet : membersOf(members as Iterable<PeerId>)
    return withMember(set, this.#self)
  }

  #isAvoided (id: PeerId): boolean {
    return this.#suspects.has(id) || this.#unreachable.has(id)
  }

  /** Routes around member `id` (call before recording the reason). */
  #avoid (id: PeerId): void {
    if (!this.#isAvoided(id)) this.#moved(id, false)
  }

  /** Routes through member `id` again (call after clearing its last reason). */
  #readmit (id: PeerId): void {
    this.#moved(id, true)
  }

  /**
   * Member `id` joined (or left) the trees' view. Only the positions it can move are recomputed
   * (tree.ts, joinCanMove and leaveCanMove: about 1 in 16 of other nodes' changes): in a crash
   * storm every node learns of every death, and recomputing every tree at each (O(N) each) is
   * what dominated the simulator's CPU.
   */
  #moved (id: PeerId, joined: boolean): void {
    this.#viewVersion++
    for (const inst of this.#instrumentations.values()) {
      const pos = inst.position
      if (pos === undefined || inst.stale) continue
      if (joined ? joinCanMove(pos, id, this.#self, inst.key, this.#config) : leaveCanMove(pos, id)) inst.stale = true
    }
  }

  /** The whole view changed: every position is recomputed at its next use. */
  #movedAll (): void {
    this.#viewVersion++
    for (const inst of this.#instrumentations.values()) inst.stale = true
  }

  /** Indices into the view's set of the avoided and gone members, ascending (treePosition leaves them out). */
  #excluded (): number[] {
    if (this.#suspects.size === 0 && this.#unreachable.size === 0 && this.#gone.size === 0) return []
    const out: number[] = []
    for (const id of this.#suspects) out.push(indexOfMember(this.#view, id))
    for (const id of this.#unreachable.keys()) if (!this.#suspects.has(id)) out.push(indexOfMember(this.#view, id))
    for (const id of this.#gone) out.push(indexOfMember(this.#view, id))
    return out.filter((i) => i >= 0).sort((a, b) => a - b)
  }

  /** Indices into the view's set of the members the membership found slow: they lead nothing in this node's trees unless one is the root. */
  #demoted (): number[] {
    if (this.#slowMembers === undefined || this.#slowMembers.size === 0 || this.#tooManySlow()) return []
    const out: number[] = []
    for (const id of this.#slowMembers.keys()) {
      const i = indexOfMember(this.#view, id)
      if (i >= 0) out.push(i)
    }
    return out
  }

  /**
   * Whether more members are marked slow than demotions are for (a quarter of the view): when
   * many refute at once (a partition heals, a loss burst ends) the fault was the network's, and
   * demoting them all would leave the trees to the rest (at worst, every member below the root).
   */
  #tooManySlow (): boolean {
    const self = this.#now < this.#slowSelfUntil ? 1 : 0
    return (this.#slowMembers?.size ?? 0) + self > maxDemoted(this.memberCount)
  }

  /** Whether member `id` is demoted in this node's trees. */
  #isDemoted (id: PeerId): boolean {
    return this.#slowMembers !== undefined && this.#slowMembers.has(id) && !this.#tooManySlow()
  }

  /**
   * Whether this node is demoted in the others' trees (it refuted lately, and demotions apply):
   * its children there went to other leaders, so it waits for none of those it still counts.
   */
  #demotedElsewhere (): boolean {
    return this.#now < this.#slowSelfUntil && !this.#tooManySlow()
  }

  /** Member `id` was demoted or promoted again: the positions that can move are recomputed (#positionOf sees to the rest). */
  #demotionChanged (id: PeerId): void {
    if (this.#tooManySlow()) return
    this.#viewVersion++
    for (const inst of this.#instrumentations.values()) {
      const pos = inst.position
      if (pos === undefined || inst.stale) continue
      // A demotion moves what its leave and its join as a low scorer would (tree.ts, DEMOTED MEMBERS).
      if (leaveCanMove(pos, id) || joinCanMove(pos, id, this.#self, inst.key, this.#config)) inst.stale = true
    }
  }

  /**
   * The membership found member `id` slow (it refuted a suspicion): for slowMemberMs from now it
   * leads no prefix of this node's trees unless it is a root (module header, "Slow members").
   * About this node itself: it keeps its place (the header says why) but waits for no child.
   */
  memberSlow (id: PeerId, now: number): void {
    const t = this.#clamp(now)
    if (id === this.#self) {
      this.#slowSelfUntil = t + this.#config.slowMemberMs
      return
    }
    if (!this.#isMember(id)) return
    const known = this.#slowMembers?.has(id) === true
    ;(this.#slowMembers ??= new Map()).set(id, t + this.#config.slowMemberMs)
    if (!known) this.#demotionChanged(id)
  }

  /** Whether `id` is a member of the view (gone ones are not). */
  #isMember (id: PeerId): boolean {
    return !this.#gone.has(id) && indexOfMember(this.#view, id) >= 0
  }

  /** Drops the gone members from the view's set once there are many (GONE_MIN), or now when forced. */
  #compact (force = false): void {
    if (this.#gone.size === 0 || (!force && this.#gone.size < Math.max(GONE_MIN, this.#view.ids.length >>> 4))) return
    this.#view = this.#changes.withoutMembers(this.#view, [...this.#gone])
    this.#gone.clear()
    this.#goneKeys.clear()
  }

  /** Member `id` joined the view, or is alive again (a suspicion refuted). */
  memberUp (id: PeerId, now: number): void {
    this.#clamp(now)
    const wasAvoided = this.#isAvoided(id)
    this.#suspects.delete(id)
    this.#unreachable.delete(id)
    this.#silent.delete(id)
    if (this.#gone.delete(id)) {
      this.#goneKeys.delete(memberKey(id))
    } else {
      const next = this.#changes.withMember(this.#view, id)
      if (next === this.#view && !wasAvoided) return
      this.#view = next
    }
    this.#readmit(id)
    this.#recentlyDown.delete(memberKey(id))
    if (this.#strangerHistories.some((h) => h.from === id)) this.#timers.set('replay', this.#now)
  }

  /**
   * Member `id` is suspected: the trees route around it until memberUp (refuted) or memberDown
   * (confirmed). Its pieces are still accepted, so a false suspicion costs no contribution. The
   * partials it has not acked are re-sent, marked silentParent: a suspect is often alive (a slow
   * member) and forwards them yet, late and combined, and that combined piece must win.
   */
  memberSuspect (id: PeerId, now: number): void {
    this.#clamp(now)
    if (id === this.#self || this.#suspects.has(id) || !this.#isMember(id)) return
    this.#avoid(id)
    this.#suspects.add(id)
    this.#orphan(id, now, true)
  }

  /**
   * The membership took parent `id` away (suspected or removed): its unacked partials are re-sent
   * at the next tick, marked silentParent, since its verdict may be wrong ("Watching parents").
   */
  #orphan (id: PeerId, now: number, suspected = false): void {
    const w = this.#watches.get(id)
    this.#watches.delete(id)
    if (w !== undefined) this.#keepConfirmed(id, w, suspected, now)
    if (w === undefined || w.unacked.length === 0) return
    for (const m of w.unacked) this.#orphans.push(copyPartial(m, m.ack, m.resent, true))
    this.#timers.set('resend', this.#clamp(now))
  }

  /** Member `id` left the view (failed or left); its contributions stay acceptable for the late window. */
  memberDown (id: PeerId, now: number): void {
    const t = this.#clamp(now)
    if (id === this.#self || !this.#isMember(id)) return
    const wasAvoided = this.#isAvoided(id)
    this.#suspects.delete(id)
    this.#unreachable.delete(id)
    this.#silent.delete(id)
    this.#childSequences.delete(id)
    this.#orphan(id, t)
    // Gone: its demotion goes with it (it leads nothing now), and a newcomer with its id starts clean.
    this.#slowMembers?.delete(id)
    const key = memberKey(id)
    this.#gone.add(id)
    this.#goneKeys.add(key)
    // Routed around already: the trees do not change, only the member count.
    if (wasAvoided) this.#viewVersion++
    else this.#moved(id, false)
    this.#recentlyDown.set(key, t)
    this.#compact()
  }

  /**
   * A message to `to` could not be delivered (the binding's send failed: connection refused or
   * reset). `to` is routed around for unreachableMs, or until it is heard from or comes back up,
   * and an undelivered partial goes to this node's new parent (or, at a new root, into the ring):
   * without this a crashed parent's children lose their partials until its death is confirmed.
   */
  sendFailed (to: PeerId, message: MergeMessage, now: number): MergeOutput[] {
    const t = this.#clamp(now)
    const out: MergeOutput[] = []
    if (to === this.#self || !this.#isMember(to)) return out
    this.#counters.sendFailures++
    this.#routeAround(to, message, false, t, out)
    return out
  }

  /**
   * Routes around `to` for unreachableMs. `message`, if it is a partial, goes to the new parent,
   * and so do the partials `to` had not acked, marked resent (they may duplicate pieces it did
   * forward): a parent that dies without resetting loses its children nothing.
   */
  #routeAround (to: PeerId, message: MergeMessage | undefined, silent: boolean, t: number, out: MergeOutput[]): void {
    this.#avoid(to)
    this.#unreachable.set(to, t + this.#config.unreachableMs)
    const w = this.#watches.get(to)
    this.#watches.delete(to)
    if (w !== undefined) this.#resend(w.unacked.filter((m) => m !== message), silent, t, out)
    if (w !== undefined) this.#keepConfirmed(to, w, false, t)
    if (message?.type === 'partial') this.#reroute(message, t, out)
  }

  /**
   * Keeps what watch `w` of parent `id` had confirmed, for FORMER_CONFIRMED_MS: a slow parent's
   * ack may come after and name gaps in it. With `ask` (the membership suspects the parent),
   * the parent is also asked once more, REORDER_MS later: an ack names a gap only REORDER_MS
   * after a later number arrived, so the last ack before a parent was left may have confirmed a
   * partial lost on the way without naming it (200 nodes, 50 % of attempts lost: one sent 2.4 s
   * before its parent was suspected, lost, confirmed by the ack between, never sent again). Not when
   * this node routed around the parent itself (a failed send, silence): any message from it
   * brings it back, so the answer would move the tree back and forth (the same runs lost more:
   * 40 %, seeds 1-4, 2 contributions in all before, 12 with those asks, 0 without). Nor when
   * the membership removed it (dead, left, or beyond a partition): asked then, the seconds
   * after a 1,000-node partition healed were whole 1-2 s later (p99), for nothing found.
   */
  #keepConfirmed (id: PeerId, w: Watch, ask: boolean, t: number): void {
    if (w.confirmed.length === 0) return
    setBounded(this.#formerConfirmed, id, { batches: w.confirmed, until: t + FORMER_CONFIRMED_MS, askAt: ask ? t + REORDER_MS : undefined }, MAX_FORMER_WATCHES)
  }

  /**
   * Re-sends partials a parent never acked, marked resent (they may duplicate pieces it
   * forwarded), and silentParent when it only went silent (it may forward them yet, late).
   */
  #resend (unacked: readonly PartialMessage[], silent: boolean, t: number, out: MergeOutput[]): void {
    this.#counters.resent += unacked.length
    for (const m of unacked) this.#reroute(copyPartial(m, m.ack, true, silent || m.silentParent === true ? true : m.silentParent), t, out)
  }

  /** Sends partial `m` to its instrumentation's parent now, or merges it into the ring if this node is the root now. */
  #reroute (m: PartialMessage, t: number, out: MergeOutput[]): void {
    const inst = this.#instrumentations.get(m.id)
    if (inst === undefined || this.#secondInRange(m.second, t) !== undefined) return
    this.#transitions(inst, t, out)
    const pos = this.#positionOf(inst)
    if (pos.parent !== undefined) {
      this.#sendPartial(pos.parent, m, t, out)
      return
    }
    if (m.value === undefined) return
    // This node is the root now: the piece joins the ring (which refuses an overlap) as a late one.
    const r = this.#ringLate(inst, pos, m.second, m.contributors, m.value, Math.floor(t / 1000), out)
    if (r !== 'merged') { this.#drop(r); return }
    this.#counters.late++
  }

  /**
   * Sends partial `m` to parent `to`, watching it (module header, "Watching parents"): a parent
   * whose ack is overdue is routed around first, and `m` goes to the new parent instead.
   */
  #sendPartial (to: PeerId, m: PartialMessage, t: number, out: MergeOutput[]): void {
    const c = this.#config
    let w = this.#watches.get(to)
    if (w !== undefined && w.owed && t - w.asked >= this.#watchTimeout(to, t)) {
      this.#counters.parentsSilent++
      this.#silent.set(to, w.asked)
      this.#routeAround(to, m, true, t, out)
      return
    }
    if (c.watchIntervalMs === 0) {
      out.push({ type: 'send', to, message: m.ack === true ? copyPartial(m, false, m.resent, m.silentParent) : m })
      return
    }
    let ask = false
    if (w === undefined) {
      w = { asked: t, owed: true, last: t, unacked: [], confirms: 0, upTo: undefined, confirmed: NO_BATCHES }
      this.#watches.set(to, w)
      ask = true
    } else if (!w.owed && t - w.asked >= c.watchIntervalMs) {
      w.asked = t
      w.owed = true
      ask = true
    }
    const seq = this.#nextSeq(to)
    const sent = copyPartial(m, ask ? true : m.ack === undefined ? undefined : false, m.resent, m.silentParent, seq)
    if (ask) w.upTo = seq + 1
    w.last = t
    if (w.unacked.length >= MAX_UNACKED) { w.unacked.shift(); w.confirms = Math.max(0, w.confirms - 1) }
    w.unacked.push(sent)
    if (ask) w.confirms = w.unacked.length
    out.push({ type: 'send', to, message: sent })
  }

  /**
   * Replaces the whole view (self is added): for a binding that learns the view in bulk, and for
   * the simulator, which can share one immutable MemberSet between the cores that agree on it.
   */
  setMembers (members: MemberSet | Iterable<PeerId>, now: number): void {
    const t = this.#clamp(now)
    const next = this.#withSelf(members)
    if (next === this.#view && this.#gone.size === 0) return
    // Who left: a merge walk over the two sorted key arrays (the gone are recorded already).
    const a = this.#view.keys
    const b = next.keys
    let j = 0
    for (let i = 0; i < a.length; i++) {
      const k = a[i]!
      while (j < b.length && b[j]! < k) this.#recentlyDown.delete(b[j++]!)
      if (j < b.length && b[j] === k) continue
      if (!this.#goneKeys.has(k)) this.#recentlyDown.set(k, t)
    }
    for (; j < b.length; j++) this.#recentlyDown.delete(b[j]!)
    if (this.#slowMembers !== undefined) for (const id of this.#slowMembers.keys()) if (indexOfMember(next, id) < 0) this.#slowMembers.delete(id)
    for (const id of [...this.#suspects, ...this.#unreachable.keys()]) {
      if (indexOfMember(next, id) >= 0) continue
      this.#suspects.delete(id)
      this.#unreachable.delete(id)
      this.#silent.delete(id)
    }
    this.#gone.clear()
    this.#goneKeys.clear()
    this.#view = next
    this.#movedAll()
    for (const id of this.#watches.keys()) if (indexOfMember(next, id) < 0) this.#orphan(id, t)
    if (this.#strangerHistories.some((h) => this.#isMember(h.from))) this.#timers.set('replay', t)
  }

  /** The current view (suspects included). O(N) after a departure: see memberCount. */
  get members (): MemberSet {
    this.#compact(true)
    return this.#view
  }

  /** The number of members in the view (suspects included), without materializing it. */
  get memberCount (): number {
    return this.#view.ids.length - this.#gone.size
  }

  #isContributor (key: number, now: number): boolean {
    if (hasMemberKey(this.#view, key) && !this.#goneKeys.has(key)) return true
    const down = this.#recentlyDown.get(key)
    return down !== undefined && down >= now - this.#config.lateWindowSeconds * 1000
  }

  #allContributors (set: ContributorSet, now: number): boolean {
    for (const k of set) if (!this.#isContributor(k, now)) return false
    return true
  }

  // ---- instrumentations ----------------------------------------------------------------------------

  #ringConfig (spec: InstrumentationSpec): RingConfig {
    return {
      granularity: spec.granularity,
      retentionTime: spec.retentionTime,
      valueScope: spec.valueScope,
      lateWindowSeconds: this.#config.lateWindowSeconds,
      maxKeys: this.#config.maxKeys
    }
  }

  /**
   * Starts (or updates) instrumentation `id`. Re-call it to change expectedSources or retention;
   * a change of shape, bucketing, granularity or scope restarts its history.
   * @throws RangeError for an invalid spec.
   */
  setInstrumentation (id: InstrumentationId, spec: InstrumentationSpec, now: number): MergeOutput[] {
    const t = this.#clamp(now)
    checkSpec(spec)
    this.#removed.delete(id)
    const out: MergeOutput[] = []
    const existing = this.#instrumentations.get(id)
    if (existing !== undefined) {
      if (!sameStorage(existing.spec, spec)) {
        this.#discard(existing, out)
      } else {
        if (existing.spec.persistData && !spec.persistData) out.push({ type: 'drop-store', id })
        if (!existing.spec.persistData && spec.persistData) {
          for (const point of existing.ring.points(-Infinity, Infinity, true)) out.push({ type: 'store', id, point })
        }
        existing.spec = spec
        existing.ring.reconfigure(this.#ringConfig(spec))
        return out
      }
    }
    // The table spans the L + S + 1 seconds a core accepts (#secondInRange), and one more.
    const inst: Instrumentation = {
      id, spec, key: instrumentationKey(id), expect: expectationOf(spec), zero: zeroOf(spec), ring: new PointRing(this.#ringConfig(spec)),
      position: undefined, positionVersion: -1, stale: true, height: 0, holders: [], wasRoot: false, handover: undefined, seconds: new SecondTable(this.#config.lateWindowSeconds + this.#config.maxClockSkewSeconds + 2), lastFinalized: undefined, absent: undefined
    }
    this.#instrumentations.set(id, inst)
    const restored = this.#restore.get(id)
    if (restored !== undefined) {
      this.#restore.delete(id)
      const nowSecond = Math.floor(t / 1000)
      for (const p of restored) {
        const ok = valueFits(spec, p.value) && inst.ring.mergePoint(p, nowSecond) !== 'invalid'
        if (!ok) this.#counters.restoreRejected++
      }
    }
    this.#transitions(inst, t, out)
    return out
  }

  /** Stops instrumentation `id` and forgets its points (drop-store when they were persisted). */
  removeInstrumentation (id: InstrumentationId, now: number): MergeOutput[] {
    this.#clamp(now)
    const inst = this.#instrumentations.get(id)
    if (inst === undefined) return []
    const out: MergeOutput[] = []
    this.#discard(inst, out)
    this.#instrumentations.delete(id)
    if (this.#removed.size >= MAX_REMOVED) this.#removed.delete(this.#removed.values().next().value as InstrumentationId)
    this.#removed.add(id)
    return out
  }

  #discard (inst: Instrumentation, out: MergeOutput[]): void {
    // Held pieces go nowhere now: their children are acked, so they do not take this node for silent.
    for (const a of inst.seconds.values()) this.#ackHeld(a, out)
    inst.seconds.clear()
    if (inst.spec.persistData) out.push({ type: 'drop-store', id: inst.id })
  }

  #get (id: InstrumentationId): Instrumentation {
    const inst = this.#instrumentations.get(id)
    if (inst === undefined) throw new HeatmeshError('ECA_NOENT', `no instrumentation ${id}`)
    return inst
  }

  // ---- tree ----------------------------------------------------------------------------------------

  #positionOf (inst: Instrumentation): TreePosition {
    if (this.#slowMembers !== undefined && this.#demoting !== !this.#tooManySlow()) {
      // Demotions start or stop applying (#tooManySlow): every tree changes.
      this.#demoting = !this.#demoting
      this.#movedAll()
    }
    if (inst.position === undefined || inst.stale) {
      const excluded = this.#excluded()
      const demoted = this.#demoted()
      if (this.#sharedTrees !== undefined && excluded.length === 0 && demoted.length === 0) {
        inst.position = this.#sharedTrees.position(this.#view, inst.key, this.#self, this.#config)
      } else {
        const n = this.#view.ids.length
        if (this.#scratch.length < n) this.#scratch = new Float64Array(Math.max(n, 2 * this.#scratch.length))
        inst.position = treePosition(this.#view, inst.key, this.#self, this.#config, this.#scratch, excluded, demoted)
      }
      inst.positionVersion = this.#viewVersion
      inst.stale = false
      inst.height = estimatedHeight(inst.position, this.#config.fanIn)
      this.#counters.recomputes++
    } else if (inst.positionVersion !== this.#viewVersion) {
      // Changes that cannot move it: only the member count (which the height reads) follows.
      const members = this.memberCount - this.#avoidedCount()
      if (inst.position.members !== members) {
        inst.position = { ...inst.position, members }
        inst.height = estimatedHeight(inst.position, this.#config.fanIn)
      }
      inst.positionVersion = this.#viewVersion
    }
    return inst.position
  }

  /** Members routed around (every avoided peer is a member: memberDown and setMembers forget the others). */
  #avoidedCount (): number {
    let n = this.#suspects.size
    for (const id of this.#unreachable.keys()) if (!this.#suspects.has(id)) n++
    return n
  }

  /** This node's place in `id`'s tree (computed if the view changed). */
  position (id: InstrumentationId): TreePosition {
    return this.#positionOf(this.#get(id))
  }

  /**
   * Acts on holder and root changes since the last call. A holder pulls the history of every
   * holder it did not know as one (all of them when it just became a holder: the new root or
   * replica fills its ring; a newcomer among the holders for the others: it may hold seconds it
   * finalized alone before they knew it). A node that stopped being the root pushes its recent
   * points to the new root.
   */
  #transitions (inst: Instrumentation, now: number, out: MergeOutput[]): void {
    const pos = this.#positionOf(inst)
    if (pos.holders === inst.holders) return
    const isHolder = pos.holders.includes(this.#self)
    const isRoot = pos.parent === undefined
    const nowSecond = Math.floor(now / 1000)
    if (isHolder) {
      const wasHolder = inst.holders.includes(this.#self)
      const from = Math.max(0, nowSecond - inst.spec.retentionTime)
      const to = Math.min(MAX_SECOND, Math.max(from, nowSecond + this.#config.maxClockSkewSeconds + 1))
      for (const h of pos.holders) {
        if (h === this.#self || (wasHolder && inst.holders.includes(h))) continue
        out.push({ type: 'send', to: h, message: { type: 'history-request', id: inst.id, from, to } })
      }
    }
    if (inst.wasRoot && !isRoot) {
      // Hand over: the new root may not have heard of the seconds this node finalized while the
      // others still saw it as root. The points carry their contributors, so nothing doubles, and
      // an open second's pieces, so that one the new root holds inside a larger is refused alone.
      const from = nowSecond - this.#config.lateWindowSeconds
      inst.handover = { points: inst.ring.points(from, Infinity, true, true), until: now + this.#config.lateWindowSeconds * 1000, to: pos.holders[0]! }
      this.#sendHistory(inst, inst.handover.to, inst.handover.points, out)
      // What the pending seconds merged into the ring travelled with those points.
      for (const a of inst.seconds.values()) if (!a.forwarded) a.ringed = EMPTY_DELTA
    } else if (inst.handover !== undefined) {
      // Views disagree after a heal: the root this node handed over to may not be the one the
      // others see, or may not know this node yet and refuse it. Again to each new root.
      if (now >= inst.handover.until || isRoot) inst.handover = undefined
      else if (pos.holders[0] !== inst.handover.to) {
        inst.handover.to = pos.holders[0]!
        this.#sendHistory(inst, inst.handover.to, inst.handover.points, out)
      }
    }
    inst.holders = pos.holders
    inst.wasRoot = isRoot
  }

  #deadline (inst: Instrumentation, second: number): number {
    this.#positionOf(inst)
    return (second + 1) * 1000 + this.#config.collectDelayMs + this.#config.hopMs * inst.height
  }

  // ---- assembly ------------------------------------------------------------------------------------

  #assembly (inst: Instrumentation, second: number): Assembly {
    let a = inst.seconds.get(second)
    if (a === this.#ownDone) {
      a = newAssembly(second, this.#deadline(inst, second))
      a.own = true
      a.forwarded = true
      a.merged = this.#selfSet
      inst.seconds.set(second, a)
    } else if (a === undefined) {
      a = newAssembly(second, this.#deadline(inst, second))
      inst.seconds.set(second, a)
    }
    return a
  }

  /**
   * Merges one piece (contributors non-empty) into assembly `a`, or refuses it. Before the
   * second is forwarded the piece joins the pending delta (and, at the root, the ring); after,
   * it travels on at once as a late piece.
   */
  /** Merges a piece: 'held' into the assembly (it goes up with it), 'merged' when it went up (or into the ring) on its own at once. */
  #accept (inst: Instrumentation, a: Assembly, contributors: ContributorSet, value: Value, now: number, out: MergeOutput[], resent?: Resent): 'merged' | 'held' | DropReason {
    if (!disjoint(contributors, a.merged)) return 'duplicate'
    const pos = this.#positionOf(inst)
    const nowSecond = Math.floor(now / 1000)
    const maxKeys = this.#config.maxKeys
    // A resent piece may duplicate one its first parent forwarded: combined with others, the
    // overlap would cost them all at the ancestor that refuses it; alone, only itself. One whose
    // first parent only went silent joins the root's ring alone too: that parent's combined
    // piece, should it come later, takes its place there (point-ring.ts).
    if (a.forwarded || resent === 'silent' || (resent !== undefined && pos.parent !== undefined)) {
      if (pos.parent === undefined) {
        const r = this.#ringLate(inst, pos, a.second, contributors, value, nowSecond, out)
        if (r !== 'merged') return r
      } else {
        this.#sendPartial(pos.parent, { type: 'partial', id: inst.id, second: a.second, contributors, value: limitValue(value, maxKeys), late: true, ...resentFlags(resent) }, now, out)
      }
      // A piece whose first parent only went silent is not recorded, here or on its way: that
      // parent may forward it yet, late and combined with others, and that combined piece must
      // not be refused for it (the root's ring takes it in the copy's place). One from a parent
      // known gone is: what that parent forwarded went before it, and a later duplicate is
      // refused alone.
      if (resent !== 'silent') a.merged = union(a.merged, contributors)
      this.#counters.late++
      this.#counters.merged++
      return 'merged'
    }
    const before = pos.parent === undefined ? a.ringed : a.unringed
    const next = addDelta(before, contributors, value)
    if (next === undefined) return 'malformed'
    if (pos.parent === undefined) {
      const r = dropOf(inst.ring.merge(a.second, contributors, value, inst.spec.expectedSources, nowSecond))
      if (r !== 'merged') return r
      a.ringed = next
    } else {
      a.unringed = next
    }
    // Usually the pending delta holds every piece merged here: its union is the record's, computed once.
    a.merged = a.merged === before.contributors ? next.contributors : union(a.merged, contributors)
    this.#counters.merged++
    return 'held'
  }

  /** Forwards (or finalizes) `a` if it is complete or its deadline has passed. */
  #maybeFlush (inst: Instrumentation, a: Assembly, now: number, out: MergeOutput[]): void {
    if (a.forwarded) return
    const pos = this.#positionOf(inst)
    // A node the others demoted is a leaf in their trees: its children there send elsewhere. And
    // a demoted child sends where its own trees say (it does not demote itself): not waited for.
    const waits = pos.children.length > 0 && !(pos.parent !== undefined && this.#demotedElsewhere())
    const complete = a.own && (!waits || this.#childrenSent(inst, pos.children, a.arrived))
    if (complete || a.deadline <= now) {
      this.#flush(inst, a, now, out)
    } else if (!a.scheduled) {
      // Only a second that waits gets a deadline: a leaf's goes up at once, at every second.
      a.scheduled = true
      this.#forwards.push({ at: a.deadline, seq: this.#forwardSeq++, inst, assembly: a })
    }
  }

  /** Whether every child (but a demoted or an absent one) sent a piece of the second. */
  #childrenSent (inst: Instrumentation, children: readonly PeerId[], arrived: ReadonlySet<PeerId> | undefined): boolean {
    // Fewer senders than children, and no one demoted or absent: someone is missing. Checked at
    // every arrival, so the walk below runs about once per second instead of once per child.
    const absent = inst.absent
    if ((arrived?.size ?? 0) < children.length && (this.#slowMembers === undefined || this.#slowMembers.size === 0) && (absent === undefined || absent.size === 0)) return false
    return children.every((c) => arrived?.has(c) === true || this.#isDemoted(c) || this.#isAbsent(absent, c))
  }

  /** Whether child `c` missed enough seconds in a row not to be waited for ("Absent children"). */
  #isAbsent (absent: ReadonlyMap<PeerId, number> | undefined, c: PeerId): boolean {
    const after = this.#config.absentChildSeconds
    return after > 0 && absent !== undefined && (absent.get(c) ?? 0) >= after
  }

  /**
   * Second `a` goes up: the children that had not sent a piece of it miss one more second in a
   * row, the others none. Only a second that went up at its deadline, or a node that already
   * counts someone absent, walks its children: when all came, there is nothing to count.
   */
  #countAbsent (inst: Instrumentation, children: readonly PeerId[], a: Assembly, now: number): void {
    if (this.#config.absentChildSeconds === 0 || children.length === 0) return
    if (a.deadline > now && (inst.absent === undefined || inst.absent.size === 0)) return
    const absent = inst.absent ??= new Map()
    // Children no more (the tree moved) are forgotten: one that comes back starts clean.
    for (const c of absent.keys()) if (!children.includes(c)) absent.delete(c)
    for (const c of children) {
      if (a.arrived?.has(c) === true || this.#isDemoted(c)) absent.delete(c)
      else absent.set(c, (absent.get(c) ?? 0) + 1)
    }
  }

  #flush (inst: Instrumentation, a: Assembly, now: number, out: MergeOutput[]): void {
    a.forwarded = true
    const pos = this.#positionOf(inst)
    if (pos.parent === undefined) {
      // Finalize: what arrived while this node was not yet root joins the ring now.
      if (a.unringed.values.length > 0) {
        const joined = joinDeltas(a.ringed, a.unringed)
        const r = joined === undefined ? 'malformed' : dropOf(inst.ring.merge(a.second, a.unringed.contributors, this.#sum(inst, a.unringed), inst.spec.expectedSources, Math.floor(now / 1000)))
        if (r === 'merged' && joined !== undefined) a.ringed = joined
        else if (r !== 'merged') this.#counters.dropped[r]++
      }
      if (a.ringed.values.length > 0) {
        this.#replicate(inst, pos, a.second, { contributors: a.ringed.contributors, value: this.#sum(inst, a.ringed) }, out)
        this.#store(inst, a.second, out)
      }
      inst.lastFinalized = Math.max(inst.lastFinalized ?? -Infinity, a.second)
      this.#counters.finalized++
      // From now on the ring's per-second sets are the exactly-once record of this second (late
      // pieces are merged there); keeping a second copy would double the root's memory.
      a.merged = NO_CONTRIBUTORS
    } else {
      // `ringed` is empty here: a node that stops being root hands its ring over (#transitions).
      const d = joinDeltas(a.ringed, a.unringed) ?? a.unringed
      const value = d.values.length === 0 ? undefined : this.#sum(inst, d)
      this.#sendPartial(pos.parent, { type: 'partial', id: inst.id, second: a.second, contributors: d.contributors, value, late: false }, now, out)
      this.#counters.forwarded++
    }
    a.ringed = EMPTY_DELTA
    a.unringed = EMPTY_DELTA
    this.#ackHeld(a, out)
    this.#countAbsent(inst, pos.children, a, now)
    // Who sent matters only until the second went up (#maybeFlush).
    a.arrived = undefined
    if (a.merged === this.#selfSet && pos.parent !== undefined && inst.seconds.get(a.second) === a) inst.seconds.set(a.second, this.#ownDone)
  }

  /** Merges a piece into the ring of this root at once (a late or resent piece), replicated and stored. */
  #ringLate (inst: Instrumentation, pos: TreePosition, second: number, contributors: ContributorSet, value: Value, nowSecond: number, out: MergeOutput[]): 'merged' | DropReason {
    const r = dropOf(inst.ring.merge(second, contributors, value, inst.spec.expectedSources, nowSecond))
    if (r !== 'merged') return r
    this.#replicate(inst, pos, second, { contributors, value }, out)
    this.#store(inst, second, out)
    return 'merged'
  }

  /** The number of the next partial to `parent` (PartialMessage.seq). */
  #nextSeq (parent: PeerId): number {
    const seq = this.#sequenceTo.get(parent) ?? 0
    setBounded(this.#sequenceTo, parent, seq + 1, MAX_CHILD_SEQUENCES)
    return seq
  }

  /**
   * An ack to `child`, naming the gaps in its partials (module header, "Gaps") if this node
   * follows its sequence; `sent`: an ack-request's next number, so that a lost tail is a gap too.
   */
  #ackTo (child: PeerId, sent: number | undefined, upTo: number | undefined): MergeMessage {
    const c = this.#childSequences.get(child)
    const gaps = c === undefined || (c.ahead === undefined && c.overdue === undefined && (sent === undefined || sent <= c.next)) ? [] : takeGaps(c, this.#now, sent)
    if (gaps.length === 0) return upTo === undefined ? ACK : { type: 'ack', upTo }
    return upTo === undefined ? { type: 'ack', gaps } : { type: 'ack', gaps, upTo }
  }

  /** Child `from`'s partial number `seq` arrived. */
  #arrived (from: PeerId, seq: number): void {
    const c = this.#childSequences.get(from)
    if (c !== undefined) return arrive(c, seq, this.#now)
    // Met midway (this node restarted, or forgot the child): what came before is not this
    // node's to miss. A number below `next` arriving later (links reorder) is ignored.
    setBounded(this.#childSequences, from, { next: seq + 1, ahead: undefined, overdue: undefined }, MAX_CHILD_SEQUENCES)
  }

  /**
   * The parent's ack names gaps in what arrived from this node: the partials of the watch's
   * confirmed batches that fall in one were lost on the way (a connection reset loses what had
   * left the socket). They go again at the next sweep, marked resent and silentParent (one
   * might arrive yet, combined: the copy is not recorded on the way, and at the root the
   * combined piece takes its place or refuses it alone).
   */
  #resendGaps (confirmed: PartialMessage[][], gaps: ReadonlyArray<readonly [number, number]>, w: Watch | undefined): void {
    // An asking partial is never taken for lost: a confirmed one was answered, so it arrived;
    // an unconfirmed one is left to its watch, whose ack it still owes.
    const lost = (p: PartialMessage): boolean => {
      if (p.ack === true || p.seq === undefined) return false
      for (const [from, to] of gaps) if (p.seq >= from && p.seq < to) return true
      return false
    }
    /** Whether `p` stays where it is; a lost one goes again at the next sweep instead. */
    const kept = (p: PartialMessage): boolean => {
      if (!lost(p)) return true
      this.#counters.gapsResent++
      ;(this.#nacked ??= []).push(copyPartial(p, p.ack, true, true))
      return false
    }
    // Not yet confirmed ones too: an ack answering an ask that came late (retransmitted) names
    // gaps in what was sent after the ask, and names each once (200 nodes, 40 % of attempts
    // lost: a partial sent after a delayed ask, named missing by its ack, confirmed by the next
    // and never sent again).
    if (w !== undefined && w.unacked.some(lost)) {
      w.confirms -= w.unacked.slice(0, w.confirms).filter(lost).length
      w.unacked = w.unacked.filter(kept)
    }
    for (let b = 0; b < confirmed.length; b++) {
      const batch = confirmed[b]!
      if (batch.some(lost)) confirmed[b] = batch.filter(kept)
    }
  }

  /** Acks the children whose asking pieces `a` held (once they went up, or will go nowhere). */
  #ackHeld (a: Assembly, out: MergeOutput[]): void {
    if (a.acks === undefined) return
    for (const [to, upTo] of a.acks) out.push({ type: 'send', to, message: this.#ackTo(to, undefined, upTo) })
    a.acks = undefined
  }

  /** The limited sum of a delta's values (bounded by construction: cannot overflow). */
  #sum (inst: Instrumentation, d: Delta): Value {
    // One piece (a leaf's own value) needs no merge: values are immutable, and valueFits checked its shape.
    const only = d.values.length === 1 ? d.values[0]! : mergeValueList(d.values, inst.zero)
    return limitValue(only, this.#config.maxKeys)
  }

  #replicate (inst: Instrumentation, pos: TreePosition, second: number, d: { contributors: ContributorSet, value: Value }, out: MergeOutput[]): void {
    for (const h of pos.holders) {
      if (h === this.#self) continue
      const message: ReplicaMessage = { type: 'replica', id: inst.id, second, contributors: d.contributors, value: d.value, nsources: inst.spec.expectedSources }
      out.push({ type: 'send', to: h, message })
      this.#counters.replicasSent++
    }
  }

  #store (inst: Instrumentation, second: number, out: MergeOutput[]): void {
    if (!inst.spec.persistData) return
    const point = inst.ring.point(inst.ring.slotOf(second), true)
    if (point !== undefined) out.push({ type: 'store', id: inst.id, point })
  }

  /** Sends `points` to `to` as history chunks of about historyChunkBytes; the last says done. */
  #sendHistory (inst: Instrumentation, to: PeerId, points: readonly StoredPoint[], out: MergeOutput[]): void {
    let chunk: StoredPoint[] = []
    let bytes = 0
    for (const whole of points) {
      // An open second's pieces travel while the point still fits a message with room to spare;
      // past that it goes as its sum, as it did before pieces travelled.
      let p = whole
      let size = pointSizeBound(p)
      if (p.pieces !== undefined && size > MAX_MERGE_MESSAGE_BYTES / 2) {
        const { pieces: _, ...sum } = p
        p = sum
        size = pointSizeBound(p)
      }
      if (chunk.length > 0 && (bytes + size > this.#config.historyChunkBytes || chunk.length >= MAX_POINTS_PER_MESSAGE)) {
        out.push({ type: 'send', to, message: { type: 'history', id: inst.id, points: chunk, done: false } })
        chunk = []
        bytes = 0
      }
      chunk.push(p)
      bytes += size
    }
    out.push({ type: 'send', to, message: { type: 'history', id: inst.id, points: chunk, done: true } })
  }

  // ---- commands ------------------------------------------------------------------------------------

  /**
   * This node's own value for `second` of `id`; undefined when it does not run the
   * instrumentation (it contributes nothing but still forwards its children's partials). Call it
   * once per second per instrumentation, shortly after the second ends.
   * @throws HeatmeshError ECA_NOENT (unknown id), ECA_INCOMPAT (a value of another shape).
   */
  contribute (id: InstrumentationId, second: number, value: Value | undefined, now: number): MergeOutput[] {
    const t = this.#clamp(now)
    const inst = this.#get(id)
    if (!Number.isSafeInteger(second)) throw new RangeError(`second ${second} is not an integer`)
    if (value !== undefined && !valueFits(inst.spec, value)) throw new HeatmeshError('ECA_INCOMPAT', `a ${value.type} value for a ${inst.spec.shape} instrumentation`)
    const out: MergeOutput[] = []
    this.#transitions(inst, t, out)
    const nowSecond = Math.floor(t / 1000)
    if (second < nowSecond - this.#config.lateWindowSeconds) { this.#counters.dropped['too-late']++; return out }
    if (second > nowSecond + this.#config.maxClockSkewSeconds) { this.#counters.dropped['too-early']++; return out }
    const a = this.#assembly(inst, second)
    if (a.own) { this.#counters.dropped.duplicate++; return out }
    a.own = true
    if (value !== undefined) {
      const r = this.#accept(inst, a, this.#selfSet, value, t, out)
      if (r !== 'merged' && r !== 'held') this.#counters.dropped[r]++
    }
    this.#maybeFlush(inst, a, t, out)
    return out
  }

  /** The points this node holds for `id` whose slots overlap [from, to) (seconds). */
  queryLocal (id: InstrumentationId, from: number, to: number): StoredPoint[] {
    return this.#get(id).ring.points(from, to, false)
  }

  /**
   * Asks the holders of `id` for the points of [from, to): the root first, then each replica on
   * timeout. The answer comes as a `query-result` (or `query-failed`) output of a later call, or of
   * this one when this node is the root.
   * @throws HeatmeshError ECA_NOENT for an unknown id, RangeError for a window that is not
   *   0 <= from <= to <= MAX_SECOND in whole seconds.
   */
  requestQuery (id: InstrumentationId, from: number, to: number, now: number): { requestId: number, outputs: MergeOutput[] } {
    const t = this.#clamp(now)
    const inst = this.#get(id)
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to || to > MAX_SECOND) {
      throw new RangeError(`query window [${from}, ${to}) is not 0 <= from <= to <= ${MAX_SECOND} whole seconds`)
    }
    const out: MergeOutput[] = []
    this.#transitions(inst, t, out)
    const requestId = this.#nextRequestId++
    if (this.#nextRequestId > 0xffffffff) this.#nextRequestId = 1
    const q: PendingQuery = { requestId, id, from, to, targets: this.#positionOf(inst).holders, index: -1, fallback: undefined }
    this.#queries.set(requestId, q)
    this.#nextTarget(q, t, out)
    return { requestId, outputs: out }
  }

  #nextTarget (q: PendingQuery, now: number, out: MergeOutput[]): void {
    this.#timers.stop('query', String(q.requestId))
    q.index++
    const target = q.targets[q.index]
    if (target === undefined) {
      this.#queries.delete(q.requestId)
      if (q.fallback !== undefined) out.push({ type: 'query-result', requestId: q.requestId, id: q.id, points: q.fallback.points, from: q.fallback.from })
      else out.push({ type: 'query-failed', requestId: q.requestId, id: q.id, reason: `none of the ${q.targets.length} holders answered within ${this.#config.queryTimeoutMs} ms` })
      return
    }
    if (target === this.#self) {
      const inst = this.#instrumentations.get(q.id)
      if (inst !== undefined) {
        this.#queries.delete(q.requestId)
        out.push({ type: 'query-result', requestId: q.requestId, id: q.id, points: inst.ring.points(q.from, q.to, false), from: this.#self })
        return
      }
      this.#nextTarget(q, now, out)
      return
    }
    out.push({ type: 'send', to: target, message: { type: 'query', requestId: q.requestId, id: q.id, from: q.from, to: q.to } })
    this.#timers.set('query', now + this.#config.queryTimeoutMs, String(q.requestId))
  }

  // ---- input ---------------------------------------------------------------------------------------

  /**
   * Handles one message from peer `from` (the authenticated peer of the stream). Bytes are
   * decoded and validated; an object (the simulator delivering what another core built) is
   * checked for membership and shape the same way, its encoding invariants (sorted contributor
   * sets, bounds) are trusted. Never throws.
   */
  handle (from: PeerId, message: MergeMessage | Uint8Array, now: number): MergeOutput[] {
    const t = this.#clamp(now)
    const out: MergeOutput[] = []
    try {
      let m: MergeMessage
      if (message instanceof Uint8Array) {
        try {
          m = decodeMergeMessage(message, this.#expectOf)
        } catch (err) {
          if (!(err instanceof MergeDecodeError)) throw err
          this.#counters.dropped[err.kind]++
          this.#lastError = err.message
          // A partial of a definition not here yet: refused as #onPartial refuses it ("Refusals and acks").
          const s = err.subject
          if (s?.type === 'partial' && s.second !== undefined && s.contributors !== undefined && this.#refusalMayBeLocal(err.kind, s.id)) {
            out.push({ type: 'send', to: from, message: nackOf(s.id, s.second, s.contributors) })
          }
          return out
        }
      } else {
        m = message
      }
      const received = this.#counters.received
      received[m.type] = (received[m.type] ?? 0) + 1
      // A peer that talks is reachable again (unless the membership suspects it).
      const asked = this.#silent.get(from)
      if (asked !== undefined) {
        this.#silent.delete(from)
        this.#noteSlowParent(from, t - asked, t)
      }
      if (this.#unreachable.delete(from) && !this.#suspects.has(from)) this.#readmit(from)
      this.#onMessage(from, m, t, out)
    } catch (err) {
      // A bug (or an input no check foresaw): counted and visible, and the daemon lives on.
      this.#counters.internalErrors++
      this.#lastError = err instanceof Error ? (err.stack ?? err.message) : String(err)
    }
    return out
  }

  /**
   * Whether a piece of `id` refused for `reason` might be taken elsewhere: its sender or a
   * contributor is not a member here, or its definition has not reached this node yet.
   */
  #refusalMayBeLocal (reason: DropReason, id: InstrumentationId): boolean {
    return reason === 'not-a-member' || (reason === 'unknown-instrumentation' && !this.#removed.has(id))
  }

  /**
   * A parent refused partial `m` for a reason another node may not have: it leaves the unacked
   * list (if it was the asking one, the nack answers the ask as an ack would) and goes again at
   * the next sweep, to the parent of the moment. Found also among what the last ack confirmed,
   * since a nack can arrive after the ack sent after it.
   */
  #onNack (from: PeerId, m: NackMessage): void {
    const w = this.#watches.get(from)
    if (w === undefined) return this.#drop('unsolicited')
    const same = (p: PartialMessage): boolean => p.id === m.id && p.second === m.second && sameContributors(p.contributors, m.contributors)
    let piece: PartialMessage | undefined
    const i = w.unacked.findIndex(same)
    if (i >= 0) {
      piece = w.unacked[i]!
      w.unacked.splice(i, 1)
      if (i < w.confirms) w.confirms--
      if (piece.ack === true && w.owed && i === w.confirms) {
        w.owed = false
        confirm(w)
      }
    } else {
      for (const batch of w.confirmed) {
        const j = batch.findIndex(same)
        if (j >= 0) { piece = batch.splice(j, 1)[0]; break }
      }
    }
    if (piece === undefined) return this.#drop('unsolicited')
    this.#counters.nacked++
    ;(this.#nacked ??= []).push(piece)
  }

  #drop (reason: DropReason): void {
    this.#counters.dropped[reason]++
  }

  #onMessage (from: PeerId, m: MergeMessage, now: number, out: MergeOutput[]): void {
    switch (m.type) {
      case 'partial': return this.#onPartial(from, m, now, out)
      case 'replica': return this.#onReplica(from, m, now, out)
      case 'history-request': {
        const inst = this.#instrumentations.get(m.id)
        if (inst === undefined) {
          out.push({ type: 'send', to: from, message: { type: 'history', id: m.id, points: [], done: true } })
          return
        }
        this.#sendHistory(inst, from, inst.ring.points(m.from, m.to, true, true), out)
        return
      }
      case 'history': return this.#onHistory(from, m, now, out)
      case 'query': {
        const inst = this.#instrumentations.get(m.id)
        const points = inst === undefined ? [] : this.#boundedPoints(inst.ring.points(m.from, m.to, false))
        const holder = inst !== undefined && this.#positionOf(inst).holders.includes(this.#self)
        out.push({ type: 'send', to: from, message: { type: 'query-reply', requestId: m.requestId, id: m.id, points, holder } })
        return
      }
      case 'query-reply': return this.#onQueryReply(from, m, now, out)
      case 'ack': {
        const w = this.#watches.get(from)
        // An answer to an ask of an earlier watch (dropped and started again) confirms nothing
        // of this one's (AckMessage.upTo); without upTo (a peer before it), it is taken as now.
        if (w !== undefined && w.owed && (m.upTo === undefined || w.upTo === undefined || m.upTo >= w.upTo)) {
          w.owed = false
          confirm(w)
        }
        // Gaps are news whenever the ack comes: late, after its parent was routed around, its
        // watch gone (what the watch confirmed is kept a while for this), or answering nothing.
        if (m.gaps !== undefined) this.#resendGaps(w?.confirmed ?? this.#formerConfirmed.get(from)?.batches ?? NO_BATCHES, m.gaps, w)
        return
      }
      case 'ack-request':
        out.push({ type: 'send', to: from, message: this.#ackTo(from, m.next, m.next) })
        return
      case 'nack': return this.#onNack(from, m)
      default: {
        const never: never = m
        throw new Error(`unhandled message ${JSON.stringify(never)}`)
      }
    }
  }

  /** The longest prefix of `points` that surely fits one message (a query asks for a bounded window). */
  #boundedPoints (points: StoredPoint[]): StoredPoint[] {
    let bytes = 256
    for (let i = 0; i < points.length; i++) {
      bytes += pointSizeBound(points[i]!)
      if (bytes > MAX_MERGE_MESSAGE_BYTES || i >= MAX_POINTS_PER_MESSAGE) return points.slice(0, i)
    }
    return points
  }

  /** Common checks of a data-bearing message; the drop reason, or undefined when it passes. */
  #check (from: PeerId, id: InstrumentationId, contributors: ContributorSet | undefined, value: Value | undefined, now: number): { inst: Instrumentation } | DropReason {
    const inst = this.#instrumentations.get(id)
    if (inst === undefined) return 'unknown-instrumentation'
    if (!this.#isMember(from)) return 'not-a-member'
    if (value !== undefined && !valueFits(inst.spec, value)) return 'wrong-shape'
    if (contributors !== undefined && !this.#allContributors(contributors, now)) return 'not-a-member'
    return { inst }
  }

  #secondInRange (second: number, now: number): DropReason | undefined {
    const nowSecond = Math.floor(now / 1000)
    if (second < nowSecond - this.#config.lateWindowSeconds) return 'too-late'
    if (second > nowSecond + this.#config.maxClockSkewSeconds) return 'too-early'
    return undefined
  }

  /**
   * A partial from a child. An asking one is acked once its piece went up (or, at the root, was
   * finalized and replicated), so an ack tells the child that nothing it sent before is still
   * held here: a parent that dies between taking a piece and forwarding it loses no second, the
   * child re-sends it. A refused piece, or one that went up at once, is acked at once (a refused
   * one only if its sender is a member here: see below).
   */
  #onPartial (from: PeerId, m: PartialMessage, now: number, out: MergeOutput[]): void {
    // Arrived, whatever becomes of it: the ack says so.
    if (m.seq !== undefined) this.#arrived(from, m.seq)
    const c = this.#check(from, m.id, m.contributors, m.value, now)
    const shape = (m.value === undefined) !== (m.contributors.length === 0) ? 'malformed' : undefined
    const refused = typeof c === 'string' ? c : shape ?? this.#secondInRange(m.second, now)
    if (typeof c === 'string' || refused !== undefined) {
      // Acked all the same: this node is there, and the piece would be refused anywhere. But
      // nacked when another node may take it ("Refusals and acks"): acked, it was lost (1,000
      // nodes, 10 % cut off for 15 s: 2,573 contributions missing against 920).
      if (this.#refusalMayBeLocal(refused ?? 'malformed', m.id)) out.push({ type: 'send', to: from, message: nackOf(m.id, m.second, m.contributors) })
      else if (m.ack === true) out.push({ type: 'send', to: from, message: this.#ackTo(from, undefined, upToOf(m)) })
      return this.#drop(refused ?? 'malformed')
    }
    const { inst } = c
    this.#transitions(inst, now, out)
    const a = this.#assembly(inst, m.second)
    if (!a.forwarded) (a.arrived ??= new Set()).add(from)
    // After the second went up but before its deadline: a child counted absent is on time
    // again (it would have been waited for), so it is waited for from the next second.
    else if (now <= a.deadline && inst.absent !== undefined) inst.absent.delete(from)
    const r = m.value === undefined ? 'held' : this.#accept(inst, a, m.contributors, m.value, now, out, resentOf(m))
    if (r !== 'merged' && r !== 'held') this.#drop(r)
    if (m.ack === true) {
      if (r === 'held' && !a.forwarded) (a.acks ??= []).push([from, upToOf(m)])
      else out.push({ type: 'send', to: from, message: this.#ackTo(from, undefined, upToOf(m)) })
    }
    this.#maybeFlush(inst, a, now, out)
  }

  #onReplica (from: PeerId, m: ReplicaMessage, now: number, out: MergeOutput[]): void {
    const c = this.#check(from, m.id, m.contributors, m.value, now)
    if (typeof c === 'string') return this.#drop(c)
    if (m.contributors.length === 0) return this.#drop('malformed')
    const range = this.#secondInRange(m.second, now)
    if (range !== undefined) return this.#drop(range)
    const { inst } = c
    const r = this.#mergeReplica(inst, m.second, m.contributors, m.value, m.nsources, now, out)
    if (r !== 'merged') this.#drop(r)
  }

  /** A replica's piece into this holder's ring, stored (the ring refuses an overlap). */
  #mergeReplica (inst: Instrumentation, second: number, contributors: ContributorSet, value: Value, nsources: number, now: number, out: MergeOutput[]): 'merged' | DropReason {
    const r = dropOf(inst.ring.merge(second, contributors, value, nsources, Math.floor(now / 1000)))
    if (r !== 'merged') return r
    this.#counters.replicasMerged++
    this.#store(inst, second, out)
    return 'merged'
  }

  #onHistory (from: PeerId, m: HistoryMessage, now: number, out: MergeOutput[]): void {
    // Contributors of old points may have left the mesh long ago: only the sender is checked.
    const c = this.#check(from, m.id, undefined, undefined, now)
    if (c === 'not-a-member') {
      // A root handing over after a heal, not known here yet: taken when it is (memberUp).
      // Bounded in count and in bytes: the oldest go first.
      const bytes = m.points.reduce((n, p) => n + pointSizeBound(p), 0)
      const kept = this.#strangerHistories
      while (kept.length > 0 && (kept.length >= MAX_STRANGER_HISTORIES || this.#strangerHistoryBytes + bytes > MAX_STRANGER_HISTORY_BYTES)) {
        this.#strangerHistoryBytes -= kept.shift()!.bytes
      }
      if (bytes <= MAX_STRANGER_HISTORY_BYTES) {
        kept.push({ from, m, at: now, bytes })
        this.#strangerHistoryBytes += bytes
      }
    }
    if (typeof c === 'string') return this.#drop(c)
    const { inst } = c
    const nowSecond = Math.floor(now / 1000)
    for (const p of m.points) {
      if (!valueFits(inst.spec, p.value) || p.pieces?.some((piece) => !valueFits(inst.spec, piece.value)) === true) { this.#drop('wrong-shape'); continue }
      const r = inst.ring.mergePoint(p, nowSecond)
      if (r === 'invalid') { this.#drop('malformed'); continue }
      if (r === 'too-late') { this.#drop('too-late'); continue }
      if (r === 'kept') continue
      this.#counters.historyMerged++
      this.#store(inst, p.second, out)
    }
  }

  #onQueryReply (from: PeerId, m: QueryReplyMessage, now: number, out: MergeOutput[]): void {
    const q = this.#queries.get(m.requestId)
    // A holder asked earlier may answer after its timeout: its answer is as good.
    const asked = q === undefined ? -1 : q.targets.indexOf(from)
    if (q === undefined || asked < 0 || asked > q.index || q.id !== m.id) return this.#drop('unsolicited')
    const inst = this.#instrumentations.get(m.id)
    if (inst !== undefined && m.points.some((p) => !valueFits(inst.spec, p.value))) return this.#drop('wrong-shape')
    if (m.holder) {
      this.#timers.stop('query', String(q.requestId))
      this.#queries.delete(q.requestId)
      out.push({ type: 'query-result', requestId: q.requestId, id: q.id, points: m.points, from })
      return
    }
    if (q.fallback === undefined) q.fallback = { points: m.points, from }
    this.#nextTarget(q, now, out)
  }

  // ---- time ----------------------------------------------------------------------------------------

  /** Fires every timer due at `now`: forwarding deadlines, query timeouts, the once-a-second sweep. */
  tick (now: number): MergeOutput[] {
    const t = this.#clamp(now)
    const out: MergeOutput[] = []
    for (let f = this.#liveForward(); f !== undefined && f.at <= t; f = this.#liveForward()) {
      this.#forwards.pop()
      this.#transitions(f.inst, t, out)
      this.#flush(f.inst, f.assembly, t, out)
    }
    for (const timer of this.#timers.due(t)) {
      switch (timer.kind) {
        case 'query': {
          const q = this.#queries.get(Number(timer.subject))
          if (q !== undefined) this.#nextTarget(q, t, out)
          break
        }
        case 'sweep': this.#sweep(t, out); break
        case 'resend': {
          const orphans = this.#orphans
          this.#orphans = []
          this.#resend(orphans, false, t, out)
          break
        }
        case 'replay': {
          const late = t - this.#config.lateWindowSeconds * 1000
          const histories = this.#strangerHistories.filter((h) => h.at >= late)
          this.#strangerHistories = histories.filter((h) => !this.#isMember(h.from))
          this.#strangerHistoryBytes = this.#strangerHistories.reduce((n, h) => n + h.bytes, 0)
          for (const h of histories) if (this.#isMember(h.from)) this.#onHistory(h.from, h.m, t, out)
          break
        }
        default: {
          const never: never = timer.kind
          throw new Error(`unhandled timer ${String(never)}`)
        }
      }
    }
    return out
  }

  /** The earliest forwarding deadline still pending (stale ones are dropped on the way). */
  #liveForward (): ForwardTimer | undefined {
    for (let f = this.#forwards.peek(); f !== undefined; f = this.#forwards.peek()) {
      const { inst, assembly: a } = f
      if (!a.forwarded && this.#instrumentations.get(inst.id) === inst && inst.seconds.get(a.second) === a) return f
      this.#forwards.pop()
    }
    return undefined
  }

  /** Once a second: holder transitions, ring ageing; every FORGET_EVERY_S, forgetting seconds beyond the late window. */
  #sweep (now: number, out: MergeOutput[]): void {
    const nowSecond = Math.floor(now / 1000)
    if (this.#nacked !== undefined) {
      // Once a second, not at once: the parent that refused may be the parent still.
      const nacked = this.#nacked
      this.#nacked = undefined
      for (const m of nacked) this.#reroute(m, now, out)
    }
    const cutoff = nowSecond - this.#config.lateWindowSeconds
    const forget = nowSecond % FORGET_EVERY_S === 0
    for (const inst of this.#instrumentations.values()) {
      this.#transitions(inst, now, out)
      inst.ring.sweep(nowSecond)
      if (forget) inst.seconds.forgetBefore(cutoff)
    }
    for (const [key, at] of this.#recentlyDown) if (at < now - this.#config.lateWindowSeconds * 1000) this.#recentlyDown.delete(key)
    if (this.#slowMembers !== undefined) {
      for (const [id, until] of this.#slowMembers) {
        if (now < until) continue
        this.#slowMembers.delete(id)
        this.#demotionChanged(id)
      }
    }
    this.#sweepWatches(now, out)
    for (const [id, until] of this.#unreachable) {
      if (until > now) continue
      if (this.#silent.has(id)) {
        // Asked, not trusted: its answer (any message) brings it back.
        this.#unreachable.set(id, now + this.#config.unreachableMs)
        out.push({ type: 'send', to: id, message: ACK_REQUEST })
        continue
      }
      this.#unreachable.delete(id)
      if (!this.#suspects.has(id)) this.#readmit(id)
    }
    this.#timers.set('sweep', (nowSecond + 1) * 1000)
  }

  /**
   * Watches of parents this node stopped sending to (the tree moved): one owing an ack for longer
   * than a partial's check would allow is silent (its unacked partials go elsewhere); one holding
   * unacked partials is asked (ack-request); one with nothing left to confirm is forgotten.
   */
  #sweepWatches (now: number, out: MergeOutput[]): void {
    const c = this.#config
    if (this.#slowParents !== undefined) for (const [id, slow] of this.#slowParents) if (now >= slow.until) this.#slowParents.delete(id)
    for (const [id, former] of this.#formerConfirmed) {
      if (now >= former.until) this.#formerConfirmed.delete(id)
      else if (former.askAt !== undefined && now >= former.askAt && !this.#watches.has(id)) {
        // Once, with the next number, so that its ack names what it lacks (#keepConfirmed).
        former.askAt = undefined
        out.push({ type: 'send', to: id, message: this.#ackRequestTo(id) })
      }
    }
    // Watches of departed members were orphaned when they left (memberDown, setMembers).
    for (const [id, w] of this.#watches) {
      if (w.owed) {
        if (now - w.asked < this.#watchTimeout(id, now) + 1000 || now - w.last < 1000) continue
        this.#counters.parentsSilent++
        this.#silent.set(id, w.asked)
        this.#routeAround(id, undefined, true, now, out)
      } else if (w.unacked.length > 0) {
        if (now - w.last < c.watchIntervalMs) continue
        w.asked = now
        w.owed = true
        w.confirms = w.unacked.length
        const request = this.#ackRequestTo(id)
        w.upTo = request.next
        out.push({ type: 'send', to: id, message: request })
      } else if (now - w.last >= c.watchIntervalMs) {
        this.#watches.delete(id)
      }
    }
  }

  /** An ack-request to parent `id` with the next number: what this node sent since the last partial that arrived there is a gap if it did not. */
  #ackRequestTo (id: PeerId): AckRequestMessage & { readonly next: number } {
    return { type: 'ack-request', next: this.#sequenceTo.get(id) ?? 0 }
  }

  /** How long parent `id` may owe an ack before it is taken for silent: longer for a parent known slow. */
  #watchTimeout (id: PeerId, t: number): number {
    // Expired entries are forgotten by the per-second sweep (#sweepWatches).
    const slow = this.#slowParents?.get(id)
    return slow !== undefined && t < slow.until ? slow.timeoutMs : this.#config.watchTimeoutMs
  }

  /** Parent `id`, taken for silent, answered `lateness` ms after the ack it owed was asked. */
  #noteSlowParent (id: PeerId, lateness: number, t: number): void {
    const c = this.#config
    if (lateness <= c.watchTimeoutMs) return
    const timeoutMs = Math.min(c.slowParentTimeoutMs, Math.max(2 * lateness, this.#slowParents?.get(id)?.timeoutMs ?? 0))
    ;(this.#slowParents ??= new Map()).set(id, { timeoutMs, until: t + c.slowParentMemoryMs })
    this.#counters.slowParents++
  }

  /** When tick() must next be called. */
  nextDeadline (): number | undefined {
    const timer = this.#timers.next()?.at
    const forward = this.#liveForward()?.at
    return timer === undefined ? forward : forward === undefined ? timer : Math.min(timer, forward)
  }

  #clamp (now: number): number {
    if (now > this.#now) this.#now = now
    return this.#now
  }

  // ---- getters -------------------------------------------------------------------------------------

  /** This node's peer id. */
  get self (): PeerId { return this.#self }

  /** Whether this node holds `id`'s history (root or replica) in its view. */
  isHolder (id: InstrumentationId): boolean {
    return this.#positionOf(this.#get(id)).holders.includes(this.#self)
  }

  /** Points and approximate bytes of `id`'s ring at this node. */
  ringStats (id: InstrumentationId): RingStats {
    return this.#get(id).ring.stats()
  }

  /** The activity counters (a live view; copy it to keep a snapshot). */
  get counters (): Readonly<MergeCounters> { return this.#counters }

  /** A post-mortem snapshot: counters and every instrumentation's place in its tree. */
  debugState (): Record<string, unknown> {
    const instrumentations: Record<string, unknown> = {}
    for (const inst of this.#instrumentations.values()) {
      const pos = this.#positionOf(inst)
      instrumentations[inst.id] = {
        parent: pos.parent ?? null,
        children: [...pos.children],
        depth: pos.depth,
        holders: [...pos.holders],
        isHolder: pos.holders.includes(this.#self),
        lastFinalized: inst.lastFinalized ?? null,
        pendingSeconds: inst.seconds.values().filter((a) => !a.forwarded).length,
        ring: inst.ring.stats()
      }
    }
    const c = this.#counters
    return {
      now: this.#now,
      members: this.memberCount,
      suspects: [...this.#suspects],
      unreachable: Object.fromEntries(this.#unreachable),
      watched: Object.fromEntries([...this.#watches].map(([id, w]) => [id, { owed: w.owed, unacked: w.unacked.length }])),
      // Parents found slow (their longer watch timeouts), and members demoted because the membership found them slow.
      slowParents: Object.fromEntries(this.#slowParents ?? []),
      slowMembers: Object.fromEntries(this.#slowMembers ?? []),
      counters: { ...c, received: { ...c.received }, dropped: { ...c.dropped } },
      instrumentations,
      pendingQueries: this.#queries.size,
      lastError: this.#lastError ?? null
    }
  }
}

/** Builds a node's merge core (see MergeCore for the call contract). */
export function createMergeCore (init: MergeCoreInit): MergeCore {
  return new MergeCore(init)
}
