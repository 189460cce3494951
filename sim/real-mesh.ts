/**
 * A real mesh in one process: N daemons' mesh stacks (MeshHost: libp2p with pnet, noise, yamux,
 * identify, gossipsub; the mesh binding; MeshCore) over libp2p's memory transport, formed as the
 * simulator's warm start is formed, with the counters the calibration compares against the model.
 * No merge tree, no instrumenter, no HTTP: membership and definitions only.
 *
 * THEORY. Formation, in four steps, each bounded by the formation budget:
 * 1. Hosts. N hosts, each listening on its own memory address (`/memory/heatmesh-cal-<run>-<i>`,
 *    unique per run: the memory transport's listeners live in one process-wide map), with the
 *    memory transport delaying every chunk by `latencyMs`, and the connection monitor off
 *    (STACK.md section 3: hundreds of nodes in one process cannot afford a ping per connection).
 * 2. Full connectivity. Every pair of nodes is dialled once (`dialConcurrency` dials in flight,
 *    unanswered pairs retried), because that is where a daemon mesh settles: SWIM probes every
 *    member in turn and a connection, once open, stays (libp2p prunes only above 300). A cold
 *    start through a bootstrap list gets there too, but in one process its join storm starves
 *    the event loop (a 50-node cold start took 80-105 s to see every member; 100 nodes did not
 *    in 180 s), and the connections SWIM opens one probe at a time would still be opening during
 *    the measurement.
 * 3. Cores. Each node's MeshCore starts warm, as the simulator's do: from a snapshot of all N
 *    members alive (MeshCoreInit.snapshot, with a private interner per node, as a daemon has), so
 *    no join and no rumour of one is in flight. The binding then subscribes to the definitions
 *    topic; formation waits until every node's gossipsub mesh holds min(D_lo, N - 1) peers.
 * 4. Settling, until the mesh is in service: every core sees all N members live (alive or
 *    suspect: none declared dead), and every node has its long-lived core channel open to every
 *    other, for `settleMs` in a row. N cores started in the same instant open their channels
 *    with their first probes (a stream negotiation each, and each ack opens the way back), which
 *    in one process costs enough CPU to time probes out: at 50 nodes the first ~12 s saw ~500
 *    suspicions and 10-13 KB/s of rumours per node, then ~90 B/s once calm, with the last
 *    channels opening by ~50 s (SWIM probes round robin). A daemon mesh in service has long been
 *    past that, as the model's warm start is. Suspicion is allowed: from ~100 nodes one process
 *    cannot keep every probe within SWIM's 500 ms timeout even when calm (at 100 nodes a few
 *    members were suspected, and refuted, every ~10 s), so "none suspect" would never hold; the
 *    calibration counts suspicions instead.
 * A warm-started core emits no `joined` output, so the binding's address book stays empty: every
 * send goes over the connection step 2 opened (libp2p's peer store has the addresses, should one
 * have to be re-dialled).
 *
 * Counting. Core messages: the binding's counters (frames handed to the core's message channel:
 * the exact bytes of the core's JSON encoding, the model's unit). Gossipsub: GossipMeter, every
 * RPC frame's protobuf bytes. Neither counts the length prefixes, yamux, noise or pnet, nor
 * identify, as the model does not.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memory } from '@libp2p/memory'
import {
  createMeshCore, createPeerInterner, createRng, DEFINITIONS_TOPIC, MemberSnapshot, memberRecord,
  type MeshCore, type MeshOutput, type Rng, type SelfCard
} from '../node/core/index.js'
import { createMeshBinding, type MeshBinding } from '../node/mesh/binding.js'
import { createMeshHost, type MeshHost } from '../node/mesh/host.js'
import { generateIdentity, generateNetworkKey, type NodeIdentity } from '../node/mesh/index.js'
import { HeatmeshError } from '../metad/index.js'
import { GOSSIPSUB } from './gossipsub.js'
import { GossipMeter, type GossipFrameCounts } from './gossip-meter.js'
import { growPnetCipherHeap } from './pnet-heap.js'

/** How to build a real mesh. */
export interface RealMeshOptions {
  readonly nodes: number
  /** Delay the memory transport adds to every chunk, ms (one way). */
  readonly latencyMs: number
  /** Seeds the cores' random sources and the choices made here. */
  readonly seed: string
  /** Time budget of the whole formation, ms; over it, start() rejects with ECA_TIMEDOUT. */
  readonly formationBudgetMs: number
  /** Dials in flight while connecting every pair. @default DEFAULT_DIAL_CONCURRENCY */
  readonly dialConcurrency?: number
  /** How long the mesh must stay in service before the measurement (step 4), ms. @default DEFAULT_SETTLE_MS */
  readonly settleMs?: number
  /** Told about progress (one line per step). @default ignore */
  readonly onProgress?: (text: string) => void
  /** Told about every `member` and `definition` output of node i's core (performance.now() time). */
  readonly onOutput?: (node: number, output: Extract<MeshOutput, { type: 'member' | 'definition' }>, at: number) => void
}

