/**
 * A model of gossipsub (v1.1, @libp2p/gossipsub 17 with js-libp2p's defaults) carrying the
 * `definitions` topic between simulated nodes, faithful enough to check: who receives a
 * publication, after how many hops and how much later, with how many duplicate copies and how
 * many bytes per node.
 *
 * THE MODEL.
 * - Connections. Each node dials `connections / 2` random nodes at start (links are two-way,
 *   so a node has ~`connections` peers, all subscribed to the topic). A restarted node keeps its
 *   peers. A crashed node's connections close at once (a process crash resets its TCP
 *   connections); a partition leaves connections open but lets nothing through.
 * - Mesh. All nodes subscribe at once at the start, so each one's join grafts no one (gossipsub
 *   joins with the topic peers it knows of); the meshes form at the first heartbeats, in phase
 *   order. At a heartbeat a mesh below D_lo = 4 grafts up to D = 6 among its live peers, one above
 *   D_hi = 12 prunes down to D; a grafted node takes the grafter in unless its mesh holds D_hi
 *   already, when it answers PRUNE (gossipsub's handleGraft, which would take an outbound peer
 *   all the same: the model does not tell who dialled whom). Degrees end in D_lo .. D_hi.
 * - Publishing is flood publishing (js-libp2p's default): the author sends to every peer. A
 *   node receiving a message for the first time (message-id dedup: one seen-flag per node and
 *   message; a restart clears it) delivers it to its core and forwards it to its mesh peers but
 *   the sender and the author; a copy already seen is a duplicate, dropped.
 * - Processing (GossipCpu). A message received for the first time costs its node `ms` of CPU
 *   (decoding, the signature check, validation, the core's work on it) before it is forwarded
 *   and delivered; a node busy with earlier ones takes it after them. Duplicates, control
 *   frames and publishing cost nothing. With `shared`, all nodes take turns on one CPU: the
 *   calibration's rig, whose real nodes share one thread.
 * - Gossip, as gossipsub's heartbeat emits it (emitGossip, doEmitGossip). Heartbeats come every
 *   second, at a random phase per node. At each, a node that received messages in the last 3
 *   heartbeats (history_gossip) sends one IHAVE with all their ids to a random choice of its
 *   eligible peers: the live topic peers outside its mesh as this heartbeat left it. It picks
 *   gossipFactor = 0.25 of them (rounded down), at least D_lazy = 6, at most all (ihaveFanout):
 *   with 32 peers that is mostly D_lazy (6.3 on average), with every node connected to every
 *   other a quarter of the fleet (16-17 at 75 nodes).
 *   With nothing to announce it sends no IHAVE. A peer lacking some of the ids answers one IWANT
 *   for those, and gets each message if it is within the last 5 heartbeats (history_length).
 *   A node with nothing to gossip and a healthy mesh skips its heartbeat (it would change
 *   nothing).
 * - Bytes: a frame costs the length of its protobuf encoding as gossipsub writes it (frameBytes,
 *   from the field sizes in RPC_BYTES), before the stream's length prefix: a message is its
 *   payload in a signed envelope (author, seqno, topic, Ed25519 signature and the author's
 *   public key, which StrictSign sends although an Ed25519 peer id already holds it: 173 bytes
 *   around a payload of 128 B .. 16 KB); IHAVE and IWANT carry 44-byte message ids (key and
 *   seqno); IHAVE with one id is 63 bytes. Validation is not modelled: every message is accepted.
 * - Left out, because the definitions topic never reaches them: IHAVE cut to 5,000 ids, at most
 *   10 IHAVE taken per peer and heartbeat, at most 3 answers to IWANT per message and peer, peer
 *   scores (every peer stays above gossipThreshold), IDONTWANT (sent for payloads of 512 bytes and
 *   more). An IWANT for several ids is answered with one frame per message, where gossipsub
 *   batches them in one frame of the same bytes.
 */
import { DEFINITIONS_TOPIC, type Rng, type TopicMessage } from '../node/core/index.js'

/** gossipsub's parameters (js-libp2p @libp2p/gossipsub defaults). */
export const GOSSIPSUB = Object.freeze({
  /** Target mesh degree. */
  D: 6,
  /** Below this at a heartbeat, graft back up to D. */
  Dlo: 4,
  /** Above this at a heartbeat, prune down to D. */
  Dhi: 12,
  /** The fewest peers outside the mesh that a heartbeat's gossip goes to. */
  Dlazy: 6,
  /** The fraction of the eligible peers outside the mesh that a heartbeat's gossip goes to. */
  gossipFactor: 0.25,
  heartbeatMs: 1000,
  /** Heartbeats whose messages are announced in IHAVE. */
  historyGossip: 3,
  /** Heartbeats a message stays in the cache that IWANT is served from. */
  historyLength: 5
})

