/**
 * Events of the process backend's metrics, made on demand by its tests: HTTP requests to a
 * loopback server in this process, a short wait for event-loop samples, and forced garbage
 * collections (V8's gc(), reached without --expose-gc through v8.setFlagsFromString).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as (options?: { type?: 'major' | 'minor' }) => void

/** Runs a major and a minor collection now. */
export function forceGc (): void {
  gc()
  gc({ type: 'minor' })
}

export async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** A loopback HTTP server answering 200 on /ok..., 404 elsewhere, after `delayMs` for /slow. */
export interface TestServer {
  readonly url: string
  close: () => Promise<void>
}

export async function startServer (): Promise<TestServer> {
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/slow') === true) {
      setTimeout(() => { res.end('slow') }, 30)
      return
    }
    res.statusCode = req.url?.startsWith('/ok') === true ? 200 : 404
    res.end()
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}

/** GETs `path` and reads the body. */
export async function get (server: TestServer, path: string, method = 'GET'): Promise<number> {
  const res = await fetch(server.url + path, { method })
  await res.arrayBuffer()
  return res.status
}
