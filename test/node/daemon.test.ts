import test from 'ava'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode, type HeatmeshNode } from '../../node/daemon.js'
import { createProcessBackend, createProcfsBackend, createSyntheticBackend } from '../../node/instrument/index.js'

// Without bpftrace, so that which metrics a node can serve does not depend on this machine.
const backends = (): ReturnType<typeof createProcfsBackend>[] => [createProcfsBackend(), createProcessBackend(), createSyntheticBackend({ hostname: 'test' })]

interface Started { node: HeatmeshNode, url: string, dataDir: string }

async function startNode (t: { teardown: (fn: () => Promise<void>) => void }, dataDir?: string): Promise<Started> {
  const parent = dataDir === undefined ? await mkdtemp(join(tmpdir(), 'heatmesh-daemon-')) : undefined
  const dir = dataDir ?? join(parent!, 'data')
  const node = createNode({ http: { host: '127.0.0.1', port: 0 }, name: 'test', dataDir: dir, log: () => {}, backends: backends() })
  t.teardown(async () => {
    await node.stop()
    if (parent !== undefined) await rm(parent, { recursive: true, force: true })
  })
  const { url } = await node.start()
  return { node, url, dataDir: dir }
}

async function json (res: Response): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return await res.json()
}

const post = async (url: string, body: string, type = 'application/json'): Promise<Response> =>
  await fetch(url, { method: 'POST', headers: { 'Content-Type': type }, body })

test('a node serves the catalog metadata it can measure at GET /ca', async (t) => {
  const { url } = await startNode(t)
  const res = await fetch(`${url}/ca`)
  t.is(res.status, 200)
  t.is(res.headers.get('access-control-allow-origin'), '*')
  const body = await json(res) as { metrics: Array<{ module: string, stat: string }>, types: Record<string, unknown> }
  t.true(body.metrics.some((m) => m.module === 'cpu' && m.stat === 'cpus'))
  // syscall.syscalls needs bpftrace, which this node was not given.
  t.false(body.metrics.some((m) => m.module === 'syscall' && m.stat === 'syscalls'))
})

test('a fresh data directory is created private, with a network key', async (t) => {
  const { dataDir } = await startNode(t)
  t.is((await stat(dataDir)).mode & 0o777, 0o700)
  t.is((await stat(join(dataDir, 'network.key'))).mode & 0o777, 0o600)
})

test('unknown paths answer 404 with a JSON error that names the path', async (t) => {
  const { url } = await startNode(t)
  const res = await fetch(`${url}/ca/nope`)
  t.is(res.status, 404)
  t.deepEqual(await json(res), { error: { code: 'ECA_NOENT', message: 'no such resource: /ca/nope' } })
  const put = await fetch(`${url}/ca`, { method: 'PUT' })
  t.is(put.status, 405)
})

test('an instrumentation is created, read, modified, cloned and deleted with CA shapes and statuses', async (t) => {
  const { url } = await startNode(t)
  const created = await post(`${url}/ca/instrumentations`, JSON.stringify({ module: 'cpu', stat: 'cpus', decomposition: 'utilization' }))
  t.is(created.status, 201)
  const inst = await json(created)
  t.is(created.headers.get('location'), inst.uri)
  t.is(inst.uri, `/ca/instrumentations/${inst.id as string}`)
  t.like(inst, { module: 'cpu', stat: 'cpus', decomposition: ['utilization'], 'retention-time': 600, 'idle-max': 3600, granularity: 1, 'persist-data': false, nsources: 1 })
  t.regex(inst.id, /^[0-9a-f]{16}$/)

  const list = await json(await fetch(`${url}/ca/instrumentations`))
  t.deepEqual(list.map((i: { id: string }) => i.id), [inst.id])

  const put = await fetch(`${url}${inst.uri as string}`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ 'retention-time': 1200, module: 'ignored' }) })
  t.is(put.status, 200)
  t.like(await json(put), { 'retention-time': 1200, module: 'cpu' })
  t.like(await json(await fetch(`${url}${inst.uri as string}`)), { 'retention-time': 1200 })

  const clone = await post(`${url}${inst.uri as string}/clone`, JSON.stringify({ 'idle-max': 60 }))
  t.is(clone.status, 201)
  const copy = await json(clone)
  t.not(copy.id, inst.id)
  t.like(copy, { module: 'cpu', stat: 'cpus', 'retention-time': 1200, 'idle-max': 60 })

  const del = await fetch(`${url}${inst.uri as string}`, { method: 'DELETE' })
  t.is(del.status, 204)
  t.is((await fetch(`${url}${inst.uri as string}`)).status, 404)
  t.is((await fetch(`${url}${inst.uri as string}`, { method: 'DELETE' })).status, 404)
  t.deepEqual((await json(await fetch(`${url}/ca/instrumentations`))).map((i: { id: string }) => i.id), [copy.id])
})

