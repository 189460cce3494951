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

/**
 * How many gossip messages per topic each author may make a node validate and forward: 20 a
 * second, in bursts of up to 100. Legitimate traffic is far below: a definition change is one
 * message, and accesses are published at most once per instrumentation and node per second
 * (usually per minute); a burst of 100 covers a script creating instrumentations in a loop. What
 * is dropped over the rate, anti-entropy repairs within its period. See gossip.ts.
 */
export const DEFAULT_GOSSIP_RATE = { perSecond: 20, burst: 100 } as const

/** How long a request may take end to end (dial, send, answer) before it fails as timed out. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000

/**
 * Interval of libp2p's connection monitor (a ping per connection). It finds connections whose
 * peer vanished without a FIN (power loss, cable), which the redialer depends on. Each ping is a
 * new stream (negotiation, peer-store write, a few encrypted frames) on every connection from
 * both ends, and a daemon ends up connected to most members (SWIM probes them all in turn), so
 * its cost grows with the mesh: at 10 s it was ~0.04 % of a core per connection in the idle
 * profile. SWIM detects failed members on its own within seconds, and a connection that died
 * silently costs nothing meanwhile but writes into the void, so 30 s is enough for a backstop.
 * STACK.md §3: runs with hundreds of nodes in one process pass 0 to turn it off.
 */
export const DEFAULT_MONITOR_INTERVAL_MS = 30_000

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

/**
 * Direct connections to live members a node keeps (connection-keeper.ts), so that gossip has a
 * graph of its own beyond the bootstrap node: gossipsub's mesh degree is 6 (4 to 12), and a few
 * more leave it a choice. More connections than this come and go as the protocol core needs.
 */
export const DEFAULT_MIN_PEERS = 8

/** Largest key or identity file we read, in bytes (a network key is 95 bytes, an identity 68). */
export const MAX_KEY_FILE_BYTES = 4096
