/**
 * Colour: CA's hues, its HSV to RGB conversion and the value-weighted blend of layers
 * (node-timeseries-heatmap `generate`, CA-REFERENCE §8.5).
 *
 * A heatmap cell's normalized intensity v in [0, 1] becomes saturation `0.9 v` at HSV value
 * 0.95 in its layer's hue; v = 0 is white. Where several layers meet, each layer's colour is
 * weighted by its share of the cell's summed intensity. Colours are packed as one 32-bit word
 * per pixel in canvas ImageData byte order (R, G, B, A in memory on a little-endian host),
 * so a pixel span is filled with `Uint32Array.fill`.
 */

/** CA's saturation range and HSV value for heatmaps. */
export const SATURATION_MIN = 0
export const SATURATION_MAX = 0.9
export const HSV_VALUE = 0.95
/** The hue of layer 0 ("everything not selected") and the step between default hues. */
export const FIRST_HUE = 21
export const HUE_STEP = 91

/** An RGB triple, each component an integer 0..255. */
export type Rgb = readonly [number, number, number]

export const WHITE: Rgb = [255, 255, 255]

/**
 * CA's default hues: 21 for the remainder layer, then +91 mod 360 for each selected key
 * (21, 112, 203, 294, 25, 116, ...). With `isolate` the remainder layer is not drawn, so its
 * hue is dropped.
 */
export function defaultHues (nselected: number, isolate = false): number[] {
  const hues = [FIRST_HUE]
  for (let i = 0; i < nselected; i++) hues.push((hues[hues.length - 1]! + HUE_STEP) % 360)
  if (isolate) hues.shift()
  return hues
}

/**
 * HSV to RGB by the classic six-sector algorithm, each component rounded to 0..255
 * (CA's `convertHSVToRGB`). `h` in degrees [0, 360], `s` and `v` in [0, 1].
 */
export function hsvToRgb (h: number, s: number, v: number): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0]
  hsvInto(out, 0, h, s, v)
  return out
}

/** {@link hsvToRgb} writing the components to `out[at..at+2]` (no allocation, for hot loops). */
export function hsvInto (out: { [k: number]: number }, at: number, h: number, s: number, v: number): void {
  if (s === 0) {
    const g = Math.round(v * 255)
    out[at] = g; out[at + 1] = g; out[at + 2] = g
    return
  }
  h /= 60
  const i = Math.floor(h)
  const f = h - i
  const p = v * (1 - s)
  const q = v * (1 - s * f)
  const t = v * (1 - s * (1 - f))
  let r: number, g: number, b: number
  switch (i) {
    case 0: r = v; g = t; b = p; break
    case 1: r = q; g = v; b = p; break
    case 2: r = p; g = v; b = t; break
    case 3: r = p; g = q; b = v; break
    case 4: r = t; g = p; b = v; break
    default: r = v; g = p; b = q; break
  }
  out[at] = Math.round(r * 255)
  out[at + 1] = Math.round(g * 255)
  out[at + 2] = Math.round(b * 255)
}

/** The colour of one layer's cell at normalized intensity `value` (white at 0). */
export function cellColour (hue: number, value: number): Rgb {
  if (value === 0) return WHITE
  return hsvToRgb(hue, SATURATION_MIN + (value * (SATURATION_MAX - SATURATION_MIN)), HSV_VALUE)
}

/**
 * The blended colour of a cell where layers have intensities `values` (same order as `hues`):
 * white if all are 0, else sum of `cellColour(hue_m, v_m) * v_m / sum(v)`. Components are
 * truncated to integers, as CA's store into a byte buffer did.
 */
export function blendColour (hues: readonly number[], values: ArrayLike<number>): Rgb {
  const out: [number, number, number] = [0, 0, 0]
  return blendInto(out, hues, values, [0, 0, 0]) ? out : WHITE
}

/**
 * {@link blendColour} into `out[0..2]`, with `scratch` (3 numbers) for the layer colours: the
 * allocation-free form for per-cell loops. Returns false (and leaves `out` alone) for white.
 */
export function blendInto (out: { [k: number]: number }, hues: readonly number[], values: ArrayLike<number>, scratch: { [k: number]: number }): boolean {
  let total = 0
  for (let m = 0; m < hues.length; m++) total += values[m]!
  if (total === 0) return false
  let r = 0, g = 0, b = 0
  const smin = SATURATION_MIN
  const srange = SATURATION_MAX - SATURATION_MIN
  for (let m = 0; m < hues.length; m++) {
    const v = values[m]!
    const ratio = v / total
    if (v === 0) continue // CA mixed in white weighted by 0: no change

    hsvInto(scratch, 0, hues[m]!, smin + (v * srange), HSV_VALUE)
    r += scratch[0]! * ratio
    g += scratch[1]! * ratio
    b += scratch[2]! * ratio
  }
  out[0] = Math.trunc(r)
  out[1] = Math.trunc(g)
  out[2] = Math.trunc(b)
  return true
}

/** True when this host stores the low byte of a word first (every platform Node ships on). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/** Packs an opaque colour as one ImageData pixel word (bytes R, G, B, 255 in memory). */
export function packRgb (c: ArrayLike<number>): number {
  return LITTLE_ENDIAN
    ? ((255 << 24) | (c[2]! << 16) | (c[1]! << 8) | c[0]!) >>> 0
    : ((c[0]! << 24) | (c[1]! << 16) | (c[2]! << 8) | 255) >>> 0
}

/** CSS form of a colour, for canvas drawing calls. */
export function cssRgb (c: Rgb): string {
  return `rgb(${c[0]},${c[1]},${c[2]})`
}
