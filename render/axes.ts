/**
 * Decorations beyond CA, each off by default: axes with time and value labels, a colour legend,
 * and percentile lines over a heatmap; also used by the charts.
 *
 * Layout rule: the plot keeps the requested width x height (so a heatmap's cells, and what
 * `sampleRange` maps a click to, are the same as without decorations) and the image grows by
 * margins around it; {@link layoutImage} says where the plot sits, and callers return that area
 * so a client can subtract the offset before asking for details.
 */
import type { CanvasRenderingContext2D } from 'canvas'
import { cellColour, cssRgb } from './colour.js'
import type { PlotArea } from './raster.js'
import { formatTimeOfDay, formatValue, niceTicks, type ValueUnit } from './units.js'

/** Which decorations to draw. */
export interface DecorationOptions {
  /** Draw a value axis (left) and a time axis (bottom) with labels. @default false */
  readonly axes?: boolean
  /** Unit of the value axis and of percentile labels. @default 'ns' */
  readonly unit?: ValueUnit
  /** Draw a legend of the layers' hues (and, for heatmaps, of intensity). @default false */
  readonly legend?: boolean
}

/** Margins in pixels. */
export const AXIS_LEFT = 64
export const AXIS_BOTTOM = 22
export const PAD = 10
export const LEGEND_WIDTH = 130
export const FONT = '11px sans-serif'
const INK = '#333333'
const GRID = 'rgba(0,0,0,0.12)'

/** Image size and plot area for a plot of `width` x `height` with these decorations. */
export function layoutImage (width: number, height: number, deco: DecorationOptions): { imageWidth: number, imageHeight: number, plot: PlotArea } {
  if (deco.axes !== true && deco.legend !== true) return { imageWidth: width, imageHeight: height, plot: { x: 0, y: 0, width, height } }
  const left = deco.axes === true ? AXIS_LEFT : PAD
  const bottom = deco.axes === true ? AXIS_BOTTOM : PAD
  const right = deco.legend === true ? LEGEND_WIDTH : PAD
  return { imageWidth: left + width + right, imageHeight: PAD + height + bottom, plot: { x: left, y: PAD, width, height } }
}

/** Time columns of a plot: column i starts at `base + i * step`. */
export interface TimeAxis {
  readonly base: number
  readonly step: number
  readonly ncolumns: number
}

/** Draws value ticks and labels left of the plot and time labels below it, with a frame. */
export function drawAxes (ctx: CanvasRenderingContext2D, plot: PlotArea, ymin: number, ymax: number, unit: ValueUnit, time: TimeAxis): void {
  ctx.save()
  ctx.font = FONT
  ctx.fillStyle = INK
  ctx.strokeStyle = INK
  ctx.lineWidth = 1
  ctx.strokeRect(plot.x - 0.5, plot.y - 0.5, plot.width + 1, plot.height + 1)

  // Value axis: nice ticks, labels right-aligned against the plot.
  ctx.textAlign = 'right'
  ctx.textBaseline = 'middle'
  const ticks = niceTicks(ymin, ymax, Math.max(2, Math.floor(plot.height / 40)), unit)
  for (const v of ticks) {
    const y = Math.round(valueToY(plot, ymin, ymax, v)) + 0.5
    ctx.beginPath()
    ctx.moveTo(plot.x - 4, y)
    ctx.lineTo(plot.x, y)
    ctx.stroke()
    ctx.fillText(formatValue(v, unit), plot.x - 6, Math.min(Math.max(y, plot.y + 5), plot.y + plot.height - 5))
  }

  // Time axis: a tick and label every k columns, k chosen so that labels do not touch; a label
  // that would stick out of the plot is shifted inside, and one that would overlap is skipped.
  ctx.textAlign = 'left'
  ctx.textBaseline = 'top'
  const n = time.ncolumns
  if (n > 0) {
    const labelWidth = ctx.measureText('00:00:00').width + 12
    const every = Math.max(1, Math.ceil(labelWidth / (plot.width / n)))
    let free = plot.x
    for (let i = 0; i < n; i += every) {
      const x = plot.x + Math.floor((i * plot.width) / n) + 0.5
      ctx.beginPath()
      ctx.moveTo(x, plot.y + plot.height)
      ctx.lineTo(x, plot.y + plot.height + 4)
      ctx.stroke()
      const label = formatTimeOfDay(time.base + i * time.step)
      const w = ctx.measureText(label).width
      const left = Math.min(Math.max(x - w / 2, plot.x), plot.x + plot.width - w)
      if (left < free) continue
      ctx.fillText(label, left, plot.y + plot.height + 6)
      free = left + w + 8
    }
  }
  ctx.restore()
}

