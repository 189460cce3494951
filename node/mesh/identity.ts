/**
 * The node identity: an Ed25519 key pair whose public half is the node's libp2p peer id. It is
 * persisted in the data directory (libp2p's protobuf encoding, 68 bytes, mode 0600), so a
 * restarted node is the same peer: its bootstrap multiaddr (which ends in /p2p/<peer id>) stays
 * valid and the mesh's membership recognises it.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { KeyFileError } from './errors.js'
import { readKeyFile, writeKeyFile } from './key-file.js'

/** The identity file's name inside the data directory. */
export const IDENTITY_FILE = 'identity.key'

/** A node's identity: its private key and the peer id derived from it. */
export interface NodeIdentity {
  readonly privateKey: PrivateKey
  /** The peer id in its string form (12D3KooW...). */
  readonly peerId: string
}

const HINT = 'delete it to give this node a new identity (peers will see a new node)'

/** A new random identity (the key comes from the operating system's CSPRNG). */
export async function generateIdentity (): Promise<NodeIdentity> {
  return identityOf(await generateKeyPair('Ed25519'))
}

/** Parses an identity file's bytes; throws KeyFileError naming `file` if they are not an Ed25519 key. */
export function parseIdentity (bytes: Uint8Array, file: string): NodeIdentity {
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new KeyFileError('node identity', file, `is not a libp2p private key (${err instanceof Error ? err.message : String(err)}); ${HINT}`, { cause: err })
  }
  if (key.type !== 'Ed25519') throw new KeyFileError('node identity', file, `holds a ${key.type} key, expected Ed25519; ${HINT}`)
  return identityOf(key)
}

/**
 * The identity stored in `dataDir`, or a new one stored there when there is none. Creates the
 * data directory (mode 0700) if needed. `created` says which. Two processes racing on the same
 * directory end up with the same identity (the file is created exclusively).
 */
export async function loadOrCreateIdentity (dataDir: string): Promise<{ identity: NodeIdentity, created: boolean }> {
  const file = join(dataDir, IDENTITY_FILE)
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw new KeyFileError('node identity', file, `its data directory cannot be created: ${(err as { code?: string }).code ?? String(err)}`, { cause: err })
  }
  const existing = await readKeyFile('node identity', file, HINT, true)
  if (existing !== undefined) return { identity: parseIdentity(existing, file), created: false }
  const identity = await generateIdentity()
  if (await writeKeyFile('node identity', file, privateKeyToProtobuf(identity.privateKey), true)) return { identity, created: true }
  const winner = await readKeyFile('node identity', file, HINT)
  return { identity: parseIdentity(winner, file), created: false }
}

function identityOf (privateKey: PrivateKey): NodeIdentity {
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
}
