import test from 'ava'
import { eventLoopSource } from '../../../../node/instrument/process/eventloop.js'
import { sleep } from './exercise.js'

test.serial('an idle loop yields about one sample per resolution, each a small delay', async (t) => {
  const delays: number[] = []
  const stop = eventLoopSource({ resolutionMs: 5 }).start({ event: (r) => { delays.push(r.latency as number) } })
  await sleep(60)
  stop()
  t.true(delays.length >= 3, `${delays.length} samples`)
  t.true(delays.every((d) => Number.isInteger(d) && d >= 0))
})

test.serial('a blocked loop yields one sample as late as the block', async (t) => {
  const delays: number[] = []
  const stop = eventLoopSource({ resolutionMs: 5 }).start({ event: (r) => { delays.push(r.latency as number) } })
  await sleep(12)
  const until = performance.now() + 80
  while (performance.now() < until) { /* block the loop */ }
  await sleep(12)
  stop()
  t.true(delays.some((d) => d >= 50e6), `largest delay ${Math.max(...delays)} ns`)
})

test.serial('after stop there are no more samples', async (t) => {
  let n = 0
  const stop = eventLoopSource({ resolutionMs: 2 }).start({ event: () => { n++ } })
  await sleep(10)
  stop()
  const seen = n
  await sleep(15)
  t.is(n, seen)
})

test('rejects a resolution that is not a positive integer of ms', (t) => {
  t.throws(() => eventLoopSource({ resolutionMs: 0 }), { instanceOf: RangeError })
  t.throws(() => eventLoopSource({ resolutionMs: 2.5 }), { instanceOf: RangeError })
})
