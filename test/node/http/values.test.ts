/**
 * node/http/values.ts: every values route over a real HTTP server, with a ValueSource double
 * that answers known slots: the response fields of each resource on hand-computed data, PNG
 * bytes against base64, CA's waiting for late data, and errors with CA's codes whose messages
 * name the parameter.
 */
import test from 'ava'
import { HeatmeshError, OTHER_KEY } from '../../../metad/index.js'
import { decodePng } from '../../render/decode.js'
import { BY_KEY, byKey, CPUS, dist, distribution, get, KEYS, keys, LATENCY, OPS, OPS_G5, scalar, serve, slot, SourceDouble } from './fixture.js'

const T0 = 1_700_000_000
const V = '/ca/instrumentations'

/** Latency by key over two seconds (see the details test for the numbers). */
function latencySource (): SourceDouble {
  return new SourceDouble()
    .add('lat', BY_KEY, [
      slot(T0, byKey({ a: dist([1000, 1099, 3]), b: dist([1000, 1099, 1]) })),
      slot(T0 + 1, byKey({ b: dist([5000, 5099, 2]) }))
    ])
    .add('plain', LATENCY, [slot(T0, distribution(dist([1000, 1099, 4]))), slot(T0 + 1, distribution(dist([5000, 5099, 2])))])
    .add('ops', OPS, [slot(T0, scalar(3)), slot(T0 + 1, scalar(4)), slot(T0 + 3, scalar(10))])
    .add('keys', KEYS, [slot(T0, keys({ a: 1, b: 2 })), slot(T0 + 1, keys({ b: 3, c: 4 }))])
}

// ---- raw ---------------------------------------------------------------------------------

test('raw answers CA\'s fields: the value summed over the point, its coverage and the requested interval', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/ops/value/raw?start_time=${T0}&duration=4`)
  t.is(r.status, 200)
  t.deepEqual(r.body, {
    value: 17,
    transformations: {},
    start_time: T0,
    duration: 4,
    end_time: T0 + 4,
    nsources: 2,
    minreporting: 0, // T0 + 2 has no slot
    requested_start_time: T0,
    requested_duration: 4,
    requested_end_time: T0 + 4
  })
})

test('GET .../value is value/raw', async (t) => {
  const base = await serve(t, latencySource())
  const a = await get(base, `${V}/ops/value?start_time=${T0}&duration=2`)
  const b = await get(base, `${V}/ops/value/raw?start_time=${T0}&duration=2`)
  t.is(a.status, 200)
  t.deepEqual(a.body, b.body)
  t.is(a.body.value, 7)
})

test('raw without time parameters is the second that ended one granularity before now', async (t) => {
  const source = latencySource()
  source.clock = T0 + 2.7 // floor(now) - duration - granularity = T0
  const base = await serve(t, source)
  const r = await get(base, `${V}/ops/value/raw`)
  t.like(r.body, { value: 3, start_time: T0, duration: 1, minreporting: 2 })
  t.deepEqual(source.touched, ['ops'])
})

test('touch=false reads without counting as an access; anything else but true is refused', async (t) => {
  const source = latencySource()
  const base = await serve(t, source)
  t.is((await get(base, `${V}/ops/value/raw?start_time=${T0}&touch=false`)).status, 200)
  t.deepEqual(source.touched, [])
  await get(base, `${V}/ops/value/raw?start_time=${T0}&touch=true`)
  t.deepEqual(source.touched, ['ops'])
  const r = await get(base, `${V}/ops/value/raw?touch=no`)
  t.is(r.body.error.message, 'value "no" for field "touch" is invalid: not a boolean')
})

test('the key ndatapoints gives an array of points, back to back', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/ops/value/raw?start_time=${T0}&duration=2&ndatapoints=2`)
  t.true(Array.isArray(r.body))
  t.deepEqual(r.body.map((p: { value: number, start_time: number }) => [p.start_time, p.value]), [[T0, 7], [T0 + 2, 10]])
  const one = await get(base, `${V}/ops/value/raw?start_time=${T0}&ndatapoints=1`)
  t.is(one.body.length, 1)
})

