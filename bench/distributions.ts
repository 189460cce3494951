/**
 * Distributions benchmark: heatmesh's llquantize distributions against DDSketch
 * (@datadog/sketches-js, relative accuracy 1%) and HdrHistogram (hdr-histogram-js, 3 significant
 * digits, values 1 ns .. 1e12 ns, the faster of its plain-JS typed-array histograms: no
 * WebAssembly to initialise).
 *
 * Data: 10^6 log-normal latencies in ns (median 50 us, sigma 1.2) from a seeded xoshiro128**,
 * cut into 500 per-second partials of 2,000 values. Printed, each figure a median of timed runs
 * after warm-up, ours and theirs timed alternately so that a busy machine slows both alike:
 *   1. representation: sparse typed arrays (what metad uses) vs a Map vs a dense Float64Array(812),
 *      for building a partial, merging two, merging all 500, and bytes held;
 *   2. insert: all 10^6 values into one accumulator;
 *   3. merge: all 500 partials into one (a merge-tree root's work for one second of 500 nodes),
 *      also from their encoded bytes;
 *   4. encoded bytes per partial and per whole distribution, and encode/decode speed;
 *   5. accuracy of p50/p99/p99.9 against the exact quantiles, for context.
 * Ratios are ours / theirs in throughput (>1: we are faster) and theirs / ours in bytes.
 * DDSketch's toProto needs protobufjs, which sketches-js leaves to its user and heatmesh does not
 * install: without it the DDSketch byte counts are computed from its schema (exact; checked
 * against the real encoder when protobufjs resolves) and its codec timings are not shown.
 */
import { DDSketch } from '@datadog/sketches-js'
import * as hdr from 'hdr-histogram-js'
import {
  DistributionBuilder, distributionPercentile, mergeDistributionList, mergeDistributions, type Distribution,
  LATENCY_BUCKETING, quantizer, decodeValue, encodeValue
} from '../metad/index.js'

const N = 1_000_000
const PARTIAL = 2_000
const SEED = 0x5eed

// ---- data ----------------------------------------------------------------------------------

/** xoshiro128** (Blackman & Vigna), seeded through splitmix32: uniform doubles in [0, 1). */
function prng (seed: number): () => number {
  let s = seed >>> 0
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = splitmix()
  let b = splitmix()
  let c = splitmix()
  let d = splitmix()
  return () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0
    const t = b << 9
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t
    d = rotl(d, 11)
    return r / 4294967296
  }
}
function rotl (x: number, k: number): number { return (x << k) | (x >>> (32 - k)) }

/** n log-normal latencies in whole ns: median 50 us, sigma 1.2 (Box-Muller normals). */
function latencies (n: number, seed: number): Float64Array {
  const random = prng(seed)
  const out = new Float64Array(n)
  const mu = Math.log(50_000)
  for (let i = 0; i < n; i += 2) {
    const u = 1 - random()
    const r = Math.sqrt(-2 * Math.log(u))
    const theta = 2 * Math.PI * random()
    out[i] = Math.max(1, Math.round(Math.exp(mu + 1.2 * r * Math.cos(theta))))
    if (i + 1 < n) out[i + 1] = Math.max(1, Math.round(Math.exp(mu + 1.2 * r * Math.sin(theta))))
  }
  return out
}

// ---- measuring -----------------------------------------------------------------------------

let sink = 0 // results feed this so that no measured work is dead code

/**
 * Runs fn untimed for at least `ms` milliseconds and `calls` calls, so that V8 has optimised it
 * (and what it calls) before it is timed: a few calls are not enough, the first timings of a
 * 2,000-insert loop measured 5x slower than later ones.
 */
function warm (fn: () => unknown, ms = 150, calls = 3): void {
  const until = performance.now() + ms
  for (let i = 0; i < calls || performance.now() < until; i++) consume(fn())
}

/** Median wall time in ms of `runs` calls of fn after warming it up (`warmup` calls at least). */
function time (fn: () => unknown, runs = 7, warmup = 2): number {
  if (warmup > 0) warm(fn, 150, warmup)
  const ms: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    const r = fn()
    ms.push(performance.now() - t0)
    consume(r)
  }
  ms.sort((x, y) => x - y)
  return ms[ms.length >> 1]!
}
/**
 * Median over rounds of time(theirs) / time(ours), each the median of `reps` back-to-back runs,
 * the two timed one after the other in each round, so that a noisy neighbour on the machine
 * slows both sides of a ratio alike.
 */
