/**
 * The merge core's settings and their defaults, one place for each. Times are milliseconds
 * unless the name says seconds.
 */

/** Settings of a MergeCore (every field optional in MergeCoreInit.config). */
export interface MergeConfig {
  /** Fan-in k of the tree: a power of two. @default 16 */
  readonly fanIn: number
  /** Replicas besides the root. @default 2 */
  readonly replicas: number
  /** How long after a second ends its local value is expected. @default 50 */
  readonly collectDelayMs: number
  /** Forwarding slack per tree level below a node. @default 150 */
  readonly hopMs: number
  /** How long contributor sets are kept for exactly-once checks of late partials, seconds. @default 120 */
  readonly lateWindowSeconds: number
  /** Cardinality bound: keys kept per decomposition (the rest fold into OTHER_KEY). @default 1000 */
  readonly maxKeys: number
  /** How long a query waits for a holder before asking the next. @default 2000 */
  readonly queryTimeoutMs: number
  /** Target size of one history chunk, bytes (an upper-bound estimate). @default 262144 */
  readonly historyChunkBytes: number
  /** Partials for seconds further ahead of this node's clock are refused, seconds (CA's 10). @default 10 */
  readonly maxClockSkewSeconds: number
  /** A peer a send failed to is routed around this long, unless heard from (or back up) sooner. @default 10000 */
  readonly unreachableMs: number
  /** A partial asks its parent for an ack at most this often per parent (0: parents are not watched). @default 2000 */
  readonly watchIntervalMs: number
  /** A parent that has not acked within this long is routed around, as one a send failed to. @default 800 */
  readonly watchTimeoutMs: number
  /**
   * A parent taken for silent that then answers (late) is given twice its lateness, at most
   * this long, as its watch timeout from then on: it is slow, not gone. @default 8000
   */
  readonly slowParentTimeoutMs: number
  /** How long that longer timeout is kept after the late answer. @default 600000 */
  readonly slowParentMemoryMs: number
  /**
   * How long a member the membership found slow (memberSlow) is demoted: it leads no prefix of
   * the trees (a root stays the root), so it delays no subtree. @default 600000
   */
  readonly slowMemberMs: number
  /**
   * A child that had sent nothing when this node's second went up, this many seconds in a row,
   * is no longer waited for, until a piece of it comes before a deadline again: in its own view
   * it sends elsewhere (views that disagree about who leads), or it is gone and not yet known to
   * be. 0: every child is always waited for. @default 3
   */
  readonly absentChildSeconds: number
}

/** The defaults (see MergeConfig). */
export const DEFAULT_MERGE_CONFIG: MergeConfig = Object.freeze({
  fanIn: 16,
  replicas: 2,
  collectDelayMs: 50,
  hopMs: 150,
  lateWindowSeconds: 120,
  maxKeys: 1000,
  queryTimeoutMs: 2000,
  historyChunkBytes: 256 * 1024,
  maxClockSkewSeconds: 10,
  unreachableMs: 10_000,
  watchIntervalMs: 2000,
  watchTimeoutMs: 800,
  slowParentTimeoutMs: 8000,
  slowParentMemoryMs: 600_000,
  slowMemberMs: 600_000,
  absentChildSeconds: 3
})

/** The widest window of seconds a core accepts partials for (late window plus clock skew): an hour. */
export const MAX_WINDOW_SECONDS = 3600

/** `partial` over the defaults, checked (a bad setting is a caller bug: RangeError). */
export function mergeConfig (partial: Partial<MergeConfig> = {}): MergeConfig {
  const c: MergeConfig = { ...DEFAULT_MERGE_CONFIG, ...partial }
  for (const [name, v] of Object.entries(c)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`merge setting ${name} = ${String(v)} is not a non-negative integer`)
  }
  if (c.fanIn < 2 || (c.fanIn & (c.fanIn - 1)) !== 0) throw new RangeError(`fanIn ${c.fanIn} is not a power of two >= 2`)
  if (c.lateWindowSeconds < 1) throw new RangeError('lateWindowSeconds must be at least 1')
  // A core keeps a slot per second of this window and instrumentation (assembly.ts's SecondTable).
  if (c.lateWindowSeconds + c.maxClockSkewSeconds > MAX_WINDOW_SECONDS) {
    throw new RangeError(`lateWindowSeconds + maxClockSkewSeconds = ${c.lateWindowSeconds + c.maxClockSkewSeconds} is more than ${MAX_WINDOW_SECONDS}`)
  }
  return c
}