test('a point without data is CA\'s zero of the shape: 0, {}, [] and {}', async (t) => {
  const base = await serve(t, latencySource())
  const at = `?start_time=${T0 + 10}`
  t.is((await get(base, `${V}/ops/value/raw${at}`)).body.value, 0)
  t.deepEqual((await get(base, `${V}/keys/value/raw${at}`)).body.value, {})
  t.deepEqual((await get(base, `${V}/plain/value/raw${at}`)).body.value, [])
  t.deepEqual((await get(base, `${V}/lat/value/raw${at}`)).body.value, {})
})

test('raw values of each shape are CA\'s JSON', async (t) => {
  const base = await serve(t, latencySource())
  const q = `?start_time=${T0}&duration=2`
  t.deepEqual((await get(base, `${V}/keys/value/raw${q}`)).body.value, { a: 1, b: 5, c: 4 })
  t.deepEqual((await get(base, `${V}/plain/value/raw${q}`)).body.value, [[[1000, 1099], 4], [[5000, 5099], 2]])
  t.deepEqual((await get(base, `${V}/lat/value/raw${q}`)).body.value, { a: [[[1000, 1099], 3]], b: [[[1000, 1099], 1], [[5000, 5099], 2]] })
})

test('a point-scope instrumentation answers its first slot, not the sum', async (t) => {
  const source = new SourceDouble().add('cpus', CPUS, [slot(T0, scalar(8)), slot(T0 + 1, scalar(8))])
  const base = await serve(t, source)
  t.is((await get(base, `${V}/cpus/value/raw?start_time=${T0}&duration=2`)).body.value, 8)
})

test('a truncated point says so, and how many keys were folded into the other key', async (t) => {
  const source = new SourceDouble().add('lat', BY_KEY, [slot(T0, byKey({ a: dist([1000, 1099, 1]), [OTHER_KEY]: dist([1000, 1099, 9]) }, 40), 2, 2, true)])
  const base = await serve(t, source)
  const r = await get(base, `${V}/lat/value/raw?start_time=${T0}`)
  t.like(r.body, { truncated: true, folded: 40 })
  t.deepEqual(Object.keys(r.body.value), ['\u0000other', 'a'])
})

test('points are aligned to the granularity, and requested_* keep what was asked', async (t) => {
  const source = new SourceDouble().add('g5', OPS_G5, [slot(T0, scalar(1)), slot(T0 + 5, scalar(2))])
  const base = await serve(t, source)
  const r = await get(base, `${V}/g5/value/raw?start_time=${T0 + 2}&duration=7`)
  t.like(r.body, { value: 3, start_time: T0, duration: 10, requested_start_time: T0 + 2, requested_duration: 7, requested_end_time: T0 + 9 })
})

// ---- errors --------------------------------------------------------------------------------

