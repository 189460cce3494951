/** The network model: latency per link, jitter, loss, partitions, uplink bandwidth, slow nodes. */
import test from 'ava'
import { InvalidFieldError } from '../../metad/index.js'
import { Network, parseLatency, formatLatency, RTO_MIN_MS } from '../../sim/network.js'

const base = { nodes: 50, seed: 'net', jitterMs: 0, loss: 0 }

test('latency specs parse into models and print back', (t) => {
  for (const text of ['uniform:1,5', 'lognormal:2,0.5', 'fixed:3']) t.is(formatLatency(parseLatency(text)), text)
  t.deepEqual(parseLatency('1,5'), { kind: 'uniform', min: 1, max: 5 })
})

test('a bad latency spec is refused naming the flag', (t) => {
  for (const text of ['5,1', 'lognormal:0,1', 'fixed:', 'gamma:1,2', '1,x', '-1,2']) {
    const err = t.throws(() => parseLatency(text), { instanceOf: InvalidFieldError })
    t.regex(err?.message ?? '', /--latency-ms/)
  }
})

test('a link has one latency, the same both ways, within the uniform bounds', (t) => {
  const net = new Network({ ...base, latency: { kind: 'uniform', min: 2, max: 9 } })
  const seen = new Set<number>()
  for (let i = 0; i < 50; i++) {
    for (let j = i + 1; j < 50; j++) {
      const l = net.linkLatency(i, j)
      t.is(net.linkLatency(j, i), l)
      if (l < 2 || l > 9) t.fail(`latency ${l}`)
      seen.add(Math.round(l))
    }
  }
  t.true(seen.size >= 7, 'latencies spread over the range')
  t.is(net.transmit(3, 4, 100, 1000), 1000 + net.linkLatency(3, 4))
})

test('log-normal link latencies have about the stated median', (t) => {
  const net = new Network({ ...base, nodes: 200, latency: { kind: 'lognormal', median: 4, sigma: 0.5 } })
  const ls: number[] = []
  for (let i = 0; i < 200; i++) for (let j = i + 1; j < 200; j += 7) ls.push(net.linkLatency(i, j))
  ls.sort((a, b) => a - b)
  const median = ls[Math.floor(ls.length / 2)] as number
  t.true(median > 3.6 && median < 4.4, `median ${median}`)
})

test('jitter adds up to its bound; slow nodes add their delay', (t) => {
  const net = new Network({ ...base, jitterMs: 2, latency: { kind: 'fixed', ms: 5 } })
  net.slowMs[7] = 100
  for (let k = 0; k < 200; k++) {
    const at = net.transmit(1, 2, 10, 0)
    if (at < 5 || at >= 7) t.fail(`arrival ${at}`)
  }
  t.true(net.transmit(1, 7, 10, 0) >= 105)
})

test('loss delays about the stated fraction by a retransmission, and a burst raises it until it ends', (t) => {
  const net = new Network({ ...base, loss: 0.1, latency: { kind: 'fixed', ms: 1 } })
  let late = 0
  let lost = 0
  for (let k = 0; k < 10_000; k++) {
    const at = net.transmit(0, 1, 10, k)
    if (at < 0) lost++
    else if (at >= k + 1 + RTO_MIN_MS) late++
    else t.is(at, k + 1)
  }
  t.true(late > 800 && late < 1200, `${late} retransmitted`)
  t.is(lost, 0, 'six lost attempts in a row are a one-in-a-million event')
  t.true(net.retransmits >= late)
  net.loss = 1
  t.is(net.transmit(0, 1, 10, 0), -1)
  net.endBurst()
  t.is(net.loss, 0.1)
})

test('nothing crosses a partition', (t) => {
  const net = new Network({ ...base, latency: { kind: 'fixed', ms: 1 } })
  net.group[4] = 1
  t.is(net.transmit(4, 5, 10, 0), -1)
  t.is(net.transmit(5, 4, 10, 0), -1)
  t.is(net.cut, 2)
  net.group[5] = 1
  t.is(net.transmit(4, 5, 10, 0), 1)
})

test('an uplink sends one message at a time at its bandwidth', (t) => {
  const net = new Network({ ...base, bandwidth: 1_000_000, latency: { kind: 'fixed', ms: 1 } })
  // 10,000 bytes at 1 MB/s take 10 ms each: queued back to back.
  t.is(net.transmit(0, 1, 10_000, 0), 11)
  t.is(net.transmit(0, 2, 10_000, 0), 21)
  t.is(net.transmit(0, 3, 10_000, 50), 61)
  t.is(net.transmit(9, 3, 10_000, 0), 11, 'another node has its own uplink')
})
