/**
 * The mesh's protocol core, sans-IO: membership (SWIM with Lifeguard refinements), the
 * replicated map of instrumentation definitions, and MeshCore, which composes them into the one
 * state machine that the libp2p daemon and the simulator both drive. Plus the wire codec, the
 * persisted state, the injected random source, and the virtual-time cluster harness.
 *
 * Nothing here performs I/O, reads a clock, or draws randomness of its own.
 *
 * @packageDocumentation
 * @example
 * import { createMeshCore, createRng, decodePersistedState } from './node/core/index.js'
 * const core = createMeshCore({
 *   self: { id: peerId, name: hostname, addresses: listenAddrs, meta: { backends: ['bpftrace'] } },
 *   seeds: bootstrapAddrs,
 *   rng: createRng(osRandomSeed),
 *   now: Date.now(),
 *   restore: saved === undefined ? undefined : decodePersistedState(saved)
 * })
 * carryOut(core.start(Date.now()))                    // send, publish, persist, member, definition
 * carryOut(core.handle({ type: 'message', from, message: bytes }, Date.now()))
 * carryOut(core.handle({ type: 'gossip', from, topic, message: bytes }, Date.now()))
 * carryOut(core.tick(Date.now()))                     // when Date.now() >= core.nextDeadline()
 * const { id, outputs } = core.createDefinition(canonicalJson, Date.now())
 */
export { createMeshCore, MeshCore, type MeshCoreInit, type MeshInput, type MeshOutput, type SelfCard } from './mesh-core.js'
export {
  DEFAULT_MEMBERSHIP_CONFIG, detectionBound, type MemberChange, type MembershipConfig, type MemberView
} from './membership.js'
export {
  accessSlack, compareEntries, compareVersions, DEFAULT_DEFINITIONS_CONFIG, type DefinitionChange, type DefinitionsConfig,
  type ReplicaState
} from './definitions.js'
export {
  ALIVE_UPDATE_OVERHEAD, decodePeerMessage, decodeTopicMessage, DEFINITIONS_TOPIC, encodedSize, encodePeerMessage, encodeTopicMessage,
  jsonByteLength, memberRecord, memberRecordBytes,
  MAX_ADDRESSES, MAX_ADDRESS_LENGTH, MAX_DEFINITION_BYTES, MAX_DEFINITIONS_PER_CHUNK, MAX_MEMBERS_PER_CHUNK, MAX_MESSAGE_BYTES,
  MAX_META_BYTES, MAX_NAME_LENGTH, MAX_PEER_ID_LENGTH, MAX_UPDATES_PER_MESSAGE, WIRE_VERSION,
  type DefinitionEntry, type DefinitionId, type JsonObject, type JsonValue, type MemberEntry, type MemberRecord, type MemberState,
  type MemberUpdate, type PeerId, type PeerMessage, type SyncSet, type TopicMessage, type Version
} from './messages.js'
export { decodePersistedState, PERSISTED_FORMAT, type PersistedState } from './persisted-state.js'
export { createPeerInterner, PeerInterner } from './peer-interner.js'
export { MemberSnapshot } from './member-table.js'
export { createRng, type Rng } from './rng.js'
export { Cluster, clusterPeerId, createCluster, type ClusterNode, type ClusterOptions } from './cluster.js'
export { fmix32 } from './digest.js'
export { EventHeap, type TimedEvent } from './event-heap.js'
