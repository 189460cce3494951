/**
 * Heatmap rendering benchmark: a 600x300 heatmap of 60 columns of realistic latency
 * distributions (llquantize(10, 3, 11, 100) buckets, ~100-300 non-empty per column, from a
 * seeded generator), with 1 layer and with 5 layers (4 selected keys + the remainder).
 *
 * Measures the median time of the whole path (re-bucket, deduct, normalize, pixels, PNG) of
 * `renderHeatmap`, its parts, and a naive baseline in the same run: the same layers painted
 * with canvas fillRect per cell and encoded with canvas's default PNG settings. Prints times and
 * the speed-up ratio. Targets: <= 3 ms (1 layer), <= 6 ms (5 layers). Bounded to well under 60 s.
 *
 * Run: `npm run bench -- heatmap`, or
 * `node --import tsx -e "import('./bench/heatmap.ts').then(m=>m.default())"`.
 */
import { Canvas, createCanvas, loadImage } from 'canvas'
import type { CaDistribution } from '../metad/index.js'
import {
  SurfacePool, cellColour, blendColour, heatmapLayers, normalize, renderHeatmap, resolveHeatmapOptions,
  type HeatmapOptions, type HeatmapWindow
} from '../render/index.js'

const INT64_MAX = 9223372036854775807

/** Mulberry32: a small seeded PRNG, uniform in [0, 1). */
function rng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** DTrace llquantize(x, 10, 3, 11, 100) bucket of a value in ns, as [lo, hi]. */
function llBucket (x: number): [number, number] {
  if (x < 1e3) return [0, 999]
  if (x >= 1e12) return [1e12, INT64_MAX]
  const k = Math.floor(Math.log10(x))
  const w = Math.max(1, Math.pow(10, k + 1) / 100)
  const lo = Math.floor(x / w) * w
  return [lo, lo + w - 1]
}

/** A standard normal deviate (Box-Muller). */
function normal (r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())
}

/** One key's latency distribution for one second: a log-normal mode plus a thin tail. */
function column (r: () => number, medianNs: number, sigma: number, events: number): CaDistribution {
  const counts = new Map<number, [number, number, number]>()
  for (let e = 0; e < events; e++) {
    const x = r() < 0.03 ? medianNs * Math.exp(3 + 2 * r()) : medianNs * Math.exp(sigma * normal(r))
    const [lo, hi] = llBucket(x)
    const c = counts.get(lo)
    if (c === undefined) counts.set(lo, [lo, hi, 1])
    else c[2]++
  }
  return [...counts.values()].sort((a, b) => a[0] - b[0]).map(([lo, hi, n]) => [[lo, hi], n])
}

function merge (dists: CaDistribution[]): CaDistribution {
  const m = new Map<number, [number, number, number]>()
  for (const d of dists) {
    for (const [[lo, hi], n] of d) {
      const c = m.get(lo)
      if (c === undefined) m.set(lo, [lo, hi, n])
      else c[2] += n
    }
  }
  return [...m.values()].sort((a, b) => a[0] - b[0]).map(([lo, hi, n]) => [[lo, hi], n])
}

/** 60 columns, 5 keys with different latency profiles (ns), seeded: also handy for demos. */
export function makeWindow (seed: number): HeatmapWindow {
  const r = rng(seed)
  const profiles: Array<[string, number, number, number]> = [
    ['read', 40e3, 0.5, 400], ['write', 400e3, 0.6, 250], ['fsync', 3e6, 0.4, 120], ['open', 15e3, 0.7, 150], ['stat', 120e3, 0.8, 160]
  ]
  const byKey = new Map<string, CaDistribution[]>()
  for (const [key] of profiles) byKey.set(key, [])
  const total: CaDistribution[] = []
  for (let i = 0; i < 60; i++) {
    const cols = profiles.map(([key, median, sigma, events]) => {
      const drift = 1 + 0.3 * Math.sin(i / 9 + median)
      const d = column(r, median * drift, sigma, Math.round(events * (0.7 + 0.6 * r())))
      byKey.get(key)!.push(d)
      return d
    })
    total.push(merge(cols))
  }
  return { base: 1700000000, step: 1, ncolumns: 60, total, byKey }
}

