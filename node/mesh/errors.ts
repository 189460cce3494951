/**
 * The mesh host's errors, as HeatmeshError subclasses so the daemon and the HTTP layer branch on
 * `code`/`name` like everywhere else: a bad key file (the operator's input) and a failed request
 * to a peer (the network's or the peer's fault, never a crash).
 */
import { HeatmeshError } from '../../metad/index.js'

/** Which kind of key a key file holds, for messages. */
export type KeyFileKind = 'network key' | 'node identity'

/**
 * A key file cannot be used: unreadable, too large, or not in the expected format. The message
 * names the file and says what is wrong, e.g.
 * `network key file /etc/heatmesh/swarm.key: line 3: expected 64 hex digits, got 63 characters`.
 */
export class KeyFileError extends HeatmeshError {
  readonly file: string
  readonly kind: KeyFileKind
  readonly problem: string
  constructor (kind: KeyFileKind, file: string, problem: string, options?: { cause?: unknown }) {
    super('ECA_INVAL', `${kind} file ${file}: ${problem}`, options)
    this.name = 'KeyFileError'
    this.file = file
    this.kind = kind
    this.problem = problem
  }
}

/**
 * Why a request to a peer failed:
 * - `timeout`: no answer within the request's time budget (code ECA_TIMEDOUT);
 * - `aborted`: the caller's signal fired (ECA_INTR);
 * - `stopped`: this host is stopping (ECA_INTR);
 * - `unreachable`: no connection to the peer could be made (ECA_REMOTE);
 * - `unsupported`: the peer does not speak the protocol (ECA_REMOTE);
 * - `too-large`: a frame exceeded the frame limit, ours (the request; ECA_INVAL) or the
 *   response (ECA_REMOTE);
 * - `reset`: the peer closed or reset the stream without an answer, e.g. its handler failed or it
 *   refused our frame (ECA_REMOTE).
 */
export type RequestFailure = 'timeout' | 'aborted' | 'stopped' | 'unreachable' | 'unsupported' | 'too-large' | 'reset'

/** A request/response exchange with a peer failed; `failure` says how. */
export class MeshRequestError extends HeatmeshError {
  readonly peer: string
  readonly protocol: string
  readonly failure: RequestFailure
  constructor (peer: string, protocol: string, failure: RequestFailure, detail: string, options?: { cause?: unknown, local?: boolean }) {
    super(codeOf(failure, options?.local === true), `request ${protocol} to ${peer} failed (${failure}): ${detail}`, options)
    this.name = 'MeshRequestError'
    this.peer = peer
    this.protocol = protocol
    this.failure = failure
  }
}

function codeOf (failure: RequestFailure, local: boolean): HeatmeshError['code'] {
  switch (failure) {
    case 'timeout': return 'ECA_TIMEDOUT'
    case 'aborted':
    case 'stopped': return 'ECA_INTR'
    case 'too-large': return local ? 'ECA_INVAL' : 'ECA_REMOTE'
    case 'unreachable':
    case 'unsupported':
    case 'reset': return 'ECA_REMOTE'
    default: {
      const never: never = failure
      throw new Error(`unknown request failure ${String(never)}`)
    }
  }
}

/** Dialing a multiaddr did not give a connection (refused, timed out, wrong network key or peer id). */
export class MeshDialError extends HeatmeshError {
  readonly address: string
  constructor (address: string, detail: string, options?: { cause?: unknown }) {
    super('ECA_REMOTE', `dial ${address} failed: ${detail}`, options)
    this.name = 'MeshDialError'
    this.address = address
  }
}

/** A foreign error (libp2p's, often an AggregateError of per-address failures) as one line. */
export function describeError (err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return `${err.message}: ${err.errors.map(describeError).join('; ')}`
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}