test('an unknown instrumentation is 404 ECA_NOENT with a JSON body', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/nope/value/raw`)
  t.is(r.status, 404)
  t.deepEqual(r.body, { error: { code: 'ECA_NOENT', message: 'no such instrumentation: "nope"' } })
})

test('heatmap resources of an instrumentation without a numeric decomposition are 404, as in CA', async (t) => {
  const base = await serve(t, latencySource())
  for (const path of ['heatmap', 'heatmap/image', 'heatmap/details?x=0&y=0&ymax=10', 'heatmap/average', 'heatmap/percentile?percentile=0.5']) {
    const r = await get(base, `${V}/keys/value/${path}`)
    t.is(r.status, 404, path)
    t.is(r.body.error.code, 'ECA_NOENT')
    t.regex(r.body.error.message, /has no numeric decomposition/)
  }
})

// [query, status, message]
const badRequests: Array<[string, string, number, string | RegExp]> = [
  ['ops', 'raw?duration=0', 409, 'value "0" for field "duration" is invalid: value too small (min: 1)'],
  ['ops', 'raw?start_time=10&duration=5&end_time=12', 409, '"start_time" + "duration" must equal "end_time"'],
  ['ops', `raw?start_time=${T0 + 200}`, 409, 'requested data point is too far in the future'],
  ['ops', 'raw?transformations=reversedns', 409, /for field "transformations" is invalid: transformation "reversedns" does not exist/],
  ['plain', 'heatmap/image?width=5', 409, 'value "5" for field "width" is invalid: value too small (min: 10)'],
  ['plain', 'heatmap/image?nbuckets=101', 409, 'value "101" for field "nbuckets" is invalid: value too large (max: 100)'],
  ['plain', 'heatmap/image?ymin=10&ymax=10', 409, /"ymax" must be greater than "ymin"/],
  ['plain', 'heatmap/image?isolate=true&exclude=true', 409, 'only one of "isolate", "exclude", and "decompose_all" may be specified'],
  ['plain', 'heatmap/image?isolate=yes', 409, 'value "yes" for field "isolate" is invalid: not a boolean'],
  ['plain', 'heatmap/image?hues=21,400', 409, /for field "hues" is invalid: invalid hue/],
  ['lat', `heatmap/image?start_time=${T0}&selected=a,b&hues=21,112`, 409, /for field "hues" is invalid: need 3 hues/],
  ['plain', 'heatmap/image?coloring=log', 409, 'value "log" for field "coloring" is invalid: unsupported value'],
  ['plain', 'heatmap/image?percentiles=0.5,1.5', 409, /for field "percentiles" is invalid: entry "1.5" is out of range/],
  ['plain', 'heatmap/details?y=1&ymax=100', 409, 'param "x" must be specified'],
  ['plain', 'heatmap/details?x=1&y=1', 409, '"ymax" must be specified'],
  ['plain', 'heatmap/details?x=600&y=1&ymax=100', 409, /"x" must be less than "width"/],
  ['plain', 'heatmap/details?x=1&y=300&ymax=100', 409, /"y" must be less than "height"/],
  ['plain', 'heatmap/percentile', 409, 'param "percentile" must be specified'],
  ['plain', 'heatmap/percentile?percentile=2', 409, 'value "2" for field "percentile" is invalid: value too large (max: 1)'],
  ['plain', 'heatmap/region', 409, /a region needs a discrete decomposition to break down/],
  ['keys', 'heatmap/region', 409, /a region needs a numeric decomposition/],
  ['lat', 'heatmap/region?ymin=50&ymax=10', 409, /for field "ymax" is invalid: "ymax" must be greater than "ymin"/],
  ['ops', 'chart/image?height=2000', 409, 'value "2000" for field "height" is invalid: value too large (max: 1000)'],
  ['plain', 'heatmap/image?ndatapoints=61', 409, 'value "61" for field "ndatapoints" is invalid: value too large (max: 60)']
]
for (const [id, path, status, message] of badRequests) {
  test(`${id} ${path} is ${status} ECA_INVAL naming what is wrong`, async (t) => {
    const base = await serve(t, latencySource())
    const r = await get(base, `${V}/${id}/value/${path}`)
    t.is(r.status, status)
    t.is(r.body.error.code, 'ECA_INVAL')
    if (typeof message === 'string') t.is(r.body.error.message, message)
    else t.regex(r.body.error.message, message)
  })
}

test('a request refused for its parameters fetches nothing', async (t) => {
  const source = latencySource()
  const base = await serve(t, source)
  await get(base, `${V}/plain/value/heatmap/image?width=5`)
  await get(base, `${V}/plain/value/heatmap/image?isolate=true&exclude=true`)
  await get(base, `${V}/lat/value/heatmap/image?selected=a,b&hues=21`)
  await get(base, `${V}/plain/value/heatmap/average?ymin=10&ymax=5`)
  await get(base, `${V}/plain/value/heatmap/details?x=600&y=0&ymax=100`)
  t.deepEqual(source.fetches, [])
})

test('a failing fetch is 500 ECA_REMOTE saying why; a heatmesh error keeps its code', async (t) => {
  const source = latencySource()
  source.failure = new Error('root unreachable')
  const base = await serve(t, source)
  const r = await get(base, `${V}/ops/value/raw`)
  t.is(r.status, 500)
  t.deepEqual(r.body.error, { code: 'ECA_REMOTE', message: 'cannot fetch the values of instrumentation "ops": root unreachable' })
  source.failure = new HeatmeshError('ECA_NORESOURCE', 'no replica of instrumentation ops answers')
  const s = await get(base, `${V}/ops/value/raw`)
  t.is(s.status, 503)
  t.is(s.body.error.code, 'ECA_NORESOURCE')
})

test('slots of another shape from the mesh are 500 ECA_INCOMPAT, not a crash', async (t) => {
  const source = new SourceDouble().add('ops', OPS, [slot(T0, keys({ a: 1 }))])
  const base = await serve(t, source)
  const r = await get(base, `${V}/ops/value/raw?start_time=${T0}`)
  t.is(r.status, 500)
  t.is(r.body.error.code, 'ECA_INCOMPAT')
})

// ---- waiting for late data -------------------------------------------------------------------

test('a request waits while the newest slot is incomplete and says how long in delay', async (t) => {
  const source = latencySource()
  source.add('late', OPS, [slot(T0, scalar(5), 3, 2)])
  source.onFetch = (n) => {
    source.clock += 0.1
    if (n === 3) source.slots.set('late', [slot(T0, scalar(7), 3, 3)])
  }
  const base = await serve(t, source)
  const r = await get(base, `${V}/late/value/raw?start_time=${T0}`)
  t.like(r.body, { value: 7, minreporting: 3, nsources: 3 })
  t.is(r.body.delay, 300)
  t.is(source.fetches.length, 3)
})

test('waiting stops at the timeout and answers what there is', async (t) => {
  const source = latencySource()
  source.add('late', OPS, [slot(T0, scalar(5), 3, 2)])
  source.onFetch = () => { source.clock += 0.04 }
  const base = await serve(t, source)
  const r = await get(base, `${V}/late/value/raw?start_time=${T0}&timeout=100`)
  t.like(r.body, { value: 5, minreporting: 2 })
  t.true(r.body.delay >= 100)
  t.is(source.fetches.length, 3) // polled at 40 and 80 ms after the request; at 120 ms the timeout has passed
})

test('waiting is bounded even when the clock does not move', async (t) => {
  const source = latencySource()
  source.add('late', OPS, [slot(T0, scalar(5), 3, 2)])
  const base = await serve(t, source)
  const r = await get(base, `${V}/late/value/raw?start_time=${T0}&timeout=20`)
  t.is(r.status, 200)
  t.true(source.fetches.length <= 22)
})

test('no wait with timeout=0, for a newest slot without data, or for data older than the instrumentation', async (t) => {
  const source = latencySource()
  source.add('late', OPS, [slot(T0, scalar(5), 3, 2)])
  source.add('old', OPS, [slot(T0, scalar(5), 3, 2)], (T0 + 5) * 1000)
  const base = await serve(t, source)
  t.is((await get(base, `${V}/late/value/raw?start_time=${T0}&timeout=0`)).body.delay, undefined)
  t.is((await get(base, `${V}/late/value/raw?start_time=${T0 + 1}`)).body.delay, undefined)
  t.is((await get(base, `${V}/old/value/raw?start_time=${T0}`)).body.delay, undefined)
  t.is(source.fetches.length, 3)
})

// ---- heatmap/image --------------------------------------------------------------------------

test('heatmap/image answers CA\'s fields and a base64 PNG of the requested size', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/lat/value/heatmap/image?start_time=${T0}&duration=2&width=40&height=20&nbuckets=10`)
  t.is(r.status, 200)
  t.like(r.body, { width: 40, height: 20, nbuckets: 10, ymin: 0, ymax: 6000, present: ['a', 'b'], start_time: T0, duration: 2, nsources: 2, minreporting: 2, transformations: {} })
  t.deepEqual(r.body.layers, [{ key: null, hue: 21 }])
  t.deepEqual(r.body.plot, { x: 0, y: 0, width: 40, height: 20 })
  const png = await decodePng(Buffer.from(r.body.image, 'base64'))
  t.is(png.width, 40)
  t.is(png.height, 20)
  // Column 0 (x < 20), bucket 1 of 10 over [0, 6000): [600, 1200) holds the 4 events: coloured; bucket 9 is white.
  t.notDeepEqual(png.pixel(5, 17), [255, 255, 255])
  t.deepEqual(png.pixel(5, 0), [255, 255, 255])
})