/** Checks of the settling step, ms apart. */
const SETTLE_CHECK_MS = 250

/** Dials in flight while forming the full mesh (STACK.md section 3: 16 gave no dial errors at N = 100). */
export const DEFAULT_DIAL_CONCURRENCY = 16
/** How long the mesh must stay in service (see the module doc, step 4) before measuring, ms. */
export const DEFAULT_SETTLE_MS = 3000
/** Rounds of dialling the pairs still unconnected before formation gives up. */
const DIAL_ROUNDS = 3
/** The protocol of the one-hop latency probe (registered only while probing). */
const PROBE_PROTOCOL = '/heatmesh/calibrate-probe/1.0.0'
/** How long a probe waits for its frame to arrive, ms. */
const PROBE_TIMEOUT_MS = 2000

/** One real node. */
export interface RealNode {
  readonly index: number
  readonly host: MeshHost
  readonly core: MeshCore
  readonly binding: MeshBinding
  readonly meter: GossipMeter
}

/** What each node has sent so far. */
export interface NodeTraffic {
  /** Core messages written to their channel, and their bytes (the core's encoding). */
  readonly coreMessages: number
  readonly coreBytes: number
  /** Core messages that could not be sent. */
  readonly coreFailures: number
  readonly gossip: GossipFrameCounts
}

/** How the mesh was formed (seconds of wall time per step). */
export interface Formation {
  readonly hosts_s: number
  readonly connect_s: number
  /** Connections when formed (every pair: N(N - 1)/2). */
  readonly connections: number
  readonly dial_failures: number
  readonly cores_s: number
  /** Until the mesh was in service for settleMs (step 4), settleMs included. */
  readonly settle_s: number
  readonly total_s: number
  /** Mean connected peers per node, and mean gossipsub mesh degree, when formed. */
  readonly peers_per_node: number
  readonly gossip_mesh_degree: number
}

/** A started real mesh (see the module doc). Call stop() in every case. */
export interface RealMesh {
  readonly nodes: readonly RealNode[]
  readonly formation: Formation
  /**
   * Node i creates a definition (canonical instrumentation JSON) through its core, as the HTTP
   * API does; `onCreated(id, at)` runs before any output is carried out (so before node i's own
   * `definition` output), with the performance.now() time of the creation.
   */
  createDefinition: (i: number, json: string, onCreated: (id: string, at: number) => void) => void
  /** What every node has sent so far. */
  traffic: () => NodeTraffic[]
  /** Core messages every node's core has accepted so far, by type, summed over the nodes. */
  received: () => Record<string, number>
  /**
   * The one-way latency of one frame between two connected nodes on an open stream, ms:
   * `count` probes between random pairs, one at a time, through the whole stack (host send,
   * yamux, noise, pnet, the memory transport, the receiver's event loop).
   */
  probeHopLatency: (count: number) => Promise<number[]>
  /** Stops every binding and host and removes the data directories; idempotent, never rejects. */
  stop: () => Promise<void>
}

