/**
 * Pixel surfaces and PNG encoding through node-canvas.
 *
 * A {@link Surface} is a 24-bit RGB canvas (cairo RGB24, so the PNG has no alpha channel, like
 * CA's) plus an ImageData whose pixels are written directly as packed 32-bit words; vector
 * drawing (axes, labels, lines) goes through the 2D context after the pixels are put.
 *
 * Encoder settings, measured by bench/heatmap.ts on a 600x300 heatmap (it prints the table):
 * a heatmap is bands of identical rows made of runs of identical pixels, which zlib's fast
 * levels already compress well. libpng's adaptive filter choice (its default: try all five
 * filters on every row) costs 2.7 ms and saves ~15 %; no filter at level 3 encodes in ~0.5 ms
 * to ~8 KB (level 6 halves the size for 1 ms more; level 1 is no faster).
 */
import { Canvas, createCanvas, ImageData } from 'canvas'
import type { CanvasRenderingContext2D } from 'canvas'

/** zlib level used for PNGs (0-9). */
export const PNG_COMPRESSION_LEVEL = 3
/** libpng filter set used for PNGs. */
export const PNG_FILTERS: number = Canvas.PNG_FILTER_NONE

/** A canvas, its 2D context, and an ImageData covering it with a packed-pixel view. */
export interface Surface {
  readonly canvas: Canvas
  readonly ctx: CanvasRenderingContext2D
  readonly image: ImageData
  /** One word per pixel, row-major, `width` pixels per row; see `packRgb` in colour.ts. */
  readonly pixels: Uint32Array
  readonly width: number
  readonly height: number
}

/**
 * A new opaque RGB surface; its pixels start as all zero and must be painted. The context is
 * created on a 1x1 canvas that is then resized: creating an RGB24 context at full size makes
 * cairo build the surface twice and costs ~2 ms at 600x300, against ~0.4 ms this way.
 */
export function createSurface (width: number, height: number): Surface {
  const c = createCanvas(1, 1)
  const ctx = c.getContext('2d', { pixelFormat: 'RGB24' })
  c.width = width
  c.height = height
  const image = new ImageData(new Uint8ClampedArray(width * height * 4), width, height)
  const pixels = new Uint32Array(image.data.buffer, image.data.byteOffset, width * height)
  return { canvas: c, ctx, image, pixels, width, height }
}

/**
 * Surfaces kept for reuse between renders of the same size, so that a server drawing the same
 * heatmap every second skips allocating a canvas (~0.4 ms of a ~2 ms render). Renders are
 * synchronous and hand back encoded bytes, so one surface serves one render at a time. Holds at
 * most `max` sizes; the least recently used size is dropped.
 */
export class SurfacePool {
  readonly #max: number
  readonly #surfaces = new Map<string, Surface>()
  constructor (max = 4) {
    this.#max = max
  }

  /** A surface of this size, reused if one is kept (its pixels and canvas hold old content). */
  take (width: number, height: number): Surface {
    const key = `${width}x${height}`
    let surface = this.#surfaces.get(key)
    if (surface !== undefined) {
      this.#surfaces.delete(key)
    } else {
      surface = createSurface(width, height)
      if (this.#surfaces.size >= this.#max) this.#surfaces.delete(this.#surfaces.keys().next().value!)
    }
    this.#surfaces.set(key, surface)
    return surface
  }
}

/** Resources a caller may lend to renders; they change speed, never the result. */
export interface RenderContext {
  /** Surfaces to reuse between renders (see {@link SurfacePool}). */
  readonly pool?: SurfacePool
}

/** A surface from the pool when one is given, else a new one. */
export function takeSurface (width: number, height: number, pool?: SurfacePool): Surface {
  return pool === undefined ? createSurface(width, height) : pool.take(width, height)
}

/** Copies the surface's pixels onto its canvas (before any vector drawing). */
export function putPixels (surface: Surface): void {
  surface.ctx.putImageData(surface.image, 0, 0)
}

/** Encodes the canvas as a PNG with the measured fast settings. */
export function encodePng (surface: Surface): Buffer {
  return surface.canvas.toBuffer('image/png', { compressionLevel: PNG_COMPRESSION_LEVEL, filters: PNG_FILTERS })
}
