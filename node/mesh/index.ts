/**
 * The mesh's transport: a libp2p host for a private, signed heatmesh mesh (TCP, pnet, noise,
 * yamux, identify, ping, gossipsub with a per-author rate limit, one-way message channels,
 * request/response streams, bootstrap redial), the network key and the node identity it needs.
 * No protocol decisions live here; the protocol core makes them (binding.ts carries them out).
 *
 * @example
 * ```ts
 * import { createMeshHost, loadOrCreateIdentity, readNetworkKey } from './mesh/index.js'
 *
 * const { identity } = await loadOrCreateIdentity('/var/lib/heatmesh')
 * const host = await createMeshHost({
 *   identity,
 *   networkKey: await readNetworkKey('/etc/heatmesh/swarm.key'),
 *   random: Math.random,
 *   listen: ['/ip4/0.0.0.0/tcp/7071'],
 *   bootstrap: ['/ip4/10.0.0.1/tcp/7071/p2p/12D3KooW...']
 * })
 * host.subscribe('definitions', (from, value) => { ... }, (from, bytes) => decodeOrReject(bytes))
 * await host.handle('/heatmesh/sync/1.0.0', async (from, request) => answer(request))
 * const reply = await host.request(peer, '/heatmesh/sync/1.0.0', bytes, { timeoutMs: 2000 })
 * await host.handleMessages('/heatmesh/core/2.0.0', (from, message) => { ... })  // one-way, long-lived stream
 * await host.send(peer, '/heatmesh/core/2.0.0', bytes)
 * await host.stop()
 * ```
 */
export { createMeshHost, type MeshHost, type MeshHostInit, type MeshHostState, type PeerEvent } from './host.js'
export type { GossipHandler, GossipValidator, GossipVerdict, TopicCounters, EnvelopeCounters } from './gossip.js'
export type { RequestHandler, RequestOptions, StreamCounters } from './streams.js'
export type { ChannelCounters, MessageHandler, SendOptions } from './message-channels.js'
export type { RatePolicy } from './rate-limit.js'
export {
  redialDelay, failuresAfterDisconnect, parseBootstrapAddress,
  type BackoffPolicy, type BootstrapTarget, type RedialTargetState
} from './redial.js'
export {
  generateNetworkKey, formatNetworkKey, parseNetworkKey, readNetworkKey, writeNetworkKey, loadOrCreateNetworkKey,
  networkKeyFingerprint, NETWORK_KEY_BYTES, type NetworkKey
} from './network-key.js'
export { generateIdentity, parseIdentity, loadOrCreateIdentity, IDENTITY_FILE, type NodeIdentity } from './identity.js'
export { KeyFileError, MeshRequestError, MeshDialError, type KeyFileKind, type RequestFailure } from './errors.js'
export * as meshDefaults from './constants.js'
