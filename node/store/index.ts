/**
 * The point store: per instrumentation, a crash-safe append-only log on disk of the points the
 * merge tree's root and replicas hold (persist-data), generic over bytes (the binding encodes
 * points with the merge codec). See point-log.ts for the guarantees and log-format.ts for the
 * file format.
 *
 * @packageDocumentation
 * @example
 * ```ts
 * import { openPointStore } from './store/index.js'
 * const store = await openPointStore(join(dataDir, 'points'), { onError: (ctx, err) => log.warn(ctx, err) })
 * const restore = await store.load()            // Map<id, Array<{ second, bytes }>>, once, at start
 * store.put(id, second, bytes)                  // 'store' effect: buffered, written once a second
 * store.prune(id, oldestLiveSecond)             // retention
 * await store.drop(id)                          // 'drop-store' effect
 * await store.close()                           // flushes
 * ```
 */
export {
  openPointStore,
  type PointStore, type PointStoreOptions, type PointStoreStats, type StoredRecord, type StoreErrorContext, type StoreOperation
} from './point-log.js'
export { MAX_PAYLOAD_BYTES, MAX_ID_LENGTH, POINT_LOG_VERSION } from './log-format.js'
export { pointFileName } from './file-name.js'
export * as storeDefaults from './constants.js'
export { syncDirectory, writeFileAtomic, type AtomicWriteOptions } from './atomic-file.js'
