/** Message sizes computed without encoding equal the codec's, for every message of a run with churn and a partition. */
import test from 'ava'
import { createCluster, encodedSize, encodePeerMessage, encodeTopicMessage } from '../../node/core/index.js'
import { MessageSizer } from '../../sim/message-size.js'

const DEF = '{"idle-max":0,"module":"syscall","stat":"syscalls"}'

test('every message of a run with joins, a partition, crashes and restarts is sized exactly', (t) => {
  const c = createCluster({ seed: 'sizes', nodes: 12, wire: 'objects' })
  const sizer = new MessageSizer()
  let checked = 0
  const wrong: string[] = []
  const types = new Set<string>()
  const updateTypes = new Set<string>()
  c.onOutput = (_node, o) => {
    if (o.type === 'send' || o.type === 'send-address') {
      types.add(o.message.type)
      if ('updates' in o.message) for (const u of o.message.updates) updateTypes.add(u.type)
      if (sizer.peer(o.message) !== encodedSize(o.message)) wrong.push(o.message.type)
      if (checked++ % 50 === 0 && encodePeerMessage(o.message).byteLength !== sizer.peer(o.message)) wrong.push(`${o.message.type} (bytes)`)
    } else if (o.type === 'publish') {
      if (sizer.topic(o.message) !== encodeTopicMessage(o.message).byteLength) wrong.push(o.message.type)
    }
  }
  c.runFor(8000)
  // A short partition: the halves suspect each other, and refute once healed.
  c.partition([[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
  c.runFor(3000)
  c.heal()
  c.runFor(5000)
  c.create(2, DEF)
  c.crash(5)
  c.runFor(20_000)
  c.restart(5)
  c.runFor(10_000)
  t.deepEqual(wrong, [])
  t.true(checked > 1000, `${checked} messages`)
  for (const type of ['ping', 'ping-req', 'ack', 'nack', 'spread', 'sync-root', 'sync-buckets', 'sync-members']) t.true(types.has(type), type)
  // Refutations after the partition travel as refutes, sized like the rest.
  for (const type of ['alive', 'suspect', 'dead', 'refute']) t.true(updateTypes.has(type), type)
})
