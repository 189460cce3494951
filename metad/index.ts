/**
 * metad: the language of measurement. Pure (no I/O, no clock, no randomness of its own).
 * Other folders import metad only through this face.
 */
export * from './errors.js'
export * from './quantize.js'
export * from './distribution.js'
export * from './rebucket.js'
export * from './catalog/index.js'
export * from './predicate.js'
export * from './decomposition.js'
export * from './instrumentation.js'
export * from './value.js'
export * from './value-codec.js'
export * from './bpftrace/index.js'
