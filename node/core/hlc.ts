/**
 * Hybrid logical clocks (Kulkarni et al., 2014): timestamps that follow physical time (so a
 * version says roughly when it was made, which tombstone collection needs) yet never go
 * backwards and always exceed every timestamp the node has seen, so an update made after
 * seeing another one orders after it even when the two clocks disagree.
 *
 * A timestamp is (wall ms, logical counter). Versions of replicated data add the origin peer
 * id as the last tie-breaker, which makes the order total: two nodes never mint equal versions.
 */

/** A hybrid logical timestamp. */
export interface Hlc {
  /** Milliseconds, at least the physical clock reading when it was made. */
  readonly wall: number
  /** Orders timestamps within one wall millisecond. */
  readonly logical: number
}

/** The zero timestamp: before everything. */
export const HLC_ZERO: Hlc = Object.freeze({ wall: 0, logical: 0 })

/** Largest logical counter accepted from a peer (bounded so a forged one cannot overflow). */
export const HLC_LOGICAL_MAX = 2 ** 31 - 1

/** Compares two timestamps: negative, zero or positive. */
export function compareHlc (a: Hlc, b: Hlc): number {
  return a.wall !== b.wall ? a.wall - b.wall : a.logical - b.logical
}

/** The timestamp of a local event at physical time `now`, after `last` (send or local event). */
export function tickHlc (last: Hlc, now: number): Hlc {
  if (now > last.wall) return { wall: now, logical: 0 }
  return { wall: last.wall, logical: last.logical + 1 }
}

/**
 * The clock after receiving `remote` at physical time `now`: at least both, strictly above
 * `last`. Callers bound `remote.wall` against `now` first (see definitions.ts), so a peer with a
 * clock far ahead cannot drag every node's clock into the future.
 */
export function receiveHlc (last: Hlc, remote: Hlc, now: number): Hlc {
  const wall = Math.max(last.wall, remote.wall, now)
  if (wall === last.wall && wall === remote.wall) return { wall, logical: Math.max(last.logical, remote.logical) + 1 }
  if (wall === last.wall) return { wall, logical: last.logical + 1 }
  if (wall === remote.wall) return { wall, logical: remote.logical + 1 }
  return { wall, logical: 0 }
}