test('form-encoded bodies and query parameters create instrumentations as CA did', async (t) => {
  const { url } = await startNode(t)
  const res = await post(`${url}/ca/instrumentations?granularity=5`, 'module=disk&stat=physio_ops&decomposition=disk&retention-time=60', 'application/x-www-form-urlencoded')
  t.is(res.status, 201)
  t.like(await json(res), { module: 'disk', stat: 'physio_ops', decomposition: ['disk'], granularity: 5, 'retention-time': 60 })
})

test('bad requests get CA error codes naming the problem and change nothing', async (t) => {
  const { url } = await startNode(t)
  const good = await json(await post(`${url}/ca/instrumentations`, JSON.stringify({ module: 'cpu', stat: 'cpus' })))
  const before = JSON.stringify((await json(await fetch(`${url}/ca/instrumentations`))).map((i: Record<string, unknown>) => ({ ...i, 'node-status': null })))
  const cases: Array<[string, string, number, string | RegExp]> = [
    ['{"module": ', 'application/json', 409, /^failed to parse JSON: /],
    ['{}', 'application/json', 409, /missing value for required field: "module"/],
    [JSON.stringify({ module: 'cpu' }), 'application/json', 409, /missing value for required field: "stat"/],
    [JSON.stringify({ module: 'nope', stat: 'cpus' }), 'application/json', 409, 'value "nope.cpus" for field "module.stat" is invalid: not a valid module/stat pair'],
    [JSON.stringify({ module: 'syscall', stat: 'syscalls' }), 'application/json', 409, /module\.stat.*no live node of the mesh can serve this metric/],
    [JSON.stringify({ module: 'cpu', stat: 'cpus', decomposition: ['nosuch'] }), 'application/json', 409, /"decomposition"|nosuch/],
    [JSON.stringify({ module: 'cpu', stat: 'cpus', predicate: '{"eq": ' }), 'application/json', 409, /predicate/],
    [JSON.stringify({ module: 'cpu', stat: 'cpus', predicate: { eq: ['nosuch', 1] } }), 'application/json', 409, /nosuch/],
    [JSON.stringify({ module: 'cpu', stat: 'cpus', granularity: 7 }), 'application/json', 409, /granularity.*must be divisible by 5/],
    [JSON.stringify({ module: 'cpu', stat: 'cpus', granularity: 'x' }), 'application/json', 409, /granularity.*not a positive integer/],
    [JSON.stringify({ module: 'cpu', stat: 'cpus', 'retention-time': 5 }), 'application/json', 409, /retention-time.*minimum is 10/],
    [JSON.stringify({ module: 'cpu', stat: 'cpus', 'retention-time': [] }), 'application/json', 409, /retention-time.*not a number/],
    [JSON.stringify({ module: 'cpu', stat: 'cpus', 'idle-max': 604801 }), 'application/json', 409, /idle-max.*maximum is 604800/],
    [JSON.stringify({ module: 'cpu', stat: 'cpus', 'persist-data': 'yes' }), 'application/json', 409, /persist-data.*must be a boolean/],
    [JSON.stringify({ module: 'cpu', stat: 'cpus', enabled: false }), 'application/json', 409, /enabled.*unsupported value/],
    [JSON.stringify({ module: 1, stat: 'cpus' }), 'application/json', 409, /module/],
    [`{"module":"cpu","stat":"cpus","x":"${'a'.repeat(5000)}"}`, 'application/json', 413, /exceeds the limit of 4096 bytes/],
    ['--x\r\n', 'multipart/form-data; boundary=x', 415, /multipart/]
  ]
  for (const [body, type, status, message] of cases) {
    const res = await post(`${url}/ca/instrumentations`, body, type)
    t.is(res.status, status, body.slice(0, 80))
    const err = await json(res)
    t.is(err.error.code, 'ECA_INVAL', body.slice(0, 80))
    if (typeof message === 'string') t.is(err.error.message, message)
    else t.regex(err.error.message, message)
  }
  const badPut = await fetch(`${url}${good.uri as string}`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ 'retention-time': 1 }) })
  t.is(badPut.status, 409)
  const badVersion = await fetch(`${url}/ca/instrumentations`, { headers: { 'X-API-Version': 'ca/1.2' } })
  t.is(badVersion.status, 409)
  t.deepEqual(await json(badVersion), { error: { code: 'ECA_INVAL', message: 'invalid API version string: ca/1.2' } })
  t.is((await fetch(`${url}/ca/instrumentations`, { headers: { 'X-API-Version': 'ca/0.1.8' } })).status, 200)
  t.is((await post(`${url}/ca/instrumentations/ffffffffffffffff/clone`, '{}')).status, 404)
  const after = JSON.stringify((await json(await fetch(`${url}/ca/instrumentations`))).map((i: Record<string, unknown>) => ({ ...i, 'node-status': null })))
  t.is(after, before)
})

