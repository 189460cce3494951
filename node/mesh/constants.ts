/**
 * Defaults of the mesh host's options, one place for each (every `MeshHostInit` field names its
 * default here with `@see`). Chosen for a daemon with one libp2p node per process; an in-process
 * test or calibration run with many nodes overrides a few (see STACK.md §3).
 */

/** Where a node listens when nothing is configured: loopback only, a free port. */
export const DEFAULT_LISTEN: readonly string[] = ['/ip4/127.0.0.1/tcp/0']

/**
 * Largest request or response frame on a request/response protocol, in bytes. A bigger frame is
 * refused from its length prefix, before its body is read. 1 MiB leaves room for anti-entropy
 * chunks and merged partials, while bounding what one hostile stream can make us buffer.
 */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024

/**
 * Largest gossip message payload, in bytes. Gossip is signed, verified and forwarded by every
 * node, so it is kept small; bulk data travels on request/response streams instead. Equal to the
 * protocol core's `MAX_MESSAGE_BYTES`.
 */
export const DEFAULT_MAX_GOSSIP_BYTES = 64 * 1024

/** How long a request may take end to end (dial, send, answer) before it fails as timed out. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000

/**
 * Interval of libp2p's connection monitor (a ping per connection). It finds connections whose
 * peer vanished without a FIN (power loss, cable), which the redialer and membership depend on.
 * STACK.md §3: the monitor dominates idle CPU only with hundreds of nodes in one process, so a
 * daemon keeps it (one node per process, tens of connections) and such runs pass 0 to turn it off.
 */
export const DEFAULT_MONITOR_INTERVAL_MS = 10_000

/**
 * How long one dial (TCP connect, pnet, noise, yamux) or inbound handshake may take. It is also
 * how long a dial to a peer with another network key takes to fail (see host.ts).
 */
export const DEFAULT_DIAL_TIMEOUT_MS = 5000

/** Redial backoff: first retry after at most 0.5 s, doubling up to 30 s, each delay jittered down by up to half. */
export const DEFAULT_REDIAL_BACKOFF = {
  initialMs: 500,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.5,
  stableMs: 30_000
} as const

/**
 * Connection-manager limits. libp2p's defaults (5 inbound connections per second per IP, 10
 * pending upgrades) refuse dials when many nodes share one IP, as every node of a loopback test
 * does (STACK.md §3). Loopback is also on the allow list, which bypasses these limits: a local
 * process still needs the network key to get further than the pnet handshake.
 */
export const CONNECTION_LIMITS = {
  inboundConnectionThreshold: 100,
  maxIncomingPendingConnections: 256,
  allow: ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128']
} as const

/** Largest key or identity file we read, in bytes (a network key is 95 bytes, an identity 68). */
export const MAX_KEY_FILE_BYTES = 4096
