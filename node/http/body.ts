/**
 * Request parameters as CA read them (CA-REFERENCE §2.1): the body is read with a limit (4096
 * bytes, else 413), a JSON body must parse (else 409 `failed to parse JSON: ...`), a form body is
 * merged over the query string (the body wins), multipart is refused (415); and the
 * `X-API-Version` header is checked. The result is plain `unknown` data for metad's parsers,
 * which validate it.
 */
import type { IncomingMessage } from 'node:http'
import { HeatmeshError } from '../../metad/index.js'
import { HttpStatusError } from './respond.js'

/** CA's request body limit, in bytes. */
export const MAX_BODY_BYTES = 4096

/**
 * Checks `X-API-Version` (absent: ca/0.1.0): `ca/` then exactly three dot-separated parts.
 * Throws ECA_INVAL `invalid API version string: <s>`.
 */
export function checkApiVersion (req: IncomingMessage): void {
  const raw = req.headers['x-api-version']
  if (raw === undefined) return
  const text = Array.isArray(raw) ? raw.join(',') : raw
  if (!/^ca\/[0-9]+\.[0-9]+\.[0-9]+$/.test(text)) throw new HeatmeshError('ECA_INVAL', `invalid API version string: ${text}`)
}

/** Reads the whole body, refusing more than `limit` bytes with a 413. */
export async function readBody (req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    req.resume()
    throw new HttpStatusError(413, `request body of ${declared} bytes exceeds the limit of ${limit} bytes`)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > limit) {
      req.resume()
      throw new HttpStatusError(413, `request body exceeds the limit of ${limit} bytes`)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/**
 * The parameters of an instrumentation create, clone or modify: a JSON object body if there is
 * one, otherwise the form fields (body over query string). Repeated form keys become arrays.
 */
export async function readInstrumentationParams (req: IncomingMessage, url: URL): Promise<unknown> {
  const body = await readBody(req)
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type === 'multipart/form-data') throw new HttpStatusError(415, 'multipart/form-data is not supported')
  const text = body.toString('utf8')
  if (type === 'application/json' || (type === '' && /^\s*[[{]/.test(text))) {
    if (text.trim() === '') return formFields(url.searchParams, new URLSearchParams())
    try {
      return JSON.parse(text) as unknown
    } catch (err) {
      throw new HeatmeshError('ECA_INVAL', `failed to parse JSON: ${(err as Error).message}`)
    }
  }
  return formFields(url.searchParams, new URLSearchParams(text))
}

function formFields (query: URLSearchParams, form: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>
  const put = (params: URLSearchParams): void => {
    for (const key of new Set(params.keys())) {
      const all = params.getAll(key)
      out[key] = all.length === 1 ? all[0]! : all
    }
  }
  put(query)
  put(form) // the body wins
  return out
}
