/** Message sizes computed without encoding equal the codec's, for every message of a run with churn. */
import test from 'ava'
import { createCluster, encodedSize, encodePeerMessage, encodeTopicMessage } from '../../node/core/index.js'
import { MessageSizer } from '../../sim/message-size.js'

const DEF = '{"idle-max":0,"module":"syscall","stat":"syscalls"}'

test('every message of a run with joins, crashes and restarts is sized exactly', (t) => {
  const c = createCluster({ seed: 'sizes', nodes: 12, wire: 'objects' })
  const sizer = new MessageSizer()
  let checked = 0
  const wrong: string[] = []
  const types = new Set<string>()
  c.onOutput = (_node, o) => {
    if (o.type === 'send' || o.type === 'send-address') {
      types.add(o.message.type)
      if (sizer.peer(o.message) !== encodedSize(o.message)) wrong.push(o.message.type)
      if (checked++ % 50 === 0 && encodePeerMessage(o.message).byteLength !== sizer.peer(o.message)) wrong.push(`${o.message.type} (bytes)`)
    } else if (o.type === 'publish') {
      if (sizer.topic(o.message) !== encodeTopicMessage(o.message).byteLength) wrong.push(o.message.type)
    }
  }
  c.runFor(8000)
  c.create(2, DEF)
  c.crash(5)
  c.runFor(20_000)
  c.restart(5)
  c.runFor(10_000)
  t.deepEqual(wrong, [])
  t.true(checked > 1000, `${checked} messages`)
  for (const type of ['ping', 'ping-req', 'ack', 'nack', 'spread', 'sync-root', 'sync-buckets', 'sync-members']) t.true(types.has(type), type)
})
