/** Test helper: decodes a PNG with canvas and reads pixels back. */
import { createCanvas, loadImage } from 'canvas'

export interface Decoded {
  readonly width: number
  readonly height: number
  /** [r, g, b] of pixel (x, y). */
  pixel: (x: number, y: number) => [number, number, number]
}

export async function decodePng (png: Buffer): Promise<Decoded> {
  const img = await loadImage(png)
  const c = createCanvas(img.width, img.height)
  const ctx = c.getContext('2d')
  ctx.drawImage(img, 0, 0)
  const data = ctx.getImageData(0, 0, img.width, img.height).data
  return {
    width: img.width,
    height: img.height,
    pixel: (x, y) => {
      const o = (y * img.width + x) * 4
      return [data[o]!, data[o + 1]!, data[o + 2]!]
    }
  }
}
