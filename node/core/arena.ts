/**
 * A typed-array arena: many fixed-size typed arrays carved out of a few large ArrayBuffers.
 *
 * Why: V8 gives every ArrayBuffer its own backing store, accounted as external memory, and an
 * allocation of a few tens of KB costs ~0.3 ms (zeroed pages, and the collections that external
 * memory growth triggers). The simulator's 10,000 member tables need ~60,000 such arrays: 20 s
 * of allocation one by one, under a second from 64 MB slabs. The price: a slab is freed only
 * when every array carved from it is garbage, so an arena suits many long-lived tables (the
 * simulator's), not a daemon's one table (which allocates plainly).
 *
 * Regions: a few numbers that a node reads on every input (its clock, its timers' deadlines)
 * can be carved as a region of one Float64Array shared by the whole slab rather than as an
 * array of their own: the shared array object stays in cache, so reading them costs one cache
 * miss (their line) rather than two (an array object of their own, then its data), and the
 * regions carved one after another for one node sit side by side.
 */

/** A region of a Float64Array (shared with other regions): elements offset .. offset + length - 1. */
export interface Float64Region {
  readonly array: Float64Array
  readonly offset: number
}

/** Default slab size. */
export const DEFAULT_SLAB_BYTES = 64 * 1024 * 1024

/** Carves zeroed typed arrays from large slabs. */
export class TypedArena {
  readonly #slabBytes: number
  #slab: ArrayBuffer | undefined
  /** The current slab as one Float64Array, made at the first region carved from it. */
  #slabFloat64: Float64Array | undefined
  #offset = 0
  /** Bytes handed out so far. */
  allocated = 0

  constructor (slabBytes = DEFAULT_SLAB_BYTES) {
    this.#slabBytes = slabBytes
  }

  int32 (length: number): Int32Array {
    const [buffer, offset] = this.#carve(4 * length)
    return new Int32Array(buffer, offset, length)
  }

  uint32 (length: number): Uint32Array {
    const [buffer, offset] = this.#carve(4 * length)
    return new Uint32Array(buffer, offset, length)
  }

  uint8 (length: number): Uint8Array {
    const [buffer, offset] = this.#carve(length)
    return new Uint8Array(buffer, offset, length)
  }

  float64 (length: number): Float64Array {
    const [buffer, offset] = this.#carve(8 * length)
    return new Float64Array(buffer, offset, length)
  }

  /** A zeroed region of `length` doubles in a Float64Array shared with other regions (see the module doc). */
  float64Region (length: number): Float64Region {
    const [buffer, offset] = this.#carve(8 * length)
    if (buffer !== this.#slab) return { array: new Float64Array(buffer, offset, length), offset: 0 } // large: its own
    this.#slabFloat64 ??= new Float64Array(buffer)
    return { array: this.#slabFloat64, offset: offset / 8 }
  }

  #carve (bytes: number): [ArrayBuffer, number] {
    const size = (bytes + 7) & ~7 // keep every array 8-byte aligned
    this.allocated += size
    if (size > this.#slabBytes / 4) return [new ArrayBuffer(size), 0] // large: its own buffer
    if (this.#slab === undefined || this.#offset + size > this.#slabBytes) {
      this.#slab = new ArrayBuffer(this.#slabBytes)
      this.#slabFloat64 = undefined
      this.#offset = 0
    }
    const offset = this.#offset
    this.#offset += size
    return [this.#slab, offset]
  }
}
