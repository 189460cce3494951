/** `heatmesh sim` flags and scenario files: defaults, parsing, and refusals that name the field. */
import test from 'ava'
import { InvalidFieldError } from '../../metad/index.js'
import { DEFAULT_SIM_OPTIONS, instrumentationTimes, parseSimArgs, type SimOptions } from '../../sim/options.js'
import { parseScenario } from '../../sim/scenario.js'

const noFile = (): string => { throw new Error('no file') }

function parse (argv: string[], files: Record<string, string> = {}): SimOptions {
  const o = parseSimArgs(argv, (p) => { const f = files[p]; if (f === undefined) throw new Error(`ENOENT ${p}`); return f })
  if (o === 'help') throw new Error('help')
  return o
}

test('no flags give the defaults', (t) => {
  t.deepEqual(parse([]), DEFAULT_SIM_OPTIONS)
  t.is(parseSimArgs(['--nodes', '5', '--help'], noFile), 'help')
})

test('run and network flags set their options, with either spelling', (t) => {
  const o = parse(['--nodes', '300', '--duration=90', '--seed', 'x', '--latency-ms', 'lognormal:3,0.4', '--gossip-cpu-ms', '0.5', '--loss', '0.01', '--bandwidth', '100Mbit', '--connections=20', '--fan-in', '8', '--replicas', '1', '--instrumentations', '3', '--no-progress', '--report', 'out'])
  t.like(o, { nodes: 300, duration: 90, seed: 'x', gossipCpuMs: 0.5, loss: 0.01, bandwidth: 12_500_000, connections: 20, fanIn: 8, replicas: 1, instrumentations: 3, progress: false, report: 'out' })
  t.is(o.gossipCpuShared, undefined, 'no flag shares the CPU: the calibration does')
  t.deepEqual(o.latency, { kind: 'lognormal', median: 3, sigma: 0.4 })
})

test('fault flags build the scenario', (t) => {
  const o = parse(['--duration', '300', '--crash', '0.1@60,restart@120', '--crash', '0.05@200', '--partition', '0.3@100..150', '--slow', '0.02:250', '--skew-ms', '400', '--loss-burst', '0.2@30..40'])
  t.deepEqual(o.scenario.crashes, [{ fraction: 0.1, at: 60, restartAt: 120 }, { fraction: 0.05, at: 200 }])
  t.deepEqual(o.scenario.partitions, [{ fraction: 0.3, from: 100, to: 150 }])
  t.deepEqual(o.scenario.slow, { fraction: 0.02, delayMs: 250 })
  t.is(o.scenario.skewMs, 400)
  t.deepEqual(o.scenario.lossBursts, [{ loss: 0.2, from: 30, to: 40 }])
})

test('a scenario file is read, and flags add to it', (t) => {
  const file = JSON.stringify({ crash: [{ fraction: 0.1, at: 10, restart: 20 }], partition: [{ fraction: 0.5, from: 5, to: 8 }], slow: { fraction: 0.1 }, skew_ms: 50, loss_burst: [{ loss: 0.5, from: 1, to: 2 }], instrumentations: [3, 1] })
  const o = parse(['--scenario', 's.json', '--crash', '0.2@30'], { 's.json': file })
  t.is(o.scenario.crashes.length, 2)
  t.deepEqual(o.scenario.slow, { fraction: 0.1, delayMs: 100 })
  t.deepEqual(instrumentationTimes(o), [1, 3])
})

test('the default schedule spreads the instrumentations over the first half of the run', (t) => {
  t.deepEqual(instrumentationTimes(parse(['--duration', '600'])), [5, 15, 25, 35, 45])
  t.deepEqual(instrumentationTimes(parse(['--duration', '60'])), [5, 11.25, 17.5, 23.75, 30])
  t.deepEqual(instrumentationTimes(parse(['--instrumentations', '0'])), [])
})