/** Bytes of a varint holding n (n >= 0). */
function varintBytes (n: number): number {
  let bytes = 1
  for (let v = n; v >= 128; v = Math.floor(v / 128)) bytes++
  return bytes
}

/** Bytes of a length-delimited protobuf field (one-byte tag, length, body) whose body is n bytes. */
function field (n: number): number {
  return 1 + varintBytes(n) + n
}

/**
 * Sizes of the fields gossipsub's frames are made of (its protobuf RPC; StrictSign, Ed25519
 * keys, the definitions topic). frameBytes assembles them.
 */
export const RPC_BYTES = Object.freeze({
  /** The topic's name, UTF-8. */
  topic: new TextEncoder().encode(DEFINITIONS_TOPIC).length,
  /** The author's peer id: an identity multihash of the Ed25519 public key. */
  from: 38,
  /** The author's public key in its protobuf form (sent by StrictSign in every message). */
  key: 36,
  seqno: 8,
  /** Ed25519. */
  signature: 64,
  /** A message id: the author's key (protobuf form) and the seqno (msgIdFnStrictSign). */
  messageId: 44,
  /** PRUNE's backoff (60 s) as a varint; no peer exchange (doPX is off). */
  backoff: varintBytes(60)
})

/** Bytes of one encoded gossipsub RPC frame (see the module doc), by kind. */
export const frameBytes = Object.freeze({
  /** A frame with one message of `payload` bytes. */
  message: (payload: number): number => field(
    field(RPC_BYTES.from) + field(payload) + field(RPC_BYTES.seqno) + field(RPC_BYTES.topic) + field(RPC_BYTES.signature) + field(RPC_BYTES.key)
  ),
  /** IHAVE for `ids` message ids of the topic. */
  ihave: (ids: number): number => field(field(field(RPC_BYTES.topic) + ids * field(RPC_BYTES.messageId))),
  /** IWANT for `ids` message ids (IWANT names no topic). */
  iwant: (ids: number): number => field(field(ids * field(RPC_BYTES.messageId))),
  graft: field(field(field(RPC_BYTES.topic))),
  prune: field(field(field(RPC_BYTES.topic) + 1 + RPC_BYTES.backoff))
})

/**
 * How many of its `eligible` peers a heartbeat's IHAVE goes to: gossipFactor of them, at least
 * D_lazy, at most all. gossipsub's doEmitGossip takes `slice(0, max(Dlazy, gossipFactor ×
 * eligible))` of them shuffled, so the fraction rounds down.
 */
export function ihaveFanout (eligible: number): number {
  return Math.min(eligible, Math.max(GOSSIPSUB.Dlazy, Math.floor(GOSSIPSUB.gossipFactor * eligible)))
}

/** One gossipsub frame between two nodes. */
export type GossipRpc =
  | { readonly kind: 'message', readonly id: number }
  | { readonly kind: 'ihave', readonly ids: readonly number[] }
  | { readonly kind: 'iwant', readonly ids: readonly number[] }
  | { readonly kind: 'graft' }
  | { readonly kind: 'prune' }

/** A published message. */
export interface GossipMessage {
  readonly id: number
  /** The author's node index. */
  readonly origin: number
  readonly payload: TopicMessage
  /** Payload bytes (the core's encoding). */
  readonly bytes: number
  /** Bytes of a frame carrying it (frameBytes.message). */
  readonly frameBytes: number
  readonly publishedAt: number
}

/** What the model needs from the simulator. */
export interface GossipHost {
  isUp: (i: number) => boolean
  /** Sends a frame over the network model (latency, loss, partitions, bandwidth). */
  send: (from: number, to: number, rpc: GossipRpc, bytes: number, now: number) => void
  /** Hands a first-seen message to node i's core. */
  deliver: (i: number, message: GossipMessage, now: number) => void
  /** Calls heartbeat(i, at) at time `at`. */
  armHeartbeat: (i: number, at: number) => void
  /** Calls `run` at time `at` (a message's processing is done: GossipCpu). */
  later: (at: number, run: () => void) => void
}

/**
 * The CPU a node spends on each message it receives first (decoding, signature check,
 * validation, delivery to its core) before it forwards and delivers it: frames received while
 * it is busy wait their turn. Shared: every node takes turns on one CPU, as the calibration's
 * real nodes do on one thread.
 */
