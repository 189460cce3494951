/**
 * A heatmesh node: the composition of the libp2p mesh host, the protocol core (bound to the host
 * by node/mesh/binding.ts), the instrumenter and the HTTP API, and the instrumentation
 * lifecycle that ties them: the core's `definition` outputs start and stop measurements here,
 * and what this node can measure (and what it failed to) travels in its member card's meta, so
 * every node can answer `GET /ca` and an instrumentation's `nsources` for the whole mesh.
 *
 * The member card's meta (bounded by the core's MAX_META_BYTES):
 * `{ backends: [available backend names], metrics: ["module.stat", ...], failed: {id: reason},
 *    nfailed: n }` where `failed` lists at most what fits and `nfailed` counts them all. A card
 * changes only when a backend's availability or a failure changes, so the steady state costs
 * the membership protocol nothing extra.
 */
import { randomUUID } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { catalog as defaultCatalog, parseInstrumentation, type Catalog, type InstrumentationDefinition } from '../metad/index.js'
import { createMergeCore, type InstrumentationSpec, type MergeConfig, type MergeCore, type StoredPoint } from './merge/index.js'
import { openPointStore, type PointStore } from './store/index.js'
import {
  createMeshCore, createRng, type DefinitionsConfig, type JsonObject, type MemberView, type MembershipConfig, type MeshCore, type MeshOutput
} from './core/index.js'
import {
  createBpftraceBackend, createInstrumenter, createProcessBackend, createProcfsBackend, createSyntheticBackend, stopAllBpftrace,
  valueLayout, type Backend, type Instrumenter
} from './instrument/index.js'
import {
  createMeshHost, loadOrCreateIdentity, loadOrCreateNetworkKey, readNetworkKey, networkKeyFingerprint, type MeshHost
} from './mesh/index.js'
import { createMeshBinding, readPersistedState, type MeshBinding } from './mesh/binding.js'
import { createMergeBinding, decodeStoredPoint, type MergeBinding } from './mesh/merge-binding.js'
import { addInstrumentationRoutes, type DefinitionStore, type InstrumentationReport, type StoredDefinition } from './http/instrumentations.js'
import { Router } from './http/router.js'
import { sendJson } from './http/respond.js'
import { addValueRoutes, type ValueSource } from './http/values.js'
import { addUiRoutes } from './http/ui.js'

/** The network key file created in a fresh data directory when no key is given. */
export const NETWORK_KEY_FILE = 'network.key'
/** Budget of a graceful stop, ms: after it, whatever has not stopped is abandoned. */
export const DEFAULT_STOP_BUDGET_MS = 5000
/** Largest meta a card may carry (the core's MAX_META_BYTES, minus a margin for the encoder). */
const META_BUDGET_BYTES = 1000
/** Longest failure reason carried in a card. */
const MAX_REASON_IN_CARD = 100
/** The folder, in the data directory, of the persisted points (persist-data). */
export const POINTS_DIR = 'points'
/**
 * How long after a second ends the node collects its values: late enough that a timer firing
 * a few ms early still lands in the next second, early enough to leave the merge tree its
 * per-level slack (MergeConfig.collectDelayMs expects the value about then).
 */
const COLLECT_OFFSET_MS = 20
/** A timer that fired this many seconds late collects each missed second, no more. */
const MAX_CATCH_UP_SECONDS = 5
/** How often retention is applied to the point log. */
const PRUNE_INTERVAL_MS = 60_000

export interface NodeInit {
  /** Where the HTTP API listens. Loopback unless the operator says otherwise. */
  readonly http: { readonly host: string, readonly port: number }
  /** This node's name (default: the hostname). */
  readonly name: string
  /** Identity, network key (unless `key`) and persisted state live here; created 0700. */
  readonly dataDir: string
  /** libp2p listen multiaddrs. @default ['/ip4/127.0.0.1/tcp/0'] */
  readonly listen?: readonly string[]
  /** Peers to join through (multiaddrs with /p2p/<id>). @default [] (a mesh of one) */
  readonly bootstrap?: readonly string[]
  /** The network key file; undefined: `<dataDir>/network.key`, created when absent. */
  readonly key?: string
  /** The instrumenter's backends. @default procfs, process, synthetic */
  readonly backends?: readonly Backend[]
  readonly catalog?: Catalog
  readonly membership?: Partial<MembershipConfig>
  readonly definitions?: Partial<DefinitionsConfig>
  /** The merge tree's settings (fan-in, replicas, deadlines). @default DEFAULT_MERGE_CONFIG */
  readonly merge?: Partial<MergeConfig>
  /** Where log lines go. @default stderr */
  readonly log?: (line: string) => void
}