const refusals: Array<[string, string[], RegExp]> = [
  ['an unknown flag', ['--nodez', '5'], /--nodez/],
  ['a flag without its value', ['--nodes'], /--nodes.*needs a value/],
  ['too few nodes', ['--nodes', '1'], /--nodes/],
  ['a fractional node count', ['--nodes', '2.5'], /integer/],
  ['a loss above one', ['--loss', '1.5'], /--loss/],
  ['a malformed crash', ['--crash', '0.1'], /--crash/],
  ['a restart before its crash', ['--crash', '0.1@20,restart@10'], /--crash/],
  ['a crash fraction of zero', ['--crash', '0@10'], /--crash/],
  ['a partition that ends before it starts', ['--partition', '0.2@30..10'], /--partition/],
  ['a fault after the end of the run', ['--duration', '60', '--crash', '0.1@70'], /after the end/],
  ['a tiny bandwidth', ['--bandwidth', '10'], /--bandwidth/],
  ['a negative CPU per gossipsub message', ['--gossip-cpu-ms', '-1'], /--gossip-cpu-ms.*from 0 to 1000/],
  ['a missing scenario file', ['--scenario', 'nope.json'], /--scenario/]
]
for (const [what, argv, message] of refusals) {
  test(`refuses ${what}, naming it`, (t) => {
    t.throws(() => parse(argv), { instanceOf: InvalidFieldError, message })
  })
}

test('a scenario file with an unknown key or a bad value is refused naming the key', (t) => {
  t.throws(() => parseScenario({ crashes: [] }), { instanceOf: InvalidFieldError, message: /scenario\.crashes/ })
  t.throws(() => parseScenario({ crash: [{ fraction: 2, at: 1 }] }), { instanceOf: InvalidFieldError, message: /crash\[0\]\.fraction/ })
  t.throws(() => parseScenario({ partition: [{ fraction: 0.5, from: 3 }] }), { instanceOf: InvalidFieldError, message: /partition\[0\]\.to/ })
  t.throws(() => parseScenario([]), { instanceOf: InvalidFieldError, message: /scenario/ })
})

test('--calibrate runs 50 real nodes over a 2 ms memory transport unless told otherwise', (t) => {
  const o = parse(['--calibrate'])
  t.like(o, { calibrate: true, nodes: 50, duration: 60, instrumentations: 5, progress: true })
  t.deepEqual(o.latency, { kind: 'fixed', ms: 2 })
  t.is(parse([]).calibrate, undefined)
})

test('--calibrate takes the run flags, a fixed memory-transport latency and a scenario of instrumentation times', (t) => {
  const o = parse(['--calibrate', '--nodes', '150', '--duration=90', '--seed', 's', '--instrumentations', '3', '--latency-ms', 'fixed:1', '--no-progress', '--report', 'out'])
  t.like(o, { calibrate: true, nodes: 150, duration: 90, seed: 's', instrumentations: 3, progress: false, report: 'out' })
  t.deepEqual(o.latency, { kind: 'fixed', ms: 1 })
  t.deepEqual(instrumentationTimes(parse(['--calibrate', '--scenario', 's.json'], { 's.json': '{"instrumentations":[4,2]}' })), [2, 4])
})

const calibrationRefusals: Array<[string, string[], RegExp]> = [
  ['more real nodes than it can run', ['--calibrate', '--nodes', '201'], /--nodes.*at most 200/],
  ['a run longer than ten real minutes', ['--calibrate', '--duration', '601'], /--duration.*at most 600/],
  ['a latency the memory transport cannot give', ['--calibrate', '--latency-ms', '1,5'], /--latency-ms.*fixed:MS/],
  ['a memory-transport latency above 100 ms', ['--calibrate', '--latency-ms', 'fixed:150'], /--latency-ms/],
  ['a fault flag', ['--calibrate', '--crash', '0.1@10'], /--crash.*no meaning with --calibrate/],
  ['a model setting it derives from the real side', ['--calibrate', '--connections', '8'], /--connections.*no meaning with --calibrate/],
  ['loss', ['--loss', '0.1', '--calibrate'], /--loss.*no meaning with --calibrate/],
  ['a CPU per delivery (it measures it)', ['--calibrate', '--gossip-cpu-ms', '1'], /--gossip-cpu-ms.*no meaning with --calibrate/]
]
for (const [what, argv, message] of calibrationRefusals) {
  test(`--calibrate refuses ${what}, naming the flag`, (t) => {
    t.throws(() => parse(argv), { instanceOf: InvalidFieldError, message })
  })
}

test('--calibrate refuses a scenario file with faults', (t) => {
  t.throws(() => parse(['--calibrate', '--scenario', 's.json'], { 's.json': '{"crash":[{"fraction":0.1,"at":5}]}' }), { instanceOf: InvalidFieldError, message: /--scenario.*no faults/ })
})
