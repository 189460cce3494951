/**
 * A two-sided network for partition tests, from Linux network namespaces (this machine has no
 * iptables): namespaces `left` and `right` joined by one veth pair (the mesh link, 10.77.0.1 and
 * 10.77.0.2), and each joined to the test's own namespace by another veth pair (10.78.L.1 <->
 * 10.78.L.254), through which the test reaches the daemons' HTTP APIs. Cutting the mesh link
 * (link down on both ends) drops every packet between the sides and nothing else; healing
 * brings it back up. Needs root (CAP_NET_ADMIN); everything is deleted at teardown.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { Teardown } from './harness.js'

const run = promisify(execFile)

/** One side of the lab. */
export interface Side {
  /** Namespace name (daemons run under `ip netns exec <ns>`). */
  readonly ns: string
  /** The address daemons listen on for the mesh. */
  readonly meshIp: string
  /** The address the test reaches this side's HTTP APIs on (daemons listen on it too). */
  readonly httpIp: string
}

export interface PartitionLab {
  readonly left: Side
  readonly right: Side
  /** Drops all traffic between the sides. */
  cut: () => Promise<void>
  /** Restores it. */
  heal: () => Promise<void>
}

async function ip (...args: string[]): Promise<void> {
  await run('ip', args)
}

/** Whether namespaces can be made here (root and the `ip` tool). */
export async function netnsAvailable (): Promise<boolean> {
  const probe = `hmprobe${process.pid}`
  try {
    await ip('netns', 'add', probe)
    await ip('netns', 'del', probe)
    return true
  } catch {
    return false
  }
}

/** Builds the lab; torn down (namespaces and links deleted) at teardown. */
export async function createPartitionLab (t: Teardown): Promise<PartitionLab> {
  const tag = String(process.pid % 100000)
  const left: Side = { ns: `hm${tag}l`, meshIp: '10.77.0.1', httpIp: '10.78.1.1' }
  const right: Side = { ns: `hm${tag}r`, meshIp: '10.77.0.2', httpIp: '10.78.2.1' }
  const link = { l: `hm${tag}ml`, r: `hm${tag}mr` }
  t.teardown(async () => {
    // Deleting a namespace deletes its interfaces, and with them their veth peers.
    for (const ns of [left.ns, right.ns]) await ip('netns', 'del', ns).catch(() => {})
  })
  for (const [side, n] of [[left, 1], [right, 2]] as const) {
    await ip('netns', 'add', side.ns)
    await ip('-n', side.ns, 'link', 'set', 'lo', 'up')
    const inner = `hm${tag}h${n}`
    const outer = `hm${tag}o${n}`
    await ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner)
    await ip('link', 'set', inner, 'netns', side.ns)
    await ip('addr', 'add', `10.78.${n}.254/24`, 'dev', outer)
    await ip('link', 'set', outer, 'up')
    await ip('-n', side.ns, 'addr', 'add', `${side.httpIp}/24`, 'dev', inner)
    await ip('-n', side.ns, 'link', 'set', inner, 'up')
  }
  await ip('link', 'add', link.l, 'type', 'veth', 'peer', 'name', link.r)
  await ip('link', 'set', link.l, 'netns', left.ns)
  await ip('link', 'set', link.r, 'netns', right.ns)
  await ip('-n', left.ns, 'addr', 'add', `${left.meshIp}/24`, 'dev', link.l)
  await ip('-n', right.ns, 'addr', 'add', `${right.meshIp}/24`, 'dev', link.r)
  const setLink = async (state: 'up' | 'down'): Promise<void> => {
    await ip('-n', left.ns, 'link', 'set', link.l, state)
    await ip('-n', right.ns, 'link', 'set', link.r, state)
  }
  await setLink('up')
  return { left, right, cut: async () => { await setLink('down') }, heal: async () => { await setLink('up') } }
}
