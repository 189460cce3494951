/**
 * The hook where the merge tree plugs into the simulator: the narrow interface through which
 * the simulator drives, on every node, the aggregation layer that sits above membership and
 * the definition replica (the daemon's MergeCore from node/merge/, phase 2), and the null
 * layer the simulator runs without it (phase 1).
 *
 * The simulator owns the network, the clock and the faults; an aggregation layer owns, per
 * node, a sans-IO core and the node's synthetic workload. The simulator tells each node's
 * layer what MeshCore tells the daemon (members going up and down, instrumentations created
 * and deleted), delivers its messages over the same network model as the mesh's, and calls
 * tick(now) at its deadlines; the layer contributes each node's synthetic value for every
 * second itself, from its own clock (skew included), which is what the daemon's instrumenter
 * does. At the end, the layer reports the merge fields of the summary (freshness, coverage,
 * exactness against its oracle), null while there is no layer.
 */
import type { DefinitionEntry, DefinitionId, PeerId } from '../node/core/index.js'

/** An output of a node's aggregation layer. */
export type AggregationOutput =
  /** Send `message` to peer `to`, `bytes` long on the wire (the layer knows its codec). */
  | { readonly type: 'send', readonly to: PeerId, readonly message: unknown, readonly bytes: number }

/** What the simulator tells one node's aggregation layer; every call returns outputs to carry out. */
export interface AggregationNode {
  /** Member `id` joined, or is alive again (a suspicion refuted). */
  memberUp: (id: PeerId, now: number) => readonly AggregationOutput[]
  /** Member `id` is suspected (not yet declared dead). */
  memberSuspect: (id: PeerId, now: number) => readonly AggregationOutput[]
  /** The membership marked member `id` slow (it refuted a suspicion; called after memberUp), or this node refuted one (`id` is its own). */
  memberSlow: (id: PeerId, now: number) => readonly AggregationOutput[]
  /** Member `id` failed, left or was forgotten. */
  memberDown: (id: PeerId, now: number) => readonly AggregationOutput[]
  /** An instrumentation was created or updated (entry.definition: canonical JSON). */
  setInstrumentation: (id: DefinitionId, entry: Extract<DefinitionEntry, { state: 'live' }>, now: number) => readonly AggregationOutput[]
  removeInstrumentation: (id: DefinitionId, now: number) => readonly AggregationOutput[]
  /** A message from peer `from` (what another node's layer sent). */
  handle: (from: PeerId, message: unknown, now: number) => readonly AggregationOutput[]
  tick: (now: number) => readonly AggregationOutput[]
  /** When tick() is next due (this node's clock), or undefined. */
  nextDeadline: () => number | undefined
}

/** Everything a node's layer is built with. */
export interface AggregationNodeInit {
  readonly index: number
  readonly self: PeerId
  /** This node's clock at construction. */
  readonly now: number
  /**
   * The members live at construction (a warm start: every node of the formed mesh, the same
   * array for every node; empty after a restart, when members arrive as memberUp).
   */
  readonly members: readonly PeerId[]
  /** --fan-in and --replicas, for the merge tree's config. */
  readonly fanIn: number
  readonly replicas: number
}

/** The merge fields of summary.json (see docs/SIMULATOR.md). */
export interface AggregationSummary {
  readonly freshness_s: { readonly p50: number, readonly p99: number } | null
  /** From a steady-state second's end until the root merged its last piece of it (late pieces included). */
  readonly completion_s: { readonly p50: number, readonly p99: number, readonly max: number } | null
  readonly coverage_min: number | null
  readonly double_counts: number | null
  readonly missing_contributions: number | null
  /** Coverage (minreporting / live members) per simulated second, for the plot; empty if none. */
  readonly coverage: ReadonlyArray<number | null>
  /** Each instrumentation's root at the end of the run (node index; its first live holder), for the root load. */
  readonly roots: readonly number[]
}

/** An aggregation layer for the whole simulated mesh. */
export interface Aggregation {
  readonly name: string
  /** Builds node `init.index`'s layer (at start, and again at each restart). */
  createNode: (init: AggregationNodeInit) => AggregationNode
  /**
   * Node `index` crashed: its layer is gone (the simulator drops its messages). `silent`: its
   * host went down with it, so connections to it do not reset and sends to it fail silently;
   * otherwise (a process crash) they are refused at once.
   */
  nodeDown: (index: number, now: number, silent: boolean) => void
  /** The merge fields, once the run is over. */
  summary: () => AggregationSummary
}

/** Phase 1: no aggregation layer; the merge fields are null. */
export const NO_AGGREGATION: Aggregation = Object.freeze({
  name: 'none',
  createNode: (): AggregationNode => {
    throw new Error('NO_AGGREGATION creates no nodes')
  },
  nodeDown: () => {},
  summary: (): AggregationSummary => ({ freshness_s: null, completion_s: null, coverage_min: null, double_counts: null, missing_contributions: null, coverage: [], roots: [] })
})