test('a restarted node resumes its persisted instrumentations', async (t) => {
  const dataDir = join(await mkdtemp(join(tmpdir(), 'heatmesh-daemon-')), 'data')
  t.teardown(async () => { await rm(join(dataDir, '..'), { recursive: true, force: true }) })
  const first = createNode({ http: { host: '127.0.0.1', port: 0 }, name: 'test', dataDir, log: () => {}, backends: backends() })
  const { url } = await first.start()
  const inst = await json(await post(`${url}/ca/instrumentations`, JSON.stringify({ module: 'cpu', stat: 'cpus', decomposition: 'cpu' })))
  await first.stop()
  const second = await startNode(t, dataDir)
  const list = await json(await fetch(`${second.url}/ca/instrumentations`))
  t.deepEqual(list.map((i: { id: string }) => i.id), [inst.id])
  let state = ''
  for (let i = 0; i < 50 && state !== 'running'; i++) {
    state = (await json(await fetch(`${second.url}${inst.uri as string}`)))['node-status'].state
    if (state !== 'running') await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.is(state, 'running')
})

test('an instrumentation not accessed for idle-max seconds is removed, and accesses keep it', async (t) => {
  const dataDir = join(await mkdtemp(join(tmpdir(), 'heatmesh-daemon-')), 'data')
  const node = createNode({ http: { host: '127.0.0.1', port: 0 }, name: 'test', dataDir, log: () => {}, backends: backends(), definitions: { reapInterval: 100 } })
  const { url } = await node.start()
  t.teardown(async () => { await node.stop(); await rm(join(dataDir, '..'), { recursive: true, force: true }) })
  const idle = await json(await post(`${url}/ca/instrumentations`, JSON.stringify({ module: 'cpu', stat: 'cpus', 'idle-max': 1 })))
  const kept = await json(await post(`${url}/ca/instrumentations`, JSON.stringify({ module: 'cpu', stat: 'cpus', 'idle-max': 1 })))
  // idle-max 1 s plus the reaper's patience (accessSlack: 1 s); `kept` is read every 300 ms.
  for (let i = 0; i < 14; i++) {
    t.is((await fetch(`${url}${kept.uri as string}`)).status, 200)
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  t.is((await fetch(`${url}${idle.uri as string}`)).status, 404)
  t.deepEqual((await json(await fetch(`${url}/ca/instrumentations`))).map((i: { id: string }) => i.id), [kept.id])
})
