import test from 'ava'
import { catalog, parsePredicate, valueToCa, valueTotal, type Predicate } from '../../../../metad/index.js'
import { createProcessBackend, type Measurement } from '../../../../node/instrument/index.js'
import { backendContract } from '../contract.js'
import { forceGc, get, sleep, startServer, type TestServer } from './exercise.js'

let server: TestServer | undefined
test.before(async () => { server = await startServer() })
test.after.always(async () => { await server?.close() })

/** Events of each metric: two requests, a wait for event-loop samples, forced GCs. */
async function exercise (metric: string): Promise<void> {
  switch (metric) {
    case 'node.httpd_ops': await get(server!, '/ok?x=1'); await get(server!, '/nope'); return
    case 'node.eventloop_delay': await sleep(25); return
    case 'node.gc_ops': forceGc(); await sleep(10); return
    default: throw new Error(`no exercise for ${metric}`)
  }
}

// Serial: the HTTP channels are process-wide, so concurrent tests would see each other's requests.
backendContract({ create: () => createProcessBackend({ eventLoopResolutionMs: 5 }), exercise, serial: true })

async function measure (name: string, decomposition: string[], predicate: unknown = {}): Promise<Measurement> {
  const metric = catalog.metrics.get(name)!
  const pred: Predicate = parsePredicate(predicate, metric)
  return await createProcessBackend({ eventLoopResolutionMs: 5 }).instrument({ id: 't', metric, predicate: pred, decomposition })
}

test.serial('node.httpd_ops decomposed by status, filtered by method, over the requests of one interval', async (t) => {
  const m = await measure('node.httpd_ops', ['http_status'], { eq: ['http_method', 'GET'] })
  await get(server!, '/ok/a')
  await get(server!, '/ok/b')
  await get(server!, '/missing')
  await get(server!, '/ok/a', 'PUT')
  t.deepEqual(valueToCa(m.collect()), { 200: 2, 404: 1 })
  t.deepEqual(valueToCa(m.collect()), {}, 'a second collect holds only what came after the first')
  await m.stop()
})

test.serial('node.httpd_ops by path and latency puts a slow request in a bucket of at least 30 ms', async (t) => {
  const m = await measure('node.httpd_ops', ['http_path', 'latency'])
  await get(server!, '/slow?ignored')
  const v = m.collect()
  await m.stop()
  t.is(v.type, 'decomposed-distribution')
  if (v.type !== 'decomposed-distribution') return
  t.deepEqual([...v.keys.keys()], ['/slow'])
  const [[lo, hi], n] = (valueToCa(v) as Record<string, Array<[[number, number], number]>>)['/slow']![0]!
  t.is(n, 1)
  t.true(hi >= 30e6 - 1 && lo < 1e9, `bucket [${lo}, ${hi}]`)
})

test.serial('node.eventloop_delay with a latency predicate keeps only the late samples', async (t) => {
  const late = await measure('node.eventloop_delay', ['latency'], { ge: ['latency', 40_000_000] })
  const all = await measure('node.eventloop_delay', [])
  await sleep(15)
  const until = performance.now() + 60
  while (performance.now() < until) { /* block the loop */ }
  await sleep(15)
  const total = valueTotal(all.collect())
  const v = late.collect()
  await late.stop()
  await all.stop()
  t.true(total >= 3, `${total} samples`)
  t.true(valueTotal(v) >= 1 && valueTotal(v) <= total)
  // Every sample kept is in a bucket at or above 40 ms (a loaded machine may add late ones).
  const buckets = valueToCa(v) as Array<[[number, number], number]>
  t.true(buckets.every(([[lo]]) => lo >= 40_000_000), JSON.stringify(buckets))
})

test.serial('node.gc_ops by gctype counts forced collections', async (t) => {
  const m = await measure('node.gc_ops', ['gctype'])
  forceGc()
  await sleep(20)
  const v = m.collect()
  await m.stop()
  t.is(v.type, 'decomposition')
  if (v.type !== 'decomposition') return
  t.true((v.keys.get('major') ?? 0) >= 1)
  t.true((v.keys.get('minor') ?? 0) >= 1)
})

test.serial('after stop, a measurement collects zero however many requests follow', async (t) => {
  const m = await measure('node.httpd_ops', [])
  await m.stop()
  await get(server!, '/ok')
  t.deepEqual(valueToCa(m.collect()), 0)
})

test('the probe names the channels and the sampling resolution', async (t) => {
  const status = await createProcessBackend({ eventLoopResolutionMs: 7 }).probe()
  t.true(status.available)
  t.regex(status.detail, /http\.server\.request\.start and http\.server\.response\.finish/)
  t.regex(status.detail, /every 7 ms/)
})
