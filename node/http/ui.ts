/**
 * The web UI's static files (node/http/ui/: index.html, app.js, style.css), served by every node
 * at `/`: plain files, no build step. They are read once when the routes are added (a daemon
 * serves what it started with) and sent with an ETag, so a browser revalidates cheaply, and with
 * a Content-Security-Policy that allows only this origin's scripts, styles and API calls (and
 * `data:` images, which is how the heatmap PNGs arrive).
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { CORS_HEADERS } from './respond.js'
import type { Router } from './router.js'

/** The files of the UI, by URL path. */
export const UI_FILES: Readonly<Record<string, { readonly file: string, readonly type: string }>> = Object.freeze({
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' }
})

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer'
}

/**
 * Adds `GET /`, `GET /ui/app.js` and `GET /ui/style.css`.
 * @param dir the folder holding the files. @default node/http/ui next to this module
 */
export function addUiRoutes (router: Router, dir: URL = new URL('./ui/', import.meta.url)): Router {
  for (const [path, { file, type }] of Object.entries(UI_FILES)) {
    const body = readFileSync(new URL(file, dir))
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
    router.add('GET', path, ({ req, res }) => {
      const headers = { ...CORS_HEADERS, ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-cache', ETag: etag }
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers)
        res.end()
        return
      }
      res.writeHead(200, { ...headers, 'Content-Length': body.byteLength })
      res.end(body)
    })
  }
  return router
}