/** The naive path: the same layers, fillRect per cell, canvas's default PNG encoding. */
function naive (window: HeatmapWindow, options: HeatmapOptions): Buffer {
  const opts = resolveHeatmapOptions(options)
  const layers = heatmapLayers(window, opts)
  const maps = normalize(layers.maps, opts.coloring)
  const c = createCanvas(opts.width, opts.height)
  const ctx = c.getContext('2d')
  const nb = layers.scale.nbuckets
  const n = layers.ncolumns
  const bw = opts.width / n
  const bh = opts.height / nb
  const values = new Float64Array(maps.length)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < nb; j++) {
      for (let m = 0; m < maps.length; m++) values[m] = maps[m]![i * nb + j]!
      const rgb = maps.length === 1 ? cellColour(layers.hues[0]!, values[0]!) : blendColour(layers.hues, values)
      ctx.fillStyle = `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`
      const y0 = Math.floor((nb - j - 1) * bh)
      const x0 = Math.floor(i * bw)
      ctx.fillRect(x0, y0, Math.floor((i + 1) * bw) - x0, Math.floor((nb - j) * bh) - y0)
    }
  }
  return c.toBuffer('image/png')
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]!
}

/** Times `f` for up to `runs` runs or `budgetMs`, whichever ends first; returns the median (ms). */
function time (f: () => unknown, runs: number, budgetMs: number): number {
  for (let k = 0; k < 3; k++) f()
  const xs: number[] = []
  const end = performance.now() + budgetMs
  while (xs.length < runs && (xs.length < 5 || performance.now() < end)) {
    const t = performance.now()
    f()
    xs.push(performance.now() - t)
  }
  return median(xs)
}

export default async function heatmapBench (): Promise<void> {
  const window = makeWindow(42)
  const nonEmpty = window.total.map((d) => d?.length ?? 0)
  console.log(`heatmap: 60 columns, ${Math.min(...nonEmpty)}..${Math.max(...nonEmpty)} non-empty buckets per column (total)`)
  const cases: Array<[string, HeatmapOptions, number]> = [
    ['1 layer', {}, 3],
    ['5 layers', { selected: ['read', 'write', 'fsync', 'open'] }, 6]
  ]
  const rows: string[] = []
  for (const [name, options, target] of cases) {
    const pool = new SurfacePool()
    const image = renderHeatmap(window, options, { pool })
    const full = time(() => renderHeatmap(window, options, { pool }), 300, 8000)
    const unpooled = time(() => renderHeatmap(window, options), 300, 8000)
    const opts = resolveHeatmapOptions(options)
    const layersMs = time(() => heatmapLayers(window, opts), 300, 3000)
    const layers = heatmapLayers(window, opts)
    const normMs = time(() => normalize(layers.maps, opts.coloring), 300, 3000)
    const base = time(() => naive(window, options), 30, 10000)
    const ok = full <= target ? 'ok' : 'MISSED'
    rows.push(`heatmap ${name}: ${full.toFixed(2)} ms median (target <= ${target} ms: ${ok}); ` +
      `layers ${layersMs.toFixed(2)} ms, normalize ${normMs.toFixed(2)} ms, pixels+PNG ~${(full - layersMs - normMs).toFixed(2)} ms; ` +
      `without a surface pool ${unpooled.toFixed(2)} ms; PNG ${image.png.length} bytes; naive fillRect+default PNG ${base.toFixed(2)} ms; speed-up x${(base / full).toFixed(1)}`)
  }
  for (const row of rows) console.log(row)

  // PNG encoder settings on the 5-layer image: why render/png.ts uses what it uses.
  const png = renderHeatmap(window, cases[1]![1]).png
  const img = await loadImage(png)
  const c = createCanvas(1, 1)
  const ctx = c.getContext('2d', { pixelFormat: 'RGB24' })
  c.width = img.width
  c.height = img.height
  ctx.drawImage(img, 0, 0)
  const filters: Array<[string, number]> = [
    ['none', Canvas.PNG_FILTER_NONE], ['sub', Canvas.PNG_FILTER_SUB], ['up', Canvas.PNG_FILTER_UP], ['all', Canvas.PNG_ALL_FILTERS]
  ]
  const table: string[] = []
  for (const [fname, f] of filters) {
    for (const level of [1, 3, 6] as const) {
      let size = 0
      const ms = time(() => { size = c.toBuffer('image/png', { compressionLevel: level, filters: f }).length }, 100, 1500)
      table.push(`${fname}/${level}: ${ms.toFixed(2)} ms ${size} B`)
    }
  }
  console.log(`PNG encode 600x300 RGB24 (filters/level): ${table.join('; ')}`)
}
