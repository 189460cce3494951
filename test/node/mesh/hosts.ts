/**
 * Helpers for the mesh tests: hosts on 127.0.0.1 with fresh identities, a free TCP port, and a
 * bounded wait. Every host a test makes is registered so that the test stops it in a finally.
 */
import { createServer } from 'node:net'
import { createMeshHost, generateIdentity, type MeshHost, type MeshHostInit, type NetworkKey, type NodeIdentity } from '../../../node/mesh/index.js'

/** A seeded uniform random source (mulberry32), so redial jitter is reproducible. */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Hosts made for one test; `stopAll` in a finally stops them. */
export class Hosts {
  readonly #hosts: MeshHost[] = []

  async make (networkKey: NetworkKey, init: Partial<MeshHostInit> & { identity?: NodeIdentity } = {}): Promise<MeshHost> {
    const host = await createMeshHost({
      identity: init.identity ?? await generateIdentity(),
      networkKey,
      random: seededRandom(this.#hosts.length + 1),
      ...init
    })
    this.#hosts.push(host)
    return host
  }

  async stopAll (): Promise<void> {
    await Promise.all(this.#hosts.map(async (h) => { await h.stop() }))
  }
}

/** Resolves once `condition()` holds, checking every 10 ms; rejects with `what` after `timeoutMs`. */
export async function until (what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Waits `ms` (only to give a message that must not arrive the time to arrive). */
export async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}
