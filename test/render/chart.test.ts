/** render/chart.ts and render/units.ts: stacked bars, line charts, axis units. */
import test from 'ava'
import { InvalidFieldError } from '../../metad/index.js'
import { formatTimeOfDay, formatValue, niceTicks, renderLineChart, renderStackedBars } from '../../render/index.js'
import { decodePng } from './decode.js'

const time = { base: 0, step: 1, ncolumns: 2 }
const WHITE = [255, 255, 255]
const HUE21 = [242, 101, 24]
const HUE112 = [53, 242, 24]

test('stacked bars: keys by total, largest at the bottom, in the heatmap hues, exact pixel rows', async (t) => {
  // 20 x 10 px, ymax 10: one unit per pixel row; columns 10 px wide with a 1 px gap.
  const chart = renderStackedBars(time, [{ a: 6, b: 4 }, { a: 2 }], { width: 20, height: 10, ymax: 10 })
  t.deepEqual(chart.legend, [{ label: 'a', hue: 21 }, { label: 'b', hue: 112 }])
  const png = await decodePng(chart.png)
  t.is(png.width, 20)
  t.is(png.height, 10)
  t.deepEqual(png.pixel(0, 9), HUE21)
  t.deepEqual(png.pixel(8, 4), HUE21)
  t.deepEqual(png.pixel(8, 3), HUE112)
  t.deepEqual(png.pixel(0, 0), HUE112)
  t.deepEqual(png.pixel(9, 5), WHITE) // the gap between bars
  t.deepEqual(png.pixel(10, 8), HUE21)
  t.deepEqual(png.pixel(18, 7), WHITE)
})

test('stacked bars autoscale to the largest column sum', (t) => {
  t.is(renderStackedBars(time, [{ a: 30 }, { a: 3, b: 2 }]).ymax, 32)
  t.is(renderStackedBars(time, [undefined, {}]).ymax, 1)
})

test('stacked bars follow a given key order', (t) => {
  t.deepEqual(renderStackedBars(time, [{ a: 6, b: 4 }], { keys: ['b', 'a'] }).legend.map((e) => e.label), ['b', 'a'])
})

test('stacked bars reject negative counts and too few hues', (t) => {
  t.is(t.throws(() => renderStackedBars(time, [{ a: -1 }]), { instanceOf: InvalidFieldError })?.field, 'value')
  t.is(t.throws(() => renderStackedBars(time, [{ a: 1, b: 1 }], { hues: [5] }), { instanceOf: InvalidFieldError })?.reason, 'need 2 hues')
})

test('a line chart draws each series in its hue', async (t) => {
  const chart = renderLineChart({ base: 0, step: 1, ncolumns: 10 }, [{ label: 'ops', values: [5, 5, 5, 5, 5, 5, 5, 5, 5, 5] }], { width: 100, height: 50, ymax: 10 })
  const png = await decodePng(chart.png)
  t.is(png.width, 100)
  // A flat line at half height, drawn with anti-aliasing: the row at y = 25 is mostly orange.
  const [r, g, b] = png.pixel(50, 25)
  t.true(r > g && g > b && r > 200)
  t.deepEqual(png.pixel(50, 5), WHITE)
})

test('a line chart with axes and a legend grows around the plot', async (t) => {
  const chart = renderLineChart(time, [{ label: 'a', values: [1, null] }], { axes: true, legend: true })
  t.deepEqual(chart.plot, { x: 64, y: 10, width: 600, height: 300 })
  const png = await decodePng(chart.png)
  t.is(png.width, 64 + 600 + 130)
  t.is(png.height, 10 + 300 + 22)
})

test('values are labelled in human units', (t) => {
  t.is(formatValue(0, 'ns'), '0 ns')
  t.is(formatValue(500, 'ns'), '500 ns')
  t.is(formatValue(1500, 'ns'), '1.5 us')
  t.is(formatValue(25e6, 'ns'), '25 ms')
  t.is(formatValue(3e9, 'ns'), '3 s')
  t.is(formatValue(512 * 1024, 'bytes'), '512 KiB')
  t.is(formatValue(3 * 2 ** 20, 'bytes'), '3 MiB')
  t.is(formatValue(1200, 'count'), '1.2 k')
  t.is(formatValue(7, 'count'), '7')
})

test('time labels are UTC times of day', (t) => {
  t.is(formatTimeOfDay(1700000000), '22:13:20')
  t.is(formatTimeOfDay(86399, false), '23:59')
})

test('ticks fall on 1, 2, 5 times a power of ten (powers of two for bytes)', (t) => {
  t.deepEqual(niceTicks(0, 6000, 6), [0, 1000, 2000, 3000, 4000, 5000, 6000])
  t.deepEqual(niceTicks(0, 100, 4), [0, 50, 100])
  t.deepEqual(niceTicks(0, 4096, 4, 'bytes'), [0, 1024, 2048, 3072, 4096])
})