export interface GossipCpu {
  readonly ms: number
  readonly shared: boolean
}

/** No processing time: a message is forwarded and delivered as it arrives. */
export const NO_GOSSIP_CPU: GossipCpu = Object.freeze({ ms: 0, shared: false })

/** Counters for the report. */
export interface GossipCounters {
  published: number
  /** First-time receptions (delivered to a core). */
  delivered: number
  duplicates: number
  ihave: number
  iwant: number
  grafts: number
  prunes: number
}

/** The model's state for every node (see the module doc). */
export class GossipModel {
  readonly #host: GossipHost
  readonly #rng: Rng
  readonly #conns: number[][]
  readonly #mesh: number[][]
  readonly #phase: Float64Array
  readonly #armed: Float64Array
  /** Per node: [message id, received at] pairs, oldest first. */
  readonly #mcache: number[][]
  readonly #messages: Array<GossipMessage & { seen: Uint8Array }> = []
  readonly counters: GossipCounters = { published: 0, delivered: 0, duplicates: 0, ihave: 0, iwant: 0, grafts: 0, prunes: 0 }
  readonly #cpu: GossipCpu
  /** When each node's CPU (or, shared, the one CPU: index 0) is next free. */
  readonly #cpuFree: Float64Array
  /** Per node: its crashes so far, so that a crash cancels the processing in flight. */
  readonly #life: Uint32Array

