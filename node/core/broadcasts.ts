/**
 * The rumour queue of membership dissemination (SWIM's piggy-backing, memberlist's
 * TransmitLimitedQueue): updates waiting to be sent, each at most `limit` times, the least-sent
 * first, packed into a byte budget per message.
 *
 * THEORY. Infection-style dissemination reaches every member with high probability when each
 * node retransmits each update about lambda * log(N) times (Das et al., section 4.1). At most one
 * rumour per member is queued: a newer update about the same member replaces the older one (it
 * supersedes it: higher incarnation or stronger state), and starts again at zero transmissions.
 * Rumours are kept in tiers by transmission count, so picking the least-sent ones costs time in
 * proportion to what is picked, not to the queue's length (which can reach thousands after a
 * mass failure at 10,000 nodes).
 */
import { ALIVE_UPDATE_OVERHEAD, jsonByteLength, memberRecordBytes, type MemberUpdate, type PeerId } from './messages.js'


interface Rumour {
  readonly about: PeerId
  readonly update: MemberUpdate
  /** Encoded size of the update, computed once. */
  readonly bytes: number
  transmits: number
}

/** Queued membership updates with a retransmission limit. */
export class BroadcastQueue {
  /** tiers[t]: rumours sent t times, in the order they entered the tier. */
  readonly #tiers: Array<Map<PeerId, Rumour>> = []
  readonly #byMember = new Map<PeerId, Rumour>()

  /** Queues `update` about member `about`, replacing any queued rumour about that member. */
  enqueue (about: PeerId, update: MemberUpdate): void {
    this.drop(about)
    const bytes = update.type === 'alive' ? memberRecordBytes(update.member) + ALIVE_UPDATE_OVERHEAD : jsonByteLength(update)
    const rumour: Rumour = { about, update, bytes, transmits: 0 }
    this.#byMember.set(about, rumour)
    this.#tier(0).set(about, rumour)
  }

  /** Forgets the rumour about `about`, if any. */
  drop (about: PeerId): void {
    const old = this.#byMember.get(about)
    if (old === undefined) return
    this.#byMember.delete(about)
    this.#tiers[old.transmits]?.delete(about)
  }

  /** The queued rumour about `about`, if any. */
  get (about: PeerId): MemberUpdate | undefined {
    return this.#byMember.get(about)?.update
  }

  /**
   * Takes the least-transmitted rumours that fit in `budget` bytes (at least one, if any is
   * queued and `first` is not given; `first` is a rumour to put first whatever its count, the
   * buddy system's "tell a suspect it is suspected"), at most `maxCount`, and counts one
   * transmission for each; rumours reaching `limit` transmissions leave the queue.
   */
  take (budget: number, maxCount: number, limit: number, first?: PeerId): MemberUpdate[] {
    const out: MemberUpdate[] = []
    // The steady state: nothing to say. Return before touching the tiers.
    if (this.#byMember.size === 0) return out
    let used = 0
    const picked: Rumour[] = []
    const pick = (r: Rumour): boolean => {
      if (out.length >= maxCount) return false
      // One rumour always fits, so an update larger than the budget still travels.
      if (out.length > 0 && used + r.bytes + 1 > budget) return false
      out.push(r.update)
      picked.push(r)
      used += r.bytes + 1
      return true
    }
    const buddy = first === undefined ? undefined : this.#byMember.get(first)
    if (buddy !== undefined) pick(buddy)
    outer:
    for (const tier of this.#tiers) {
      if (tier === undefined) continue
      for (const r of tier.values()) {
        if (r === buddy) continue
        if (out.length >= maxCount || used >= budget) break outer
        pick(r)
      }
    }
    for (const r of picked) {
      this.#tiers[r.transmits]?.delete(r.about)
      r.transmits++
      if (r.transmits >= limit) this.#byMember.delete(r.about)
      else this.#tier(r.transmits).set(r.about, r)
    }
    return out
  }

  /** Number of queued rumours. */
  get size (): number {
    return this.#byMember.size
  }

  #tier (t: number): Map<PeerId, Rumour> {
    let tier = this.#tiers[t]
    if (tier === undefined) {
      while (this.#tiers.length <= t) this.#tiers.push(new Map())
      tier = this.#tiers[t] as Map<PeerId, Rumour>
    }
    return tier
  }
}
