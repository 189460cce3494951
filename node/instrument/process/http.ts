/**
 * node.httpd_ops: the HTTP requests this process serves, from Node's built-in
 * diagnostics_channel channels `http.server.request.start` (published when a request's headers
 * have been parsed, before the server's 'request' event) and `http.server.response.finish`
 * (published when the response has been handed to the socket), both present in Node 20. Latency
 * runs between the two, in nanoseconds from process.hrtime.bigint(). A request whose response
 * never finishes (the client went away) is not counted, nor one that started before the
 * measurement did (its start time is unknown).
 *
 * Channels are process-wide: every HTTP server in the process is observed, which in the daemon
 * means its API. Subscribers run inside Node's HTTP code, so they never throw (Node would turn
 * a throw into an uncaught exception).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { EventSource } from './event-source.js'

/** The channels this source listens on. */
export const HTTP_REQUEST_START_CHANNEL = 'http.server.request.start'
export const HTTP_RESPONSE_FINISH_CHANNEL = 'http.server.response.finish'

/** Default for maxPathLength: the predicate language's longest string constant, in characters. */
export const DEFAULT_MAX_PATH_LENGTH = 1024

/**
 * `http_path` of a request target: the path without query string or fragment; for the absolute
 * form (`http://host/p?q`, sent to proxies) its path; for `*` and authority forms the target
 * itself. At most `maxLength` characters, so a hostile client cannot make huge keys.
 */
export function httpPath (target: string, maxLength = DEFAULT_MAX_PATH_LENGTH): string {
  let path = target
  if (!target.startsWith('/') && /^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    const slash = target.indexOf('/', target.indexOf('//') + 2)
    path = slash < 0 ? '/' : target.slice(slash)
  }
  const end = path.search(/[?#]/)
  if (end >= 0) path = path.slice(0, end)
  return path.length > maxLength ? path.slice(0, maxLength) : path
}

interface ChannelMessage {
  readonly request?: { readonly method?: unknown, readonly url?: unknown }
  readonly response?: { readonly statusCode?: unknown }
}

function requestOf (message: unknown): object | undefined {
  const req = (message as ChannelMessage | null)?.request
  return typeof req === 'object' && req !== null ? req : undefined
}

/** The node.httpd_ops source. */
export function httpSource (options: { maxPathLength?: number } = {}): EventSource {
  const maxPathLength = options.maxPathLength ?? DEFAULT_MAX_PATH_LENGTH
  return {
    metric: 'node.httpd_ops',
    fields: ['http_method', 'http_path', 'http_status', 'latency'],
    start (sink) {
      // Keyed by the request object: entries go when requests are collected, so an abandoned
      // request leaks nothing.
      const started = new WeakMap<object, bigint>()
      const onStart = (message: unknown): void => {
        const req = requestOf(message)
        if (req !== undefined) started.set(req, process.hrtime.bigint())
      }
      const onFinish = (message: unknown): void => {
        const req = requestOf(message)
        if (req === undefined) return
        const t0 = started.get(req)
        if (t0 === undefined) return
        started.delete(req)
        const latency = Number(process.hrtime.bigint() - t0)
        const { method, url } = req as NonNullable<ChannelMessage['request']>
        const status = (message as ChannelMessage).response?.statusCode
        sink.event({
          http_method: typeof method === 'string' ? method : '',
          http_path: typeof url === 'string' ? httpPath(url, maxPathLength) : '',
          http_status: typeof status === 'number' ? String(status) : '',
          latency
        })
      }
      subscribe(HTTP_REQUEST_START_CHANNEL, onStart)
      subscribe(HTTP_RESPONSE_FINISH_CHANNEL, onFinish)
      let stopped = false
      return () => {
        if (stopped) return
        stopped = true
        unsubscribe(HTTP_REQUEST_START_CHANNEL, onStart)
        unsubscribe(HTTP_RESPONSE_FINISH_CHANNEL, onFinish)
      }
    }
  }
}
