/**
 * node/http/ui.ts: the web UI's files at /, /ui/app.js and /ui/style.css, with their types, a
 * content security policy, and ETag revalidation.
 */
import test from 'ava'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Router } from '../../../node/http/router.js'
import { addUiRoutes } from '../../../node/http/ui.js'

async function serveUi (t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const router = addUiRoutes(new Router())
  const server = createServer((req, res) => { void router.handle(req, res) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise<void>((resolve) => server.close(() => { resolve() })) })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

// [path, content type, a piece of the body]
const files: Array<[string, string, string]> = [
  ['/', 'text/html; charset=utf-8', '<script type="module" src="/ui/app.js"></script>'],
  ['/ui/app.js', 'text/javascript; charset=utf-8', 'async function api ('],
  ['/ui/style.css', 'text/css; charset=utf-8', '#errors']
]
for (const [path, type, piece] of files) {
  test(`GET ${path} serves the file as ${type.split(';')[0]!}`, async (t) => {
    const base = await serveUi(t)
    const res = await fetch(base + path)
    t.is(res.status, 200)
    t.is(res.headers.get('content-type'), type)
    t.true((await res.text()).includes(piece))
    t.regex(res.headers.get('content-security-policy') ?? '', /default-src 'self'/)
    t.is(res.headers.get('x-content-type-options'), 'nosniff')
  })
}

test('a browser holding the current ETag gets 304 without a body', async (t) => {
  const base = await serveUi(t)
  const first = await fetch(`${base}/ui/app.js`)
  await first.arrayBuffer()
  const etag = first.headers.get('etag')!
  t.regex(etag, /^"[A-Za-z0-9_-]+"$/)
  const again = await fetch(`${base}/ui/app.js`, { headers: { 'If-None-Match': etag } })
  t.is(again.status, 304)
  t.is((await again.text()), '')
})

test('other paths are not the UI: 404 with CA\'s JSON error', async (t) => {
  const base = await serveUi(t)
  const res = await fetch(`${base}/ui/missing.js`)
  t.is(res.status, 404)
  t.is((await res.json() as { error: { code: string } }).error.code, 'ECA_NOENT')
})
