/**
 * Defaults of the point store's options, one place for each, referenced by the TSDoc of the
 * option it is the default of (PointStoreOptions).
 */

/** @see PointStoreOptions.syncIntervalMs */
export const DEFAULT_SYNC_INTERVAL_MS = 1000

/**
 * @see PointStoreOptions.compactionFloorBytes
 * 64 KiB: below this much dead weight a rewrite costs more (a temporary file, two fsyncs, a
 * rename) than the space it gives back.
 */
export const DEFAULT_COMPACTION_FLOOR_BYTES = 64 * 1024
