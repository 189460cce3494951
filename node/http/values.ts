/**
 * CA's values API (CA-REFERENCE §2.5, §7) and heatmesh's additions, served by every node:
 *
 *   GET /ca/instrumentations/:id/value                     = value/raw
 *   GET /ca/instrumentations/:id/value/raw
 *   GET /ca/instrumentations/:id/value/heatmap             = value/heatmap/image
 *   GET /ca/instrumentations/:id/value/heatmap/image       JSON (base64 PNG) or image/png
 *   GET /ca/instrumentations/:id/value/heatmap/details
 *   GET /ca/instrumentations/:id/value/heatmap/average
 *   GET /ca/instrumentations/:id/value/heatmap/percentile
 *   GET /ca/instrumentations/:id/value/heatmap/region      beyond CA (region.ts)
 *   GET /ca/instrumentations/:id/value/chart/image         beyond CA: line / stacked-bar charts
 *   GET /metrics                                           beyond CA: Prometheus (metrics.ts)
 *
 * THE REQUEST PIPELINE (CA's caAggrValueRequest): find the definition (404), check that the
 * resource applies, read every parameter (409 naming it), resolve the data points from the time
 * parameters (value-params.ts), refuse points too far in the future, fetch the slots of the whole
 * request from the mesh once, and when the newest slot is there but not complete yet
 * (minreporting < nsources) poll the source again until it is or `timeout` ms have passed since
 * the request arrived (CA queued such requests; `delay` then says how long it waited). Then each
 * point is answered by its resource (value-resources.ts) with the common fields added.
 *
 * Every parameter comes from the query string (CA also read a GET body's JSON for the time
 * parameters; heatmesh reads no body on GET). A value request counts as an access to the
 * instrumentation (idle-max), as in CA, unless it says `touch=false`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { catalog as defaultCatalog, HeatmeshError, type Catalog, type InstrumentationDefinition } from '../../metad/index.js'
import { SurfacePool } from '../../render/index.js'
import { prefersPng } from './accept.js'
import { addMetricsRoute, type HealthSource, type ValueCounters } from './metrics.js'
import { booleanParam, parseQuery } from './query-params.js'
import { CORS_HEADERS, sendJson } from './respond.js'
import type { Router } from './router.js'
import { checkNotTooFar, parseTimeParams, valuePoints, type ValuePoint } from './value-params.js'
import { ColumnCache } from './slot-window.js'
import { indexSlots, pointData, type SlotIndex } from './value-points.js'
import {
  chartImageResource, heatmapAverageResource, heatmapDetailsResource, heatmapImageResource, heatmapPercentileResource,
  heatmapRegionResource, rawResource, type ValueResource
} from './value-resources.js'
import { fetchSlots, type ValueSource } from './value-source.js'

export type { SlotPoint, ValueSource } from './value-source.js'

/** Options of {@link addValueRoutes}; every field has a default. */
export interface ValueRoutesOptions {
  /** The catalog, for axis units. @default metad's catalog */
  readonly catalog?: Catalog
  /** The daemon's own health numbers for `/metrics` (names without the `heatmesh_` prefix). @default none */
  readonly health?: HealthSource
  /** Ids of the live instrumentations, for `/metrics`. @default none (no per-instrumentation metrics) */
  readonly instrumentations?: () => readonly string[]
  /** Milliseconds between two polls of the source while waiting for a complete newest slot. @default 250 */
  readonly pollMs?: number
  /** Longest a single fetch may take, ms; then ECA_TIMEDOUT (503). @default 10000 */
  readonly fetchTimeoutMs?: number
  /** Surfaces reused between renders (one pool per server). @default a new pool of 8 sizes */
  readonly pool?: SurfacePool
}

/** Default of {@link ValueRoutesOptions.pollMs}. */
export const DEFAULT_POLL_MS = 250
/** Default of {@link ValueRoutesOptions.fetchTimeoutMs}. */
export const DEFAULT_FETCH_TIMEOUT_MS = 10_000

function noSuchInstrumentation (id: string): HeatmeshError {
  return new HeatmeshError('ECA_NOENT', `no such instrumentation: ${JSON.stringify(id)}`)
}

/** Whether the slot at `second` is there but not yet merged from every node expected. */
function incomplete (index: SlotIndex, second: number): boolean {
  const slot = index.bySecond.get(second)
  return slot !== undefined && slot.minreporting < slot.nsources
}

/**
 * Adds the values routes and `/metrics` to `router`, reading through `source`.
 *
 * @example
 * const router = addValueRoutes(addInstrumentationRoutes(new Router(), store), source, { health, instrumentations })
 */