/** Starts a real mesh; on any failure stops what it started and rejects. */
export async function startRealMesh (options: RealMeshOptions): Promise<RealMesh> {
  const n = options.nodes
  const progress = options.onProgress ?? (() => {})
  const rng = createRng(`real-mesh:${options.seed}`)
  const started = performance.now()
  const deadline = started + options.formationBudgetMs
  const run = randomUUID().slice(0, 8)
  const dataRoot = await mkdtemp(join(tmpdir(), 'heatmesh-calibrate-'))
  const hosts: MeshHost[] = []
  const meters: GossipMeter[] = []
  const bindings: MeshBinding[] = []
  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(bindings.map(async (b) => { await b.stop().catch(() => {}) }))
      await Promise.all(hosts.map(async (h) => { await h.stop().catch(() => {}) }))
      await rm(dataRoot, { recursive: true, force: true }).catch(() => {})
    })()
    await stopping
  }
  const overBudget = (step: string): void => {
    if (performance.now() > deadline) {
      throw new HeatmeshError('ECA_TIMEDOUT', `calibration: forming ${n} real nodes took longer than ${(options.formationBudgetMs / 1000).toFixed(0)} s (${step})`)
    }
  }
  try {
    // 1. Hosts.
    // Every pair once, and as many again for re-dials.
    growPnetCipherHeap(n * (n - 1))
    const key = generateNetworkKey()
    const identities: NodeIdentity[] = []
    for (let i = 0; i < n; i++) identities.push(await generateIdentity())
    for (let i = 0; i < n; i++) {
      const meter = new GossipMeter()
      const host = await createMeshHost({
        identity: identities[i] as NodeIdentity,
        networkKey: key,
        random: () => rng.uint32() / 4294967296,
        transport: meter.wrap(memory({ latency: options.latencyMs })),
        listen: [`/memory/heatmesh-cal-${run}-${i}`],
        monitorIntervalMs: 0
      })
      hosts.push(host)
      meter.attach()
      meters.push(meter)
    }
    const hostsDone = performance.now()
    progress(`${n} hosts started in ${seconds(hostsDone - started)} s`)

    // 2. Every pair connected.
    const dialFailures = await connectAllPairs(hosts, options.dialConcurrency ?? DEFAULT_DIAL_CONCURRENCY, deadline, progress)
    overBudget('connecting every pair')
    const connectDone = performance.now()
    progress(`every pair connected in ${seconds(connectDone - hostsDone)} s`)

    // 3. Cores, warm, and their bindings.
    const cards: SelfCard[] = hosts.map((h, i) => ({ id: h.peerId, name: `node-${i}`, addresses: h.addresses(), meta: { backends: ['bpftrace', 'procfs', 'process', 'synthetic'] } }))
    const records = cards.map((c) => memberRecord(c, 0))
    const nodes: RealNode[] = []
    for (let i = 0; i < n; i++) {
      const dataDir = join(dataRoot, `node-${i}`)
      await mkdir(dataDir, { recursive: true, mode: 0o700 })
      const core = createMeshCore({
        self: cards[i] as SelfCard,
        seeds: [],
        rng: createRng(`real-core:${options.seed}:${i}`),
        now: Date.now(),
        snapshot: new MemberSnapshot(createPeerInterner(), records)
      })
      const onOutput = (o: Extract<MeshOutput, { type: 'member' | 'definition' }>): void => { options.onOutput?.(i, o, performance.now()) }
      const binding = createMeshBinding({ core, host: hosts[i] as MeshHost, dataDir, now: Date.now, onOutput, random: () => rng.uint32() / 4294967296 })
      bindings.push(binding)
      nodes.push({ index: i, host: hosts[i] as MeshHost, core, binding, meter: meters[i] as GossipMeter })
    }
    for (const b of bindings) await b.start()
    const wantMesh = Math.min(GOSSIPSUB.Dlo, n - 1)
    while (!hosts.every((h) => h.meshPeers(DEFINITIONS_TOPIC).length >= wantMesh)) {
      overBudget(`waiting for gossipsub meshes of ${wantMesh} peers`)
      await sleep(100)
    }
    const coresDone = performance.now()
    progress(`cores started warm, gossipsub meshes formed in ${seconds(coresDone - connectDone)} s`)

    // 4. In service.
    const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS
    let calmSince = NaN
    let lastReport = performance.now()
    for (;;) {
      const calm = nodes.every((node) => inService(node, n))
      const now = performance.now()
      if (!calm) calmSince = NaN
      else if (Number.isNaN(calmSince)) calmSince = now
      if (now - calmSince >= settleMs) break
      if (performance.now() > deadline) overBudget(`waiting for the mesh to be in service (every member live, every core channel open): ${settlingState(nodes)}`)
      if (now - lastReport > 10_000) {
        lastReport = now
        progress(`settling: ${settlingState(nodes)}`)
      }
      await sleep(SETTLE_CHECK_MS)
    }
    const settleDone = performance.now()
    progress(`in service after ${seconds(settleDone - coresDone)} s`)
    const formation: Formation = {
      hosts_s: seconds(hostsDone - started),
      connect_s: seconds(connectDone - hostsDone),
      connections: hosts.reduce((sum, h) => sum + h.peers().length, 0) / 2,
      dial_failures: dialFailures,
      cores_s: seconds(coresDone - connectDone),
      settle_s: seconds(settleDone - coresDone),
      total_s: seconds(settleDone - started),
      peers_per_node: round2(hosts.reduce((s, h) => s + h.peers().length, 0) / n),
      gossip_mesh_degree: round2(hosts.reduce((s, h) => s + h.meshPeers(DEFINITIONS_TOPIC).length, 0) / n)
    }
    return {
      nodes,
      formation,
      createDefinition (i, json, onCreated) {
        const node = nodes[i] as RealNode
        node.binding.run((now) => {
          const { id, outputs } = node.core.createDefinition(json, now)
          onCreated(id, performance.now())
          return { outputs, result: id }
        })
      },
      traffic: () => nodes.map((node) => {
        const c = node.binding.counters()
        return { coreMessages: c.sent, coreBytes: c.sentBytes, coreFailures: c.sendFailures, gossip: node.meter.snapshot() }
      }),
      received: () => {
        const total: Record<string, number> = {}
        for (const node of nodes) {
          for (const [type, count] of Object.entries((node.core.debugState() as { received: Record<string, number> }).received)) total[type] = (total[type] ?? 0) + count
        }
        return total
      },
      probeHopLatency: async (count) => await probeHopLatency(hosts, count, rng),
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}

/**
 * Dials every pair once, `concurrency` at a time (the lower index dials the higher), then
 * re-dials the pairs still unconnected, up to DIAL_ROUNDS rounds; returns the dials that failed.
 * Throws ECA_TIMEDOUT past `deadline`, and ECA_UNKNOWN when pairs stay unconnected.
 */
async function connectAllPairs (hosts: readonly MeshHost[], concurrency: number, deadline: number, progress: (text: string) => void): Promise<number> {
  const n = hosts.length
  const addresses = hosts.map((h) => h.addresses()[0] as string)
  let failures = 0
  for (let round = 0; round < DIAL_ROUNDS; round++) {
    const connected = hosts.map((h) => new Set(h.peers()))
    const pairs: Array<[number, number]> = []
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) if (!(connected[i] as Set<string>).has((hosts[j] as MeshHost).peerId)) pairs.push([i, j])
    }
    if (pairs.length === 0) return failures
    let next = 0
    let done = 0
    let lastReport = performance.now()
    const worker = async (): Promise<void> => {
      while (next < pairs.length) {
        if (performance.now() > deadline) throw new HeatmeshError('ECA_TIMEDOUT', `calibration: connecting every pair of ${n} real nodes ran out of the formation budget (${done} of ${pairs.length} dials done)`)
        const [i, j] = pairs[next++] as [number, number]
        try {
          await (hosts[i] as MeshHost).dial(addresses[j] as string)
        } catch {
          failures++
        }
        done++
        if (performance.now() - lastReport > 10_000) {
          lastReport = performance.now()
          progress(`connecting: ${done} of ${pairs.length} dials`)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, pairs.length) }, worker))
  }
  const missing = hosts.reduce((s, h) => s + (n - 1 - h.peers().length), 0) / 2
  if (missing > 0) throw new HeatmeshError('ECA_UNKNOWN', `calibration: ${missing} pairs of real nodes stayed unconnected after ${DIAL_ROUNDS} rounds of dials (${failures} dials failed)`)
  return failures
}

