/**
 * The private-network cipher's heap, made ready for thousands of connections in one process
 * (the calibration mode's real nodes). A workaround for two faults of `xsalsa20` 1.2.0, the
 * cipher @libp2p/pnet 3.0.27 wraps every connection in; a daemon, with one node per process,
 * does not meet them.
 *
 * THEORY. Every XSalsa20 instance of the process shares one WebAssembly memory (10 pages at the
 * start, at most 1000 = 64 MB) and takes a 64-byte slot in it, which only `finalize()` gives back;
 * pnet never calls it, so each connection end keeps two slots for the life of the process. Each
 * update's data is processed above the last slot. Each instance caches a view of the memory from
 * its creation, and when the data would not fit *its* view it grows the memory by the
 * difference, even when other instances have grown it meanwhile: with many connections and
 * large chunks (streams batch their writes under load) the growths pile up, and the process
 * dies with `RangeError: WebAssembly.Memory.grow(): Maximum memory size exceeded` inside pnet
 * (seen with 100 nodes joining at once, ~770 connections). Growing the memory before the
 * connections exist, by what their slots will take plus ample room for data, gives every later
 * instance a view that already holds all it will touch, so none grows it again. The growth is
 * one pass of the cipher over a buffer of that size (~25 ms a MB here).
 */
import { createRequire } from 'node:module'

/** Cipher instances per connection: one per direction at each end. */
const INSTANCES_PER_CONNECTION = 4
/** Bytes of one instance's slot. */
const SLOT_BYTES = 64
/** Room above the slots for the data of one update (a batched chunk: yamux frames are at most 64 KB, batches a few of them). */
const DATA_ROOM_BYTES = 8 * 1024 * 1024
/** The memory's maximum is 64 MB; the code's own pages need a little of it. */
const MAX_GROW_BYTES = 62 * 1024 * 1024

interface XSalsa20 {
  update: (input: Uint8Array) => Uint8Array
}
type XSalsa20Constructor = new (nonce: Uint8Array, key: Uint8Array) => XSalsa20

/**
 * Grows the cipher's shared memory for `connections` more connections (see the module doc).
 * Call before they are made. Resolves `xsalsa20` from @libp2p/pnet's own location, so it is the
 * very copy pnet uses. Returns the bytes the cipher processed (the growth asked for).
 */
export function growPnetCipherHeap (connections: number): number {
  const bytes = Math.min(MAX_GROW_BYTES, DATA_ROOM_BYTES + Math.ceil(connections) * INSTANCES_PER_CONNECTION * SLOT_BYTES)
  const fromPnet = createRequire(createRequire(import.meta.url).resolve('@libp2p/pnet'))
  const Cipher = fromPnet('xsalsa20') as XSalsa20Constructor
  new Cipher(new Uint8Array(24), new Uint8Array(32)).update(new Uint8Array(bytes))
  return bytes
}