test('GET .../value/heatmap is heatmap/image', async (t) => {
  const base = await serve(t, latencySource())
  const q = `?start_time=${T0}&duration=2&width=40&height=20`
  t.deepEqual((await get(base, `${V}/lat/value/heatmap${q}`)).body, (await get(base, `${V}/lat/value/heatmap/image${q}`)).body)
})

test('with Accept: image/png the answer is the PNG bytes, the same as the base64 image', async (t) => {
  const base = await serve(t, latencySource())
  const q = `?start_time=${T0}&duration=2&width=40&height=20&selected=a`
  const json = await get(base, `${V}/lat/value/heatmap/image${q}`)
  const png = await get(base, `${V}/lat/value/heatmap/image${q}`, { Accept: 'image/png' })
  t.is(png.status, 200)
  t.is(png.headers.get('content-type'), 'image/png')
  t.deepEqual(png.bytes, Buffer.from(json.body.image, 'base64'))
  t.is(png.headers.get('x-heatmesh-ymax'), String(json.body.ymax))
  t.is(png.headers.get('x-heatmesh-start-time'), String(T0))
  t.is(png.headers.get('access-control-allow-origin'), '*')
})

test('a browser\'s image Accept header gets PNG bytes, a plain client gets JSON', async (t) => {
  const base = await serve(t, latencySource())
  const q = `?start_time=${T0}&width=20&height=10`
  t.is((await get(base, `${V}/plain/value/heatmap/image${q}`, { Accept: 'image/avif,image/webp,image/*,*/*;q=0.8' })).headers.get('content-type'), 'image/png')
  t.is((await get(base, `${V}/plain/value/heatmap/image${q}`, { Accept: '*/*' })).headers.get('content-type'), 'application/json')
  t.is((await get(base, `${V}/plain/value/heatmap/image${q}`)).headers.get('content-type'), 'application/json')
})