/** See RealMesh.probeHopLatency. */
async function probeHopLatency (hosts: readonly MeshHost[], count: number, rng: Rng): Promise<number[]> {
  const n = hosts.length
  const arrivals = new Map<number, (at: number) => void>()
  await Promise.all(hosts.map(async (h) => {
    await h.handleMessages(PROBE_PROTOCOL, (_from, message) => {
      const k = new DataView(message.buffer, message.byteOffset, message.byteLength).getUint32(0)
      arrivals.get(k)?.(performance.now())
    })
  }))
  // One random partner per probe, drawn up front; node a = probe index mod n.
  const partners = Array.from({ length: count }, (_, p) => ((p % n) + 1 + (rng.uint32() % (n - 1))) % n)
  const delays: number[] = []
  try {
    for (let k = 0; k < 2 * count; k++) {
      // Two frames per probe: the first opens the stream (negotiation), the second is timed.
      const a = (k >> 1) % n
      const b = partners[k >> 1] as number
      const frame = new Uint8Array(8)
      new DataView(frame.buffer).setUint32(0, k)
      const arrived = new Promise<number>((resolve) => {
        const timer = setTimeout(() => { resolve(NaN) }, PROBE_TIMEOUT_MS)
        arrivals.set(k, (at) => { clearTimeout(timer); resolve(at) })
      })
      const sent = performance.now()
      await (hosts[a] as MeshHost).send((hosts[b] as MeshHost).peerId, PROBE_PROTOCOL, frame).catch(() => {})
      const at = await arrived
      arrivals.delete(k)
      if ((k & 1) === 1 && !Number.isNaN(at)) delays.push(at - sent)
    }
  } finally {
    await Promise.all(hosts.map(async (h) => { await h.unhandle(PROBE_PROTOCOL).catch(() => {}) }))
  }
  return delays
}

