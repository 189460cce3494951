import test from 'ava'
import {
  catalog, HeatmeshError, LATENCY_BUCKETING, parseInstrumentation, parsePredicate, predicateFields, valueToCa,
  type InstrumentationDefinition, type Value
} from '../../../metad/index.js'
import {
  createInstrumenter, createValueAccumulator, valueLayout, valueUnderKey, zeroValueOf,
  type Backend, type FieldRecord, type Measurement, type MeasurementSpec, type MeasurementState
} from '../../../node/instrument/index.js'

// ---- test doubles ----------------------------------------------------------------------------

/** One disk I/O of the doubles' world: every field of disk.physio_ops but hostname. */
const IO: FieldRecord = { disk: 'vda', optype: 'read', execname: 'postgres', latency: 5000, size: 4096 }

interface Double extends Backend {
  /** Every spec instrument() was given. */
  readonly specs: MeasurementSpec[]
  /** collect() calls and stop() calls over all its measurements. */
  readonly calls: { collect: number, stop: number }
  /** What its measurements' state() says. */
  state: MeasurementState
}

interface DoubleOptions {
  cost?: number
  available?: boolean
  detail?: string
  /** Replaces instrument(): e.g. a rejection or a promise that never settles. */
  instrument?: (spec: MeasurementSpec) => Promise<Measurement>
  /** Replaces the value collect() returns. */
  value?: () => Value
}

/**
 * A backend that implements disk.physio_ops with `fields` and, each second, "measures" one I/O
 * event (IO) through the spec's predicate and decomposition, as a user-space backend would.
 */
function double (name: string, fields: string[], options: DoubleOptions = {}): Double {
  const specs: MeasurementSpec[] = []
  const calls = { collect: 0, stop: 0 }
  const self: Double = {
    name,
    cost: options.cost ?? 1,
    implementations: [{ metric: 'disk.physio_ops', fields }],
    specs,
    calls,
    state: { state: 'running' },
    async probe () {
      return { name, available: options.available ?? true, detail: options.detail ?? `${name} is here` }
    },
    async instrument (spec) {
      specs.push(spec)
      if (options.instrument !== undefined) return await options.instrument(spec)
      const acc = createValueAccumulator(valueLayout(spec.metric, spec.decomposition), spec.predicate)
      let stopped = false
      return {
        collect () {
          calls.collect++
          if (options.value !== undefined) return options.value()
          if (!stopped) acc.add(IO)
          return acc.take()
        },
        state: () => self.state,
        async stop () { if (!stopped) { stopped = true; calls.stop++ } }
      }
    }
  }
  return self
}

/** `cheap` serves disk and optype (procfs-like); `rich` serves every field (bpftrace-like). */
function pair (cheap: DoubleOptions = {}, rich: DoubleOptions = {}): { cheap: Double, rich: Double } {
  return {
    cheap: double('cheap', ['disk', 'optype'], { cost: 1, ...cheap }),
    rich: double('rich', ['disk', 'optype', 'execname', 'latency', 'size'], { cost: 10, ...rich })
  }
}

function def (decomposition: string[], predicate: unknown = {}, metric = 'disk.physio_ops'): InstrumentationDefinition {
  const [module, stat] = metric.split('.')
  return parseInstrumentation({ module, stat, decomposition, predicate }, catalog)
}

async function started (backends: Backend[], init = {}): Promise<ReturnType<typeof createInstrumenter>> {
  const inst = createInstrumenter({ backends, hostname: 'node-a' }, init)
  await inst.start()
  return inst
}

// ---- backend selection -----------------------------------------------------------------------

test('the cheapest backend that serves the decomposition wins', async (t) => {
  const { cheap, rich } = pair()
  const inst = await started([rich, cheap])
  t.deepEqual(await inst.enable('1', def(['disk'])), { state: 'running', backend: 'cheap' })
  t.deepEqual(await inst.enable('2', def(['latency'])), { state: 'running', backend: 'rich' })
  t.deepEqual(cheap.specs.map((s) => s.decomposition), [['disk']])
  t.deepEqual(rich.specs.map((s) => s.decomposition), [['latency']])
})

test('a predicate field counts like a decomposition field when choosing', async (t) => {
  const { cheap, rich } = pair()
  const inst = await started([cheap, rich])
  t.like(await inst.enable('1', def(['disk'], { eq: ['execname', 'postgres'] })), { state: 'running', backend: 'rich' })
  t.like(await inst.enable('2', def([], { eq: ['optype', 'read'] })), { state: 'running', backend: 'cheap' })
})

