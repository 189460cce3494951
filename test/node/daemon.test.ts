import test from 'ava'
import { createNode } from '../../node/daemon.js'

test('a node serves the catalog metadata at GET /ca and stops cleanly', async (t) => {
  const node = createNode({ http: { host: '127.0.0.1', port: 0 }, name: 'test' })
  const { url } = await node.start()
  try {
    const res = await fetch(`${url}/ca`)
    t.is(res.status, 200)
    t.is(res.headers.get('access-control-allow-origin'), '*')
    const body = await res.json() as { metrics: Array<{ module: string, stat: string }>, types: Record<string, unknown> }
    t.true(body.metrics.some((m) => m.module === 'syscall' && m.stat === 'syscalls'))
    t.truthy(body.types.time)
  } finally {
    await node.stop()
  }
})

test('unknown paths answer 404 with a JSON error that names the path', async (t) => {
  const node = createNode({ http: { host: '127.0.0.1', port: 0 }, name: 'test' })
  const { url } = await node.start()
  try {
    const res = await fetch(`${url}/ca/nope`)
    t.is(res.status, 404)
    t.deepEqual(await res.json(), { error: { code: 'ECA_NOENT', message: 'no such resource: /ca/nope' } })
    const put = await fetch(`${url}/ca`, { method: 'PUT' })
    t.is(put.status, 405)
  } finally {
    await node.stop()
  }
})
