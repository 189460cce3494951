/**
 * The rumour queue of membership dissemination (SWIM's piggy-backing, memberlist's
 * TransmitLimitedQueue): updates waiting to be sent, each at most `limit` times, the least-sent
 * first, packed into a byte budget per message. The successor of broadcasts.ts's
 * BroadcastQueue, with the same rules, built for crash storms at 10,000 members: the caller
 * gives each rumour's size (membership knows it from its interner's caches, where computing
 * it from the JSON cost more than the rest of the queue), and packing gives up after
 * MAX_MISSES rumours in a row that do not fit, where BroadcastQueue scanned the whole queue on
 * every message once the budget was nearly full (thousands of rumours after 10 % of 10,000
 * nodes crash).
 *
 * THEORY. Infection-style dissemination reaches every member with high probability when each
 * node retransmits each update about lambda * log(N) times (Das et al., section 4.1). At most one
 * rumour per member is queued: a newer update about the same member replaces the older one (it
 * supersedes it: higher incarnation or stronger state), and starts again at zero transmissions.
 * Rumours are kept in tiers by transmission count, so picking the least-sent ones costs time in
 * proportion to what is picked, not to the queue's length.
 */
import type { MemberUpdate, PeerId } from './messages.js'

/** Rumours in a row that do not fit in what is left of a message's budget before packing stops. */
export const MAX_MISSES = 8

interface Rumour {
  readonly about: PeerId
  readonly update: MemberUpdate
  /** Encoded size of the update. */
  readonly bytes: number
  transmits: number
  /** Neighbours in its tier's list. */
  prev: Rumour | undefined
  next: Rumour | undefined
}

/** One tier: the rumours sent a given number of times, oldest first (an intrusive list). */
interface Tier {
  head: Rumour | undefined
  tail: Rumour | undefined
}

/** Queued membership updates with a retransmission limit. */
export class RumourQueue {
  /**
   * tiers[t]: rumours sent t times, in the order they entered the tier. Linked lists rather
   * than Maps: rumours move between tiers on every message, and iterating a Map that many
   * entries were deleted from walks their holes too.
   */
  readonly #tiers: Tier[] = []
  readonly #byMember = new Map<PeerId, Rumour>()

  /** Queues `update` (`bytes` long encoded) about member `about`, replacing any queued rumour about that member. */
  enqueue (about: PeerId, update: MemberUpdate, bytes: number): void {
    this.drop(about)
    const rumour: Rumour = { about, update, bytes, transmits: 0, prev: undefined, next: undefined }
    this.#byMember.set(about, rumour)
    this.#append(rumour)
  }

  /** Forgets the rumour about `about`, if any. */
  drop (about: PeerId): void {
    const old = this.#byMember.get(about)
    if (old === undefined) return
    this.#byMember.delete(about)
    this.#unlink(old)
  }

  /** The queued rumour about `about`, if any. */
  get (about: PeerId): MemberUpdate | undefined {
    return this.#byMember.get(about)?.update
  }

  /**
   * Takes the least-transmitted rumours that fit in `budget` bytes (at least one, if any is
   * queued; `first` is a rumour to put first whatever its count, the buddy system's "tell a
   * suspect it is suspected"), at most `maxCount`, and counts one transmission for each;
   * rumours reaching `limit` transmissions leave the queue.
   */
  take (budget: number, maxCount: number, limit: number, first?: PeerId): MemberUpdate[] {
    const out: MemberUpdate[] = []
    // The steady state: nothing to say. Return before touching the tiers.
    if (this.#byMember.size === 0) return out
    let used = 0
    let misses = 0
    const picked: Rumour[] = []
    const buddy = first === undefined ? undefined : this.#byMember.get(first)
    if (buddy !== undefined) {
      out.push(buddy.update)
      picked.push(buddy)
      used += buddy.bytes + 1
    }
    outer:
    for (const tier of this.#tiers) {
      for (let r = tier.head; r !== undefined; r = r.next) {
        if (r === buddy) continue
        if (out.length >= maxCount || used >= budget || misses >= MAX_MISSES) break outer
        // One rumour always fits, so an update larger than the budget still travels.
        if (out.length > 0 && used + r.bytes + 1 > budget) {
          misses++
          continue
        }
        misses = 0
        out.push(r.update)
        picked.push(r)
        used += r.bytes + 1
      }
    }
    for (const r of picked) {
      this.#unlink(r)
      r.transmits++
      if (r.transmits >= limit) this.#byMember.delete(r.about)
      else this.#append(r)
    }
    return out
  }

  /** Number of queued rumours. */
  get size (): number {
    return this.#byMember.size
  }

  #append (r: Rumour): void {
    while (this.#tiers.length <= r.transmits) this.#tiers.push({ head: undefined, tail: undefined })
    const tier = this.#tiers[r.transmits] as Tier
    r.prev = tier.tail
    r.next = undefined
    if (tier.tail === undefined) tier.head = r
    else tier.tail.next = r
    tier.tail = r
  }

  #unlink (r: Rumour): void {
    const tier = this.#tiers[r.transmits] as Tier
    if (r.prev === undefined) tier.head = r.next
    else r.prev.next = r.next
    if (r.next === undefined) tier.tail = r.prev
    else r.next.prev = r.prev
    r.prev = undefined
    r.next = undefined
  }
}