  constructor (nodes: number, connections: number, host: GossipHost, rng: Rng, cpu: GossipCpu = NO_GOSSIP_CPU) {
    if (!(Number.isFinite(cpu.ms) && cpu.ms >= 0)) throw new RangeError(`gossip CPU ${cpu.ms} ms is not a non-negative number`)
    this.#host = host
    this.#rng = rng
    this.#cpu = cpu
    this.#cpuFree = new Float64Array(cpu.shared ? 1 : nodes).fill(-Infinity)
    this.#life = new Uint32Array(nodes)
    this.#conns = Array.from({ length: nodes }, () => [])
    this.#mesh = Array.from({ length: nodes }, () => [])
    this.#mcache = Array.from({ length: nodes }, () => [])
    this.#phase = new Float64Array(nodes)
    this.#armed = new Float64Array(nodes).fill(Infinity)
    const dials = Math.min(nodes - 1, Math.ceil(connections / 2))
    for (let i = 0; i < nodes; i++) {
      this.#phase[i] = GOSSIPSUB.heartbeatMs * (rng.uint32() / 4294967296)
      for (let k = 0, tries = 0; k < dials && tries < 4 * dials + 8; tries++) {
        const j = rng.uint32() % nodes
        if (j === i || (this.#conns[i] as number[]).includes(j)) continue
        ;(this.#conns[i] as number[]).push(j)
        ;(this.#conns[j] as number[]).push(i)
        k++
      }
    }
    // Subscription: every node subscribes at once, before it knows of another's subscription,
    // so its join grafts no one (gossipsub's join picks among the topic peers it knows of); the
    // meshes form at the first heartbeats, in phase order: a node with fewer than D_lo grafts up
    // to D, and a peer whose mesh holds D_hi already refuses the graft.
    const order = Array.from({ length: nodes }, (_, i) => i).sort((a, b) => (this.#phase[a] as number) - (this.#phase[b] as number) || a - b)
    for (const i of order) if ((this.#mesh[i] as number[]).length < GOSSIPSUB.Dlo) this.#graftUpTo(i, GOSSIPSUB.D, -1)
    this.counters.grafts = 0
    this.counters.prunes = 0
  }

  /** Node i's topic peers (connections). */
  peers (i: number): readonly number[] {
    return this.#conns[i] as number[]
  }

  /** Node i's mesh peers. */
  mesh (i: number): readonly number[] {
    return this.#mesh[i] as number[]
  }

  /** Node i publishes `payload` (flood publish to every live peer). */
  publish (i: number, payload: TopicMessage, bytes: number, now: number): GossipMessage {
    const message = { id: this.#messages.length, origin: i, payload, bytes, frameBytes: frameBytes.message(bytes), publishedAt: now, seen: new Uint8Array(this.#conns.length) }
    this.#messages.push(message)
    this.counters.published++
    message.seen[i] = 1
    this.#remember(i, message.id, now)
    for (const j of this.#conns[i] as number[]) {
      if (this.#host.isUp(j)) this.#host.send(i, j, { kind: 'message', id: message.id }, message.frameBytes, now)
    }
    return message
  }

  /** Node j receives `rpc` from node i (j is up). */
  receive (j: number, i: number, rpc: GossipRpc, now: number): void {
    switch (rpc.kind) {
      case 'message': {
        const m = this.#messages[rpc.id] as GossipMessage & { seen: Uint8Array }
        if (m.seen[j] === 1) { this.counters.duplicates++; return }
        // Seen on arrival (gossipsub's seen-cache comes before validation): copies that arrive
        // while this one is processed are duplicates.
        m.seen[j] = 1
        this.counters.delivered++
        if (this.#cpu.ms === 0) {
          // Nothing to wait for: taken at once, with no event in between (the order of a run without CPU).
          this.#accept(j, i, rpc, m, now)
          break
        }
        const cpu = this.#cpu.shared ? 0 : j
        const done = Math.max(now, this.#cpuFree[cpu] as number) + this.#cpu.ms
        this.#cpuFree[cpu] = done
        const life = this.#life[j]
        this.#host.later(done, () => { if (this.#life[j] === life && this.#host.isUp(j)) this.#accept(j, i, rpc, m, done) })
        break
      }
      case 'ihave': {
        const want = rpc.ids.filter((id) => (this.#messages[id] as { seen: Uint8Array }).seen[j] !== 1)
        if (want.length > 0) {
          this.counters.iwant++
          this.#host.send(j, i, { kind: 'iwant', ids: want }, frameBytes.iwant(want.length), now)
        }
        break
      }
      case 'iwant': {
        const cache = this.#mcache[j] as number[]
        const oldest = now - GOSSIPSUB.historyLength * GOSSIPSUB.heartbeatMs
        for (const id of rpc.ids) {
          for (let k = 0; k < cache.length; k += 2) {
            if (cache[k] === id && (cache[k + 1] as number) > oldest) {
              const m = this.#messages[id] as GossipMessage
              this.#host.send(j, i, { kind: 'message', id }, m.frameBytes, now)
              break
            }
          }
        }
        break
      }
      case 'graft': {
        const mesh = this.#mesh[j] as number[]
        if (mesh.includes(i)) break
        if (mesh.length >= GOSSIPSUB.Dhi) {
          // A full mesh refuses (handleGraft; gossipsub would take an outbound peer all the same).
          this.counters.prunes++
          this.#host.send(j, i, { kind: 'prune' }, frameBytes.prune, now)
          break
        }
        mesh.push(i)
        break
      }
      case 'prune': {
        const mesh = this.#mesh[j] as number[]
        const at = mesh.indexOf(i)
        if (at >= 0) mesh.splice(at, 1)
        if (mesh.length < GOSSIPSUB.Dlo) this.#arm(j, now)
        break
      }
    }
  }

  /** Node i's heartbeat: mesh maintenance, then gossip. */
  heartbeat (i: number, now: number): void {
    this.#armed[i] = Infinity
    if (!this.#host.isUp(i)) return
    const mesh = this.#mesh[i] as number[]
    for (let k = mesh.length - 1; k >= 0; k--) if (!this.#host.isUp(mesh[k] as number)) mesh.splice(k, 1)
    if (mesh.length < GOSSIPSUB.Dlo) this.#graftUpTo(i, GOSSIPSUB.D, now)
    else if (mesh.length > GOSSIPSUB.Dhi) this.#pruneTo(i, GOSSIPSUB.D, now)
    const cache = this.#mcache[i] as number[]
    const horizon = now - GOSSIPSUB.historyLength * GOSSIPSUB.heartbeatMs
    let drop = 0
    while (drop < cache.length && (cache[drop + 1] as number) <= horizon) drop += 2
    if (drop > 0) cache.splice(0, drop)
    const recent = now - GOSSIPSUB.historyGossip * GOSSIPSUB.heartbeatMs
    const ids: number[] = []
    for (let k = 0; k < cache.length; k += 2) if ((cache[k + 1] as number) > recent) ids.push(cache[k] as number)
    if (ids.length > 0) {
      const others = (this.#conns[i] as number[]).filter((j) => !mesh.includes(j) && this.#host.isUp(j))
      // One frame object for all the copies (frames are never changed once sent).
      const rpc: GossipRpc = { kind: 'ihave', ids }
      const bytes = frameBytes.ihave(ids.length)
      for (const j of this.#pickInPlace(others, ihaveFanout(others.length))) {
        this.counters.ihave++
        this.#host.send(i, j, rpc, bytes, now)
      }
    }
    if (cache.length > 0 || mesh.length < GOSSIPSUB.Dlo) this.#arm(i, now)
  }

  /** Node j took message `m` (from i): it forwards it to its mesh and delivers it to its core. */
  #accept (j: number, i: number, rpc: GossipRpc, m: GossipMessage, now: number): void {
    this.#remember(j, m.id, now)
    for (const k of this.#mesh[j] as number[]) {
      if (k !== i && k !== m.origin) this.#host.send(j, k, rpc, m.frameBytes, now)
    }
    this.#host.deliver(j, m, now)
  }

  /** Node i crashed: its peers see its connections close. */
  nodeDown (i: number, now: number): void {
    this.#life[i] = (this.#life[i] as number) + 1
    if (!this.#cpu.shared) this.#cpuFree[i] = -Infinity
    for (const k of this.#mesh[i] as number[]) {
      const mesh = this.#mesh[k] as number[]
      const at = mesh.indexOf(i)
      if (at >= 0) mesh.splice(at, 1)
      if (mesh.length < GOSSIPSUB.Dlo) this.#arm(k, now)
    }
    ;(this.#mesh[i] as number[]).length = 0
    ;(this.#mcache[i] as number[]).length = 0
  }

  /** Node i (re)started: a fresh seen-cache, reconnected to its peers, and a new mesh. */
  nodeUp (i: number, now: number): void {
    for (const m of this.#messages) m.seen[i] = 0
    ;(this.#mesh[i] as number[]).length = 0
    ;(this.#mcache[i] as number[]).length = 0
    this.#graftUpTo(i, GOSSIPSUB.D, now)
    this.#arm(i, now)
  }

  /** The message of id `id`. */
  message (id: number): GossipMessage {
    return this.#messages[id] as GossipMessage
  }

  #remember (i: number, id: number, now: number): void {
    const cache = this.#mcache[i] as number[]
    cache.push(id, now)
    this.#arm(i, now)
  }

  /** Grafts live peers outside the mesh until it has `target` members; now < 0: at set-up, silently. */
  #graftUpTo (i: number, target: number, now: number): void {
    const mesh = this.#mesh[i] as number[]
    // At set-up the grafted side's answer is known at once: a full mesh (D_hi) refuses.
    const candidates = (this.#conns[i] as number[]).filter((j) => !mesh.includes(j) && (now < 0 ? (this.#mesh[j] as number[]).length < GOSSIPSUB.Dhi : this.#host.isUp(j)))
    for (const j of this.#pick(candidates, target - mesh.length)) {
      mesh.push(j)
      const theirs = this.#mesh[j] as number[]
      if (now < 0) {
        if (!theirs.includes(i)) theirs.push(i)
      } else {
        this.counters.grafts++
        this.#host.send(i, j, { kind: 'graft' }, frameBytes.graft, now)
      }
    }
  }

  #pruneTo (i: number, target: number, now: number): void {
    const mesh = this.#mesh[i] as number[]
    const keep = this.#pick(mesh, target)
    for (const j of mesh) {
      if (keep.includes(j)) continue
      if (now < 0) {
        const theirs = this.#mesh[j] as number[]
        const at = theirs.indexOf(i)
        if (at >= 0) theirs.splice(at, 1)
      } else {
        this.counters.prunes++
        this.#host.send(i, j, { kind: 'prune' }, frameBytes.prune, now)
      }
    }
    mesh.length = 0
    mesh.push(...keep)
  }

  /** Up to k distinct items of `items`, uniformly (a partial Fisher-Yates on a copy). */
  #pick (items: readonly number[], k: number): number[] {
    return this.#pickInPlace([...items], k)
  }

  /** #pick on an array of the caller's that it may shuffle. */
  #pickInPlace (a: number[], k: number): number[] {
    const n = Math.min(k, a.length)
    for (let x = 0; x < n; x++) {
      const y = x + (this.#rng.uint32() % (a.length - x))
      const t = a[x] as number; a[x] = a[y] as number; a[y] = t
    }
    return a.slice(0, Math.max(0, n))
  }

  /** Arms node i's next heartbeat (at its phase) unless one is armed. */
  #arm (i: number, now: number): void {
    if (this.#armed[i] !== Infinity) return
    const phase = this.#phase[i] as number
    const at = phase + GOSSIPSUB.heartbeatMs * (Math.floor((now - phase) / GOSSIPSUB.heartbeatMs) + 1)
    this.#armed[i] = at
    this.#host.armHeartbeat(i, at)
  }
}
