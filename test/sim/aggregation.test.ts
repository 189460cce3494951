/**
 * The aggregation hook, driven with a toy layer (every node sends node 0 a message each second
 * of its own clock): the simulator builds a layer per node and per life, tells it about members
 * and instrumentations as the daemon tells MergeCore, delivers its messages and counts their
 * bytes, honours its deadlines, and puts its summary in the report.
 */
import test from 'ava'
import { clusterPeerId } from '../../node/core/index.js'
import { parseSimArgs, runSimulation, type Aggregation, type AggregationNode, type SimOptions } from '../../sim/index.js'

function options (argv: string[]): SimOptions {
  const o = parseSimArgs([...argv, '--no-progress'], () => '')
  if (o === 'help') throw new Error('help')
  return o
}

interface ToyStats { built: number, ups: number, suspects: number, slow: number, downs: number, instrumentations: number, received: number, ticks: number, downNodes: number[] }

function toy (stats: ToyStats): Aggregation {
  return {
    name: 'toy',
    createNode: (init): AggregationNode => {
      stats.built++
      if (init.fanIn !== 8 || init.replicas !== 1) throw new Error('merge settings not passed')
      let next = init.now + 1000
      return {
        memberUp: () => { stats.ups++; return [] },
        memberSuspect: () => { stats.suspects++; return [] },
        memberSlow: () => { stats.slow++; return [] },
        memberDown: () => { stats.downs++; return [] },
        setInstrumentation: () => { stats.instrumentations++; return [] },
        removeInstrumentation: () => [],
        handle: (_from, message) => { if ((message as { hello: number }).hello >= 0) stats.received++; return [] },
        tick: (now) => {
          stats.ticks++
          next = now + 1000
          return init.index === 0 ? [] : [{ type: 'send', to: clusterPeerId(0), message: { hello: init.index }, bytes: 1000 }]
        },
        nextDeadline: () => next
      }
    },
    nodeDown: (index) => { stats.downNodes.push(index) },
    summary: () => ({ freshness_s: { p50: 0.5, p99: 1.5 }, completion_s: { p50: 0.6, p99: 2.5, max: 3 }, coverage_min: 0.9, double_counts: 0, missing_contributions: 3, coverage: [1, 0.9], roots: [0, 0] })
  }
}

test('the simulator drives an aggregation layer on every node through the hook', (t) => {
  const stats: ToyStats = { built: 0, ups: 0, suspects: 0, slow: 0, downs: 0, instrumentations: 0, received: 0, ticks: 0, downNodes: [] }
  const o = options(['--nodes', '20', '--duration', '40', '--seed', 'hook', '--instrumentations', '2', '--crash', '0.1@10,restart@30', '--fan-in', '8', '--replicas', '1'])
  const result = runSimulation(o, { aggregation: toy(stats) })
  t.is(stats.built, 22, 'one per node, and one per restart')
  t.is(stats.downNodes.length, 2)
  t.false(stats.downNodes.includes(0), 'the receiving node stays up with this seed')
  t.is(stats.instrumentations, 2 * 20 + 2, 'every node, and the restarted ones again from their persisted replica')
  t.true(stats.downs >= 2 * 18, `${stats.downs} memberDown`)
  t.true(stats.suspects >= 18, `${stats.suspects} memberSuspect: suspicions reach the layer before deaths do`)
  t.true(stats.ups >= 2 * 20, `${stats.ups} memberUp`)
  // 19 senders, one message per second each, less the crashed ones' silence.
  t.true(stats.received > 19 * 25 && stats.received <= 19 * 40, `${stats.received} received`)
  t.true(result.summary.bytes_per_node_per_s.mean !== null && result.summary.bytes_per_node_per_s.mean > 900, 'the layer\'s bytes count')
  t.like(result.summary, { aggregation: 'toy', coverage_min: 0.9, missing_contributions: 3, double_counts: 0, freshness_s: { p50: 0.5, p99: 1.5 }, completion_s: { p50: 0.6, p99: 2.5, max: 3 } })
  t.deepEqual([...result.series.coverage], [1, 0.9])
  // Node 0 is both instrumentations' root here, and every other node sends to it each second.
  const load = result.summary.root_load
  t.like(load, { roots: 1, instrumentations_per_root_max: 2 })
  t.deepEqual(load?.root_max, load?.root_mean, 'one root: its mean is itself')
  const rootIn = load?.root_mean.messages_in_per_s ?? 0
  const nodeIn = load?.node_mean.messages_in_per_s ?? Infinity
  t.true(rootIn >= nodeIn + 15, `root receives ${rootIn} messages/s, the mean node ${nodeIn}: the layer's 19 senders show`)
})
