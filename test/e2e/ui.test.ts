/**
 * The web UI in a real browser (Debian's chromium, driven by playwright-core) against a real
 * daemon process: load the page, see an API error shown, create an instrumentation of synthetic
 * latency by key, see it listed with its coverage, see its live heatmap load and change, click a
 * cell and see its details, then one with data and the keys in it, and delete it. A screenshot
 * of the heatmap view is kept (attached to the test log's directory in the system's temp dir).
 *
 * Skipped only when /usr/bin/chromium is absent (node/setup.sh installs it).
 */
import test, { type ExecutionContext } from 'ava'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { decodePng } from '../render/decode.js'
import { api, keygen, startDaemon, tempDir, waitFor, type Daemon, type Teardown } from './harness.js'

const CHROMIUM = '/usr/bin/chromium'
const available = existsSync(CHROMIUM)
/** Longest wait for anything the page should show (a daemon shares 2 cores with other tests). */
const SHOW_MS = 15_000
/** Where the screenshot of the heatmap view is written. */
const SCREENSHOT = join(tmpdir(), 'heatmesh-ui-heatmap.png')

/** What the test reads of an image element (this file is compiled without the DOM's types). */
interface Img { readonly naturalWidth: number, readonly naturalHeight: number }

const cleanups: Array<() => Promise<void> | void> = []
const suite: Teardown = { teardown: (fn) => { cleanups.push(fn) } }
let daemon: Daemon
let browser: Browser
let page: Page
let createdId = ''
const pageErrors: string[] = []

test.before(async () => {
  if (!available) return
  const dir = await tempDir(suite, 'ui')
  const key = join(dir, 'network.key')
  await keygen(key)
  daemon = await startDaemon(suite, { name: 'ui', dataDir: join(dir, 'ui'), key })
  const home = await fetch(daemon.url + '/')
  await home.arrayBuffer()
  if (home.status !== 200) throw new Error(`the daemon answers GET / with ${home.status}: node/daemon.ts must add addUiRoutes and addValueRoutes to its router`)
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30_000 })
  cleanups.push(async () => { await browser.close() })
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
  page.setDefaultTimeout(SHOW_MS)
  page.on('pageerror', (err) => { pageErrors.push(err.message) })
})

test.after.always(async () => {
  for (const fn of cleanups.reverse()) await fn()
})

/** A test that needs the browser; its title says why it is skipped when chromium is absent. */
const browserTest = (title: string, fn: (t: ExecutionContext) => Promise<void>): void => {
  if (available) test.serial(title, fn)
  else test.skip(`browser unavailable: /usr/bin/chromium not installed (${title})`, () => {})
}

browserTest('the daemon serves the UI at / and it lists the metrics the node can measure', async (t) => {
  const res = await page.goto(daemon.url + '/')
  t.is(res?.status(), 200)
  await page.locator('#metric option[value="synthetic.ops"]').waitFor({ state: 'attached' })
  t.is(await page.locator('#metric option[value="synthetic.ops"]').count(), 1)
  t.is(await page.locator('#metric option[value="cpu.cpus"]').count(), 1)
})

browserTest('an invalid predicate is refused by the API and the error is shown to the user', async (t) => {
  await page.selectOption('#metric', 'synthetic.ops')
  await page.click('#add-condition')
  const row = page.locator('#predicate-rows .condition').first()
  await row.locator('.field').selectOption('latency')
  await row.locator('.op').selectOption('gt')
  await row.locator('.value').fill('slow')
  await page.click('#create')
  const error = page.locator('#errors .error').first()
  await error.waitFor()
  t.is(await error.getAttribute('data-code'), 'ECA_INVAL')
  const text = await error.textContent() ?? ''
  t.regex(text, /field "predicate" is invalid/)
  t.regex(text, /not a number/)
  t.deepEqual((await api(daemon, 'GET', '/ca/instrumentations')).body, [])
  await error.locator('.dismiss').click()
  t.is(await page.locator('#errors .error').count(), 0)
})

browserTest('an instrumentation created in the UI is listed with its coverage', async (t) => {
  await page.locator('#predicate-rows .condition button').first().click() // remove the bad condition
  await page.selectOption('#decomposition-discrete', 'key')
  await page.selectOption('#decomposition-numeric', 'latency')
  await page.click('#create')
  const row = page.locator('#instrumentations tbody tr').first()
  await row.waitFor()
  createdId = await row.getAttribute('data-id') ?? ''
  t.not(createdId, '')
  const listed = (await api(daemon, 'GET', `/ca/instrumentations/${createdId}`)).body
  t.like(listed, { module: 'synthetic', stat: 'ops', decomposition: ['key', 'latency'] })
  t.is(await row.locator('td').nth(1).textContent(), 'synthetic.ops')
  t.is(await row.locator('td').nth(2).textContent(), 'key, latency')
  // Coverage comes from the latest point's value/raw: "m/n nodes (n expected)".
  await waitFor('coverage shown', SHOW_MS, async () => /^\d+\/\d+ nodes/.test(await row.locator('td.coverage').textContent() ?? ''))
  t.is(await row.locator('td.unavailable').textContent(), 'none')
})

