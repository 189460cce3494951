/**
 * The protocol core's durable state: what MeshCore asks the binding to write (a `persist`
 * output) and takes back at construction after a restart. It holds the definition replica
 * (entries and tombstones, the hybrid clock, the last anti-entropy contact) and this node's
 * membership incarnation, so that a restarted node resumes its instrumentations and announces
 * itself above its previous incarnation.
 *
 * The state is plain JSON data. The file is outside input (a disk can be corrupted, an old
 * version can be left behind): decodePersistedState validates it the way the wire decoder
 * validates a peer's message, and throws DecodeError, and only DecodeError.
 */
import { DecodeError } from '../../metad/index.js'
import { HLC_LOGICAL_MAX } from './hlc.js'
import type { ReplicaState } from './definitions.js'
import { isPeerId, Obj, readDefinitionEntry, type PeerId } from './messages.js'

/** Version of the persisted format. */
export const PERSISTED_FORMAT = 1

/** Most entries (definitions and tombstones) a persisted replica may hold. */
export const MAX_PERSISTED_ENTRIES = 100_000

/** What a node persists. */
export interface PersistedState {
  readonly format: typeof PERSISTED_FORMAT
  /** The peer the state belongs to (a data directory copied to another node is refused). */
  readonly self: PeerId
  /** The membership incarnation last announced. */
  readonly incarnation: number
  readonly replica: ReplicaState
}

/**
 * Validates persisted state read back from disk (parsed JSON). Throws DecodeError naming the
 * offending path; never anything else.
 */
export function decodePersistedState (value: unknown): PersistedState {
  const what = 'persisted state'
  try {
    const o = new Obj(what, '', value)
    o.only(['format', 'self', 'incarnation', 'replica'])
    if (o.field('format') !== PERSISTED_FORMAT) throw o.error('format', `unsupported format ${JSON.stringify(o.field('format')) ?? 'none'}`)
    const self = o.field('self')
    if (!isPeerId(self)) throw o.error('self', 'not a peer id')
    const incarnation = o.integer('incarnation', 0, Number.MAX_SAFE_INTEGER)
    const r = o.child('replica', o.field('replica'))
    r.only(['hlc', 'lastContact', 'entries'])
    const h = r.child('hlc', r.field('hlc'))
    h.only(['wall', 'logical'])
    const hlc = { wall: h.integer('wall', 0, Number.MAX_SAFE_INTEGER), logical: h.integer('logical', 0, HLC_LOGICAL_MAX) }
    const lastContact = r.field('lastContact') === null ? null : r.integer('lastContact', 0, Number.MAX_SAFE_INTEGER)
    const seen = new Set<string>()
    const entries = r.array('entries', MAX_PERSISTED_ENTRIES).map((item, i) => {
      const entry = readDefinitionEntry(r.child(`entries[${i}]`, item))
      if (seen.has(entry.id)) throw r.error(`entries[${i}]`, `duplicate id ${entry.id}`)
      seen.add(entry.id)
      return entry
    })
    return { format: PERSISTED_FORMAT, self, incarnation, replica: { hlc, lastContact, entries } }
  } catch (err) {
    if (err instanceof DecodeError) throw err
    throw new DecodeError(what, `internal decoder error: ${err instanceof Error ? err.message : String(err)}`)
  }
}