function ratio (ours: () => unknown, theirs: () => unknown, rounds = 9, reps = 1, warmup = 2): { ours: number, theirs: number, ratio: number } {
  if (warmup > 0) { warm(ours, 150, warmup); warm(theirs, 150, warmup) }
  const rs: number[] = []
  const os: number[] = []
  const ts: number[] = []
  for (let i = 0; i < rounds; i++) {
    const o = time(ours, reps, 0)
    const t = time(theirs, reps, 0)
    os.push(o); ts.push(t); rs.push(t / o)
  }
  const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!
  return { ours: med(os), theirs: med(ts), ratio: med(rs) }
}
function consume (r: unknown): void {
  if (typeof r === 'number') sink += r
  else if (r !== null && typeof r === 'object') sink += 1
}

const fmt = (x: number, digits = 3): string => {
  if (!Number.isFinite(x)) return String(x)
  if (Math.abs(x) >= 1e6) return `${(x / 1e6).toPrecision(digits)}M`
  if (Math.abs(x) >= 1e3) return `${(x / 1e3).toPrecision(digits)}k`
  return x.toPrecision(digits)
}
function table (rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  for (const r of rows) console.log('  ' + r.map((cell, c) => c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)).join('  '))
}

// ---- competitors ---------------------------------------------------------------------------

type HdrKind = 32 | 64
const hdrOf = (bits: HdrKind): hdr.Histogram => hdr.build({
  bitBucketSize: bits, lowestDiscernibleValue: 1, highestTrackableValue: 1e12, numberOfSignificantValueDigits: 3, autoResize: false
})
const ddOf = (): DDSketch => new DDSketch({ relativeAccuracy: 0.01 })
const hdrBytes = (h: hdr.Histogram): number => Buffer.from(hdr.encodeIntoCompressedBase64(h), 'base64').length

/** Whether DDSketch's own serializer works: toProto needs protobufjs, which sketches-js does not install. */
function ddProtoAvailable (): boolean {
  try {
    ddOf().toProto()
    return true
  } catch {
    return false
  }
}

/**
 * Exact length of `sketch.toProto()`, computed from sketches-js's proto schema and its toProto
 * (every field it sets is written, zero or not; stores as packed doubles + a sint32 offset), for
 * when protobufjs is absent. Checked against the real encoder whenever protobufjs resolves.
 */
function ddProtoLength (sketch: DDSketch): number {
  const varint = (v: number): number => v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5
  const field = (body: number): number => 1 + varint(body) + body
  const store = (st: { bins: number[], offset: number }): number =>
    (st.bins.length > 0 ? field(8 * st.bins.length) : 0) + 1 + varint(((st.offset << 1) ^ (st.offset >> 31)) >>> 0)
  const mapping = 9 + 9 + 1 + 1 // gamma, indexOffset (doubles), interpolation (an enum below 128)
  return field(mapping) + field(store(sketch.store as unknown as { bins: number[], offset: number })) +
    field(store(sketch.negativeStore as unknown as { bins: number[], offset: number })) + 9
}