export function addValueRoutes (router: Router, source: ValueSource, options: ValueRoutesOptions = {}): Router {
  const cat = options.catalog ?? defaultCatalog
  const pool = options.pool ?? new SurfacePool(8)
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS
  const fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS
  const counters: ValueCounters = { requests: 0, errors: 0, waits: 0 }
  const columns = new ColumnCache()

  const serve = <P>(resource: ValueResource<P>) => async ({ req, res, params, url }: { req: IncomingMessage, res: ServerResponse, params: Readonly<Record<string, string>>, url: URL }): Promise<void> => {
    counters.requests++
    const controller = new AbortController()
    const onClose = (): void => { if (!res.writableFinished) controller.abort() }
    res.on('close', onClose)
    try {
      await answer(resource, req, res, params.id!, url, controller.signal)
    } catch (err) {
      counters.errors++
      throw err
    } finally {
      res.off('close', onClose)
    }
  }

  const answer = async <P>(resource: ValueResource<P>, req: IncomingMessage, res: ServerResponse, id: string, url: URL, signal: AbortSignal): Promise<void> => {
    const rqtime = source.now()
    const found = source.definition(id)
    if (found === undefined) throw noSuchInstrumentation(id)
    const def: InstrumentationDefinition = found.definition
    const q = parseQuery(url.searchParams)
    // Beyond CA: touch=false reads without counting as an access (idle-max), for a list that
    // polls the coverage of every instrumentation and must not keep them all alive.
    if (booleanParam(q, 'touch') ?? true) source.touch(id)
    resource.applies(def, id)

    const time = parseTimeParams(q, resource.maxPoints)
    const own = resource.params(q, def)
    const png = resource.image && prefersPng(req.headers.accept)
    if (png && time.usearray) throw new HeatmeshError('ECA_INVAL', 'an image/png answer holds one data point: ask for application/json to use "ndatapoints"')

    const g = def.granularity
    const points = valuePoints(time, rqtime, resource.defaultDuration, g)
    checkNotTooFar(points, rqtime, time.timeout)
    const first = points[0]!.start_time
    const last = points[points.length - 1]!
    const end = last.start_time + last.duration

    let index = indexSlots(await fetchSlots(source, id, first, end, signal, fetchTimeoutMs), def)
    // CA's waiting (§1.5), kept simple: poll while the newest slot is there but not complete,
    // for data that can still arrive (not before the instrumentation existed), within timeout.
    let waited = false
    const newest = end - g
    if (end * 1000 > found.crtime) {
      const maxPolls = Math.ceil(time.timeout / Math.max(1, pollMs)) + 1
      for (let polls = 0; polls < maxPolls && incomplete(index, newest); polls++) {
        const elapsed = (source.now() - rqtime) * 1000
        if (elapsed >= time.timeout) break
        if (!waited) counters.waits++
        waited = true
        await sleep(Math.max(1, Math.min(pollMs, time.timeout - elapsed)), undefined, { signal })
        index = indexSlots(await fetchSlots(source, id, first, end, signal, fetchTimeoutMs), def)
      }
    }
    const delay = waited ? Math.max(0, Math.round((source.now() - rqtime) * 1000)) : undefined

    const fallbackSources = source.nsources?.(id) ?? 0
    const answers = points.map((point: ValuePoint) => {
      const data = pointData(index, point.start_time, point.duration, def.valueScope, fallbackSources)
      const out = resource.answer({ def, index, point, data, pool, catalog: cat, columns }, own)
      const fields: Record<string, unknown> = {
        ...out.fields,
        transformations: {},
        start_time: point.start_time,
        duration: point.duration,
        end_time: point.start_time + point.duration,
        nsources: data.nsources,
        minreporting: data.minreporting,
        requested_start_time: point.requested_start_time,
        requested_duration: point.requested_duration,
        requested_end_time: point.requested_end_time
      }
      if (data.truncated) fields.truncated = true
      if (delay !== undefined) fields.delay = delay
      return { fields, png: out.png }
    })

    if (png) {
      const { fields, png: bytes } = answers[0]!
      sendPng(res, bytes!, fields)
      return
    }
    const body = answers.map(({ fields, png: bytes }) => bytes === undefined ? fields : { ...fields, image: bytes.toString('base64') })
    sendJson(res, 200, time.usearray ? body : body[0])
  }

  const base = '/ca/instrumentations/:id/value'
  router
    .add('GET', base, serve(rawResource))
    .add('GET', `${base}/raw`, serve(rawResource))
    .add('GET', `${base}/heatmap`, serve(heatmapImageResource))
    .add('GET', `${base}/heatmap/image`, serve(heatmapImageResource))
    .add('GET', `${base}/heatmap/details`, serve(heatmapDetailsResource))
    .add('GET', `${base}/heatmap/average`, serve(heatmapAverageResource))
    .add('GET', `${base}/heatmap/percentile`, serve(heatmapPercentileResource))
    .add('GET', `${base}/heatmap/region`, serve(heatmapRegionResource))
    .add('GET', `${base}/chart/image`, serve(chartImageResource))

  addMetricsRoute(router, {
    source,
    catalog: cat,
    health: options.health,
    instrumentations: options.instrumentations,
    counters: () => counters,
    fetchTimeoutMs: Math.min(fetchTimeoutMs, 2000)
  })
  return router
}

/** Headers carrying a PNG answer's fields (the JSON answer has them in its body). */
function sendPng (res: ServerResponse, png: Buffer, fields: Record<string, unknown>): void {
  const header = (name: string): Record<string, string> => fields[name] === undefined ? {} : { [`X-Heatmesh-${name.replace(/_/g, '-')}`]: JSON.stringify(fields[name]) }
  res.writeHead(200, {
    ...CORS_HEADERS,
    'Access-Control-Expose-Headers': 'X-Heatmesh-Start-Time, X-Heatmesh-Duration, X-Heatmesh-Ymin, X-Heatmesh-Ymax, X-Heatmesh-Nbuckets, X-Heatmesh-Nsources, X-Heatmesh-Minreporting, X-Heatmesh-Plot',
    'Content-Type': 'image/png',
    'Content-Length': png.byteLength,
    'Cache-Control': 'no-store',
    ...header('start_time'),
    ...header('duration'),
    ...header('ymin'),
    ...header('ymax'),
    ...header('nbuckets'),
    ...header('nsources'),
    ...header('minreporting'),
    ...header('plot')
  })
  res.end(png)
}