/**
 * Whether a node is in service (step 4): its core sees all `n` members live (alive or suspect)
 * and its core channel to every other node is open (the host's outbound channels: only the
 * core's protocol has any at this point).
 */
function inService (node: RealNode, n: number): boolean {
  return node.core.liveCount === n && node.host.debugState().channels.open >= n - 1
}

/** One line on how far the mesh is from in service (for progress, and the error when it never is). */
function settlingState (nodes: readonly RealNode[]): string {
  const n = nodes.length
  const states: Record<string, number> = {}
  let channels = 0
  let failedStreams = 0
  let sendFailures = 0
  for (const node of nodes) {
    const members = (node.core.debugState() as { membership: { members: Record<string, number> } }).membership.members
    for (const [state, count] of Object.entries(members)) states[state] = (states[state] ?? 0) + count
    const host = node.host.debugState()
    channels += host.channels.open
    failedStreams += host.channels.failedStreams
    sendFailures += node.binding.counters().sendFailures
  }
  const view = Object.entries(states).map(([state, count]) => `${state} ${(count / n).toFixed(1)}`).join(', ')
  return `${nodes.filter((node) => inService(node, n)).length} of ${n} nodes in service; per node: members ${view}, ${(channels / n).toFixed(1)} of ${n - 1} core channels open, ${(sendFailures / n).toFixed(1)} core sends failed, ${(failedStreams / n).toFixed(1)} inbound streams failed`
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

function seconds (ms: number): number {
  return Math.round(ms) / 1000
}

function round2 (x: number): number {
  return Math.round(x * 100) / 100
}