/** Section 1: the representation, sparse typed arrays against a Map and a dense array. */
function representation (ours: Distribution[], part: (p: number) => Float64Array, builder: DistributionBuilder): void {
  const q = quantizer(LATENCY_BUCKETING)
  const nb = q.nbuckets
  const nparts = ours.length
  const maps: Array<Map<number, number>> = ours.map((d) => new Map([...d.index].map((i, k) => [i, d.count[k]!])))
  const denses: Float64Array[] = ours.map((d) => { const a = new Float64Array(nb); d.index.forEach((i, k) => { a[i] = d.count[k]! }); return a })
  const buildSparse = (): Distribution => { builder.reset(); const xs = part(0); for (let i = 0; i < xs.length; i++) builder.add(xs[i]!); return builder.build() }
  const buildMap = (): Map<number, number> => {
    const m = new Map<number, number>(); const xs = part(0)
    for (let i = 0; i < xs.length; i++) { const b = q.index(xs[i]!); m.set(b, (m.get(b) ?? 0) + 1) }
    return m
  }
  const buildDense = (): Float64Array => { const a = new Float64Array(nb); const xs = part(0); for (let i = 0; i < xs.length; i++) a[q.index(xs[i]!)]! += 1; return a }
  const merge2Map = (a: Map<number, number>, b: Map<number, number>): Map<number, number> => {
    const m = new Map(a); for (const [i, c] of b) m.set(i, (m.get(i) ?? 0) + c); return m
  }
  const merge2Dense = (a: Float64Array, b: Float64Array): Float64Array => { const m = new Float64Array(nb); for (let i = 0; i < nb; i++) m[i] = a[i]! + b[i]!; return m }
  const mergeAllMap = (): Map<number, number> => {
    const m = new Map<number, number>(); for (const p of maps) for (const [i, c] of p) m.set(i, (m.get(i) ?? 0) + c)
    return new Map([...m].sort((x, y) => x[0] - y[0])) // sorted, as the wire and CA's JSON need
  }
  const mergeAllDense = (): Float64Array => { const m = new Float64Array(nb); for (const p of denses) for (let i = 0; i < nb; i++) m[i]! += p[i]!; return m }
  const pairs = (f: (i: number) => unknown) => (): number => { let s = 0; for (let i = 0; i + 1 < nparts; i += 2) { consume(f(i)); s++ } return s }
  const build = [time(buildSparse, 25, 25), time(buildMap, 25, 25), time(buildDense, 25, 25)]
  const merge2 = [
    time(pairs((i) => mergeDistributions(ours[i]!, ours[i + 1]!)), 9, 3),
    time(pairs((i) => merge2Map(maps[i]!, maps[i + 1]!)), 9, 3),
    time(pairs((i) => merge2Dense(denses[i]!, denses[i + 1]!)), 9, 3)
  ]
  const mergeAll = [time(() => mergeDistributionList(ours), 15, 5), time(mergeAllMap, 9, 3), time(mergeAllDense, 15, 5)]
  const avgBuckets = ours.reduce((s, d) => s + d.index.length, 0) / nparts
  const perS = (count: number, ms: number): string => fmt(count * 1000 / ms)
  console.log('\n1. representation of a distribution (all three use the same bucket lookup)')
  table([
    ['', 'sparse typed arrays', 'Map', `dense Float64Array(${nb})`],
    ['build a partial (2,000 inserts), partials/s', ...build.map((ms) => perS(1, ms))],
    ['merge two partials, merges/s', ...merge2.map((ms) => perS(nparts / 2, ms))],
    [`merge all ${nparts} partials, partials/s`, ...mergeAll.map((ms) => perS(nparts, ms))],
    ['bytes of counts and indices per partial', fmt(avgBuckets * 12), '-', fmt(nb * 8)]
  ])
}

// ---- the benchmark -------------------------------------------------------------------------