/** What a started node tells its caller. */
export interface NodeStarted {
  /** The HTTP API's base URL (the real port when 0 was asked). */
  readonly url: string
  readonly peerId: string
  /** libp2p addresses, each ending in /p2p/<peerId>. */
  readonly addresses: readonly string[]
  /** The network key file in use, and whether this start created it. */
  readonly keyFile: string
  readonly keyCreated: boolean
  readonly keyFingerprint: string
}

export interface HeatmeshNode {
  start: () => Promise<NodeStarted>
  /** Leaves the mesh, stops every measurement, flushes state, stops the host, closes HTTP; within budgetMs. */
  stop: (budgetMs?: number) => Promise<void>
  /** A snapshot for debugging and benchmarks. */
  debugState: () => Record<string, unknown>
}

/** The backends a node has by default (bpftrace's probe says whether eBPF is usable here). */
export function defaultBackends (hostname: string): Backend[] {
  return [createProcfsBackend(), createProcessBackend(), createSyntheticBackend({ hostname }), createBpftraceBackend()]
}

export function createNode (init: NodeInit): HeatmeshNode {
  const log = init.log ?? ((line: string) => { process.stderr.write(`heatmesh: ${line}\n`) })
  const cat = init.catalog ?? defaultCatalog
  let server: Server | undefined
  let host: MeshHost | undefined
  let core: MeshCore | undefined
  let binding: MeshBinding | undefined
  let instrumenter: Instrumenter | undefined
  let collector: NodeJS.Timeout | undefined
  let pruner: NodeJS.Timeout | undefined
  let merge: MergeCore | undefined
  let mergeBinding: MergeBinding | undefined
  let pointStore: PointStore | undefined
  /** The spec last given to the merge core, per instrumentation (JSON, to re-send only changes). */
  const mergeSpecs = new Map<string, string>()
  /** The last second whose values went to the merge tree. */
  let lastCollected: number | undefined
  let stopping: Promise<void> | undefined
  /** Parsed definitions by id, keyed by their text (a new version re-parses). */
  const parsed = new Map<string, { text: string, definition: InstrumentationDefinition } | { text: string, error: string }>()
  /** The meta last announced in this node's card (JSON), to announce only changes. */
  let cardMeta = ''
  let backendsInUse: readonly Backend[] = []

  const parse = (id: string, text: string): InstrumentationDefinition | string => {
    const known = parsed.get(id)
    if (known?.text === text) return 'definition' in known ? known.definition : known.error
    try {
      const definition = parseInstrumentation(JSON.parse(text), cat)
      parsed.set(id, { text, definition })
      return definition
    } catch (err) {
      const error = `this node cannot read the definition: ${(err as Error).message}`
      parsed.set(id, { text, error })
      return error
    }
  }

  /** Metrics the available backends implement. */
  const servedHere = (): string[] => {
    if (instrumenter === undefined) return []
    const available = new Set(instrumenter.backendStatuses().filter((s) => s.available).map((s) => s.name))
    return [...new Set(backendsInUse.filter((b) => available.has(b.name)).flatMap((b) => b.implementations.map((i) => i.metric)))].sort()
  }

  /** This node's failures: definitions its instrumenter failed, or that it could not read. */
  const localFailures = (): Array<[string, string]> => {
    const out: Array<[string, string]> = []
    if (core === undefined || instrumenter === undefined) return out
    for (const entry of core.listDefinitions()) {
      const p = parse(entry.id, entry.definition)
      if (typeof p === 'string') { out.push([entry.id, p]); continue }
      const s = instrumenter.status(entry.id)
      if (s?.state === 'failed') out.push([entry.id, s.reason ?? 'failed'])
    }
    return out
  }

  const buildMeta = (): JsonObject => {
    const backends = (instrumenter?.backendStatuses() ?? []).filter((s) => s.available).map((s) => s.name)
    const failures = localFailures()
    const failed: Record<string, string> = {}
    const base = { backends, metrics: servedHere(), failed, nfailed: failures.length }
    for (const [id, reason] of failures) {
      failed[id] = reason.length > MAX_REASON_IN_CARD ? `${reason.slice(0, MAX_REASON_IN_CARD - 3)}...` : reason
      if (Buffer.byteLength(JSON.stringify(base)) > META_BUDGET_BYTES) {
        delete failed[id] // eslint-disable-line @typescript-eslint/no-dynamic-delete
        break
      }
    }
    return base
  }

  /** Re-announces this node's card when what it can serve or what failed changed. */
  const refreshCard = (): void => {
    if (core === undefined || binding === undefined || stopping !== undefined) return
    const meta = buildMeta()
    const text = JSON.stringify(meta)
    if (text === cardMeta) return
    cardMeta = text
    const c = core
    try {
      binding.run((now) => ({ outputs: c.updateSelf({ meta }, now), result: undefined }))
    } catch (err) {
      log(`cannot update this node's card: ${(err as Error).message}`)
    }
  }

  /** Follows the core's `definition` outputs: the lifecycle of measurements on this node. */
  const onOutput = (o: Extract<MeshOutput, { type: 'member' | 'definition' }>): void => {
    if (o.type === 'member') { followMember(o.member.id, o.change, o.slow === true); return }
    if (instrumenter === undefined) return
    const inst = instrumenter
    if (o.entry.state === 'deleted') {
      parsed.delete(o.id)
      dropFromMerge(o.id)
      void inst.disable(o.id).then(refreshCard, (err: unknown) => { log(`disabling ${o.id}: ${String(err)}`) })
      return
    }
    const p = parse(o.id, o.entry.definition)
    if (typeof p === 'string') { refreshCard(); return }
    syncMerge(o.id, p)
    // An update changes only the mutable properties (retention, idle-max, persistence), which
    // the instrumenter does not use: it keeps measuring unless it never started.
    if (o.change === 'updated' && inst.status(o.id) !== undefined) return
    void inst.enable(o.id, p).then(refreshCard, (err: unknown) => { log(`enabling ${o.id}: ${String(err)}`) })
  }

  /** The merge tree's view follows the membership: suspects stay members but are routed around, slow members lead nothing. */
  const followMember = (peer: string, change: string, slow: boolean): void => {
    const m = merge
    if (m === undefined || mergeBinding === undefined) return
    if (peer === host?.peerId) {
      // This node refuted a suspicion: the others stop routing through it (MergeCore.memberSlow).
      if (slow) mergeBinding.run((now) => { m.memberSlow(peer, now); return { outputs: [], result: undefined } })
      return
    }
    const down = change === 'failed' || change === 'left' || change === 'forgotten'
    // Through run(), like every core command, so the binding re-arms its timer for the new tree.
    mergeBinding.run((now) => {
      if (down) m.memberDown(peer, now)
      else if (change === 'suspected') m.memberSuspect(peer, now)
      else m.memberUp(peer, now)
      if (slow) m.memberSlow(peer, now)
      return { outputs: [], result: undefined }
    })
  }

  /** What the merge tree must know of definition `id` (nsources included). */
  /** The shape (and bucketing) of `definition`'s values: what decoding its points expects. */
  const valueShapeOf = (definition: InstrumentationDefinition): Pick<InstrumentationSpec, 'shape' | 'bucketing'> => {
    const metric = cat.metrics.get(`${definition.module}.${definition.stat}`)
    if (metric === undefined) throw new RangeError(`metric ${definition.module}.${definition.stat} is not in the catalog`)
    const layout = valueLayout(metric, definition.decomposition)
    return layout.bucketing === undefined ? { shape: layout.shape } : { shape: layout.shape, bucketing: layout.bucketing }
  }

  const specOf = (id: string, definition: InstrumentationDefinition): InstrumentationSpec => {
    return {
      ...valueShapeOf(definition),
      granularity: definition.granularity,
      retentionTime: definition.retentionTime,
      persistData: definition.persistData,
      valueScope: definition.valueScope,
      expectedSources: store.report(id, definition).nsources
    }
  }

  /** Tells the merge core about `id` when its spec changed (new, updated, or nsources moved). */
  const syncMerge = (id: string, definition: InstrumentationDefinition): void => {
    const m = merge
    const b = mergeBinding
    if (m === undefined || b === undefined) return
    let spec: InstrumentationSpec
    try {
      spec = specOf(id, definition)
    } catch (err) {
      log(`cannot merge ${id}: ${(err as Error).message}`)
      return
    }
    const text = JSON.stringify(spec)
    if (mergeSpecs.get(id) === text) return
    mergeSpecs.set(id, text)
    b.run((now) => ({ outputs: m.setInstrumentation(id, spec, now), result: undefined }))
  }

  const dropFromMerge = (id: string): void => {
    const m = merge
    if (m === undefined || !mergeSpecs.has(id)) return
    mergeSpecs.delete(id)
    mergeBinding?.run((now) => ({ outputs: m.removeInstrumentation(id, now), result: undefined }))
  }

  /**
   * Once a second, just after it ends: this node's value of every instrumentation goes to the
   * merge tree (undefined where it does not run it: it still forwards its children's partials).
   * A timer that fired late collects each second it missed, so every second is reported once.
   */
  const collectSecond = (): void => {
    const inst = instrumenter
    const m = merge
    const b = mergeBinding
    if (inst === undefined || m === undefined || b === undefined || stopping !== undefined) return
    const due = Math.floor((Date.now() - COLLECT_OFFSET_MS) / 1000) - 1
    const from = lastCollected === undefined ? due : Math.max(lastCollected + 1, due - MAX_CATCH_UP_SECONDS + 1)
    for (let second = from; second <= due; second++) {
      const values = inst.collect(second)
      for (const d of store.list()) {
        syncMerge(d.id, d.definition)
        if (!mergeSpecs.has(d.id)) continue
        try {
          b.run((now) => ({ outputs: m.contribute(d.id, second, values.get(d.id), now), result: undefined }))
        } catch (err) {
          log(`contributing ${d.id} for ${second}: ${(err as Error).message}`)
        }
      }
      lastCollected = second
    }
    refreshCard()
  }

  const armCollector = (): void => {
    if (stopping !== undefined) return
    const now = Date.now()
    const next = (Math.floor(now / 1000) + 1) * 1000 + COLLECT_OFFSET_MS
    collector = setTimeout(() => {
      try {
        collectSecond()
      } finally {
        armCollector()
      }
    }, next - now)
  }

  /** Retention on disk: the merge core drops old points from memory, the log here. */
  const pruneStore = (): void => {
    const s = pointStore
    if (s === undefined) return
    const nowSecond = Math.floor(Date.now() / 1000)
    for (const d of store.list()) {
      if (d.definition.persistData) s.prune(d.id, nowSecond - d.definition.retentionTime - d.definition.granularity)
    }
  }

  /** Points the log kept from a previous run, decoded for the definitions that still persist them. */
  const restorePoints = async (s: PointStore, c: MeshCore): Promise<Map<string, StoredPoint[]>> => {
    const restore = new Map<string, StoredPoint[]>()
    for (const [id, records] of await s.load()) {
      const entry = c.getDefinition(id)
      const p = entry === undefined ? undefined : parse(id, entry.definition)
      if (p === undefined || typeof p === 'string' || !p.persistData) { s.drop(id); continue }
      let expectation: ReturnType<typeof valueShapeOf>
      try {
        expectation = valueShapeOf(p)
      } catch {
        s.drop(id)
        continue
      }
      const points: StoredPoint[] = []
      let bad = 0
      for (const r of records) {
        try {
          points.push(decodeStoredPoint(id, r.bytes, expectation))
        } catch {
          bad++
        }
      }
      if (bad > 0) log(`ignoring ${bad} unreadable stored points of ${id}`)
      restore.set(id, points)
    }
    return restore
  }

  const liveMembers = (): MemberView[] => (core?.members() ?? []).filter((m) => m.state === 'alive' || m.state === 'suspect')

  const store: DefinitionStore = {
    catalog: cat,
    servable () {
      const out = new Set(servedHere())
      for (const m of liveMembers()) {
        const metrics = m.member.meta.metrics
        if (Array.isArray(metrics)) for (const x of metrics) if (typeof x === 'string') out.add(x)
      }
      return out
    },
    list () {
      return (core?.listDefinitions() ?? []).flatMap((e): StoredDefinition[] => {
        const p = parse(e.id, e.definition)
        return typeof p === 'string' ? [] : [{ id: e.id, definition: p, crtime: e.crtime }]
      })
    },
    get (id) {
      const e = core?.getDefinition(id)
      if (e === undefined) return undefined
      const p = parse(e.id, e.definition)
      return typeof p === 'string' ? undefined : { id: e.id, definition: p, crtime: e.crtime }
    },
    create (canonical) {
      const c = core!
      return binding!.run((now) => {
        const { id, outputs } = c.createDefinition(canonical, now)
        return { outputs, result: id }
      })
    },
    update (id, canonical) {
      const c = core!
      binding!.run((now) => ({ outputs: c.updateDefinition(id, canonical, now), result: undefined }))
    },
    delete (id) {
      const c = core!
      binding!.run((now) => ({ outputs: c.deleteDefinition(id, now), result: undefined }))
    },
    touch (id) {
      const c = core!
      binding!.run((now) => ({ outputs: c.touchDefinition(id, now), result: undefined }))
    },
    report (id, definition): InstrumentationReport {
      const metric = `${definition.module}.${definition.stat}`
      const self = core!.self.id
      const s = instrumenter?.status(id)
      const local = s === undefined ? { state: 'not running' } : { ...s }
      let nsources = 0
      const unavailable: Array<{ node: string, peer: string, reason: string }> = []
      if (s !== undefined && s.state !== 'failed') nsources++
      else unavailable.push({ node: core!.self.name, peer: self, reason: s?.reason ?? `not running here (${servedHere().includes(metric) ? 'starting' : `no backend on this node implements ${metric}`})` })
      for (const m of liveMembers()) {
        if (m.member.id === self) continue
        const meta = m.member.meta
        const metrics = Array.isArray(meta.metrics) ? meta.metrics : []
        const failed = typeof meta.failed === 'object' && meta.failed !== null && !Array.isArray(meta.failed) ? meta.failed as Record<string, unknown> : {}
        if (!metrics.includes(metric)) unavailable.push({ node: m.member.name, peer: m.member.id, reason: `no backend on this node implements ${metric}` })
        else if (typeof failed[id] === 'string') unavailable.push({ node: m.member.name, peer: m.member.id, reason: failed[id] })
        else nsources++
      }
      return { nsources, local, unavailable }
    }
  }

  const valueSource: ValueSource = {
    definition: (id) => {
      const d = store.get(id)
      return d === undefined ? undefined : { definition: d.definition, crtime: d.crtime }
    },
    async fetch (id, startSecond, endSecond, signal) {
      const b = mergeBinding
      if (b === undefined) return []
      return await b.query(id, startSecond, endSecond, signal)
    },
    touch: (id) => { store.touch(id) },
    now: () => Date.now() / 1000,
    nsources: (id) => {
      const d = store.get(id)
      return d === undefined ? 0 : store.report(id, d.definition).nsources
    }
  }

  const router = addUiRoutes(addValueRoutes(addInstrumentationRoutes(new Router(), store), valueSource, {
    catalog: cat,
    health: () => {
      const c = binding?.counters()
      const mc = mergeBinding?.counters()
      return {
        members_live: liveMembers().length,
        definitions: core?.listDefinitions().length ?? 0,
        peers: host?.peers().length ?? 0,
        gossip_rejected: c?.gossipRejected ?? 0,
        merge_messages_sent: mc?.sent ?? 0,
        merge_send_failures: mc?.sendFailures ?? 0,
        merge_queries: mc?.queries ?? 0,
        merge_query_failures: mc?.queryFailures ?? 0
      }
    },
    instrumentations: () => store.list().map((d) => d.id)
  })).add('GET', '/debug/state', ({ res }) => { sendJson(res, 200, debugState()) })

  function debugState (): Record<string, unknown> {
    return {
      core: core?.debugState(),
      host: host?.debugState(),
      binding: binding?.counters(),
      instrumenter: instrumenter?.debugState(),
      merge: merge?.debugState(),
      mergeBinding: mergeBinding?.counters(),
      pointStore: pointStore?.stats(),
      peers: host?.peers().length ?? 0,
      members: core?.members().map((m) => ({ id: m.member.id, name: m.member.name, state: m.state })) ?? []
    }
  }

  async function withBudget (what: string, budgetMs: number, task: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => { log(`stop: ${what} did not finish within ${budgetMs} ms; abandoned`); resolve() }, budgetMs)
    })
    try {
      await Promise.race([task().catch((err: unknown) => { log(`stop: ${what}: ${(err as Error).message ?? String(err)}`) }), timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  return {
    async start () {
      await mkdir(init.dataDir, { recursive: true, mode: 0o700 })
      const { identity } = await loadOrCreateIdentity(init.dataDir)
      const keyFile = init.key ?? join(init.dataDir, NETWORK_KEY_FILE)
      const { key, created: keyCreated } = init.key === undefined
        ? await loadOrCreateNetworkKey(keyFile)
        : { key: await readNetworkKey(keyFile), created: false }

      const backends = init.backends ?? defaultBackends(init.name)
      backendsInUse = backends
      const inst = createInstrumenter({ backends, hostname: init.name, catalog: cat })
      instrumenter = inst
      await inst.start()

      const h = await createMeshHost({
        identity,
        networkKey: key,
        random: Math.random,
        listen: init.listen,
        bootstrap: init.bootstrap,
        onError: (context, err) => { log(`${context}: ${(err as Error).message ?? String(err)}`) }
      })
      host = h
      const restore = await readPersistedState(init.dataDir, log)
      const meta = buildMeta()
      cardMeta = JSON.stringify(meta)
      const c = createMeshCore({
        self: { id: h.peerId, name: init.name, addresses: h.addresses(), meta },
        seeds: init.bootstrap ?? [],
        rng: createRng(randomUUID()),
        now: Date.now(),
        restore,
        membership: init.membership,
        definitions: init.definitions
      })
      core = c
      // The merge tree exists before the mesh binding starts: its first outputs (members,
      // restored definitions) already feed it.
      const ps = await openPointStore(join(init.dataDir, POINTS_DIR), { onError: (context, err) => { log(`point store: ${String(context)}: ${(err as Error).message ?? String(err)}`) } })
      pointStore = ps
      const m = createMergeCore({ self: h.peerId, now: Date.now(), config: init.merge, restore: await restorePoints(ps, c) })
      merge = m
      const mb = createMergeBinding({
        merge: m,
        host: h,
        store: ps,
        now: Date.now,
        connect: async (peer) => { await binding?.connect(peer) },
        onError: (context, err) => { log(`${context}: ${String(err)}`) }
      })
      mergeBinding = mb
      await mb.start()
      const b = createMeshBinding({ core: c, host: h, dataDir: init.dataDir, now: Date.now, onOutput, onError: (context, err) => { log(`${context}: ${String(err)}`) } })
      binding = b
      await b.start()

      armCollector()
      pruner = setInterval(pruneStore, PRUNE_INTERVAL_MS)
      pruner.unref()

      const srv = createServer((req, res) => { void router.handle(req, res) })
      server = srv
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject)
        srv.listen(init.http.port, init.http.host, () => { srv.off('error', reject); resolve() })
      })
      const addr = srv.address() as AddressInfo
      const httpHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
      return { url: `http://${httpHost}:${addr.port}`, peerId: h.peerId, addresses: h.addresses(), keyFile, keyCreated, keyFingerprint: networkKeyFingerprint(key) }
    },
    async stop (budgetMs = DEFAULT_STOP_BUDGET_MS) {
      stopping ??= (async () => {
        const share = Math.max(100, Math.floor(budgetMs / 4))
        if (collector !== undefined) clearTimeout(collector)
        if (pruner !== undefined) clearInterval(pruner)
        const srv = server
        // No new connections from here; the open ones are closed at the end.
        const closed = srv === undefined ? Promise.resolve() : new Promise<void>((resolve) => { srv.close(() => { resolve() }) })
        if (binding !== undefined) { const b = binding; await withBudget('leaving the mesh', share, async () => { await b.leave(share) }) }
        if (instrumenter !== undefined) { const i = instrumenter; await withBudget('stopping measurements', share, async () => { await i.stop() }) }
        // Whatever bpftrace child is left (a measurement still starting), none outlives us.
        await withBudget('stopping bpftrace', share, async () => { await stopAllBpftrace() })
        if (mergeBinding !== undefined) { const mb = mergeBinding; await withBudget('stopping the merge tree', share, async () => { await mb.stop() }) }
        if (pointStore !== undefined) { const ps = pointStore; await withBudget('flushing points', share, async () => { await ps.close() }) }
        if (binding !== undefined) { const b = binding; await withBudget('flushing state', share, async () => { await b.stop() }) }
        if (host !== undefined) { const h = host; await withBudget('stopping the mesh host', share, async () => { await h.stop() }) }
        if (srv !== undefined) {
          srv.closeAllConnections()
          await withBudget('closing HTTP', 500, async () => { await closed })
        }
      })()
      await stopping
    },
    debugState
  }
}
