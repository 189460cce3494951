/**
 * Defaults of the protocol core's settings, one place for each, referenced by the TSDoc of the
 * option it is the default of (MembershipConfig, DefinitionsConfig). Times are milliseconds.
 * Membership's defaults are memberlist's LAN profile (HashiCorp's production SWIM), which is
 * what its bandwidth and detection figures were measured with; see membership.ts.
 */

/** @see MembershipConfig.probeInterval */
export const DEFAULT_PROBE_INTERVAL = 1000
/** @see MembershipConfig.probeTimeout */
export const DEFAULT_PROBE_TIMEOUT = 500
/** @see MembershipConfig.indirectChecks */
export const DEFAULT_INDIRECT_CHECKS = 3
/** @see MembershipConfig.suspicionMult */
export const DEFAULT_SUSPICION_MULT = 4
/** @see MembershipConfig.suspicionMaxMult */
export const DEFAULT_SUSPICION_MAX_MULT = 6
/** @see MembershipConfig.retransmitMult */
export const DEFAULT_RETRANSMIT_MULT = 4
/** @see MembershipConfig.gossipInterval */
export const DEFAULT_GOSSIP_INTERVAL = 200
/** @see MembershipConfig.gossipFanout */
export const DEFAULT_GOSSIP_FANOUT = 3
/** @see MembershipConfig.maxPiggybackBytes */
export const DEFAULT_MAX_PIGGYBACK_BYTES = 1000
/** @see MembershipConfig.pushPullInterval */
export const DEFAULT_PUSH_PULL_INTERVAL = 30_000
/** @see MembershipConfig.reconnectInterval */
export const DEFAULT_RECONNECT_INTERVAL = 30_000
/** @see MembershipConfig.deadRetention */
export const DEFAULT_DEAD_RETENTION = 3_600_000
/** @see MembershipConfig.joinRetryMin */
export const DEFAULT_JOIN_RETRY_MIN = 1000
/** @see MembershipConfig.joinRetryMax */
export const DEFAULT_JOIN_RETRY_MAX = 60_000
/** @see MembershipConfig.joinFanout */
export const DEFAULT_JOIN_FANOUT = 1
/** @see MembershipConfig.maxLocalHealth */
export const DEFAULT_MAX_LOCAL_HEALTH = 8
/** @see MembershipConfig.slowGrace */
export const DEFAULT_SLOW_GRACE = 4000
/** @see MembershipConfig.slowMemoryMin */
export const DEFAULT_SLOW_MEMORY_MIN = 600_000
/** @see MembershipConfig.slowMemoryMax */
export const DEFAULT_SLOW_MEMORY_MAX = 3_600_000
/** @see MembershipConfig.refutationLagMult */
export const DEFAULT_REFUTATION_LAG_MULT = 3
/** @see MembershipConfig.leaveDuration */
export const DEFAULT_LEAVE_DURATION = 1000

/** @see DefinitionsConfig.syncInterval */
export const DEFAULT_DEFINITIONS_SYNC_INTERVAL = 30_000
/** @see DefinitionsConfig.tombstoneGrace */
export const DEFAULT_TOMBSTONE_GRACE = 7 * 24 * 3_600_000
/** @see DefinitionsConfig.reapInterval */
export const DEFAULT_REAP_INTERVAL = 10_000
/** @see DefinitionsConfig.maxFutureSkew */
export const DEFAULT_MAX_FUTURE_SKEW = 5 * 60_000
/** @see DefinitionsConfig.revivedSyncInterval */
export const DEFAULT_REVIVED_SYNC_INTERVAL = 5000