export default async function distributions (): Promise<void> {
  const data = latencies(N, SEED)
  const nparts = N / PARTIAL
  const part = (p: number): Float64Array => data.subarray(p * PARTIAL, (p + 1) * PARTIAL)
  const nb = quantizer(LATENCY_BUCKETING).nbuckets
  const perS = (count: number, ms: number): string => Number.isNaN(ms) ? '-' : fmt(count * 1000 / ms)
  const x = (r: number, digits = 1): string => Number.isNaN(r) ? '-' : `${r.toFixed(digits)}x`

  // Phase 1: heatmesh and DDSketch. HdrHistogram's partials (a ~31k-entry counts array each, 64 to
  // 128 MB for 500) are built only in phase 2, so that their garbage-collection load does not
  // slow down the other two's timings.
  const builder = new DistributionBuilder(LATENCY_BUCKETING)
  const ours: Distribution[] = []
  const dds: DDSketch[] = []
  for (let p = 0; p < nparts; p++) {
    const xs = part(p)
    builder.reset()
    const dd = ddOf()
    for (let i = 0; i < xs.length; i++) { builder.add(xs[i]!); dd.accept(xs[i]!) }
    ours.push(builder.build())
    dds.push(dd)
  }
  const avgBuckets = ours.reduce((s, d) => s + d.index.length, 0) / nparts
  console.log(`data: ${fmt(N)} log-normal latencies (median 50 us, sigma 1.2, seed ${SEED}); ${nparts} partials of ${PARTIAL} values, ` +
    `${avgBuckets.toFixed(0)} of ${nb} buckets non-empty on average`)

  // 2-3. Insert and merge against DDSketch -------------------------------------------------
  const insertOurs = (): Distribution => {
    const b = new DistributionBuilder(LATENCY_BUCKETING)
    for (let i = 0; i < N; i++) b.add(data[i]!)
    return b.build()
  }
  const mergeOursList = (): Distribution => mergeDistributionList(ours)
  const mergeOursBuilder = (): Distribution => { const b = new DistributionBuilder(LATENCY_BUCKETING); for (const d of ours) b.addDistribution(d); return b.build() }
  const mergeOursFold = (): Distribution => { let acc = ours[0]!; for (let p = 1; p < nparts; p++) acc = mergeDistributions(acc, ours[p]!); return acc }
  const mergeDd = (): number => { const s = ddOf(); for (const d of dds) s.merge(d); return s.count }
  const insDd = ratio(insertOurs, (): number => { const s = ddOf(); for (let i = 0; i < N; i++) s.accept(data[i]!); return s.count }, 7, 1)
  // Merges are timed in blocks of 11 (median taken), so each side runs with its own data in cache.
  const mrgDd = ratio(mergeOursList, mergeDd, 15, 11, 20)
  const mrgBuilderDd = ratio(mergeOursBuilder, mergeDd, 9, 11, 10)
  const mrgFoldDd = ratio(mergeOursFold, mergeDd, 9, 3)

  representation(ours, part, builder) // 1. (after 2-3, so that its Maps and dense arrays weigh on no other timing)

  // 4. Size and codec, ours and DDSketch ---------------------------------------------------
  const encOurs = ours.map((dist) => encodeValue({ type: 'distribution', dist }))
  const ddReal = ddProtoAvailable()
  if (ddReal) {
    const wrong = dds.filter((d) => d.toProto().length !== ddProtoLength(d)).length
    if (wrong > 0) throw new Error(`ddProtoLength disagrees with DDSketch.toProto on ${wrong} sketches`)
  }
  const whole = mergeDistributionList(ours)
  const wholeDd = ddOf(); for (const d of dds) wholeDd.merge(d)
  const size = {
    partial: [encOurs.reduce((s, b) => s + b.length, 0) / nparts, dds.reduce((s, d) => s + ddProtoLength(d), 0) / nparts, NaN],
    whole: [encodeValue({ type: 'distribution', dist: whole }).length, ddProtoLength(wholeDd), NaN]
  }
  const encDd = ddReal ? dds.map((d) => d.toProto()) : []
  const encodeMs = [
    time(() => { let s = 0; for (const dist of ours) s += encodeValue({ type: 'distribution', dist }).length; return s }, 9, 3),
    ddReal ? time(() => { let s = 0; for (const d of dds) s += d.toProto().length; return s }, 5, 1) : NaN,
    NaN
  ]
  const decodeMergeOurs = (): Distribution => mergeDistributionList(encOurs.map((b) => {
    const v = decodeValue(b, { shape: 'distribution', bucketing: LATENCY_BUCKETING })
    return v.type === 'distribution' ? v.dist : ours[0]!
  }))
  const decMrgDd = ddReal
    ? ratio(decodeMergeOurs, (): number => { const s = ddOf(); for (const b of encDd) s.merge(DDSketch.fromProto(b)); return s.count }, 9, 3)
    : { ours: time(decodeMergeOurs, 9, 3), theirs: NaN, ratio: NaN }
  const decodeMs = [
    time(() => { let s = 0; for (const b of encOurs) s += decodeValue(b).type.length; return s }, 9, 3),
    ddReal ? time(() => { let s = 0; for (const b of encDd) s += DDSketch.fromProto(b).count; return s }, 5, 1) : NaN,
    NaN
  ]

  // Phase 2: HdrHistogram. First the faster of its two plain-JS typed-array histograms (Int32 and
  // Float64 counts) at inserting and merging a fifth of the data, then only that kind's partials.
  const hdrCalibration = (bits: HdrKind): number => {
    const t0 = performance.now()
    const acc = hdrOf(bits)
    for (let p = 0; p < nparts / 5; p++) {
      const h = hdrOf(bits)
      const xs = part(p)
      for (let i = 0; i < xs.length; i++) h.recordValue(xs[i]!)
      acc.add(h)
    }
    return performance.now() - t0
  }
  hdrCalibration(32); hdrCalibration(64)
  const hdrBest: HdrKind = Math.min(hdrCalibration(32), hdrCalibration(32)) <= Math.min(hdrCalibration(64), hdrCalibration(64)) ? 32 : 64
  let hdrs: hdr.Histogram[] = []
  for (let p = 0; p < nparts; p++) {
    const h = hdrOf(hdrBest)
    const xs = part(p)
    for (let i = 0; i < xs.length; i++) h.recordValue(xs[i]!)
    hdrs.push(h)
  }
  const insHdr = ratio(insertOurs, (): number => { const h = hdrOf(hdrBest); for (let i = 0; i < N; i++) h.recordValue(data[i]!); return h.totalCount }, 5, 1)
  const mrgHdr = ratio(mergeOursList, (): number => { const h = hdrOf(hdrBest); for (const x of hdrs) h.add(x); return h.totalCount }, 7, 3)
  const wholeHdr = hdrOf(hdrBest); for (const h of hdrs) wholeHdr.add(h)
  size.partial[2] = hdrs.reduce((s, h) => s + hdrBytes(h), 0) / nparts
  size.whole[2] = hdrBytes(wholeHdr)
  const hdrEncoded = hdrs.map((h) => hdr.encodeIntoCompressedBase64(h))
  encodeMs[2] = time(() => { let s = 0; for (const h of hdrs) s += hdr.encodeIntoCompressedBase64(h).length; return s }, 3, 1)
  hdrs = []
  decodeMs[2] = time(() => { let s = 0; for (const b of hdrEncoded) s += hdr.decodeFromCompressedBase64(b, hdrBest).totalCount; return s }, 3, 1)

  console.log(`\n2-3. throughput, medians of interleaved runs (hdr-histogram-js: the ${hdrBest === 32 ? 'Int32' : 'Float64'}Histogram,` +
    ' the faster of its JS implementations here; no WebAssembly)')
  table([
    ['', 'heatmesh', 'DDSketch', 'HdrHistogram', 'ours/DDSketch', 'ours/Hdr'],
    ['insert, values/s', perS(N, insDd.ours), perS(N, insDd.theirs), perS(N, insHdr.theirs), x(insDd.ratio, 2), x(insHdr.ratio, 2)],
    [`merge ${nparts} partials into one, partials/s`, perS(nparts, mrgDd.ours), perS(nparts, mrgDd.theirs), perS(nparts, mrgHdr.theirs),
      x(mrgDd.ratio), x(mrgHdr.ratio)],
    ['  ours through a DistributionBuilder', perS(nparts, mrgBuilderDd.ours), '', '', x(mrgBuilderDd.ratio), ''],
    ['  ours folding immutable pairwise merges', perS(nparts, mrgFoldDd.ours), '', '', x(mrgFoldDd.ratio), ''],
    [`decode and merge ${nparts} encoded partials, partials/s`, perS(nparts, decMrgDd.ours), perS(nparts, decMrgDd.theirs), '', x(decMrgDd.ratio), '']
  ])

  console.log('\n4. encoded size (heatmesh wire value; DDSketch toProto' + (ddReal ? '' : ', length computed from its schema: protobufjs, which toProto needs, is not installed') +
    '; HdrHistogram V2 compressed, base64-decoded) and codec speed')
  table([
    ['', 'heatmesh', 'DDSketch', 'HdrHistogram', 'theirs/ours: DD', 'Hdr'],
    [`bytes per partial (${PARTIAL} values)`, ...size.partial.map((b) => b.toFixed(0)), x(size.partial[1]! / size.partial[0]!, 2), x(size.partial[2]! / size.partial[0]!, 2)],
    [`bytes for all ${fmt(N)} values`, ...size.whole.map(String), x(size.whole[1]! / size.whole[0]!, 2), x(size.whole[2]! / size.whole[0]!, 2)],
    ['encode, partials/s', ...encodeMs.map((ms) => perS(nparts, ms)), x(encodeMs[1]! / encodeMs[0]!), x(encodeMs[2]! / encodeMs[0]!)],
    ['decode, partials/s', ...decodeMs.map((ms) => perS(nparts, ms)), x(decodeMs[1]! / decodeMs[0]!), x(decodeMs[2]! / decodeMs[0]!)]
  ])

  // 5. Accuracy ----------------------------------------------------------------------------
  const sorted = Float64Array.from(data).sort()
  const exact = (p: number): number => sorted[Math.min(N - 1, Math.ceil(p * N) - 1)]!
  const rows = [['', 'exact', 'heatmesh', 'DDSketch', 'HdrHistogram']]
  for (const p of [0.5, 0.99, 0.999]) {
    const e = exact(p)
    const err = (v: number): string => `${fmt(v)} (${(100 * (v - e) / e).toFixed(2)}%)`
    rows.push([`p${p * 100}`, fmt(e), err(distributionPercentile(whole, p)!), err(wholeDd.getValueAtQuantile(p)), err(wholeHdr.getValueAtPercentile(p * 100))])
  }
  console.log('\n5. accuracy on all values, ns (relative error; heatmesh interpolates within 1-2 %-wide buckets)')
  table(rows)

  const verdict = (r: number): string => r >= 5 ? 'met' : 'MISSED'
  console.log(`\ntarget merge throughput >= 5x both: DDSketch ${mrgDd.ratio.toFixed(1)}x (${verdict(mrgDd.ratio)}), ` +
    `HdrHistogram ${mrgHdr.ratio.toFixed(1)}x (${verdict(mrgHdr.ratio)})`)
  if (sink === 0.5) console.log('') // keeps `sink` observable
}
