// heatmesh's web UI: plain modern JavaScript, no build step, talking to the node that served it.
//
// What it does: pick a metric from GET /ca, build a predicate and a decomposition, create an
// instrumentation; list the instrumentations with their coverage (nodes merged into the latest
// point of how many expected, and the nodes that cannot run it, with why) and delete them; view
// one live at 1 Hz: a heatmap with axes for numeric decompositions (click a cell for the keys in
// it; select, isolate or exclude keys in their hues; percentile lines), stacked bars for discrete
// decompositions, a line for scalars. Every error the API answers is shown in the error area.

const REFRESH_MS = 1000
const LIST_REFRESH_MS = 2000
const MAX_ERRORS = 6
/** Rows whose coverage is read at each list refresh (one value request each). */
const MAX_COVERAGE_ROWS = 50
const HEATMAP = { width: 600, height: 300 }
/** The key under which the mesh folds the keys beyond its cardinality bound. */
const OTHER_KEY = '\u0000other'

const $ = (selector) => document.querySelector(selector)

/** An error answered by the API: CA's {error: {code, message}}. */
class ApiError extends Error {
  constructor (status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** One API call; resolves to the parsed JSON (null for 204), rejects with ApiError. */
async function api (method, path, body, signal) {
  const init = { method, signal, headers: {} }
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  const res = await fetch(path, init)
  const text = await res.text()
  let json = null
  if (text !== '') {
    try {
      json = JSON.parse(text)
    } catch {
      throw new ApiError(res.status, 'EUI_BADJSON', `${method} ${path}: answered ${res.status} with a body that is not JSON`)
    }
  }
  if (!res.ok) {
    const e = json?.error
    throw new ApiError(res.status, e?.code ?? `HTTP ${res.status}`, e?.message ?? `${method} ${path} failed with ${res.status}`)
  }
  return json
}

// ---- errors ------------------------------------------------------------------------------

/** Shows an error to the user; repeated identical errors are counted, not stacked. */
function showError (err, context) {
  if (err?.name === 'AbortError') return // we cancelled it ourselves
  const area = $('#errors')
  const code = err instanceof ApiError ? err.code : (err?.name ?? 'Error')
  const text = `${context}: ${err?.message ?? String(err)}`
  const last = area.lastElementChild
  if (last !== null && last.dataset.text === text) {
    const n = Number(last.dataset.count) + 1
    last.dataset.count = String(n)
    last.querySelector('.count').textContent = ` (x${n})`
    return
  }
  const item = document.createElement('div')
  item.className = 'error'
  item.dataset.text = text
  item.dataset.count = '1'
  item.dataset.code = code
  const codeEl = document.createElement('strong')
  codeEl.textContent = code
  const msg = document.createElement('span')
  msg.className = 'message'
  msg.textContent = ` ${text}`
  const count = document.createElement('span')
  count.className = 'count'
  const close = document.createElement('button')
  close.type = 'button'
  close.className = 'dismiss'
  close.textContent = 'dismiss'
  close.addEventListener('click', () => item.remove())
  item.append(codeEl, msg, count, close)
  area.append(item)
  while (area.children.length > MAX_ERRORS) area.firstElementChild.remove()
}

// ---- formatting ----------------------------------------------------------------------------

function keyLabel (key) {
  return key === OTHER_KEY ? '(other)' : key
}

function hueColour (hue) {
  // The heatmap's full-intensity colour of a hue: HSV(hue, 0.9, 0.95).
  return `hsl(${hue} 85% 50%)`
}

/** A value of a numeric field in human units, from its CA type (time: ns; size: bytes). */
function formatValue (v, type) {
  if (v === null || v === undefined || !Number.isFinite(v)) return String(v)
  const table = type === 'time'
    ? [[1e9, 's'], [1e6, 'ms'], [1e3, 'us'], [1, 'ns']]
    : type === 'size' ? [[2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB'], [1, 'B']] : [[1, '']]
  for (const [div, name] of table) {
    if (Math.abs(v) >= div || div === 1) return `${Number((v / div).toPrecision(3))}${name === '' ? '' : ' ' + name}`
  }
  return String(v)
}

function formatTime (t) {
  return new Date(t * 1000).toISOString().replace('T', ' ').replace('.000Z', 'Z')
}

// ---- metadata and the create form ------------------------------------------------------------

const state = {
  meta: null,
  /** id -> instrumentation object, from the last list. */
  instrumentations: new Map(),
  view: null
}

/** A field's arity ('discrete' | 'numeric') and type name, from GET /ca. */
function fieldInfo (name) {
  const f = state.meta.fields[name]
  const type = f?.type ?? 'string'
  return { label: f?.label ?? name, type, arity: state.meta.types[type]?.arity ?? 'discrete' }
}

function selectedMetric () {
  const [module, stat] = $('#metric').value.split('.')
  return state.meta.metrics.find((m) => m.module === module && m.stat === stat)
}

function option (value, text) {
  const o = document.createElement('option')
  o.value = value
  o.textContent = text
  return o
}

async function loadMetadata () {
  state.meta = await api('GET', '/ca')
  const select = $('#metric')
  select.replaceChildren()
  const byModule = new Map()
  for (const m of state.meta.metrics) {
    if (!byModule.has(m.module)) byModule.set(m.module, [])
    byModule.get(m.module).push(m)
  }
  for (const [module, metrics] of [...byModule].sort(([a], [b]) => a.localeCompare(b))) {
    const group = document.createElement('optgroup')
    group.label = state.meta.modules[module]?.label ?? module
    for (const m of metrics) group.append(option(`${m.module}.${m.stat}`, `${m.module}.${m.stat}: ${m.label}`))
    select.append(group)
  }
  onMetricChange()
}

function onMetricChange () {
  const metric = selectedMetric()
  $('#predicate-rows').replaceChildren()
  const discrete = $('#decomposition-discrete')
  const numeric = $('#decomposition-numeric')
  discrete.replaceChildren(option('', '(none)'))
  numeric.replaceChildren(option('', '(none)'))
  if (metric === undefined) return
  for (const name of metric.fields) {
    const info = fieldInfo(name)
    ;(info.arity === 'numeric' ? numeric : discrete).append(option(name, `${name} (${info.label})`))
  }
  $('#metric-help').textContent = `${metric.label}; value-scope ${metric.interval}; fields: ${metric.fields.join(', ')}`
}

const OPS = { discrete: ['eq', 'ne'], numeric: ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] }

function addConditionRow () {
  const metric = selectedMetric()
  if (metric === undefined) return
  const row = document.createElement('div')
  row.className = 'condition row'
  const field = document.createElement('select')
  field.className = 'field'
  for (const name of metric.fields) field.append(option(name, name))
  const op = document.createElement('select')
  op.className = 'op'
  const value = document.createElement('input')
  value.className = 'value'
  value.placeholder = 'value'
  const fillOps = () => {
    const info = fieldInfo(field.value)
    op.replaceChildren(...OPS[info.arity].map((o) => option(o, o)))
    value.placeholder = info.arity === 'numeric' ? (info.type === 'time' ? 'nanoseconds' : 'number') : 'value'
  }
  field.addEventListener('change', fillOps)
  fillOps()
  const remove = document.createElement('button')
  remove.type = 'button'
  remove.textContent = 'remove'
  remove.addEventListener('click', () => row.remove())
  row.append(field, op, value, remove)
  $('#predicate-rows').append(row)
}

/**
 * The predicate of the form's rows: {} for none, the clause for one, {and|or: [...]} for more.
 * Numeric fields take numbers; text that is not a number is sent as is, and the API says what is
 * wrong with it.
 */
function buildPredicate () {
  const clauses = []
  for (const row of document.querySelectorAll('#predicate-rows .condition')) {
    const field = row.querySelector('.field').value
    const op = row.querySelector('.op').value
    const text = row.querySelector('.value').value
    const numeric = fieldInfo(field).arity === 'numeric'
    const value = numeric && text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text
    clauses.push({ [op]: [field, value] })
  }
  if (clauses.length === 0) return {}
  if (clauses.length === 1) return clauses[0]
  return { [$('#predicate-join').value]: clauses }
}

async function onCreate (event) {
  event.preventDefault()
  const metric = selectedMetric()
  if (metric === undefined) return
  const decomposition = [$('#decomposition-discrete').value, $('#decomposition-numeric').value].filter((f) => f !== '')
  const body = {
    module: metric.module,
    stat: metric.stat,
    predicate: buildPredicate(),
    decomposition,
    granularity: Number($('#granularity').value || '1')
  }
  try {
    const created = await api('POST', '/ca/instrumentations', body)
    await refreshList()
    openView(created.id)
  } catch (err) {
    showError(err, 'create')
  }
}

// ---- the list -------------------------------------------------------------------------------

/**
 * Coverage of the latest point: minreporting of nsources, from value/raw. touch=false: the list
 * polls every instrumentation and must not keep them all alive past their idle-max.
 */
async function coverageOf (inst) {
  const point = await api('GET', `${inst.uri}/value/raw?timeout=0&touch=false`)
  return `${point.minreporting}/${point.nsources} nodes`
}

async function refreshList () {
  const list = await api('GET', '/ca/instrumentations')
  state.instrumentations = new Map(list.map((i) => [i.id, i]))
  const tbody = $('#instrumentations tbody')
  const rows = []
  for (const inst of list) {
    const tr = document.createElement('tr')
    tr.dataset.id = inst.id
    if (state.view?.id === inst.id) tr.classList.add('viewing')
    const cells = [
      inst.id,
      `${inst.module}.${inst.stat}`,
      inst.decomposition.join(', ') || '(none)',
      JSON.stringify(inst.predicate),
      `${inst.nsources} expected`,
      ''
    ].map((text) => {
      const td = document.createElement('td')
      td.textContent = text
      return td
    })
    cells[4].className = 'coverage'
    const unavailable = cells[5]
    unavailable.className = 'unavailable'
    if (inst['unavailable-count'] > 0) {
      const details = document.createElement('details')
      const summary = document.createElement('summary')
      summary.textContent = `${inst['unavailable-count']} node(s)`
      const ul = document.createElement('ul')
      for (const u of inst.unavailable) {
        const li = document.createElement('li')
        li.textContent = `${u.node}: ${u.reason}`
        ul.append(li)
      }
      details.append(summary, ul)
      unavailable.append(details)
    } else {
      unavailable.textContent = 'none'
    }
    const actions = document.createElement('td')
    const view = document.createElement('button')
    view.type = 'button'
    view.className = 'view'
    view.textContent = 'view'
    view.addEventListener('click', () => openView(inst.id))
    const del = document.createElement('button')
    del.type = 'button'
    del.className = 'delete'
    del.textContent = 'delete'
    del.addEventListener('click', () => { void deleteInstrumentation(inst.id) })
    actions.append(view, del)
    tr.append(...cells, actions)
    rows.push(tr)
    if (rows.length > MAX_COVERAGE_ROWS) continue
    coverageOf(inst).then(
      (text) => { cells[4].textContent = `${text} (${inst.nsources} expected)` },
      (err) => { cells[4].textContent = 'unknown'; showError(err, `coverage of ${inst.id}`) }
    )
  }
  tbody.replaceChildren(...rows)
  $('#list-empty').hidden = list.length > 0
  if (state.view !== null && !state.instrumentations.has(state.view.id)) closeView()
}

async function deleteInstrumentation (id) {
  try {
    await api('DELETE', `/ca/instrumentations/${encodeURIComponent(id)}`)
    if (state.view?.id === id) closeView()
    await refreshList()
  } catch (err) {
    showError(err, `delete ${id}`)
  }
}

// ---- the live view --------------------------------------------------------------------------

function closeView () {
  if (state.view !== null) {
    clearTimeout(state.view.timer)
    state.view.abort.abort()
  }
  state.view = null
  $('#view-panel').hidden = true
}

function openView (id) {
  closeView()
  const inst = state.instrumentations.get(id)
  if (inst === undefined) return
  const numericField = inst.decomposition.find((f) => fieldInfo(f).arity === 'numeric')
  state.view = {
    id,
    inst,
    kind: inst['value-arity'] === 'numeric-decomposition' ? 'heatmap' : 'chart',
    numericType: numericField === undefined ? undefined : fieldInfo(numericField).type,
    selected: [],
    last: null,
    paused: false,
    timer: undefined,
    abort: new AbortController()
  }
  $('#view-panel').hidden = false
  $('#view-title').textContent = `${inst.module}.${inst.stat} (instrumentation ${id})` +
    (inst.decomposition.length > 0 ? ` by ${inst.decomposition.join(' and ')}` : '')
  $('#heatmap-figure').hidden = state.view.kind !== 'heatmap'
  $('#chart-figure').hidden = state.view.kind !== 'chart'
  $('#mode').hidden = state.view.kind !== 'heatmap'
  $('#percentile-lines').parentElement.hidden = state.view.kind !== 'heatmap'
  $('#keys').replaceChildren()
  $('#details').replaceChildren()
  $('#pause').textContent = 'Pause'
  for (const tr of document.querySelectorAll('#instrumentations tbody tr')) tr.classList.toggle('viewing', tr.dataset.id === id)
  void tick(state.view)
}

function heatmapQuery (view) {
  const q = new URLSearchParams({ width: String(HEATMAP.width), height: String(HEATMAP.height), axes: 'true' })
  const mode = document.querySelector('input[name="mode"]:checked').value
  if (mode === 'decompose_all') q.set('decompose_all', 'true')
  else {
    // Repeated keys are taken whole; a lone key is split at commas (CA's rule for arrays).
    for (const key of view.selected) q.append('selected', key)
    if (mode === 'isolate' && view.selected.length > 0) q.set('isolate', 'true')
    if (mode === 'exclude' && view.selected.length > 0) q.set('exclude', 'true')
  }
  if ($('#percentile-lines').checked) q.set('percentiles', '0.5,0.9,0.99')
  return q
}

/** One refresh of the view; schedules the next one a second after this one started. */
async function tick (view) {
  if (state.view !== view) return
  const started = performance.now()
  try {
    if (!view.paused) {
      if (view.kind === 'heatmap') await refreshHeatmap(view)
      else await refreshChart(view)
    }
  } catch (err) {
    if (state.view === view) showError(err, view.kind === 'heatmap' ? 'heatmap' : 'chart')
  }
  if (state.view !== view) return
  view.timer = setTimeout(() => { void tick(view) }, Math.max(0, REFRESH_MS - (performance.now() - started)))
}

async function refreshHeatmap (view) {
  const q = heatmapQuery(view)
  const r = await api('GET', `${view.inst.uri}/value/heatmap/image?${q}`, undefined, view.abort.signal)
  if (state.view !== view) return
  view.last = r
  $('#heatmap').src = `data:image/png;base64,${r.image}`
  $('#heatmap-caption').textContent =
    `${formatTime(r.start_time)} + ${r.duration} s; ${formatValue(r.ymin, view.numericType)} to ${formatValue(r.ymax, view.numericType)}; ` +
    `${r.minreporting}/${r.nsources} nodes merged`
  renderKeys(view, r)
}

/** The key chips: every present key, in its hue when selected; click to (de)select. */
function renderKeys (view, r) {
  const hueOf = new Map((r.layers ?? []).filter((l) => l.key !== null).map((l) => [l.key, l.hue]))
  const rest = (r.layers ?? []).find((l) => l.key === null)
  const chips = []
  if (rest !== undefined && r.present.length > 0) {
    const chip = document.createElement('span')
    chip.className = 'chip rest'
    chip.style.setProperty('--hue', hueColour(rest.hue))
    chip.textContent = view.selected.length > 0 ? 'everything else' : 'all'
    chips.push(chip)
  }
  for (const key of r.present) {
    const chip = document.createElement('button')
    chip.type = 'button'
    chip.className = 'chip'
    chip.dataset.key = key
    chip.textContent = keyLabel(key)
    if (hueOf.has(key)) {
      chip.classList.add('selected')
      chip.style.setProperty('--hue', hueColour(hueOf.get(key)))
    }
    chip.addEventListener('click', () => {
      const at = view.selected.indexOf(key)
      if (at >= 0) view.selected.splice(at, 1)
      else view.selected.push(key)
      void tickNow(view)
    })
    chips.push(chip)
  }
  $('#keys').replaceChildren(...chips)
}

/** Refreshes at once (after a change of selection or mode) instead of waiting for the timer. */
async function tickNow (view) {
  if (state.view !== view) return
  clearTimeout(view.timer)
  await tick(view)
}

async function refreshChart (view) {
  const q = new URLSearchParams({ width: String(HEATMAP.width), height: String(HEATMAP.height), axes: 'true', legend: 'true' })
  const r = await api('GET', `${view.inst.uri}/value/chart/image?${q}`, undefined, view.abort.signal)
  if (state.view !== view) return
  view.last = r
  $('#chart').src = `data:image/png;base64,${r.image}`
  $('#chart-caption').textContent = `${r.chart === 'line' ? 'line' : 'stacked bars'}: ${formatTime(r.start_time)} + ${r.duration} s; ` +
    `${r.minreporting}/${r.nsources} nodes merged`
}

/** A click on the heatmap: the cell under it, and the keys in that cell. */
async function onHeatmapClick (event) {
  const view = state.view
  const r = view?.last
  if (view === null || r === null || view.kind !== 'heatmap') return
  const img = $('#heatmap')
  const scaleX = img.naturalWidth / img.clientWidth
  const scaleY = img.naturalHeight / img.clientHeight
  const x = Math.floor(event.offsetX * scaleX) - r.plot.x
  const y = Math.floor(event.offsetY * scaleY) - r.plot.y
  if (x < 0 || y < 0 || x >= r.plot.width || y >= r.plot.height) return
  const q = new URLSearchParams({
    x: String(x),
    y: String(y),
    ymin: String(r.ymin),
    ymax: String(r.ymax),
    width: String(r.width),
    height: String(r.height),
    nbuckets: String(r.nbuckets),
    start_time: String(r.start_time),
    duration: String(r.duration)
  })
  try {
    const d = await api('GET', `${view.inst.uri}/value/heatmap/details?${q}`)
    renderDetails(view, d)
  } catch (err) {
    showError(err, 'details')
  }
}

function renderDetails (view, d) {
  const box = $('#details')
  const title = document.createElement('h3')
  title.textContent = `${formatTime(d.bucket_time)}, ${formatValue(d.bucket_ymin, view.numericType)} to ${formatValue(d.bucket_ymax, view.numericType)}`
  const total = document.createElement('p')
  total.className = 'total'
  total.textContent = `${d.total} event(s) in this cell`
  const entries = Object.entries(d.present).sort(([a, x], [b, y]) => (y - x) || a.localeCompare(b))
  const table = document.createElement('table')
  table.className = 'present'
  for (const [key, count] of entries) {
    const tr = document.createElement('tr')
    tr.dataset.key = key
    const k = document.createElement('td')
    k.textContent = keyLabel(key)
    const c = document.createElement('td')
    c.textContent = String(count)
    tr.append(k, c)
    table.append(tr)
  }
  box.replaceChildren(title, total, ...(entries.length > 0 ? [table] : []))
}

// ---- start ----------------------------------------------------------------------------------

function start () {
  $('#metric').addEventListener('change', onMetricChange)
  $('#add-condition').addEventListener('click', addConditionRow)
  $('#create-form').addEventListener('submit', (e) => { void onCreate(e) })
  $('#heatmap').addEventListener('click', (e) => { void onHeatmapClick(e) })
  $('#pause').addEventListener('click', () => {
    if (state.view === null) return
    state.view.paused = !state.view.paused
    $('#pause').textContent = state.view.paused ? 'Resume' : 'Pause'
  })
  for (const input of document.querySelectorAll('input[name="mode"], #percentile-lines')) {
    input.addEventListener('change', () => { if (state.view !== null) void tickNow(state.view) })
  }
  loadMetadata().catch((err) => showError(err, 'loading the metric catalog'))
  const list = () => {
    refreshList().catch((err) => showError(err, 'listing instrumentations')).finally(() => setTimeout(list, LIST_REFRESH_MS))
  }
  list()
}

start()
