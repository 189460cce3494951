/**
 * How every heatmesh HTTP answer is written: CA's headers (CORS), JSON bodies with a trailing
 * newline, and the one place where an error's code becomes an HTTP status (CA's sendError).
 * Unlike CA, 404 and 503 also carry a JSON body that says what is wrong.
 */
import type { ServerResponse } from 'node:http'
import { HeatmeshError, type ErrorCode } from '../../metad/index.js'

/** CA's CORS headers, on every response. */
export const CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Content-Type, Authorization, X-API-Version',
  'Access-Control-Allow-Methods': 'POST, GET, DELETE, PUT'
})

/** HTTP status for each error code (CA-REFERENCE §2.1: validation is 409, not 400). */
export function statusForCode (code: ErrorCode): number {
  switch (code) {
    case 'ECA_INVAL': return 409
    case 'ECA_EXISTS': return 409
    case 'ECA_NOENT': return 404
    case 'ECA_NORESOURCE':
    case 'ECA_TIMEDOUT': return 503
    case 'ECA_INCOMPAT':
    case 'ECA_INTR':
    case 'ECA_IO':
    case 'ECA_REMOTE':
    case 'ECA_UNKNOWN': return 500
    default: {
      const never: never = code
      return never
    }
  }
}

/** Writes a JSON body (with CA's trailing newline). */
export function sendJson (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body) + '\n'
  res.writeHead(status, {
    ...CORS_HEADERS,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers
  })
  res.end(text)
}

/** An error with its own HTTP status (413 body too large, 415 media type), outside CA's code mapping. */
export class HttpStatusError extends HeatmeshError {
  readonly status: number
  constructor (status: number, message: string) {
    super('ECA_INVAL', message)
    this.name = 'HttpStatusError'
    this.status = status
  }
}

/** Writes `{error: {code, message}}` with the status the code maps to; anything unexpected is a 500. */
export function sendError (res: ServerResponse, err: unknown): void {
  if (err instanceof HeatmeshError) {
    const status = err instanceof HttpStatusError ? err.status : statusForCode(err.code)
    sendJson(res, status, { error: { code: err.code, message: err.message } })
    return
  }
  const message = err instanceof Error ? err.message : String(err)
  sendJson(res, 500, { error: { code: 'ECA_UNKNOWN', message: `internal error: ${message}` } })
}