test('image/png cannot carry several points', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/plain/value/heatmap/image?ndatapoints=2`, { Accept: 'image/png' })
  t.is(r.status, 409)
  t.regex(r.body.error.message, /image\/png answer holds one data point/)
})

test('selected keys get their own hues, listed in layers with the rest first', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/lat/value/heatmap/image?start_time=${T0}&duration=2&width=20&height=10&selected=b`)
  t.deepEqual(r.body.layers, [{ key: null, hue: 21 }, { key: 'b', hue: 112 }])
  const iso = await get(base, `${V}/lat/value/heatmap/image?start_time=${T0}&duration=2&width=20&height=10&selected=a,b&isolate=true`)
  t.deepEqual(iso.body.layers, [{ key: 'a', hue: 112 }, { key: 'b', hue: 203 }])
  const all = await get(base, `${V}/lat/value/heatmap/image?start_time=${T0}&duration=2&width=20&height=10&decompose_all=true`)
  t.deepEqual(all.body.layers, [{ key: null, hue: 21 }, { key: 'a', hue: 112 }, { key: 'b', hue: 203 }])
  const own = await get(base, `${V}/lat/value/heatmap/image?start_time=${T0}&duration=2&width=20&height=10&selected=a&hues=0,180`)
  t.deepEqual(own.body.layers, [{ key: null, hue: 0 }, { key: 'a', hue: 180 }])
})

test('axes enlarge the image around the same plot and say where the plot is', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/lat/value/heatmap/image?start_time=${T0}&duration=2&axes=true&percentiles=0.5,0.99`)
  t.is(r.body.width, 600)
  t.true(r.body.image_width > 600)
  t.true(r.body.plot.x > 0)
  const png = await decodePng(Buffer.from(r.body.image, 'base64'))
  t.is(png.width, r.body.image_width)
  t.is(png.height, r.body.image_height)
})

test('ndatapoints renders one image per point', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/plain/value/heatmap/image?start_time=${T0}&duration=1&ndatapoints=2&width=10&height=10`)
  t.is(r.body.length, 2)
  t.deepEqual(r.body.map((p: { start_time: number }) => p.start_time), [T0, T0 + 1])
  for (const p of r.body) t.true(p.image.length > 0)
})

// ---- details, average, percentile ------------------------------------------------------------

// ymax 10000 in 10 buckets of 1000 over 20 x 10 px: column 0 is x 0..9, bucket 1 ([1000, 2000)) is y 8.
const cell = `start_time=${T0}&duration=2&width=20&height=10&nbuckets=10&ymax=10000`

