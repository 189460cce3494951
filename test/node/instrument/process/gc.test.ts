import test from 'ava'
import { constants } from 'node:perf_hooks'
import { gcSource, gcType } from '../../../../node/instrument/process/gc.js'
import type { FieldRecord } from '../../../../node/instrument/index.js'
import { forceGc, sleep } from './exercise.js'

test('names the V8 GC kinds as the gctype field does', (t) => {
  t.is(gcType(constants.NODE_PERFORMANCE_GC_MINOR), 'minor')
  t.is(gcType(constants.NODE_PERFORMANCE_GC_MAJOR), 'major')
  t.is(gcType(constants.NODE_PERFORMANCE_GC_INCREMENTAL), 'incremental')
  t.is(gcType(constants.NODE_PERFORMANCE_GC_WEAKCB), 'weakcb')
  t.is(gcType(999), 'unknown')
})

test.serial('each collection is one event with its kind and its pause in ns', async (t) => {
  const events: FieldRecord[] = []
  const stop = gcSource().start({ event: (r) => { events.push(r) } })
  forceGc()
  await sleep(20) // entries are delivered asynchronously
  stop()
  const kinds = new Set(events.map((e) => e.gctype))
  t.true(kinds.has('major'), [...kinds].join(', '))
  t.true(kinds.has('minor'), [...kinds].join(', '))
  t.true(events.every((e) => Number.isInteger(e.latency) && (e.latency as number) >= 0))
  t.true(events.some((e) => (e.latency as number) > 0))
})

test.serial('after stop, collections are no longer seen', async (t) => {
  let n = 0
  const stop = gcSource().start({ event: () => { n++ } })
  stop()
  stop()
  forceGc()
  await sleep(20)
  t.is(n, 0)
})