test('among equal costs, the backend given first wins', async (t) => {
  const a = double('a', ['disk', 'optype'], { cost: 3 })
  const b = double('b', ['disk', 'optype'], { cost: 3 })
  const inst = await started([b, a])
  t.like(await inst.enable('1', def(['disk'])), { backend: 'b' })
})

test('an unavailable backend is passed over for an available one that serves the fields', async (t) => {
  const { cheap, rich } = pair({ available: false, detail: 'no /proc' })
  const inst = await started([cheap, rich])
  t.deepEqual(inst.backendStatuses(), [
    { name: 'cheap', available: false, detail: 'no /proc' },
    { name: 'rich', available: true, detail: 'rich is here' }
  ])
  t.like(await inst.enable('1', def(['disk'])), { state: 'running', backend: 'rich' })
  t.is(cheap.specs.length, 0, 'an unavailable backend is never asked')
})

// ---- hostname --------------------------------------------------------------------------------

test('decomposed by hostname, the backend measures without it and the value goes under this host', async (t) => {
  const { cheap, rich } = pair()
  const inst = await started([cheap, rich])
  await inst.enable('n', def(['hostname']))
  await inst.enable('d', def(['hostname', 'latency']))
  t.deepEqual(cheap.specs[0]!.decomposition, [])
  t.deepEqual(rich.specs[0]!.decomposition, ['latency'])
  const values = inst.collect(100)
  t.deepEqual(valueToCa(values.get('n')!), { 'node-a': 1 })
  t.deepEqual(valueToCa(values.get('d')!), { 'node-a': [[[5000, 5099], 1]] })
  t.like(values.get('d'), { type: 'decomposed-distribution', bucketing: LATENCY_BUCKETING })
})

test('a predicate on hostname that holds here is folded away before the backend sees it', async (t) => {
  const { cheap, rich } = pair()
  const inst = await started([cheap, rich])
  t.like(await inst.enable('1', def(['disk'], { and: [{ eq: ['hostname', 'node-a'] }, { eq: ['optype', 'read'] }] })), { state: 'running', backend: 'cheap' })
  t.deepEqual(predicateFields(cheap.specs[0]!.predicate), ['optype'])
  await inst.enable('2', def([], { eq: ['hostname', 'node-a'] }))
  t.deepEqual(cheap.specs[1]!.predicate, { op: 'true' })
  t.deepEqual(valueToCa(inst.collect(1).get('1')!), { vda: 1 })
})

test('a predicate false for this hostname runs nowhere here and reports the zero of its shape', async (t) => {
  const { cheap, rich } = pair()
  const inst = await started([cheap, rich])
  const status = await inst.enable('1', def(['disk', 'latency'], { eq: ['hostname', 'node-b'] }))
  t.is(status.state, 'excluded by predicate')
  t.regex(status.reason ?? '', /false for hostname "node-a"/)
  t.is(cheap.specs.length + rich.specs.length, 0)
  const v = inst.collect(1).get('1')!
  t.deepEqual(v, zeroValueOf(valueLayout(catalog.metrics.get('disk.physio_ops')!, ['disk', 'latency'])))
  t.like(v, { type: 'decomposed-distribution', bucketing: LATENCY_BUCKETING })
})

// ---- failures --------------------------------------------------------------------------------

test('no backend serving a field fails the instrumentation, naming the field and what each backend serves', async (t) => {
  const inst = await started([double('cheap', ['disk', 'optype'])])
  const status = await inst.enable('1', def(['execname']))
  t.is(status.state, 'failed')
  t.is(status.reason, 'no backend on this node serves field "execname" of disk.physio_ops (cheap serves disk, optype)')
  t.is(status.backend, undefined)
})

test('fields served only by different backends fail together, saying so', async (t) => {
  const inst = await started([double('a', ['disk']), double('b', ['latency'])])
  const status = await inst.enable('1', def(['disk', 'latency']))
  t.regex(status.reason ?? '', /no single backend on this node serves fields "disk", "latency" of disk\.physio_ops together \(a serves disk; b serves latency\)/)
})

test('a metric no backend implements fails, naming it', async (t) => {
  const inst = await started([double('a', ['disk'])])
  t.deepEqual(await inst.enable('1', def([], {}, 'cpu.cpus')), { state: 'failed', reason: 'no backend on this node implements cpu.cpus' })
})

test('the only backend that serves the fields being unavailable fails the instrumentation with the probe\'s reason', async (t) => {
  const { cheap, rich } = pair({}, { available: false, detail: 'bpftrace not found in PATH' })
  const inst = await started([cheap, rich])
  const status = await inst.enable('1', def(['latency']))
  t.is(status.state, 'failed')
  t.regex(status.reason ?? '', /disk\.physio_ops with latency needs a backend that is unavailable here \(rich is unavailable: bpftrace not found in PATH\)/)
})

