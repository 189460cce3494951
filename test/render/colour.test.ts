/** render/colour.ts: CA's hues, HSV conversion and layer blending (CA-REFERENCE §7.2, §8.5). */
import test from 'ava'
import { blendColour, cellColour, defaultHues, hsvToRgb } from '../../render/index.js'

test('default hues start at 21 and step by 91 mod 360', (t) => {
  t.deepEqual(defaultHues(0), [21])
  t.deepEqual(defaultHues(8), [21, 112, 203, 294, 25, 116, 207, 298, 29])
})

test('isolate drops the remainder layer\'s hue', (t) => {
  t.deepEqual(defaultHues(3, true), [112, 203, 294])
  t.deepEqual(defaultHues(0, true), [])
})

const hsv: Array<[[number, number, number], [number, number, number], string]> = [
  [[21, 0.9, 0.95], [242, 101, 24], 'CA\'s default hue at full intensity'],
  [[112, 0.9, 0.95], [53, 242, 24], 'sector 1: r = q'],
  [[203, 0.45, 0.95], [133, 200, 242], 'sector 3, half saturation'],
  [[300, 1, 1], [255, 0, 255], 'sector 5'],
  [[360, 1, 1], [255, 0, 255], 'hue 360 falls through to sector 5 (CA\'s quirk; hues are validated below 360)'],
  [[0, 0, 0.95], [242, 242, 242], 'zero saturation is grey']
]
for (const [[h, s, v], rgb, note] of hsv) {
  test(`HSV(${h}, ${s}, ${v}) is RGB(${rgb.join(', ')}): ${note}`, (t) => {
    t.deepEqual(hsvToRgb(h, s, v), rgb)
  })
}

test('a cell at intensity 0 is white, at v has saturation 0.9 v', (t) => {
  t.deepEqual(cellColour(21, 0), [255, 255, 255])
  t.deepEqual(cellColour(21, 1), [242, 101, 24])
  t.deepEqual(cellColour(21, 0.5), [242, 171, 133])
})

test('two layers blend by intensity share, truncated like CA\'s byte store', (t) => {
  // (242, 101, 24) and (53, 242, 24) half and half: 147.5, 171.5, 24 -> 147, 171, 24.
  t.deepEqual(blendColour([21, 112], [1, 1]), [147, 171, 24])
  // Only layer 0 has intensity: its colour alone.
  t.deepEqual(blendColour([21, 112], [0.5, 0]), [242, 171, 133])
  // Intensities .75 and .25 are (242, 136, 79) and (195, 242, 188), weighted 3:1:
  // 230.25, 162.5, 106.25.
  t.deepEqual(cellColour(21, 0.75), [242, 136, 79])
  t.deepEqual(cellColour(112, 0.25), [195, 242, 188])
  t.deepEqual(blendColour([21, 112], [0.75, 0.25]), [230, 162, 106])
})

test('no intensity in any layer is white', (t) => {
  t.deepEqual(blendColour([21, 112, 203], [0, 0, 0]), [255, 255, 255])
})
