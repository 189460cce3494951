/**
 * Errors that are part of heatmesh's API. The codes are Cloud Analytics' (`ECA_*`), so a client
 * written for CA can branch on them; the HTTP layer maps each code to a status in one place.
 * Branch on `code` or `name`, never on message text.
 */

/** CA's error codes (CA-REFERENCE §2.1). */
export type ErrorCode =
  | 'ECA_EXISTS'
  | 'ECA_INCOMPAT'
  | 'ECA_INTR'
  | 'ECA_INVAL'
  | 'ECA_IO'
  | 'ECA_NOENT'
  | 'ECA_NORESOURCE'
  | 'ECA_REMOTE'
  | 'ECA_TIMEDOUT'
  | 'ECA_UNKNOWN'

/** Base class of every error heatmesh reports to a user or a peer. */
export class HeatmeshError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'HeatmeshError'
  }
}

/**
 * A user-supplied property or parameter is invalid. Carries the three parts separately (as CA's
 * caInvalidFieldError did) so code can read them; the message has CA's exact format:
 * `value <JSON> for field "<field>" is invalid: <reason>`.
 */
export class InvalidFieldError extends HeatmeshError {
  readonly field: string
  readonly value: unknown
  readonly reason: string
  constructor (field: string, value: unknown, reason: string) {
    super('ECA_INVAL', `value ${describeValue(value)} for field "${field}" is invalid: ${reason}`)
    this.name = 'InvalidFieldError'
    this.field = field
    this.value = value
    this.reason = reason
  }
}

/** Bytes from outside (a peer's message, a file) do not decode: the input is rejected whole. */
export class DecodeError extends HeatmeshError {
  constructor (what: string, reason: string) {
    super('ECA_INVAL', `cannot decode ${what}: ${reason}`)
    this.name = 'DecodeError'
  }
}

/** JSON for a message, bounded so that a hostile 1 MB value cannot make a 1 MB error message. */
function describeValue (value: unknown): string {
  let text: string
  try {
    text = JSON.stringify(value, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 200 ? `${text.slice(0, 200)}...` : text
}
