import test from 'ava'
import { join } from 'node:path'
import { api, isRunning, keygen, listIds, startDaemon, tempDir, waitFor, type Daemon, type Teardown } from './harness.js'
import { createPartitionLab, netnsAvailable } from './netns.js'

const CPU = { module: 'cpu', stat: 'cpus', decomposition: ['utilization'] }

const aliveCount = async (d: Daemon): Promise<number> =>
  ((await api(d, 'GET', '/debug/state')).body.members as Array<{ state: string }>).filter((m) => m.state === 'alive').length

test('both sides of a partition keep working and converge after it heals', async (t) => {
  // Network namespaces need root; without them this test cannot build its two-sided network.
  if (!await netnsAvailable()) {
    t.log('skipped: no network namespaces (needs root and iproute2)')
    t.true(process.getuid?.() !== 0, 'network namespaces must be available to root')
    return
  }
  const cleanups: Array<() => Promise<void> | void> = []
  const scope: Teardown = { teardown: (fn) => { cleanups.push(fn) } }
  t.teardown(async () => { for (const fn of cleanups.reverse()) await fn() })
  const lab = await createPartitionLab(scope)
  const dir = await tempDir(scope, 'partition')
  const key = join(dir, 'network.key')
  await keygen(key)
  const side = (name: string, s: typeof lab.left, bootstrap?: readonly string[]): Promise<Daemon> =>
    startDaemon(scope, { name, dataDir: join(dir, name), key, ip: s.meshIp, httpIp: s.httpIp, netns: s.ns, bootstrap })
  const l1 = await side('L1', lab.left)
  const [l2, r1, r2] = await Promise.all([side('L2', lab.left, l1.addresses), side('R1', lab.right, l1.addresses), side('R2', lab.right, l1.addresses)])
  const all = [l1, l2, r1, r2]
  await waitFor('four alive members everywhere', 15_000, async () => (await Promise.all(all.map(aliveCount))).every((n) => n === 4))

  await lab.cut()
  const left = (await api(l2, 'POST', '/ca/instrumentations', CPU)).body.id as string
  const right = (await api(r2, 'POST', '/ca/instrumentations', { module: 'memory', stat: 'usage' })).body.id as string
  // Each side goes on alone: it has its own definition, running, and not the other side's.
  await waitFor('left side has its own', 3000, async () => (await Promise.all([l1, l2].map(async (d) => await isRunning(d, left)))).every(Boolean))
  await waitFor('right side has its own', 3000, async () => (await Promise.all([r1, r2].map(async (d) => await isRunning(d, right)))).every(Boolean))
  t.false((await listIds(l1)).includes(right))
  t.false((await listIds(r1)).includes(left))
  // Long enough for the sides to suspect each other (SWIM's suspicion starts after a missed probe).
  await new Promise((resolve) => setTimeout(resolve, 4000))

  await lab.heal()
  const both = [left, right].sort()
  const took = await waitFor('converged after healing', 40_000, async () =>
    (await Promise.all(all.map(listIds))).every((ids) => JSON.stringify(ids) === JSON.stringify(both)) &&
    (await Promise.all(all.map(aliveCount))).every((n) => n === 4))
  t.log(`heal -> converged (definitions and membership): ${took.toFixed(0)} ms`)
  for (const d of all) t.deepEqual(await listIds(d), both)
})
