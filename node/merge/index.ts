/**
 * The merge tree's protocol core, sans-IO: per instrumentation, a tree over the live members
 * derived by every node from its own view (tree.ts), exact per-second merging up that tree with
 * exactly-once contributor sets (contributors.ts), the holders' point rings (point-ring.ts), the
 * binary wire messages (messages.ts), MergeCore, the state machine the daemon and the simulator
 * both drive (merge-core.ts), and a virtual-time cluster harness (cluster.ts).
 *
 * Nothing here performs I/O, reads a clock, or draws randomness of its own.
 *
 * @packageDocumentation
 * @example
 * // The binding passes its clock reading as `now` (ms); the core never reads a clock itself.
 * const merge = createMergeCore({ self: peerId, now, members: livePeerIds, restore: loadedPoints })
 * carryOut(merge.setInstrumentation(id, { shape, bucketing, granularity, retentionTime, persistData, valueScope, expectedSources }, now))
 * merge.memberUp(peer, now)                                   // and memberSuspect, memberDown, from MeshCore's member outputs
 * carryOut(merge.contribute(id, second, valueOrUndefined, now)) // once a second per instrumentation
 * carryOut(merge.handle(from, bytes, now))                    // a frame from the merge stream protocol
 * carryOut(merge.tick(now))                                   // when now >= merge.nextDeadline()
 * // carryOut: send -> encodeMergeMessage(message) to the peer; store / drop-store -> disk; query-result -> HTTP
 */
export { createMergeCore, MergeCore, type DropReason, type MergeCoreInit, type MergeCounters, type MergeOutput, type ViewChanges } from './merge-core.js'
export { DEFAULT_MERGE_CONFIG, mergeConfig, type MergeConfig } from './config.js'
export { checkSpec, expectationOf, valueFits, type InstrumentationSpec, type ValueScope } from './spec.js'
export {
  buildTree, estimatedHeight, hasMemberKey, holdersOf, indexOfMember, instrumentationKey, joinCanMove, leaveCanMove, memberCount, memberKey, membersOf, NO_MEMBERS,
  treePosition, treeScore, WholeTree, withMember, withoutMember, withoutMembers, type FullTree, type SharedTrees, type InstrumentationKey, type MemberSet, type TreePosition, type TreeShape
} from './tree.js'
export {
  contributorCount, contributorsOf, decodeContributors, disjoint, encodeContributors, hasContributor, isContributorSet, MAX_CONTRIBUTORS,
  NO_CONTRIBUTORS, union, type ContributorSet
} from './contributors.js'
export {
  decodeMergeMessage, encodeMergeMessage, mergeMessageByteLength, MAX_ID_LENGTH, MAX_MERGE_MESSAGE_BYTES, MAX_POINTS_PER_MESSAGE, MAX_SECOND, MERGE_WIRE_VERSION,
  MergeDecodeError, pointSizeBound, type DecodeFailure, type ExpectationLookup, type HistoryMessage, type HistoryRequestMessage,
  type InstrumentationId, type MergeMessage, type PartialMessage, type QueryMessage, type QueryReplyMessage, type ReplicaMessage
} from './messages.js'
export { FieldDecodeError } from './wire.js'
export {
  PointRing, type PointMergeResult, type RingConfig, type RingMergeResult, type RingStats, type SecondCoverage, type StoredPoint
} from './point-ring.js'
export { createMergeCluster, MergeCluster, type MergeClusterNode, type MergeClusterOptions, type QueryOutcome } from './cluster.js'
