import test from 'ava'
import { httpPath, httpSource } from '../../../../node/instrument/process/http.js'
import type { FieldRecord } from '../../../../node/instrument/index.js'
import { get, startServer } from './exercise.js'

test('http_path is the path without query string or fragment', (t) => {
  t.is(httpPath('/ca/instrumentations?profile=none'), '/ca/instrumentations')
  t.is(httpPath('/a/b#frag'), '/a/b')
  t.is(httpPath('/'), '/')
})

test('http_path of an absolute-form target is its path', (t) => {
  t.is(httpPath('http://example.com:8080/x/y?z=1'), '/x/y')
  t.is(httpPath('http://example.com'), '/')
})

test('http_path of the asterisk and authority forms is the target itself', (t) => {
  t.is(httpPath('*'), '*')
  t.is(httpPath('example.com:443'), 'example.com:443')
})

test('http_path is cut at the length limit', (t) => {
  t.is(httpPath(`/${'a'.repeat(5000)}`, 100).length, 100)
})

test.serial('every request this process serves is one event with method, path, status and latency from request start to response finish', async (t) => {
  const server = await startServer()
  const events: FieldRecord[] = []
  const stop = httpSource().start({ event: (r) => { events.push(r) } })
  try {
    t.is(await get(server, '/ok/1?q=2'), 200)
    t.is(await get(server, '/missing', 'DELETE'), 404)
    t.is(await get(server, '/slow'), 200)
  } finally {
    stop()
    await server.close()
  }
  t.deepEqual(events.map(({ latency, ...rest }) => rest), [
    { http_method: 'GET', http_path: '/ok/1', http_status: '200' },
    { http_method: 'DELETE', http_path: '/missing', http_status: '404' },
    { http_method: 'GET', http_path: '/slow', http_status: '200' }
  ])
  for (const e of events) t.true(typeof e.latency === 'number' && e.latency > 0)
  t.true((events[2]!.latency as number) >= 25e6, 'the slow request took its 30 ms timer')
})

test.serial('after stop, requests are no longer seen, and stop is idempotent', async (t) => {
  const server = await startServer()
  const events: FieldRecord[] = []
  const stop = httpSource().start({ event: (r) => { events.push(r) } })
  await get(server, '/ok')
  stop()
  stop()
  await get(server, '/ok')
  await server.close()
  t.is(events.length, 1)
})