test('instrument() rejecting fails the instrumentation with the backend\'s reason, and the instrumenter keeps going', async (t) => {
  const { cheap, rich } = pair({}, { instrument: async () => { throw new HeatmeshError('ECA_NORESOURCE', 'attach failed: tracepoint block:block_rq_issue not found') } })
  const inst = await started([cheap, rich])
  t.deepEqual(await inst.enable('1', def(['latency'])), {
    state: 'failed', backend: 'rich', reason: 'backend rich could not start: attach failed: tracepoint block:block_rq_issue not found'
  })
  t.like(await inst.enable('2', def(['disk'])), { state: 'running' })
  t.deepEqual([...inst.collect(7).keys()], ['2'], 'a failed instrumentation contributes no value')
  t.like(inst.status('1'), { state: 'failed' })
})

test('instrument() that never settles fails after the timeout', async (t) => {
  const { cheap, rich } = pair({}, { instrument: async () => await new Promise<Measurement>(() => {}) })
  const inst = await started([cheap, rich], { instrumentTimeoutMs: 30 })
  t.deepEqual(await inst.enable('1', def(['latency'])), { state: 'failed', backend: 'rich', reason: 'backend rich could not start: did not start within 30 ms' })
})

test('a probe that rejects or never answers makes its backend unavailable, with the reason', async (t) => {
  const broken = { ...double('broken', ['disk']), probe: async () => { throw new Error('EPERM') } }
  const silent = { ...double('silent', ['disk']), probe: async () => await new Promise<never>(() => {}) }
  const inst = await started([broken, silent], { probeTimeoutMs: 30 })
  t.deepEqual(inst.backendStatuses(), [
    { name: 'broken', available: false, detail: 'probe failed: EPERM' },
    { name: 'silent', available: false, detail: 'probe did not answer within 30 ms' }
  ])
})

test('a backend value of the wrong shape fails the instrumentation instead of reaching the merge', async (t) => {
  const { cheap, rich } = pair({ value: () => ({ type: 'scalar', n: 3 }) })
  const inst = await started([cheap, rich])
  await inst.enable('1', def(['disk']))
  t.is(inst.collect(1).size, 0)
  t.deepEqual(inst.status('1'), { state: 'failed', backend: 'cheap', reason: 'backend cheap returned a scalar value where a decomposition was due' })
  t.is(cheap.calls.stop, 1)
})

test('a measurement that says it is restarting contributes no value and shows its reason', async (t) => {
  const { cheap, rich } = pair()
  const inst = await started([cheap, rich])
  await inst.enable('1', def([]))
  cheap.state = { state: 'restarting', reason: 'bpftrace exited with status 1', attempts: 2 }
  t.is(inst.collect(1).size, 0)
  t.deepEqual(inst.status('1'), { state: 'restarting', backend: 'cheap', reason: 'bpftrace exited with status 1 (attempt 2)' })
  cheap.state = { state: 'running' }
  t.deepEqual(valueToCa(inst.collect(2).get('1')!), 1)
})

// ---- collect, disable, stop ------------------------------------------------------------------

test('collect asks each measurement once per second, repeating its answer for a second already collected', async (t) => {
  const { cheap, rich } = pair()
  const inst = await started([cheap, rich])
  await inst.enable('1', def(['disk']))
  const first = inst.collect(10)
  t.is(inst.collect(10), first)
  t.is(inst.collect(9), first, 'a clock stepped back gets the last answer')
  t.is(cheap.calls.collect, 1)
  inst.collect(11)
  t.is(cheap.calls.collect, 2)
})

test('disable stops the measurement and forgets the instrumentation; an unknown id is ignored', async (t) => {
  const { cheap, rich } = pair()
  const inst = await started([cheap, rich])
  await inst.enable('1', def(['disk']))
  await inst.disable('1')
  await inst.disable('1')
  await inst.disable('nope')
  t.is(cheap.calls.stop, 1)
  t.is(inst.status('1'), undefined)
  t.is(inst.collect(1).size, 0)
})

test('disabling while the backend is still starting stops what it starts', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  const stops: string[] = []
  const slow = double('slow', ['disk'], {
    instrument: async () => {
      await gate
      return { collect: () => ({ type: 'scalar', n: 0 }), state: () => ({ state: 'running' }), stop: async () => { stops.push('stopped') } }
    }
  })
  const inst = await started([slow])
  const enabling = inst.enable('1', def([]))
  t.like(inst.status('1'), { state: 'starting', backend: 'slow' })
  await inst.disable('1')
  t.deepEqual(await enabling, { state: 'failed', backend: 'slow', reason: 'disabled (or replaced) before its backend had started' })
  release()
  await new Promise((resolve) => setImmediate(resolve)) // the late start settles in microtasks
  t.deepEqual(stops, ['stopped'])
  t.is(inst.status('1'), undefined)
})