browserTest('the live heatmap loads and refreshes every second', async (t) => {
  await page.locator('#view-panel').waitFor()
  t.regex(await page.locator('#view-title').textContent() ?? '', new RegExp(`instrumentation ${createdId}`))
  // Functions, not strings: the UI's Content-Security-Policy forbids evaluating strings.
  const size = async (): Promise<[number, number]> => await page.locator('#heatmap').evaluate((el) => [(el as unknown as Img).naturalWidth, (el as unknown as Img).naturalHeight])
  await waitFor('the heatmap image loaded', SHOW_MS, async () => (await size())[0] > 0)
  const [width, height] = await size()
  t.true(width > 600, 'axes widen the image beyond the 600 px plot')
  t.true(height > 300)
  const caption = await page.locator('#heatmap-caption').textContent()
  await waitFor('the heatmap refreshed', SHOW_MS, async () => await page.locator('#heatmap-caption').textContent() !== caption)
  t.not(await page.locator('#heatmap-caption').textContent(), caption)
  await page.screenshot({ path: SCREENSHOT })
  t.log(`screenshot: ${SCREENSHOT}`)
})

browserTest('a click on a cell of the heatmap shows that cell\'s details', async (t) => {
  await page.locator('#heatmap').click({ position: { x: 64 + 300, y: 10 + 150 } }) // the middle of the plot (axes: 64 px left, 10 px top)
  const title = page.locator('#details h3')
  await title.waitFor()
  t.regex(await title.textContent() ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, .+ to .+$/)
  t.regex(await page.locator('#details .total').textContent() ?? '', /^\d+ event\(s\) in this cell$/)
})

// Needs values to flow: the daemon's ValueSource must fetch merged slots (the merge tree). Until
// then every cell is empty and this test fails waiting for a coloured one.
browserTest('with values flowing, a click on a coloured cell lists the keys in it, and keys can be selected in their hues', async (t) => {
  // Wait for the synthetic workload's keys to appear in the heatmap's present keys.
  await page.locator('#keys .chip[data-key]').first().waitFor({ timeout: 20_000 })
  const src = await page.locator('#heatmap').getAttribute('src') ?? ''
  const png = await decodePng(Buffer.from(src.replace(/^data:image\/png;base64,/, ''), 'base64'))
  // Find a coloured pixel inside the plot (64 px left margin, 10 px top, 600 x 300).
  let at: { x: number, y: number } | undefined
  for (let x = 64 + 599; x >= 64 && at === undefined; x -= 3) {
    for (let y = 10; y < 310; y += 2) {
      const [r, g, b] = png.pixel(x, y)
      if (r !== 255 || g !== 255 || b !== 255) { at = { x, y }; break }
    }
  }
  t.not(at, undefined, 'the heatmap has a coloured cell')
  await page.click('#pause') // keep the image the click refers to
  await page.locator('#heatmap').click({ position: at! })
  const rows = page.locator('#details table.present tr')
  await rows.first().waitFor()
  t.true(await rows.count() > 0)
  t.true(Number((await page.locator('#details .total').textContent() ?? '').split(' ')[0]) > 0)
  await page.click('#pause')

  // Select the first key: it takes hue 112 in the next image, the rest keeps 21.
  const chip = page.locator('#keys .chip[data-key]').first()
  const key = await chip.getAttribute('data-key')
  await chip.click()
  await page.locator(`#keys .chip.selected[data-key="${key!}"]`).waitFor()
  t.is(await page.locator('#keys .chip.selected').count(), 1)
})

browserTest('a discrete decomposition is drawn as stacked bars and a scalar as a line', async (t) => {
  const chartSize = async (): Promise<number> => await page.locator('#chart').evaluate((el) => (el as unknown as Img).naturalWidth)
  for (const [body, kind] of [[{ module: 'synthetic', stat: 'ops', decomposition: ['key'] }, 'stacked bars'], [{ module: 'synthetic', stat: 'ops' }, 'line']] as const) {
    const id = (await api(daemon, 'POST', '/ca/instrumentations', body)).body.id as string
    const row = page.locator(`#instrumentations tbody tr[data-id="${id}"]`)
    await row.locator('button.view').click()
    await page.locator('#chart-figure').waitFor()
    t.true(await page.locator('#heatmap-figure').isHidden())
    // The caption and the image change together (app.js refreshChart); until this view's first
    // chart comes, the previous view's stay (a stale image has a size too).
    const caption = async (): Promise<string> => await page.locator('#chart-caption').textContent() ?? ''
    await waitFor(`the ${kind} chart loaded`, SHOW_MS, async () => (await caption()).startsWith(`${kind}: `) && await chartSize() > 0)
    t.regex(await caption(), new RegExp(`^${kind}: `))
    t.is((await api(daemon, 'DELETE', `/ca/instrumentations/${id}`)).status, 204)
  }
  // Back to the heatmap of the first instrumentation.
  await page.locator(`#instrumentations tbody tr[data-id="${createdId}"] button.view`).click()
  await page.locator('#heatmap-figure').waitFor()
})

browserTest('an instrumentation deleted in the UI disappears from the list and from the daemon', async (t) => {
  const row = page.locator(`#instrumentations tbody tr[data-id="${createdId}"]`)
  await row.locator('button.delete').click()
  await row.waitFor({ state: 'detached' })
  // The panel closes once the view learns its instrumentation is gone, not with the row.
  await page.locator('#view-panel').waitFor({ state: 'hidden', timeout: SHOW_MS })
  t.true(await page.locator('#view-panel').isHidden())
  t.is((await api(daemon, 'GET', `/ca/instrumentations/${createdId}`)).status, 404)
  t.deepEqual(pageErrors, [], 'the page threw no uncaught error')
})
