/**
 * A heatmesh node: today the HTTP API over the metric catalog (a mesh of one). The mesh,
 * instrumenter, merge tree and store join here as their issues land.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Router } from './http/router.js'
import { sendJson } from './http/respond.js'
import { catalog, caMetadata } from '../metad/index.js'

export interface NodeInit {
  /** Where the HTTP API listens. Loopback unless the operator says otherwise. */
  readonly http: { readonly host: string, readonly port: number }
  /** This node's name (default: the hostname). */
  readonly name: string
}

export interface HeatmeshNode {
  /** Starts listening; resolves with the API's base URL (the real port when 0 was asked). */
  start: () => Promise<{ url: string }>
  stop: () => Promise<void>
}

export function createNode (init: NodeInit): HeatmeshNode {
  const router = new Router()
    .add('GET', '/ca', ({ res }) => { sendJson(res, 200, caMetadata(catalog)) })
  let server: Server | undefined

  return {
    async start () {
      const srv = createServer((req, res) => { void router.handle(req, res) })
      server = srv
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject)
        srv.listen(init.http.port, init.http.host, () => { srv.off('error', reject); resolve() })
      })
      const addr = srv.address() as AddressInfo
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
      return { url: `http://${host}:${addr.port}` }
    },
    async stop () {
      const srv = server
      server = undefined
      if (srv === undefined) return
      srv.closeAllConnections()
      await new Promise<void>((resolve) => { srv.close(() => { resolve() }) })
    }
  }
}
