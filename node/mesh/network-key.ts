/**
 * The network key: the pre-shared secret of a private libp2p network (pnet). Every connection
 * is XSalsa20-encrypted with it before anything else is said, so a machine without it cannot
 * complete a handshake, and so can neither read nor publish anything in the mesh.
 *
 * The file format is go-ipfs's swarm key, which @libp2p/pnet reads, three lines:
 *
 *     /key/swarm/psk/1.0.0/
 *     /base16/
 *     <64 hex digits: 32 random bytes>
 *
 * We write exactly that plus a final newline, and read it strictly (only the base16 encoding;
 * a trailing newline, CRLF line ends and trailing blanks are tolerated because editors add them).
 * Error messages never quote the key line: it is a secret and may end up in logs.
 */
import { createHash, getRandomValues } from 'node:crypto'
import { KeyFileError } from './errors.js'
import { readKeyFile, writeKeyFile } from './key-file.js'

/** A parsed network key: 32 secret bytes. Build it with one of this module's functions. */
export interface NetworkKey {
  readonly psk: Uint8Array
}

/** Length of the secret in bytes. */
export const NETWORK_KEY_BYTES = 32

const HEADER = '/key/swarm/psk/1.0.0/'
const ENCODING = '/base16/'
const HINT = 'create one with `heatmesh keygen FILE`'

/**
 * A new random network key. The bytes come from the operating system's CSPRNG, not from an
 * injected random source: a key from a seeded generator would be guessable.
 */
export function generateNetworkKey (): NetworkKey {
  return { psk: getRandomValues(new Uint8Array(NETWORK_KEY_BYTES)) }
}

/** The key in the swarm-key file format (three lines and a final newline). */
export function formatNetworkKey (key: NetworkKey): string {
  return `${HEADER}\n${ENCODING}\n${Buffer.from(key.psk).toString('hex')}\n`
}

/**
 * Bytes for @libp2p/pnet's `preSharedKey({ psk })`: the canonical file format (lower-case hex,
 * no trailing newline), whatever spelling the file on disk used.
 */
export function pnetKeyBytes (key: NetworkKey): Uint8Array {
  return new TextEncoder().encode(formatNetworkKey(key).trimEnd())
}

/**
 * A short, non-secret name for the key (the first 16 hex digits of SHA-256 of the secret), so
 * operators can check that two machines hold the same key without showing it.
 */
export function networkKeyFingerprint (key: NetworkKey): string {
  return createHash('sha256').update(key.psk).digest('hex').slice(0, 16)
}

/**
 * Parses the contents of a network key file. Throws a KeyFileError naming `file` and the first
 * problem found (line by line: header, encoding, key, nothing after).
 */
export function parseNetworkKey (bytes: Uint8Array, file: string): NetworkKey {
  const fail = (problem: string): never => { throw new KeyFileError('network key', file, problem) }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    return fail(`is not text; expected three lines: ${HEADER}, ${ENCODING}, 64 hex digits`)
  }
  const lines = text.split(/\r?\n/).map((line) => line.replace(/[ \t]+$/, ''))
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  if (lines.length === 0) fail(`is empty; ${HINT}`)
  const [header, encoding, hex, ...rest] = lines as [string, ...Array<string | undefined>]
  if (header !== HEADER) fail(`line 1: expected "${HEADER}", got ${quoteShort(header)}`)
  if (encoding === undefined) fail(`line 2: missing; expected "${ENCODING}"`)
  if (encoding !== ENCODING) {
    fail(/^\/(base64|bin)\/$/.test(encoding as string)
      ? `line 2: encoding ${quoteShort(encoding as string)} is not supported, only "${ENCODING}"; ${HINT}`
      : `line 2: expected "${ENCODING}", got ${quoteShort(encoding as string)}`)
  }
  if (hex === undefined || hex === '') fail('line 3: missing; expected the key as 64 hex digits')
  const key = hex as string
  const bad = key.search(/[^0-9a-fA-F]/)
  if (bad >= 0) fail(`line 3: not a hex digit at column ${bad + 1}; expected 64 hex digits`)
  if (key.length !== NETWORK_KEY_BYTES * 2) fail(`line 3: expected 64 hex digits, got ${key.length}`)
  const extra = rest.findIndex((line) => line !== '')
  if (extra >= 0) fail(`line ${extra + 4}: unexpected content after the key`)
  return { psk: new Uint8Array(Buffer.from(key, 'hex')) }
}

/** Reads and validates a network key file (errors: {@link readKeyFile}, {@link parseNetworkKey}). */
export async function readNetworkKey (file: string): Promise<NetworkKey> {
  return parseNetworkKey(await readKeyFile('network key', file, HINT), file)
}

/**
 * Writes a network key file crash-safely with mode 0600. Refuses (KeyFileError) to replace an
 * existing file unless `overwrite`: replacing a mesh's key cuts this machine off from it.
 */
export async function writeNetworkKey (file: string, key: NetworkKey, options: { overwrite?: boolean } = {}): Promise<void> {
  const overwrite = options.overwrite === true
  const written = await writeKeyFile('network key', file, formatNetworkKey(key), !overwrite)
  if (!written) throw new KeyFileError('network key', file, 'already exists; refusing to replace it')
}

/**
 * The key in `file`, or a new one written there when the file does not exist (a node started
 * without `--key` in a fresh data directory). `created` says which, so the daemon can print the
 * path of a key it made. Two processes racing here end up with the same key.
 */
export async function loadOrCreateNetworkKey (file: string): Promise<{ key: NetworkKey, created: boolean }> {
  const existing = await readKeyFile('network key', file, HINT, true)
  if (existing !== undefined) return { key: parseNetworkKey(existing, file), created: false }
  const key = generateNetworkKey()
  if (await writeKeyFile('network key', file, formatNetworkKey(key), true)) return { key, created: true }
  return { key: await readNetworkKey(file), created: false }
}

/**
 * A line from the file for an error message: JSON-quoted, at most 40 characters; but a line that
 * looks like key material (a bare key file, a missing header) is described, never shown.
 */
function quoteShort (line: string): string {
  if (/^[0-9a-fA-F+/=]{16,}$/.test(line)) return 'what looks like key material (not shown; the key belongs on line 3)'
  return JSON.stringify(line.length > 40 ? `${line.slice(0, 40)}...` : line)
}