test('enabling an id again replaces what ran under it', async (t) => {
  const { cheap, rich } = pair()
  const inst = await started([cheap, rich])
  await inst.enable('1', def(['disk']))
  await inst.enable('1', def(['latency']))
  t.is(cheap.calls.stop, 1)
  t.like(inst.status('1'), { backend: 'rich' })
  t.deepEqual([...inst.statuses().keys()], ['1'])
})

test('stop stops every measurement, is idempotent, and leaves nothing to collect', async (t) => {
  const { cheap, rich } = pair()
  const inst = await started([cheap, rich])
  await inst.enable('1', def(['disk']))
  await inst.enable('2', def(['latency']))
  await inst.stop()
  await inst.stop()
  t.is(cheap.calls.stop + rich.calls.stop, 2)
  t.is(inst.collect(5).size, 0)
  t.is(inst.statuses().size, 0)
  await t.throwsAsync(inst.enable('3', def([])), { message: /stopped/ })
})

test('enable before start is a caller bug and throws', async (t) => {
  const inst = createInstrumenter({ backends: [double('a', ['disk'])], hostname: 'h' })
  await t.throwsAsync(inst.enable('1', def([])), { message: /before start/ })
})

test('two backends with one name are a caller bug', (t) => {
  t.throws(() => createInstrumenter({ backends: [double('a', []), double('a', [])], hostname: 'h' }), { message: /two backends are named "a"/ })
})

test('debugState names every instrumentation with its metric and state', async (t) => {
  const { cheap, rich } = pair()
  const inst = await started([cheap, rich])
  await inst.enable('1', def(['disk']))
  t.like(inst.debugState(), { hostname: 'node-a', started: true, instrumentations: [{ id: '1', metric: 'disk.physio_ops', state: 'running', backend: 'cheap' }] })
})

// ---- value layout and accumulation -----------------------------------------------------------

test('the layout follows the decomposition: scalar, keys, distribution over the field\'s bucketing, or both', (t) => {
  const m = catalog.metrics.get('disk.physio_ops')!
  t.deepEqual(valueLayout(m, []), { shape: 'scalar' })
  t.deepEqual(valueLayout(m, ['disk']), { shape: 'decomposition', discrete: 'disk' })
  t.deepEqual(valueLayout(m, ['latency']), { shape: 'distribution', numeric: 'latency', bucketing: LATENCY_BUCKETING })
  t.deepEqual(valueLayout(m, ['size', 'execname']), {
    shape: 'decomposed-distribution', discrete: 'execname', numeric: 'size', bucketing: { kind: 'llquantize', base: 10, low: 3, high: 11, nsteps: 100 }
  })
})

test('the accumulator keeps records the predicate accepts, under their key and in their bucket, and starts afresh after take', (t) => {
  const m = catalog.metrics.get('disk.physio_ops')!
  const acc = createValueAccumulator(valueLayout(m, ['disk', 'latency']), parsePredicate({ ne: ['optype', 'write'] }, m))
  acc.add(IO)
  acc.add({ ...IO, latency: 5050 })
  acc.add({ ...IO, disk: 'sda', latency: 2_000_000 })
  acc.add({ ...IO, optype: 'write' })
  t.deepEqual(valueToCa(acc.take()), { vda: [[[5000, 5099], 2]], sda: [[[2_000_000, 2_099_999], 1]] })
  t.deepEqual(valueToCa(acc.take()), {})
})

test('the accumulator adds weights and drops zero weights, so a key appears only when counted', (t) => {
  const m = catalog.metrics.get('disk.physio_bytes')!
  const acc = createValueAccumulator(valueLayout(m, ['optype']), { op: 'true' })
  acc.add({ disk: 'vda', optype: 'read' }, 4096)
  acc.add({ disk: 'sda', optype: 'read' }, 512)
  acc.add({ disk: 'vda', optype: 'write' }, 0)
  t.deepEqual(valueToCa(acc.take()), { read: 4608 })
})

test('a value goes under one key; a zero one gives the empty object', (t) => {
  t.deepEqual(valueToCa(valueUnderKey({ type: 'scalar', n: 4 }, 'h')), { h: 4 })
  t.deepEqual(valueToCa(valueUnderKey({ type: 'scalar', n: 0 }, 'h')), {})
  t.throws(() => valueUnderKey({ type: 'decomposition', keys: new Map(), folded: 0 }, 'h'), { instanceOf: RangeError })
})