/** Light horizontal grid lines at the value ticks (for charts, drawn under the data). */
export function drawGrid (ctx: CanvasRenderingContext2D, plot: PlotArea, ymin: number, ymax: number, unit: ValueUnit): void {
  ctx.save()
  ctx.strokeStyle = GRID
  ctx.lineWidth = 1
  for (const v of niceTicks(ymin, ymax, Math.max(2, Math.floor(plot.height / 40)), unit)) {
    const y = Math.round(valueToY(plot, ymin, ymax, v)) + 0.5
    ctx.beginPath()
    ctx.moveTo(plot.x, y)
    ctx.lineTo(plot.x + plot.width, y)
    ctx.stroke()
  }
  ctx.restore()
}

/** The pixel row (fractional) of value `v` in the plot, ymin at the bottom edge. */
export function valueToY (plot: PlotArea, ymin: number, ymax: number, v: number): number {
  return plot.y + plot.height - ((v - ymin) / (ymax - ymin)) * plot.height
}

/** One legend line: a swatch in `hue` at full intensity and its label. */
export interface LegendEntry {
  readonly label: string
  readonly hue: number
}

/**
 * Draws the legend right of the plot: one swatch per entry, then (when `ramp` is set) the
 * intensity ramp of the first entry's hue from faint to full, labelled with `ramp`'s two ends.
 */
export function drawLegend (ctx: CanvasRenderingContext2D, plot: PlotArea, entries: readonly LegendEntry[], ramp?: readonly [string, string]): void {
  ctx.save()
  ctx.font = FONT
  ctx.textAlign = 'left'
  ctx.textBaseline = 'middle'
  const x = plot.x + plot.width + 10
  let y = plot.y
  const maxChars = Math.floor((LEGEND_WIDTH - 30) / 6.5)
  for (const e of entries) {
    if (y + 14 > plot.y + plot.height) break
    ctx.fillStyle = cssRgb(cellColour(e.hue, 1))
    ctx.fillRect(x, y + 1, 12, 12)
    ctx.fillStyle = INK
    ctx.fillText(e.label.length > maxChars ? `${e.label.slice(0, maxChars - 1)}…` : e.label, x + 17, y + 7)
    y += 16
  }
  if (ramp !== undefined && entries.length > 0 && y + 70 <= plot.y + plot.height) {
    y += 6
    const hue = entries[0]!.hue
    const h = 50
    for (let k = 0; k < h; k++) {
      ctx.fillStyle = cssRgb(cellColour(hue, (h - k) / h))
      ctx.fillRect(x, y + k, 12, 1)
    }
    ctx.fillStyle = INK
    ctx.fillText(ramp[1], x + 17, y + 5)
    ctx.fillText(ramp[0], x + 17, y + h - 5)
  }
  ctx.restore()
}

/** Line styles for successive overlay lines. */
const LINE_STYLES: ReadonlyArray<{ colour: string, dash: number[] }> = [
  { colour: '#000000', dash: [] },
  { colour: '#7a0000', dash: [6, 3] },
  { colour: '#00307a', dash: [2, 2] },
  { colour: '#3d3d3d', dash: [8, 3, 2, 3] }
]

/**
 * Draws one polyline per series over the plot: point i at the middle of column i, missing
 * values (null) break the line; each line is labelled at its last point.
 */
export function drawLines (
  ctx: CanvasRenderingContext2D,
  plot: PlotArea,
  ymin: number,
  ymax: number,
  lines: ReadonlyArray<{ readonly label: string, readonly values: ReadonlyArray<number | null> }>,
  colours?: readonly string[]
): void {
  ctx.save()
  ctx.beginPath()
  ctx.rect(plot.x, plot.y, plot.width, plot.height)
  ctx.clip()
  ctx.lineWidth = 1.5
  ctx.font = FONT
  ctx.textBaseline = 'bottom'
  lines.forEach((line, s) => {
    const style = LINE_STYLES[s % LINE_STYLES.length]!
    const colour = colours?.[s] ?? style.colour
    ctx.strokeStyle = colour
    ctx.fillStyle = colour
    ctx.setLineDash(colours === undefined ? style.dash : [])
    const n = line.values.length
    let open = false
    let last: [number, number] | undefined
    ctx.beginPath()
    for (let i = 0; i < n; i++) {
      const v = line.values[i]
      if (v === null || v === undefined || !Number.isFinite(v)) { open = false; continue }
      const x = plot.x + ((i + 0.5) * plot.width) / n
      const y = Math.min(Math.max(valueToY(plot, ymin, ymax, v), plot.y), plot.y + plot.height)
      if (open) ctx.lineTo(x, y)
      else ctx.moveTo(x, y)
      open = true
      last = [x, y]
    }
    ctx.stroke()
    if (last !== undefined && line.label !== '') {
      ctx.setLineDash([])
      ctx.textAlign = 'right'
      ctx.fillText(line.label, Math.max(last[0], plot.x + 30), Math.max(last[1] - 2, plot.y + 12))
    }
  })
  ctx.restore()
}
