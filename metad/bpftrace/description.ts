/**
 * Meta-D for bpftrace: the schema in which each eBPF metric is described as data (one file per
 * metric under ./metrics/), and which the generator compiles into bpftrace.
 *
 * THEORY (after CA's Meta-D, CA-REFERENCE §9). A metric counts events seen at one AGGREGATING
 * point (a tracepoint, maybe several with the same body, e.g. sys_exit_fsync and
 * sys_exit_fdatasync). Some fields are known right there (`comm`, `args->id`); an interval's
 * length is not: it needs a timestamp taken at an earlier START point (a GATHER point that
 * `stamp`s), kept in an internal map keyed by what both points can name (a thread id, a socket
 * address, a device and sector). A gather point may also store field values that the aggregating
 * point cannot see any more (the process that issued a block I/O, the connecting process of a
 * TCP handshake completed in softirq context). Internal maps are `@_<prefix>_t` (timestamps) and
 * `@_<prefix>_<field>` (gathered values); they are cleaned either when used (`reuse: 'delete'`)
 * or, when the next start overwrites them anyway (`reuse: 'overwrite'`, one lookup less per
 * event), at the `cleanup` points (thread exit), so they cannot fill up.
 *
 * Every field says where its value comes from at the aggregating point: `at` (an expression
 * there), `gathered` (read back from the gather points' maps) or `elapsed` (now minus the
 * start timestamp). Its `kind` says how a predicate constant on it compiles and how the printed
 * key decodes. A gather point lists the fields it `knows`: expressions there that equal the
 * field's value at the aggregating point. The generator weakens a predicate to those fields and
 * puts it on the gather point too, so an event the predicate excludes costs one test at the
 * start and no map update (CA's rule: fields used only by predicates are still gathered).
 *
 * Expressions are bpftrace text written by us, never by users. They may read tracepoint fields
 * (`args->x`, listed in ./tracepoints.ts), builtins (`pid`, `comm`, `cgroup`, `curtask`, `cpu`,
 * `nsecs`) and the variables `$<prefix>_...` set by the point's own `setup`.
 */

/** How a field's printed key element decodes into its string value (the runtime's side). */
export type KeyDecoding =
  | 'string'
  | 'decimal'
  /** A CPU number, printed as procfs names CPUs (`cpu3`), so both backends agree on keys. */
  | 'cpu'
  | 'syscall'
  | 'cgroup'
  | 'blockdev'
  | 'ipv4'
  | `enum:${string}`

/**
 * A field's value as an expression at some point, by kind. The kind decides how a predicate
 * constant compiles (./condition.ts) and how the key decodes:
 * - `comm`: a task name (char[16]); a constant is an escaped string literal of at most 15 bytes.
 * - `pid`, `port`, `cpu`: an integer printed in decimal; a constant must be that decimal
 *   (`cpu` also takes `cpu<n>`, the procfs backend's spelling).
 * - `syscall`: a syscall number; a constant is a name (or `syscall_<n>`).
 * - `cgroup`: a cgroup v2 id; a constant is a path the runtime resolves (or `cgroup_<id>`).
 * - `blockdev`: a kernel dev_t (major << 20 | minor); a constant is a disk name the runtime
 *   resolves (or `<major>:<minor>`).
 * - `ip`: an address of family `family` (2 or 10) held in `v4` (4 bytes, or one little-endian
 *   32-bit `word`) and `v6` (16 bytes); keys print with ntop(), constants compare bytes.
 * - `enum`: a small index into the names of `enum` (./enums.ts): `cases[i]` is the condition
 *   for name i; the last name is what is left when no case holds.
 * - `number`: a non-negative integer (bytes, ns); compared with <, <=, ... and bucketed.
 */
export type ValueExpr =
  | { readonly kind: 'comm' | 'pid' | 'port' | 'cpu' | 'syscall' | 'cgroup' | 'blockdev' | 'number', readonly expr: string }
  | { readonly kind: 'ip', readonly family: string, readonly v4: string, readonly v4Form: 'bytes' | 'word', readonly v6: string }
  | { readonly kind: 'enum', readonly enum: string, readonly cases: readonly string[] }

/** The kinds a gathered field may have (stored in a map as one scalar or one comm). */
export type GatheredKind = 'comm' | 'pid' | 'cgroup'

/** Where a field's value comes from at the aggregating point. */
export type FieldSource =
  /** An expression at the aggregating point; `setup` if it uses the point's setup variables. */
  | { readonly at: ValueExpr, readonly setup?: true }
  /** Stored by gather points (`values`) and read back by the aggregating point's map key. */
  | { readonly gathered: GatheredKind }
  /** nsecs at the aggregating point minus the start timestamp (a `number`). */
  | { readonly elapsed: true }

/** A probe where something is gathered for later (a start timestamp, field values). */
export interface GatherPoint {
  /** One or more probes sharing this description (bpftrace probe names). */
  readonly probes: readonly string[]
  /** The metric's own condition here (e.g. the TCP state that starts a connect). */
  readonly when?: string
  /** The internal maps' key here; the aggregating point's `key` must name the same thing. */
  readonly key: string
  /** Records the start timestamp (`nsecs`) in `@_<prefix>_t`. */
  readonly stamp?: true
  /** Gathered field -> the expression whose value is stored here, in `@_<prefix>_<field>`. */
  readonly values?: Readonly<Record<string, string>>
  /** Field -> an expression here equal to its value at the aggregating point (for filtering). */
  readonly knows?: Readonly<Record<string, ValueExpr>>
}

/** The probe where events are counted. */
export interface AggregatePoint {
  readonly probes: readonly string[]
  /** The metric's own condition, testable before `setup`. */
  readonly when?: string
  /** Statements computing `$<prefix>_...` variables that `check` and `setup` fields use. */
  readonly setup?: readonly string[]
  /** The metric's own condition after `setup`. */
  readonly check?: string
  /** The internal maps' key here (needed when the metric has gather points). */
  readonly key?: string
}

/** Where the internal maps of exited threads are deleted. */
export interface CleanupPoint {
  readonly probes: readonly string[]
  /** The internal maps' key here. */
  readonly key: string
}

/** One eBPF metric, described for the bpftrace generator. */
export interface BpftraceMetricDescription {
  /** `module.stat` in the catalog. */
  readonly metric: string
  /** Short lower-case name for internal maps and variables, unique across metrics. */
  readonly prefix: string
  readonly gathers?: readonly GatherPoint[]
  readonly aggregate: AggregatePoint
  /** What happens to a start entry once used: deleted, or left to the next start to overwrite. */
  readonly reuse?: 'delete' | 'overwrite'
  readonly cleanup?: readonly CleanupPoint[]
  /** What each event adds: 1 (default) or this expression's value (`sum()`). */
  readonly sum?: string
  /** Every catalog field of the metric except `hostname`. */
  readonly fields: Readonly<Record<string, FieldSource>>
}
