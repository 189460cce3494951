/**
 * CA's instrumentation API (CA-REFERENCE §2.2, §2.4) over the mesh's replicated definitions:
 * `GET /ca`, `GET/POST /ca/instrumentations`, `GET/PUT/DELETE /ca/instrumentations/:id` and
 * `POST /ca/instrumentations/:id/clone`. Requests are validated in full (metad's parsers, then
 * "can the mesh serve this metric") before anything is asked of the store, so a rejected
 * request changes nothing. The store (the daemon, over the protocol core) is a port, so these
 * routes know nothing of libp2p.
 *
 * Beyond CA, an instrumentation object also says how this node runs it (`node-status`) and
 * which live nodes cannot and why (`unavailable`, at most MAX_UNAVAILABLE_LISTED entries, with
 * `unavailable-count` the full number).
 */
import type { ServerResponse } from 'node:http'
import {
  canonicalInstrumentationJson, caMetadata, HeatmeshError, InvalidFieldError, modifyInstrumentation, parseInstrumentation,
  renderInstrumentation, type CaInstrumentation, type CaMetadata, type Catalog, type InstrumentationDefinition
} from '../../metad/index.js'
import { readInstrumentationParams } from './body.js'
import { CORS_HEADERS, sendJson } from './respond.js'
import type { Router } from './router.js'

/** Most unavailable nodes listed on one instrumentation. */
export const MAX_UNAVAILABLE_LISTED = 32

/** One definition as the store holds it. */
export interface StoredDefinition {
  readonly id: string
  readonly definition: InstrumentationDefinition
  readonly crtime: number
}

/** How an instrumentation is running across the mesh. */
export interface InstrumentationReport {
  /** Live nodes expected to report (running it, or excluded by its predicate). */
  readonly nsources: number
  /** This node's state of it. */
  readonly local: { readonly state: string, readonly backend?: string, readonly reason?: string }
  /** Live nodes that cannot run it, and why. */
  readonly unavailable: ReadonlyArray<{ readonly node: string, readonly peer: string, readonly reason: string }>
}

/** What the routes need of the mesh. */
export interface DefinitionStore {
  readonly catalog: Catalog
  /** `module.stat` of every metric some live member can serve. */
  servable: () => ReadonlySet<string>
  list: () => readonly StoredDefinition[]
  get: (id: string) => StoredDefinition | undefined
  /** Creates a definition (canonical JSON) mesh-wide; returns its id. */
  create: (canonical: string) => string
  update: (id: string, canonical: string) => void
  delete: (id: string) => void
  /** Records an API access (idle-max). */
  touch: (id: string) => void
  report: (id: string, definition: InstrumentationDefinition) => InstrumentationReport
}

/** CA's instrumentation object plus heatmesh's report fields. */
export type InstrumentationObject = CaInstrumentation & {
  'node-status': InstrumentationReport['local']
  unavailable: InstrumentationReport['unavailable']
  'unavailable-count': number
}

/** The metadata of the catalog intersected with what the mesh can serve. */
export function meshMetadata (store: DefinitionStore): CaMetadata {
  return caMetadata(store.catalog, [...store.servable()].map((name) => {
    const dot = name.indexOf('.')
    return { module: name.slice(0, dot), stat: name.slice(dot + 1) }
  }))
}

/** Registers the routes on `router`. */
export function addInstrumentationRoutes (router: Router, store: DefinitionStore): Router {
  const render = (d: StoredDefinition): InstrumentationObject => {
    const report = store.report(d.id, d.definition)
    return {
      ...renderInstrumentation(d.definition, { id: d.id, crtime: d.crtime, nsources: report.nsources }),
      'node-status': report.local,
      unavailable: report.unavailable.slice(0, MAX_UNAVAILABLE_LISTED),
      'unavailable-count': report.unavailable.length
    }
  }
  const find = (id: string): StoredDefinition => {
    const d = store.get(id)
    if (d === undefined) throw new HeatmeshError('ECA_NOENT', `no such instrumentation: ${JSON.stringify(id)}`)
    return d
  }
  const checkServable = (def: InstrumentationDefinition): void => {
    const name = `${def.module}.${def.stat}`
    if (!store.servable().has(name)) throw new InvalidFieldError('module.stat', name, 'no live node of the mesh can serve this metric')
  }
  const created = (res: ServerResponse, def: InstrumentationDefinition): void => {
    const id = store.create(canonicalInstrumentationJson(def))
    const body = render(find(id))
    sendJson(res, 201, body, { Location: body.uri })
  }

  return router
    .add('GET', '/ca', ({ res }) => { sendJson(res, 200, meshMetadata(store)) })
    .add('GET', '/ca/instrumentations', ({ res }) => { sendJson(res, 200, store.list().map(render)) })
    .add('POST', '/ca/instrumentations', async ({ req, res, url }) => {
      const def = parseInstrumentation(await readInstrumentationParams(req, url), store.catalog)
      checkServable(def)
      created(res, def)
    })
    .add('GET', '/ca/instrumentations/:id', ({ res, params }) => {
      const d = find(params.id!)
      store.touch(d.id)
      sendJson(res, 200, render(d))
    })
    .add('PUT', '/ca/instrumentations/:id', async ({ req, res, params, url }) => {
      const input = await readInstrumentationParams(req, url)
      const d = find(params.id!)
      const next = modifyInstrumentation(d.definition, input)
      const canonical = canonicalInstrumentationJson(next)
      if (canonical !== canonicalInstrumentationJson(d.definition)) store.update(d.id, canonical)
      store.touch(d.id)
      sendJson(res, 200, render(find(d.id)))
    })
    .add('DELETE', '/ca/instrumentations/:id', ({ res, params }) => {
      const d = find(params.id!)
      store.delete(d.id)
      res.writeHead(204, CORS_HEADERS)
      res.end()
    })
    .add('POST', '/ca/instrumentations/:id/clone', async ({ req, res, params, url }) => {
      const input = await readInstrumentationParams(req, url)
      const source = find(params.id!)
      const def = parseInstrumentation(input, store.catalog, source.definition)
      checkServable(def)
      store.touch(source.id)
      created(res, def)
    })
}
