/**
 * A small router over node:http: method + path pattern (`/ca/instrumentations/:id`) -> handler.
 * node:http with this router is all heatmesh needs (a few dozen JSON routes and a static UI);
 * a framework would add a dependency and its own error shapes, which CA's API fixes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { HeatmeshError } from '../../metad/index.js'
import { checkApiVersion } from './body.js'
import { CORS_HEADERS, sendError } from './respond.js'

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'

export interface RouteContext {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** Path parameters by name (`:id` -> params.id), already URI-decoded. */
  readonly params: Readonly<Record<string, string>>
  readonly url: URL
}

export type Handler = (ctx: RouteContext) => void | Promise<void>

interface Route {
  readonly method: Method
  readonly parts: readonly string[]
  readonly handler: Handler
}

export class Router {
  readonly #routes: Route[] = []

  add (method: Method, pattern: string, handler: Handler): this {
    this.#routes.push({ method, parts: pattern.split('/').filter(Boolean), handler })
    return this
  }

  /** Handles one request; unknown paths are 404, known paths with another method are 405. */
  async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost')
      if (req.method === 'OPTIONS') {
        res.writeHead(200, CORS_HEADERS)
        res.end()
        return
      }
      checkApiVersion(req)
      const parts = url.pathname.split('/').filter(Boolean)
      let pathMatched = false
      for (const route of this.#routes) {
        const params = match(route.parts, parts)
        if (params === undefined) continue
        pathMatched = true
        if (route.method !== req.method) continue
        await route.handler({ req, res, params, url })
        return
      }
      if (pathMatched) throw new MethodNotAllowedError(req.method ?? '', url.pathname)
      throw new HeatmeshError('ECA_NOENT', `no such resource: ${url.pathname}`)
    } catch (err) {
      if (res.headersSent) {
        res.destroy()
        return
      }
      if (err instanceof MethodNotAllowedError) {
        res.writeHead(405, { ...CORS_HEADERS, 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ error: { code: 'ECA_INVAL', message: err.message } }) + '\n')
        return
      }
      sendError(res, err)
    }
  }
}

class MethodNotAllowedError extends Error {
  constructor (method: string, path: string) {
    super(`method ${method} is not allowed on ${path}`)
    this.name = 'MethodNotAllowedError'
  }
}

function match (pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string
    const v = parts[i] as string
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(v)
      } catch {
        return undefined
      }
    } else if (p !== v) {
      return undefined
    }
  }
  return params
}