test('details of a cell: the keys in it with their counts, and its bounds', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/lat/value/heatmap/details?${cell}&x=3&y=8`)
  t.is(r.status, 200)
  t.like(r.body, { nbuckets: 10, width: 20, height: 10, bucket_time: T0, bucket_ymin: 1000, bucket_ymax: 2000, present: { a: 3, b: 1 }, total: 4, start_time: T0, duration: 2 })
})

test('details also give the same value range in every column', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/lat/value/heatmap/details?${cell}&x=3&y=8`)
  t.deepEqual(r.body.columns, [
    { bucket_time: T0, present: { a: 3, b: 1 }, total: 4 },
    { bucket_time: T0 + 1, present: {}, total: 0 }
  ])
  const higher = await get(base, `${V}/lat/value/heatmap/details?${cell}&x=15&y=4`) // column 1, bucket 5: [5000, 6000)
  t.like(higher.body, { bucket_time: T0 + 1, bucket_ymin: 5000, bucket_ymax: 6000, present: { b: 2 }, total: 2 })
})

test('details without a discrete decomposition give the total and no keys', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/plain/value/heatmap/details?${cell}&x=3&y=8`)
  t.like(r.body, { present: {}, total: 4 })
  t.deepEqual(r.body.columns.map((c: { total: number }) => c.total), [4, 0])
})

test('average of every column, the first one in CA\'s field', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/plain/value/heatmap/average?start_time=${T0}&duration=2&nbuckets=10&ymax=10000`)
  t.like(r.body, { average: 1500, averages: [1500, 5500], nbuckets: 10, ymin: 0, ymax: 10000, width: 600, height: 300 })
})

test('average of an empty column is null', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/plain/value/heatmap/average?start_time=${T0 + 5}&nbuckets=10&ymax=10000`)
  t.is(r.body.average, null)
})

test('percentile of every column, the first one in CA\'s field', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/plain/value/heatmap/percentile?start_time=${T0}&duration=2&nbuckets=10&ymax=10000&percentile=0.5`)
  t.like(r.body, { percentile: 1500, percentiles: [1500, 5500], nbuckets: 10, ymax: 10000 })
})

test('average and percentile default to one second, as in CA', async (t) => {
  const source = latencySource()
  source.clock = T0 + 2.2
  const base = await serve(t, source)
  const r = await get(base, `${V}/plain/value/heatmap/percentile?percentile=1&nbuckets=10&ymax=10000`)
  t.like(r.body, { start_time: T0, duration: 1, percentiles: [2000] })
})

// ---- region --------------------------------------------------------------------------------

test('region: each key inside and outside the value range, ranked by share difference', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/lat/value/heatmap/region?start_time=${T0}&duration=2&ymin=4000`)
  t.is(r.status, 200)
  // Inside [4000, inf): b's 2 at 5000. Outside: a 3, b 1.
  t.like(r.body, { ymin: 4000, ymax: null, inside: 2, outside: 4, start_time: T0, duration: 2 })
  t.deepEqual(r.body.keys, [
    { key: 'b', inside: 2, outside: 1, share_inside: 1, share_outside: 0.25, difference: 0.75 },
    { key: 'a', inside: 0, outside: 3, share_inside: 0, share_outside: 0.75, difference: -0.75 }
  ])
})

// ---- charts --------------------------------------------------------------------------------

test('a scalar charts as a line, a discrete decomposition as stacked bars, both as PNG', async (t) => {
  const base = await serve(t, latencySource())
  const line = await get(base, `${V}/ops/value/chart/image?start_time=${T0}&duration=4&width=40&height=20`)
  t.like(line.body, { chart: 'line', width: 40, height: 20, ymin: 0, start_time: T0, duration: 4 })
  t.deepEqual(line.body.legend, [{ label: 'synthetic.ops', hue: 21 }])
  const bars = await get(base, `${V}/keys/value/chart/image?start_time=${T0}&duration=2&width=40&height=20&legend=true`)
  t.like(bars.body, { chart: 'stacked-bars', ymax: 8 })
  t.deepEqual(bars.body.legend.map((l: { label: string }) => l.label), ['b', 'c', 'a'])
  const png = await get(base, `${V}/keys/value/chart/image?start_time=${T0}&duration=2&width=40&height=20`, { Accept: 'image/png' })
  const decoded = await decodePng(png.bytes)
  t.is(decoded.width, 40)
})

test('a decomposed distribution charts as stacked bars of events per key', async (t) => {
  const base = await serve(t, latencySource())
  const r = await get(base, `${V}/lat/value/chart/image?start_time=${T0}&duration=2&width=40&height=20`)
  t.like(r.body, { chart: 'stacked-bars' })
  t.deepEqual(r.body.legend.map((l: { label: string }) => l.label), ['a', 'b'])
})
