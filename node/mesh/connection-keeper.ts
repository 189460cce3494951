/**
 * Keeping a node directly connected to a few live members, so that gossip has a graph of its
 * own, not only the bootstrap star.
 *
 * Why. gossipsub only reaches peers we hold a connection to. Nodes join through a bootstrap
 * node, so at first each is connected to it alone; membership then tells them about each other,
 * but a connection between two of them only opened when the protocol core happened to send one
 * a message (a probe comes round in a few seconds, longer on a loaded machine). Until then a
 * definition published by one of them travels through the bootstrap node only, and when that
 * node is cut off (a partition) it travels nowhere: the others learn it from anti-entropy, up
 * to a sync period (30 s) later. That was the partition test's flake.
 *
 * Rule. The keeper follows the membership's `member` outputs. While the node has fewer than
 * `minPeers` connections (or dials in flight), each member that joins (or comes back) is dialed
 * at once, and each connection lost is replaced by a dial to a random live member not yet
 * connected. Members declared dead, gone or forgotten stop being candidates; their connections
 * are left alone: a member declared dead on a loaded machine is often alive, and closing its
 * connections would cut it off gossip until it refutes (a bench at 20 nodes under load showed
 * it), while a connection that really died is closed by libp2p's connection monitor. Connections
 * beyond `minPeers` come and go as the core's messages need them; libp2p's connection manager
 * bounds them.
 *
 * Which connections exist is transport business, not protocol: the simulator's network lets
 * any node reach any other, so the protocol core never sees this rule and needs none.
 */

/** What the keeper needs. */
export interface ConnectionKeeperComponents {
  /** Peers with an open connection. */
  readonly peers: () => readonly string[]
  /** Connects to member `peer` at its known addresses; rejects (or resolves unconnected) when it cannot. */
  readonly connect: (peer: string) => Promise<void>
  /** Uniform random numbers in [0, 1), to pick members to dial. */
  readonly random: () => number
}

/** Settings. */
export interface ConnectionKeeperInit {
  /** This node's peer id (never dialed). */
  readonly self: string
  /** Connections the keeper makes sure of, when that many live members exist. */
  readonly minPeers: number
}

/** A member change as the keeper sees it (the core's MemberChange values). */
export type KeeperMemberChange = 'joined' | 'updated' | 'suspected' | 'failed' | 'left' | 'forgotten'

/** Counters for debugState. */
export interface KeeperCounters {
  dials: number
  dialFailures: number
}

/** Keeps a few direct connections to live members (see the module comment). */
export class ConnectionKeeper {
  readonly counters: KeeperCounters = { dials: 0, dialFailures: 0 }
  readonly #components: ConnectionKeeperComponents
  readonly #init: ConnectionKeeperInit
  /** Live members (alive or suspected), this node excluded. */
  readonly #live = new Set<string>()
  /** Dials in flight. */
  readonly #dialing = new Set<string>()
  #stopped = false

  constructor (components: ConnectionKeeperComponents, init: ConnectionKeeperInit) {
    if (!(Number.isInteger(init.minPeers) && init.minPeers >= 0)) throw new RangeError(`minPeers must be a non-negative integer, got ${init.minPeers}`)
    this.#components = components
    this.#init = init
  }

  /** Live members known, this node excluded. */
  get liveMembers (): number { return this.#live.size }

  /** Follows one `member` output of the core. */
  memberChanged (peer: string, change: KeeperMemberChange): void {
    if (this.#stopped || peer === this.#init.self) return
    switch (change) {
      case 'joined':
        this.#live.add(peer)
        // Dials in flight count: a join reports every member at once, and only a few are wanted.
        if (!this.#components.peers().includes(peer) && this.#reached().size < this.#init.minPeers) this.#dial(peer)
        return
      case 'updated':
      case 'suspected':
        this.#live.add(peer)
        return
      case 'failed':
      case 'left':
      case 'forgotten':
        this.#live.delete(peer)
        return
      default: {
        const never: never = change
        throw new Error(`unhandled member change ${String(never)}`)
      }
    }
  }

  /** The host lost its last connection to `peer`: replace it if we are below minPeers. */
  peerDisconnected (_peer: string): void {
    if (!this.#stopped) this.#topUp()
  }

  /** Stops dialing. */
  stop (): void {
    this.#stopped = true
  }

  /** Dials random live members, not connected nor being dialed, until minPeers are (being) connected. */
  #topUp (): void {
    const reached = this.#reached()
    let missing = this.#init.minPeers - reached.size
    if (missing <= 0) return
    const candidates = [...this.#live].filter((p) => !reached.has(p))
    while (missing-- > 0 && candidates.length > 0) {
      const i = Math.min(candidates.length - 1, Math.floor(this.#components.random() * candidates.length))
      const [peer] = candidates.splice(i, 1)
      this.#dial(peer!)
    }
  }

  #dial (peer: string): void {
    if (this.#dialing.has(peer)) return
    this.#dialing.add(peer)
    this.counters.dials++
    void this.#components.connect(peer)
      .then(() => { if (!this.#components.peers().includes(peer)) this.counters.dialFailures++ },
        () => { this.counters.dialFailures++ })
      .finally(() => { this.#dialing.delete(peer) })
  }

  /** Peers connected or being dialed. */
  #reached (): Set<string> {
    const reached = new Set(this.#components.peers())
    for (const peer of this.#dialing) reached.add(peer)
    return reached
  }
}
